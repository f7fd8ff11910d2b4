package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/ci"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/readme"
	"github.com/crossbin/crossbin/internal/render"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
)

// Catalog loads the programs under dockerfiles/.
func (a *App) Catalog() (catalog.Catalog, error) {
	return catalog.Load(filepath.Join(a.Root, "dockerfiles"))
}

// Program returns one program of the catalog.
func (a *App) Program(name string) (catalog.Program, error) {
	c, err := a.Catalog()
	if err != nil {
		return catalog.Program{}, err
	}
	return c.Get(name)
}

// catalogAndPatches loads the catalog and the patches for it.
func (a *App) catalogAndPatches() (catalog.Catalog, []patch.Patch, error) {
	c, err := a.Catalog()
	if err != nil {
		return c, nil, err
	}
	patches, err := a.Patches(c)
	return c, patches, err
}

// recordInputs sets opt.Inputs to each program's inputs as `mage ci`
// computes them, so ci recognizes what other targets published.
func (a *App) recordInputs(opt *pipeline.Options, progs []catalog.Program) error {
	opt.Inputs = map[string]string{}
	for _, p := range progs {
		in, err := ci.Inputs(a.Root, p, opt.Patches, opt.GoImage)
		if err != nil {
			return err
		}
		opt.Inputs[p.Name] = in
	}
	return nil
}

// Patches loads patches/ and checks each names a catalog program.
func (a *App) Patches(c catalog.Catalog) ([]patch.Patch, error) {
	patches, err := patch.Load(filepath.Join(a.Root, "patches"))
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		if _, err := c.Get(p.Program); err != nil {
			return nil, fmt.Errorf("%s: program: %w", p.File, err)
		}
	}
	return patches, nil
}

// Source is the module source preparer.
func (a *App) Source() source.Preparer {
	return source.Preparer{CacheDir: a.Config.CacheDir, Env: a.Config.Environ(), Log: a.Log}
}

// Pipeline returns the pipeline options for a builder.
func (a *App) Pipeline(b Builder, patches []patch.Patch) pipeline.Options {
	opt := pipeline.Options{
		Source:     a.Source(),
		Patches:    patches,
		Buildx:     b.Buildx,
		GoImage:    b.GoImage,
		Repository: a.Config.Image,
		Jobs:       a.Config.Jobs,
		GoEnv:      a.Config.GoEnv,
		Root:       a.Root,
		Log:        a.Log,
	}
	if a.Config.Verbose {
		opt.BuildOutput = os.Stderr
	}
	return opt
}

// BuildProgram builds, verifies and publishes one program, printing the
// summary table. platforms overrides CROSSBIN_PLATFORMS when not empty.
func (a *App) BuildProgram(ctx context.Context, name, platforms string) error {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return err
	}
	prog, err := c.Get(name)
	if err != nil {
		return err
	}
	subset := a.Config.Platforms
	if platforms != "" {
		if subset, err = platform.ParseList(platforms); err != nil {
			return err
		}
	}
	if _, err := pipeline.Plan(prog, subset); err != nil {
		return err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return err
	}
	opt := a.Pipeline(b, patches)
	if err := a.recordInputs(&opt, []catalog.Program{prog}); err != nil {
		return err
	}
	rep, err := pipeline.Build(ctx, opt, prog, subset)
	fmt.Print(rep.Table())
	return err
}

// Verify checks the published image of a program.
func (a *App) Verify(ctx context.Context, name string) error {
	prog, err := a.Program(name)
	if err != nil {
		return err
	}
	tag := pipeline.Tags(a.Config.Image, prog)[1]
	results, err := verify.Published(ctx, tag, prog)
	for _, r := range results {
		status := "ok"
		if r.Err != nil {
			status = "FAILED: " + r.Err.Error()
		}
		detail := r.Output
		if r.Note != "" {
			detail = r.Note
		}
		fmt.Printf("%-14s %-11s %-34s %-8s %s\n", r.Platform, kind(r), r.ELF, status, detail)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d platforms verified\n", tag, len(results))
	return nil
}

func kind(r verify.Result) string {
	if r.Unavailable {
		return "unavailable"
	}
	return "real"
}

// PatchOverview lists every patch against the pinned versions.
func (a *App) PatchOverview() (string, error) {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return "", err
	}
	var rows []patch.Overview
	for _, p := range patches {
		prog, _ := c.Get(p.Program) // checked by Patches
		rows = append(rows, patch.Overview{Patch: p, Pinned: prog.Version, Applies: p.Matches(prog.Version)})
	}
	return patch.Table(rows), nil
}

// Readme regenerates README.md's catalog table.
func (a *App) Readme() (bool, error) {
	c, err := a.Catalog()
	if err != nil {
		return false, err
	}
	return readme.Write(filepath.Join(a.Root, "README.md"), c, readme.DefaultRepo)
}

// Dockerfiles renders every program's Dockerfile from its pins and
// program.yaml, returning the programs whose Dockerfile changed.
func (a *App) Dockerfiles() ([]string, error) {
	c, err := a.Catalog()
	if err != nil {
		return nil, err
	}
	return render.Write(c)
}

// BuildAll builds, verifies and publishes the whole catalog through one job
// pool, with a progress line per platform and the summary tables.
func (a *App) BuildAll(ctx context.Context) error {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return err
	}
	opt := a.Pipeline(b, patches)
	if err := a.recordInputs(&opt, c.Programs); err != nil {
		return err
	}
	reps, err := pipeline.BuildAll(ctx, opt, c.Programs, a.Config.Platforms)
	for _, r := range reps {
		fmt.Print(r.Table())
	}
	return err
}
