package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/crossbin/crossbin/internal/bench"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/ci"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
)

// ciRun is what every CI step needs: the catalog, its plan and the
// pipeline options that record the plan's inputs.
type ciRun struct {
	catalog catalog.Catalog
	entries []ci.Entry
	opt     pipeline.Options
}

func (a *App) ciPlan(ctx context.Context) (ciRun, error) {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return ciRun{}, err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return ciRun{}, err
	}
	opt := a.Pipeline(b, patches)
	entries, err := ci.Plan(ctx, opt, a.Config.PlanRepository(), a.Root, c.Programs)
	if err != nil {
		return ciRun{}, err
	}
	opt.Inputs = ci.InputsMap(entries)
	return ciRun{catalog: c, entries: entries, opt: opt}, nil
}

// CI builds and publishes every program whose inputs changed.
func (a *App) CI(ctx context.Context) error {
	run, err := a.ciPlan(ctx)
	if err != nil {
		return err
	}
	var targets []pipeline.Target
	for _, e := range run.entries {
		if e.Build {
			targets = append(targets, pipeline.Target{Program: e.Program, Jobs: allJobs(e.Program), Publish: true})
		}
	}
	var reports []pipeline.Report
	if len(targets) > 0 {
		mem := bench.StartMemorySampler(250 * time.Millisecond)
		reports, err = pipeline.Run(ctx, run.opt, targets)
		peak, increase := mem.Stop()
		for _, r := range reports {
			fmt.Print(r.Table())
		}
		if peak > 0 {
			fmt.Printf("peak memory in use on this machine: %s (%s more than before the builds), %d jobs at once\n", bench.GiB(peak), bench.GiB(increase), run.opt.Jobs)
		}
	}
	return errors.Join(err, a.summary(ci.Summarize(run.entries, reports)))
}

// CIMatrix prints the plan as a JSON job matrix.
func (a *App) CIMatrix(ctx context.Context) error {
	run, err := a.ciPlan(ctx)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(ci.NewMatrix(run.entries))
}

// CIBuild runs one job of the matrix and writes its record into dir.
func (a *App) CIBuild(ctx context.Context, program, plat, dir string) error {
	run, err := a.ciPlan(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(run.entries, func(e ci.Entry) bool { return e.Program.Name == program })
	if i < 0 {
		_, err := run.catalog.Get(program)
		return err
	}
	e := run.entries[i]
	pl, err := platform.Parse(plat)
	if err != nil {
		return err
	}
	if !slices.Contains(e.Program.Platforms, pl) {
		return fmt.Errorf("%s does not cover %s", program, pl)
	}
	job := pipeline.Job{Program: e.Program, Platform: pl, Unavailable: !e.Program.Available(pl)}
	reps, err := pipeline.Run(ctx, run.opt, []pipeline.Target{{Program: e.Program, Jobs: []pipeline.Job{job}}})
	fmt.Print(reps[0].Table())
	if err != nil {
		return err
	}
	o := reps[0].Outcomes[0]
	return ci.WriteRecord(dir, ci.Record{Program: program, Version: e.Program.Version, Platform: pl.String(), Digest: o.Digest.String(), Inputs: e.Inputs})
}

// CIMerge verifies the recorded images of every program and moves its tags.
func (a *App) CIMerge(ctx context.Context, dir string) error {
	records, err := ci.ReadRecords(dir)
	if err != nil {
		return err
	}
	run, err := a.ciPlan(ctx)
	if err != nil {
		return err
	}
	var reports []pipeline.Report
	var errs []error
	for _, e := range run.entries {
		if !slices.ContainsFunc(records, func(r ci.Record) bool { return r.Program == e.Program.Name }) {
			continue
		}
		rep := pipeline.Report{Program: e.Program}
		rep.Outcomes, err = ci.Outcomes(e.Program, e.Inputs, records)
		if err == nil {
			err = pipeline.Finish(ctx, run.opt, &rep, true)
		}
		rep.Err = err
		errs = append(errs, err)
		fmt.Print(rep.Table())
		reports = append(reports, rep)
	}
	return errors.Join(append(errs, a.summary(ci.Summarize(run.entries, reports)))...)
}

// summary prints the run's table and writes it to the step summary.
func (a *App) summary(rows []ci.Row) error {
	fmt.Print(ci.Text(rows))
	if a.Config.StepSummary == "" {
		return nil
	}
	f, err := os.OpenFile(a.Config.StepSummary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write GITHUB_STEP_SUMMARY: %w", err)
	}
	_, err = f.WriteString(ci.Markdown(rows))
	return errors.Join(err, f.Close())
}

func allJobs(p catalog.Program) []pipeline.Job {
	jobs, _ := pipeline.Plan(p, nil) // all of its own platforms: cannot fail
	return jobs
}
