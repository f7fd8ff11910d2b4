package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/baseimage"
	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/config"
)

// TestMissingBuilder: CROSSBIN_BUILDER naming a builder that does not exist
// fails before any job with one error naming it and how to list builders.
func TestMissingBuilder(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no builders, whatever the user has
	a := &App{Config: config.Config{Builder: "crossbin-no-such-builder", GoImage: "golang:1.26.8-alpine", Image: "127.0.0.1:1/crossbin"}, Log: slog.New(slog.DiscardHandler), Root: "../.."}
	_, err := a.BuildProgram(context.Background(), "shfmt", "")
	if !errors.Is(err, buildx.ErrBuilder) || !strings.Contains(err.Error(), "CROSSBIN_BUILDER=crossbin-no-such-builder") || !strings.Contains(err.Error(), "docker buildx ls") {
		t.Fatalf("err = %v", err)
	}
}

// TestDebianOnlyForC: a run asks for the Debian builder image only when
// its programs include a C program (or a Go program with cgo), and then once, however many pipelines
// (update's trial builds) and programs ask; when it cannot be had, the
// options carry why and only the Go programs' inputs.
func TestDebianOnlyForC(t *testing.T) {
	ctx := context.Background()
	c, err := catalog.Load("../../dockerfiles")
	if err != nil {
		t.Fatal(err)
	}
	shfmt, _ := c.Get("shfmt")
	cprogs, err := catalog.Load("../render/testdata/c")
	if err != nil {
		t.Fatal(err)
	}
	tmux, _ := cprogs.Get("tmux")
	lz4, _ := cprogs.Get("lz4")
	a := &App{Log: slog.New(slog.DiscardHandler), Root: "../.."}

	for _, fail := range []bool{false, true} {
		calls := 0
		b := Builder{GoImage: "golang:1.26.8-alpine@sha256:" + strings.Repeat("a", 64), Debian: baseimage.NewLazy("Debian builder image", func(context.Context) (string, error) {
			calls++
			if fail {
				return "", errors.New("assemble the Debian builder image: mmdebstrap: mirror unreachable")
			}
			return "127.0.0.1:5000/crossbin/debian:trixie-0123@sha256:" + strings.Repeat("b", 64), nil
		})}
		opt, err := a.Pipeline(ctx, b, nil, []catalog.Program{shfmt})
		if err != nil || calls != 0 || opt.DebianImage != "" || opt.DebianErr != nil {
			t.Fatalf("Go-only run: asked %d times, image %q, %v, %v", calls, opt.DebianImage, opt.DebianErr, err)
		}
		for range 2 {
			if opt, err = a.Pipeline(ctx, b, nil, []catalog.Program{shfmt, tmux, lz4}); err != nil {
				t.Fatal(err)
			}
		}
		if calls != 1 {
			t.Errorf("fail=%v: asked %d times", fail, calls)
		}
		// A Go program with cgo builds on it too.
		cg := shfmt
		cg.Name, cg.Build.CGO = "shfmt-cgo", true
		if opt, err := a.Pipeline(ctx, b, nil, []catalog.Program{cg}); err != nil || (opt.DebianImage == "") == !fail || (opt.DebianErr == nil) == fail {
			t.Errorf("fail=%v: cgo run: image %q, %v, %v", fail, opt.DebianImage, opt.DebianErr, err)
		}
		_, hasTmux := opt.Inputs["tmux"]
		if !fail && (opt.DebianImage == "" || opt.DebianErr != nil || !hasTmux) {
			t.Errorf("C run: image %q, %v, inputs %v", opt.DebianImage, opt.DebianErr, opt.Inputs)
		}
		if fail && (opt.DebianErr == nil || !strings.Contains(opt.DebianErr.Error(), "mirror unreachable") || hasTmux || opt.Inputs["shfmt"] == "") {
			t.Errorf("failed C run: %v, inputs %v", opt.DebianErr, opt.Inputs)
		}
	}
}
