//go:build mage

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/crossbin/crossbin/internal/app"
	"github.com/crossbin/crossbin/internal/ci"
)

// Ci builds and publishes every program whose inputs changed since it was published (one process).
func Ci(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		res, err := a.CI(ctx)
		fmt.Print(res)
		return err
	})
}

// CI splits `mage ci` over CI runners: plan, build per job, merge.
type CI mg.Namespace

// Plan prints the JSON job matrix (program × platform) of what must be built, or with -out=FILE appends it to FILE as `matrix=<json>` ($GITHUB_OUTPUT); it fails naming any program it could not plan.
func (CI) Plan(ctx context.Context, out *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		m, err := a.CIMatrix(ctx)
		switch {
		case m.Include == nil:
			return err
		case deref(out) != "":
			return errors.Join(err, ci.WriteOutput(*out, m))
		default:
			return errors.Join(err, json.NewEncoder(os.Stdout).Encode(m))
		}
	})
}

// Build runs one job of the matrix and records its digest in -out (default ./ci-records).
func (CI) Build(ctx context.Context, program, platform string, out *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		rep, err := a.CIBuild(ctx, program, platform, orDefault(out, "ci-records"))
		if len(rep.Outcomes) > 0 {
			fmt.Print(rep.Table())
		}
		return err
	})
}

// Merge verifies the recorded images in -in (default ./ci-records), merges each program's digests and moves its tags, unless they moved since its jobs planned.
func (CI) Merge(ctx context.Context, in *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		res, err := a.CIMerge(ctx, orDefault(in, "ci-records"))
		fmt.Print(res)
		return err
	})
}

func orDefault(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}
