// Package app wires crossbin's packages together from a Config: it is what
// the mage targets call, so each target stays a few lines.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

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
		Log:          a.Log,
	})
}

// Builder is where builds run and which base image they use.
type Builder struct {
	Buildx  buildx.Client
	GoImage string
	// DebianImage is the Debian builder image for C programs; DebianErr
	// is why there is none (C programs fail with it, Go programs build).
	DebianImage string
	DebianErr   error
}

// debianFor fails when a C program is among progs but the Debian builder
// image could not be had.
func (b Builder) debianFor(progs []catalog.Program) error {
	if b.DebianErr == nil {
		return nil
	}
	for _, p := range progs {
		if p.Tarball != nil {
			return fmt.Errorf("%s is a C program, but there is no Debian builder image: %w", p.Name, b.DebianErr)
		}
	}
	return nil
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
	if b.DebianErr == nil {
		// Pinned like the Go image; a failure fails only C programs.
		b.DebianImage, b.DebianErr = baseimage.PinDebian(ctx, a.registry(), b.DebianImage)
	}
	return b, nil
}

func (a *App) builder(ctx context.Context) (Builder, error) {
	if !a.Config.Embedded() {
		goImage, err := baseimage.Choice{Override: a.Config.GoImage}.Image(ctx)
		if err != nil {
			return Builder{}, err
		}
		debianImage, err := baseimage.DebianChoice{Override: a.Config.DebianImage}.Image(ctx)
		if err != nil {
			return Builder{}, err
		}
		bx := buildx.Client{Path: "docker", Prefix: []string{"buildx"}, Builder: a.Config.Builder}
		if err := bx.Check(ctx); err != nil {
			return Builder{}, err
		}
		return Builder{Buildx: bx, GoImage: goImage, DebianImage: debianImage}, nil
	}
	ep, err := a.Stack().Up(ctx)
	if err != nil {
		return Builder{}, err
	}
	return Builder{Buildx: ep.Buildx, GoImage: ep.GoImage, DebianImage: ep.DebianImage, DebianErr: ep.DebianErr}, nil
}
