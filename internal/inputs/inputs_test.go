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
