//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/magefile/mage/mg"

	"github.com/crossbin/crossbin/internal/app"
)

// Bench measures crossbin against the bare go tool.
type Bench mg.Namespace

// Build times shfmt for all platforms through crossbin and through a bare `go install` loop on warm caches, and prints the ratio.
func (Bench) Build(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		r, err := a.BenchBuild(ctx)
		if err != nil {
			return err
		}
		fmt.Print(r)
		return nil
	})
}

// Ci times planning a `mage ci` run over the published catalog (a no-op run); -full instead builds the whole catalog cold (builder cache pruned, fresh repository) and reports per-program results, total time and peak memory.
func (Bench) Ci(ctx context.Context, full *bool) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		return a.BenchCI(ctx, 9, derefBool(full))
	})
}

// Catalog builds shfmt, helm, gh and golangci-lint (or -programs=a,b) for their real platforms with a bare `go build` loop and through crossbin, each cold and then warm, and prints the times, the ratios crossbin/bare and a Markdown table for the README.
func (Bench) Catalog(ctx context.Context, programs *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		r, err := a.BenchCatalog(ctx, deref(programs))
		if len(r.Programs) > 0 {
			fmt.Print(r, "\n", r.Markdown())
		}
		return err
	})
}
