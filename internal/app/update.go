package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/update"
	"github.com/crossbin/crossbin/internal/upstream"
)

// UpdateOptions are `mage update`'s flags.
type UpdateOptions struct {
	Program string // empty: every program
	DryRun  bool   // print the table, change nothing
	Verify  bool   // build each bump before keeping it (always on CI)
}

// Update bumps pinned versions to the newest releases their policies allow.
func (a *App) Update(ctx context.Context, o UpdateOptions) error {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return err
	}
	programs := c.Programs
	if o.Program != "" {
		p, err := c.Get(o.Program)
		if err != nil {
			return err
		}
		programs = []catalog.Program{p}
	}
	entries, err := upstream.ParseGOPROXY(a.Config.GoEnv["GOPROXY"])
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	rows := update.Check(ctx, update.Options{
		Proxy:   upstream.Proxy{Entries: entries, Client: client},
		GitHub:  upstream.GitHub{Token: a.Config.GitHubToken, Client: client},
		Patches: patches, Jobs: 4, Timeout: 2 * time.Minute,
	}, programs)
	if o.DryRun {
		fmt.Print(update.Table(rows))
		return update.Errors(rows)
	}
	var bumped []int
	for i, r := range rows {
		if !r.Bumped() {
			continue
		}
		if err := update.Write(r.Program, r.New); err != nil {
			rows[i].Err = err
			continue
		}
		bumped = append(bumped, i)
	}
	if (o.Verify || a.Config.CI) && len(bumped) > 0 {
		a.verifyBumps(ctx, rows, bumped)
	}
	if _, err := a.Readme(); err != nil {
		rows = append(rows, update.Row{Err: err})
	}
	fmt.Print(update.Table(rows))
	return update.Errors(rows)
}

// verifyBumps builds every bumped program; a bump whose build fails is
// reverted, the others stay.
func (a *App) verifyBumps(ctx context.Context, rows []update.Row, bumped []int) {
	b, err := a.Builder(ctx)
	if err != nil {
		for _, i := range bumped {
			rows[i].Err = errors.Join(fmt.Errorf("%s: cannot verify the bump: %w", rows[i].Program.Name, err), revert(rows[i]))
		}
		return
	}
	c, patches, err := a.catalogAndPatches() // the catalog with the bumps
	if err != nil {
		for _, i := range bumped {
			rows[i].Err = errors.Join(err, revert(rows[i]))
		}
		return
	}
	for _, i := range bumped {
		prog, err := c.Get(rows[i].Program.Name)
		if err == nil {
			var rep pipeline.Report
			rep, err = pipeline.Build(ctx, a.Pipeline(b, patches), prog, nil)
			fmt.Print(rep.Table())
		}
		if err != nil {
			rows[i].Err = errors.Join(fmt.Errorf("%s %s does not build, the bump is reverted: %w", prog.Name, rows[i].New, err), revert(rows[i]))
			continue
		}
		rows[i].Notes = append(rows[i].Notes, "verified by a build")
	}
}

func revert(r update.Row) error {
	if err := update.Write(r.Program, r.Old); err != nil {
		return fmt.Errorf("revert %s to %s: %w", r.Program.Name, r.Old, err)
	}
	return nil
}
