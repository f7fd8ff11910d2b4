package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/update"
	"github.com/crossbin/crossbin/internal/upstream"
)

// UpdateOptions are `mage update`'s flags.
type UpdateOptions struct {
	Program string // empty: every program
	DryRun  bool   // change nothing, only report
	Verify  bool   // build each bump before keeping it (always on CI)
}

// Update bumps pinned versions to the newest releases their policies allow
// and regenerates the README table; it returns one row per program (and one
// for a README failure), the rows' errors included. The error is for what
// stopped it before any check.
func (a *App) Update(ctx context.Context, o UpdateOptions) ([]update.Row, error) {
	if o.Verify || a.Config.CI {
		if err := a.wholePrograms("update -verify"); err != nil {
			return nil, err
		}
	}
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return nil, err
	}
	programs := c.Programs
	if o.Program != "" {
		p, err := c.Get(o.Program)
		if err != nil {
			return nil, err
		}
		programs = []catalog.Program{p}
	}
	entries, err := upstream.ParseGOPROXY(a.Config.GoEnv["GOPROXY"])
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	rows := update.Check(ctx, update.Options{
		Proxy:  upstream.Proxy{Entries: entries, Client: client},
		GitHub: upstream.GitHub{Token: a.Config.GitHubToken, Client: client},
		// A C program's new tarball goes through the same verified cache
		// its build reads (no token: the download is not GitHub's API).
		Tarball: a.sources(patches).FetchTarball,
		Patches: patches, Jobs: 4, Timeout: 2 * time.Minute,
	}, programs)
	if o.DryRun {
		return rows, nil
	}
	var verify update.Verifier
	if o.Verify || a.Config.CI {
		verify = a.trialBuild(patches)
	}
	rows = update.Apply(ctx, rows, verify)
	if _, err := a.Readme(); err != nil {
		rows = append(rows, update.Row{Err: err})
	}
	return rows, nil
}

// trialBuild builds a program for every platform through the pipeline,
// printing each build's summary table as it ends. p.Version is the bump,
// not yet written: the build passes it as VERSION and everything else reads
// it from p, so the Dockerfile stays as it is until the bump is kept. The
// images are verified and pushed by digest, but no tag moves: the inputs
// annotation a publish records is computed from the files on disk, which
// still pin the old version.
func (a *App) trialBuild(patches []patch.Patch) update.Verifier {
	return func(ctx context.Context) (update.Build, error) {
		b, err := a.Builder(ctx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, p catalog.Program) error {
			opt, err := a.Pipeline(ctx, b, patches, []catalog.Program{p})
			if err != nil {
				return err
			}
			res, err := pipeline.Run(ctx, opt, []pipeline.Target{{Program: p}})
			rep := res.Reports[0]
			if errors.Is(rep.Unmoved, pipeline.ErrSubset) {
				rep.Unmoved = errTrial
			}
			fmt.Print(rep.Table())
			return err
		}, nil
	}
}

// errTrial says why a trial build moves no tag.
const errTrial = pipeline.Skip("trial build of a bump: images pushed by digest, tags not moved")
