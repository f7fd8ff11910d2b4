//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/add"
	"github.com/crossbin/crossbin/internal/app"
)

// Add makes a catalog entry for a Go command (MODULE or MODULE/path/to/main) found by building it: version, main package, source kind, version stamp, smoke command and unavailable platforms; then builds, verifies and publishes it unless -nobuild.
func Add(ctx context.Context, path string, name *string, version *string, nobuild *bool) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		r, err := a.Add(ctx, add.Request{Path: path, Name: deref(name), Version: deref(version)}, derefBool(nobuild))
		if r.Report != nil {
			fmt.Print(r.Report.Table())
		}
		if err != nil {
			return err
		}
		fmt.Printf("added %s %s (%s) to %s\n", r.Entry.Name, r.Entry.Version, r.Entry.Package(), r.Program.Dir)
		return nil
	})
}
