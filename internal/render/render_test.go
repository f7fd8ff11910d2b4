package render

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
)

// TestDockerfilesAreRendered fails when a Dockerfile in dockerfiles/ is
// not what its pins and program.yaml render: run `go tool mage dockerfiles`.
func TestDockerfilesAreRendered(t *testing.T) {
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	drifted, err := Drift(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(drifted) > 0 {
		t.Fatalf("Dockerfiles differ from what program.yaml renders: %s (run `go tool mage dockerfiles`)", strings.Join(drifted, ", "))
	}
}

func TestDockerfileErrors(t *testing.T) {
	// The pins as the catalog reads them from a Dockerfile's top.
	pins := catalog.Program{Module: "example.com/tool", Version: "v1.0.0", Package: "example.com/tool"}
	gitPins := catalog.Program{Module: "github.com/o/tool", Version: "v1.0.0", Package: "github.com/o/tool", Git: "https://github.com/o/tool.git"}
	for _, tc := range []struct {
		name  string
		build catalog.Build
		desc  string
		pins  catalog.Program
		want  string
	}{
		{"unknown from", catalog.Build{From: "docker", Repository: "r"}, "", pins, `from "docker"`},
		{"git without ARG GIT", catalog.Build{From: "git", Repository: "r"}, "", pins, "ARG GIT"},
		{"ARG GIT without from git", catalog.Build{From: "module"}, "", gitPins, "ARG GIT"},
		{"install with goflags", catalog.Build{GoFlags: "-mod=mod", Repository: "r"}, "", pins, "need a source build"},
		{"git with fetch", catalog.Build{From: "git", Fetch: "true"}, "", gitPins, "fetch is for module sources"},
		{"no repository", catalog.Build{}, "", pins, "say where example.com/tool's source repository is"},
		{"quoted description", catalog.Build{Repository: "r"}, `A "tool"`, pins, "no quotes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pins
			p.Name, p.Dir, p.Description, p.Build = "tool", "dockerfiles/tool", "A tool", tc.build
			if tc.desc != "" {
				p.Description = tc.desc
			}
			_, err := Dockerfile(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	// A git source derives its repository label from ARG GIT.
	p := gitPins
	p.Name, p.Dir, p.Description, p.Build = "tool", "dockerfiles/tool", "A tool", catalog.Build{From: "git"}
	out, err := Dockerfile(p)
	if err != nil || !strings.Contains(string(out), `image.source="https://github.com/o/tool"`) || !strings.Contains(string(out), "ADD --keep-git-dir=false ${GIT}#${VERSION} /") {
		t.Fatalf("git render: %v\n%s", err, out)
	}
}
