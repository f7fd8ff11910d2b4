//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/magefile/mage/mg"

	"github.com/crossbin/crossbin/internal/app"
)

// Build builds programs of the catalog.
type Build mg.Namespace

// Program builds one program for every platform, verifies it and publishes <name> and <name>-<version>; -platforms=a,b builds a subset without moving tags.
func (Build) Program(ctx context.Context, name string, platforms *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		rep, err := a.BuildProgram(ctx, name, deref(platforms))
		if len(rep.Outcomes) > 0 || rep.Err != nil {
			fmt.Print(rep.Table())
		}
		return err
	})
}

// All builds, verifies and publishes the whole catalog through one job pool (CROSSBIN_JOBS at once).
func (Build) All(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		reps, err := a.BuildAll(ctx)
		for _, r := range reps {
			fmt.Print(r.Table())
		}
		return err
	})
}

// Verify checks a published program: ELF header, a run, SBOM and provenance of every platform; the index signature when CROSSBIN_VERIFY_KEY is set.
func Verify(ctx context.Context, name string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		v, err := a.Verify(ctx, name)
		fmt.Print(v)
		return err
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
