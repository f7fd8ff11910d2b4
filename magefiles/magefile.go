//go:build mage

// crossbin cross-builds Go programs into tiny multi-platform images.
// Run `go tool mage -l` for the targets and README.md for the settings.
package main

import (
	"context"

	"github.com/crossbin/crossbin/internal/app"
)

// load reads the configuration once per target.
func load(ctx context.Context) (*app.App, error) { return app.New(ctx) }
