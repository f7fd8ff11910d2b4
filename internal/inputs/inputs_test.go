package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/patch"
)

func set(root string, patches []patch.Patch, goImage string) Set {
	return Set{Root: root, Patches: patches, GoImage: goImage, Tools: []Tool{{"github.com/moby/buildkit", "v0.33.1"}}}
}

// scratch copies a program and unavailable/ into a temporary repository.
func scratch(t *testing.T, name string) (string, catalog.Program) {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{filepath.Join("dockerfiles", name), "unavailable"} {
		src := filepath.Join("..", "..", dir)
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(root, dir), 0o755)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(src, e.Name()))
			os.WriteFile(filepath.Join(root, dir, e.Name()), data, 0o644)
		}
	}
	p, err := catalog.LoadProgram(filepath.Join(root, "dockerfiles", name))
	if err != nil {
		t.Fatal(err)
	}
	return root, p
}

func TestInputs(t *testing.T) {
	root, dlv := scratch(t, "dlv")
	base, err := set(root, nil, "golang:1.26.8-alpine").Of(dlv)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := set(root, nil, "golang:1.26.8-alpine").Of(dlv); again != base || !strings.HasPrefix(base, "sha256:") {
		t.Fatalf("not deterministic: %s vs %s", base, again)
	}
	change := func(what string, mutate func()) {
		t.Helper()
		mutate()
		got, err := set(root, nil, "golang:1.26.8-alpine").Of(dlv)
		if err != nil {
			t.Fatal(err)
		}
		if got == base {
			t.Errorf("%s did not change the inputs", what)
		}
		base = got
	}
	change("the unavailable program", func() {
		f := filepath.Join(root, "unavailable", "main.go")
		data, _ := os.ReadFile(f)
		os.WriteFile(f, append(data, "\n// changed\n"...), 0o644)
	})
	change("the spec", func() {
		f := filepath.Join(dlv.Dir, catalog.SpecFile)
		data, _ := os.ReadFile(f)
		os.WriteFile(f, append(data, "# changed\n"...), 0o644)
	})
	moved := set(root, nil, "golang:1.26.8-alpine")
	moved.Tools[0].Version = "v0.0.1"
	if other, _ := moved.Of(dlv); other == base {
		t.Error("a tool version did not change the inputs")
	}
	if other, _ := set(root, nil, "golang:1.27-alpine").Of(dlv); other == base {
		t.Error("the Go image did not change the inputs")
	}
	// A patch counts only while it applies to the pinned version.
	pf := filepath.Join(root, "dlv-fix.yaml")
	body := "program: dlv\nversions: \">= 1.0.0\"\nreason: r\nrequire:\n  - {module: golang.org/x/sys, version: v0.1.0}\n"
	os.WriteFile(pf, []byte(body), 0o644)
	p, err := patch.Parse(pf, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if with, _ := set(root, []patch.Patch{p}, "golang:1.26.8-alpine").Of(dlv); with == base {
		t.Error("an applying patch did not change the inputs")
	}
	p.Program = "helm"
	if other, _ := set(root, []patch.Patch{p}, "golang:1.26.8-alpine").Of(dlv); other != base {
		t.Error("another program's patch changed the inputs")
	}
}

// TestInputsTarball: a C program is rebuilt when its tarball, its build
// options, packages or tools, or the Debian builder image change; a Go
// program does not depend on the Debian image.
func TestInputsTarball(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "dockerfiles", "tmux")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"Dockerfile", catalog.SpecFile} {
		data, err := os.ReadFile(filepath.Join("..", "render", "testdata", "c", "tmux", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	for _, f := range unavailableFiles {
		os.MkdirAll(UnavailableDir(root), 0o755)
		os.WriteFile(filepath.Join(UnavailableDir(root), f), []byte(f), 0o644)
	}
	load := func() catalog.Program {
		t.Helper()
		p, err := catalog.LoadProgram(dir)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	debian := func(img string) Set {
		s := set(root, nil, "golang:1.26.8-alpine")
		s.DebianImage = img
		return s
	}
	base, err := debian("debian:trixie@sha256:1").Of(load())
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := debian("debian:trixie@sha256:2").Of(load()); other == base {
		t.Error("the Debian builder image did not change the inputs")
	}
	change := func(what, file, old, new string) {
		t.Helper()
		f := filepath.Join(dir, file)
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s lacks %q", f, old)
		}
		os.WriteFile(f, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
		got, err := debian("debian:trixie@sha256:1").Of(load())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got == base {
			t.Errorf("%s did not change the inputs", what)
		}
		base = got
	}
	change("the tarball's sha256", "Dockerfile", "ARG SHA256=16216bd0", "ARG SHA256=26216bd0")
	change("the tarball's URL", "Dockerfile", "releases/download/", "releases/download//")
	change("a build option", catalog.SpecFile, "[--enable-static]", "[--enable-static, --disable-utf8proc]")
	change("a package", catalog.SpecFile, "[libncurses-dev]", "[libncurses-dev, libutempter-dev]")
	change("a tool", catalog.SpecFile, "[bison]", "[bison, byacc]")
	change("a dep's sha256", "Dockerfile", "ARG LIBEVENT_SHA256=f7e9", "ARG LIBEVENT_SHA256=07e9")
	change("a dep's version", "Dockerfile", "ARG LIBEVENT_VERSION=2.1.13-stable", "ARG LIBEVENT_VERSION=2.1.14-stable")
	change("a dep's option", catalog.SpecFile, "--disable-openssl", "--disable-openssl, --disable-thread-support")

	_, dlv := scratch(t, "dlv")
	goA, _ := debian("debian:trixie@sha256:1").Of(dlv)
	goB, _ := debian("debian:trixie@sha256:2").Of(dlv)
	if goA != goB {
		t.Error("a Go program's inputs depend on the Debian builder image")
	}
	// A Go program with cgo builds on it: its inputs do.
	dlv.Build.CGO = true
	cgoA, _ := debian("debian:trixie@sha256:1").Of(dlv)
	cgoB, _ := debian("debian:trixie@sha256:2").Of(dlv)
	if cgoA == cgoB {
		t.Error("a cgo program's inputs do not depend on the Debian builder image")
	}
}
