package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
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

// Pipeline returns the pipeline options for a builder.
func (a *App) Pipeline(b Builder) pipeline.Options {
	opt := pipeline.Options{
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
	prog, err := a.Program(name)
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
	rep, err := pipeline.Build(ctx, a.Pipeline(b), prog, subset)
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
