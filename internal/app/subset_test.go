package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/platform"
)

// TestSubsetRefusedByWholeProgramTargets: with CROSSBIN_PLATFORMS set, the
// targets that publish whole programs refuse before they plan, build or
// touch a builder, naming the variable and the way to build a subset.
func TestSubsetRefusedByWholeProgramTargets(t *testing.T) {
	arm64, _ := platform.Parse("linux/arm64")
	a := &App{
		Config: config.Config{Platforms: []platform.Platform{arm64}, Builder: "no-such-builder", Image: "127.0.0.1:1/crossbin"},
		Log:    slog.New(slog.DiscardHandler),
		Root:   t.TempDir(), // no catalog: reaching it would be another error
	}
	ctx := context.Background()
	for name, run := range map[string]func() error{
		"ci":             func() error { _, err := a.CI(ctx); return err },
		"ci:plan":        func() error { _, err := a.CIMatrix(ctx); return err },
		"ci:build":       func() error { _, err := a.CIBuild(ctx, "shfmt", "linux/arm64", t.TempDir()); return err },
		"ci:merge":       func() error { _, err := a.CIMerge(ctx, "testdata/none"); return err },
		"update -verify": func() error { _, err := a.Update(ctx, UpdateOptions{Verify: true}); return err },
		"bench:build":    func() error { _, err := a.BenchBuild(ctx); return err },
		"bench:ci":       func() error { return a.BenchCI(ctx, 1, false) },
	} {
		err := run()
		want := "CROSSBIN_PLATFORMS=linux/arm64 asks for a platform subset, but `mage " + name + "` builds whole programs"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "build:program NAME -platforms=linux/arm64") {
			t.Errorf("%s: err = %v; want %q", name, err, want)
		}
	}
	// Without -verify, update only rewrites pins: the subset is irrelevant.
	if _, err := a.Update(ctx, UpdateOptions{DryRun: true}); err == nil || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "CROSSBIN_PLATFORMS") {
		t.Errorf("update -dryrun: %v", err)
	}
}

// TestBlankPlatformsFlag: `-platforms=,` names no platform; it is refused
// before anything builds instead of meaning "every platform".
func TestBlankPlatformsFlag(t *testing.T) {
	a := &App{Config: config.Config{Builder: "no-such-builder"}, Log: slog.New(slog.DiscardHandler), Root: "../.."}
	for _, flag := range []string{",", " ", " , "} {
		_, err := a.BuildProgram(context.Background(), "shfmt", flag)
		if !errors.Is(err, platform.ErrEmptyList) {
			t.Errorf("-platforms=%q: err = %v; want ErrEmptyList", flag, err)
		}
	}
}
