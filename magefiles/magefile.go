//go:build mage

// crossbin cross-builds Go programs into tiny multi-platform images.
// Run `go tool mage -l` for the targets and README.md for the settings.
package main

import (
	"context"

	"github.com/crossbin/crossbin/internal/app"
)

// run reads the configuration once per target and runs it with a context
// that SIGINT and SIGTERM cancel: children stop, no tag moves, and the exit
// status says the run was interrupted (130, 143).
func run(ctx context.Context, target func(context.Context, *app.App) error) error {
	ctx, done := app.Signals(ctx)
	a, err := app.New(ctx)
	if err != nil {
		return done(err)
	}
	return done(target(ctx, a))
}
