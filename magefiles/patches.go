//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/app"
)

// Patches lists every patch in patches/, the program and platforms it is for, and whether it still applies to the pinned version.
func Patches(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		table, err := a.PatchOverview()
		if err != nil {
			return err
		}
		fmt.Print(table)
		return nil
	})
}
