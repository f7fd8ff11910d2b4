//go:build mage

package main

import (
	"context"

	"github.com/crossbin/crossbin/internal/app"
)

// Update bumps pinned versions to the newest allowed upstream releases; -program=NAME for one, -dryrun to only print, -verify to build each bump first (always on CI).
func Update(ctx context.Context, program *string, dryrun *bool, verify *bool) error {
	a, err := load(ctx)
	if err != nil {
		return err
	}
	return a.Update(ctx, app.UpdateOptions{Program: deref(program), DryRun: derefBool(dryrun), Verify: derefBool(verify)})
}

func derefBool(b *bool) bool { return b != nil && *b }
