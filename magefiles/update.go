//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/app"
	"github.com/crossbin/crossbin/internal/update"
)

// Update bumps pinned versions to the newest allowed upstream releases; -program=NAME for one, -dryrun to only print, -verify to build each bump first (always on CI).
func Update(ctx context.Context, program *string, dryrun *bool, verify *bool) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		rows, err := a.Update(ctx, app.UpdateOptions{Program: deref(program), DryRun: derefBool(dryrun), Verify: derefBool(verify)})
		if err != nil {
			return err
		}
		fmt.Print(update.Table(rows))
		return update.Errors(rows)
	})
}

func derefBool(b *bool) bool { return b != nil && *b }
