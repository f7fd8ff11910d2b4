package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/bench"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/ci"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// ciRun is what every CI step needs: the catalog, its plan and the
// pipeline options that record the plan's inputs.
type ciRun struct {
	catalog catalog.Catalog
	entries []ci.Entry
	opt     pipeline.Options
}

func (a *App) ciPlan(ctx context.Context, target string) (ciRun, error) {
	if err := a.wholePrograms(target); err != nil {
		return ciRun{}, err
	}
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return ciRun{}, err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return ciRun{}, err
	}
	opt, err := a.Pipeline(ctx, b, patches, c.Programs)
	if err != nil {
		return ciRun{}, err
	}
	entries, err := ci.Plan(ctx, opt.Registry, a.Config.PlanRepository(), a.inputs(patches, b.GoImage, opt.DebianImage), c.Programs)
	if err != nil {
		return ciRun{}, err
	}
	for i, e := range entries {
		// Without the Debian builder image a C program cannot be planned:
		// its inputs name that image.
		if err := pipeline.DebianMissing(e.Program, opt.DebianErr); err != nil && e.Err == nil {
			entries[i].Err, entries[i].Build = fmt.Errorf("plan %s: %w", e.Program.Name, err), false
		}
	}
	opt.Inputs = ci.InputsMap(entries)
	return ciRun{catalog: c, entries: entries, opt: opt}, nil
}

// CIResult is what a CI step did: each program's report, the run's
// summary, and for a build the machine's peak memory.
type CIResult struct {
	Reports []pipeline.Report
	Rows    []ci.Row
	// Peak and Increase are the machine's peak memory in use during the
	// builds and how much that was above the start; Jobs ran at once.
	Peak, Increase uint64
	Jobs           int
}

// String renders the reports, the memory line and the summary table.
func (r CIResult) String() string {
	var b strings.Builder
	for _, rep := range r.Reports {
		b.WriteString(rep.Table())
	}
	if r.Peak > 0 {
		fmt.Fprintf(&b, "peak memory in use on this machine: %s (%s more than before the builds), %d jobs at once\n", bench.GiB(r.Peak), bench.GiB(r.Increase), r.Jobs)
	}
	if r.Rows != nil {
		b.WriteString(ci.Text(r.Rows))
	}
	return b.String()
}

// CI builds and publishes every program whose inputs changed.
func (a *App) CI(ctx context.Context) (CIResult, error) {
	run, err := a.ciPlan(ctx, "ci")
	if err != nil {
		return CIResult{}, err
	}
	var targets []pipeline.Target
	for _, e := range run.entries {
		if e.Build {
			targets = append(targets, pipeline.Target{Program: e.Program, Publish: true})
		}
	}
	var res CIResult
	if len(targets) > 0 {
		mem := bench.StartMemorySampler(250 * time.Millisecond)
		var r pipeline.Result
		r, err = pipeline.Run(ctx, run.opt, targets)
		res.Reports = r.Reports
		res.Peak, res.Increase = mem.Stop()
		res.Jobs = run.opt.Jobs
	}
	res.Rows = ci.Summarize(run.entries, res.Reports)
	return res, errors.Join(ci.PlanErrors(run.entries), err, a.stepSummary(res.Rows))
}

// CIMatrix is the plan as a job matrix. When some programs could not be
// planned, the matrix of the others comes with an error naming them; when
// none could, Include is nil.
func (a *App) CIMatrix(ctx context.Context) (ci.Matrix, error) {
	run, err := a.ciPlan(ctx, "ci:plan")
	if err != nil {
		return ci.Matrix{}, err
	}
	return ci.NewMatrix(run.entries), ci.PlanErrors(run.entries)
}

// CIBuild runs one job of the matrix and writes its record into dir.
func (a *App) CIBuild(ctx context.Context, program, plat, dir string) (pipeline.Report, error) {
	run, err := a.ciPlan(ctx, "ci:build")
	if err != nil {
		return pipeline.Report{}, err
	}
	i := slices.IndexFunc(run.entries, func(e ci.Entry) bool { return e.Program.Name == program })
	if i < 0 {
		_, err := run.catalog.Get(program)
		return pipeline.Report{}, err
	}
	e := run.entries[i]
	if e.Err != nil {
		return pipeline.Report{}, e.Err
	}
	pl, err := platform.Parse(plat)
	if err != nil {
		return pipeline.Report{}, err
	}
	if !slices.Contains(e.Program.Platforms, pl) {
		return pipeline.Report{}, fmt.Errorf("%s does not cover %s", program, pl)
	}
	// What the moving tag holds before this build: the merge moves the
	// tags only if they still hold it (ci.CheckMove).
	base, err := ci.ReadPublished(ctx, run.opt.Registry, registry.TagsOf(run.opt.Repository, e.Program).Name)
	if err != nil {
		return pipeline.Report{}, fmt.Errorf("%s: %w", program, err)
	}
	res, err := pipeline.Run(ctx, run.opt, []pipeline.Target{{Program: e.Program, Jobs: []pipeline.Job{pipeline.NewJob(e.Program, pl)}}})
	rep := res.Reports[0]
	if err != nil {
		return rep, err
	}
	o := rep.Outcomes[0]
	r := ci.Record{Program: program, Version: e.Program.Version, Platform: pl.String(), Digest: o.Digest.String(), Inputs: e.Inputs, Base: base.Index}
	for _, a := range o.Attestations {
		r.Attestations = append(r.Attestations, a.String())
	}
	return rep, ci.WriteRecord(dir, r)
}

// CIMerge verifies the recorded images of every program and moves its
// tags, unless they moved since the records' jobs planned (ci.Guard). A
// program the plan builds without a record for each platform fails.
func (a *App) CIMerge(ctx context.Context, dir string) (CIResult, error) {
	if err := a.wholePrograms("ci:merge"); err != nil {
		return CIResult{}, err
	}
	records, err := ci.ReadRecords(dir)
	if err != nil {
		return CIResult{}, err
	}
	run, err := a.ciPlan(ctx, "ci:merge")
	if err != nil {
		return CIResult{}, err
	}
	targets := ci.MergeTargets(run.entries, records)
	run.opt.Annotations = ci.Stamp(time.Now())
	run.opt.Steps = ci.Guard{Registry: run.opt.Registry, Repository: run.opt.Repository, Records: records}.Steps()
	var res CIResult
	if len(targets) > 0 {
		var r pipeline.Result
		r, err = pipeline.Run(ctx, run.opt, targets)
		res.Reports = r.Reports
	}
	res.Rows = ci.Summarize(run.entries, res.Reports)
	return res, errors.Join(ci.PlanErrors(run.entries), err, a.stepSummary(res.Rows))
}

// stepSummary writes the run's table to the GitHub step summary, if any.
func (a *App) stepSummary(rows []ci.Row) error {
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
