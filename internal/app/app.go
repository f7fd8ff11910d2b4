// Package app wires crossbin's packages together from a Config: it is what
// the mage targets call, so each target stays a few lines.
package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"

	"github.com/crossbin/crossbin/internal/baseimage"
	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/sign"
	"github.com/crossbin/crossbin/internal/stack"
)

// App is one configured crossbin.
type App struct {
	Config config.Config
	Log    *slog.Logger
	// Root is the repository root (where mage runs).
	Root string
}

// New loads the configuration and sets up logging.
func New(ctx context.Context) (*App, error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if cfg.Verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	return &App{Config: cfg, Log: log, Root: cfg.Root}, nil
}

// Stack is the embedded stack for this configuration.
func (a *App) Stack() *stack.Stack {
	return stack.New(stack.Options{
		CacheDir:     a.Config.CacheDir,
		RegistryPort: a.Config.RegistryPort,
		GoImage:      a.Config.GoImage,
		DebianImage:  a.Config.DebianImage,
		MinFree:      a.Config.MinFree,
		Parallel:     a.Config.Jobs,
		Log:          a.Log,
	})
}

// Builder is where builds run and which base images they use.
type Builder struct {
	Buildx  buildx.Client
	GoImage string
	// Bounded says the builder runs at most CROSSBIN_JOBS steps at once
	// (the embedded stack's buildkitd), so a program's platforms can build
	// in one bake without running more compiles than jobs allows.
	Bounded bool
	// Debian is the Debian builder image C programs build on, pinned by
	// digest. It is had (on the embedded stack: mmdebstrap installed and
	// the image assembled when Docker Hub does not answer) the first time
	// the run's programs include a C program, once however often it is
	// asked; a Go-only run never asks. nil: there is none.
	Debian *baseimage.Lazy
}

// debianFor is the Debian builder image when progs include a program that
// builds C (a C program, or a Go program with cgo), and "" without asking
// for it when they do not.
func (b Builder) debianFor(ctx context.Context, progs []catalog.Program) (string, error) {
	if !slices.ContainsFunc(progs, catalog.Program.BuildsC) {
		return "", nil
	}
	if b.Debian == nil {
		return "", errors.New("this builder has no Debian builder image")
	}
	return b.Debian.Image(ctx)
}

// Builder returns the user's buildx builder when one is configured, and
// otherwise brings the embedded stack up and returns its builder.
func (a *App) Builder(ctx context.Context) (Builder, error) {
	// Every run that builds publishes too: a signing key that cannot be
	// used fails it here, before the stack comes up or anything is built.
	if k := a.Config.Signing; k.Key != "" {
		if _, err := sign.LoadKey(k.Key, k.Password.Bytes()); err != nil {
			return Builder{}, err
		}
	}
	b, err := a.builder(ctx)
	if err != nil {
		return Builder{}, err
	}
	// One digest for the whole run, and part of every program's inputs.
	if b.GoImage, err = baseimage.Pin(ctx, a.registry(), b.GoImage); err != nil {
		return Builder{}, err
	}
	return b, nil
}

// lazyDebian is the run's Debian builder image: chosen by choose, then
// pinned by digest like the Go image, when first asked for.
func (a *App) lazyDebian(choose func(context.Context) (string, error)) *baseimage.Lazy {
	return baseimage.NewLazy("Debian builder image", func(ctx context.Context) (string, error) {
		ref, err := choose(ctx)
		if err != nil {
			return "", err
		}
		return baseimage.PinDebian(ctx, a.registry(), ref)
	})
}

func (a *App) builder(ctx context.Context) (Builder, error) {
	if !a.Config.Embedded() {
		goImage, err := baseimage.Choice{Override: a.Config.GoImage}.Image(ctx)
		if err != nil {
			return Builder{}, err
		}
		bx := buildx.Client{Path: "docker", Prefix: []string{"buildx"}, Builder: a.Config.Builder}
		if err := bx.Check(ctx); err != nil {
			return Builder{}, err
		}
		debian := a.lazyDebian(baseimage.DebianChoice{Override: a.Config.DebianImage}.Image)
		return Builder{Buildx: bx, GoImage: goImage, Debian: debian}, nil
	}
	ep, err := a.Stack().Up(ctx)
	if err != nil {
		return Builder{}, err
	}
	return Builder{Buildx: ep.Buildx, GoImage: ep.GoImage, Bounded: true, Debian: a.lazyDebian(ep.DebianImage)}, nil
}
