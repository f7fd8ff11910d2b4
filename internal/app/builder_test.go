package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

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

// TestDebianFor: without a Debian builder image only C programs fail, with
// the reason.
func TestDebianFor(t *testing.T) {
	goProg := catalog.Program{Name: "shfmt"}
	cProg := catalog.Program{Name: "tmux", Tarball: &catalog.Tarball{}}
	b := Builder{DebianErr: errors.New("mmdebstrap: mirror unreachable")}
	if err := b.debianFor([]catalog.Program{goProg}); err != nil {
		t.Errorf("a Go program failed: %v", err)
	}
	if err := b.debianFor([]catalog.Program{goProg, cProg}); err == nil || !strings.Contains(err.Error(), "tmux is a C program, but there is no Debian builder image: mmdebstrap: mirror unreachable") {
		t.Errorf("err = %v", err)
	}
	if err := (Builder{}).debianFor([]catalog.Program{cProg}); err != nil {
		t.Errorf("with an image: %v", err)
	}
}
