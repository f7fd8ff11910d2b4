package add

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/render"
)

var entries = map[string]Entry{
	"install": {
		Name: "gojq", Module: "github.com/itchyny/gojq", Version: "v0.12.19", Main: "cmd/gojq",
		Description: "gojq - Go implementation of jq", Homepage: "https://github.com/itchyny/gojq", Kind: "install",
		Note:  []string{"`go install module/pkg@version` lets the go tool stamp the real version.", "", "The version comes from the go tool's build info (`gojq --version` prints it)."},
		Smoke: Smoke{Args: []string{"--version"}},
	},
	"module": {
		Name: "hello", Module: "crossbin.test/hello", Version: "v1.0.0", Main: ".",
		Description: "Command hello: greets you", Homepage: "https://crossbin.test/hello", Repository: "https://crossbin.test/hello", Kind: "module",
		Note:        []string{"hello's go.mod has replace directives.", "", "The version is stamped with -ldflags -X main.version."},
		Smoke:       Smoke{Args: []string{"version"}, LDFlags: "-X main.version=${VERSION#v}"},
		Unavailable: map[platform.Platform]string{{OS: "linux", Arch: "s390x"}: "crossbin.test/hello: undefined: undefinedOnS390x", {OS: "linux", Arch: "arm", Variant: "v5"}: "x: y"},
	},
	"help": {
		Name: "quiet", Module: "example.com/quiet", Version: "v2.0.0", Main: "cmd/quiet",
		Description: "quiet, built from example.com/quiet", Repository: "https://example.com/quiet", Kind: "install",
		Smoke: Smoke{Args: []string{"--help"}, Expect: "Usage: quiet [flags]", Exit: 2},
	},
}

func TestSpecYAML(t *testing.T) {
	for name, e := range entries {
		t.Run(name, func(t *testing.T) {
			golden.Check(t, filepath.Join("golden", name+".yaml"), e.SpecYAML())
			spec, err := catalog.ParseSpec(e.SpecYAML())
			if err != nil {
				t.Fatal(err)
			}
			if spec.Build.From != e.Kind || spec.Build.LDFlags != e.Smoke.LDFlags || spec.Expect != e.Smoke.Expect || spec.Description != e.Description {
				t.Errorf("program.yaml reads back as %+v", spec)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "dockerfiles")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := entries["module"]
	prog, err := e.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Name != "hello" || prog.Package != "crossbin.test/hello" || prog.Version != "v1.0.0" || len(prog.Real()) != len(platform.Defaults())-2 {
		t.Errorf("the written entry loads as %+v", prog)
	}
	df, err := os.ReadFile(prog.Dockerfile())
	if err != nil {
		t.Fatal(err)
	}
	want, err := render.Dockerfile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if string(df) != string(want) || !strings.Contains(string(df), `-ldflags="-s -w -X main.version=${VERSION#v}"`) {
		t.Errorf("the Dockerfile is not the rendered one:\n%s", df)
	}
	// The same name again: refused, and nothing is left beside the catalog.
	if _, err := e.Write(dir); err == nil || !strings.Contains(err.Error(), "a program named hello is in the catalog") {
		t.Fatalf("a second hello: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(root, ".crossbin-add-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// An entry that does not load leaves no directory.
	bad := e
	bad.Name, bad.Version = "broken", "1.0"
	if _, err := bad.Write(dir); err == nil {
		t.Fatal("an entry with version 1.0 was written")
	}
	if _, err := os.Stat(filepath.Join(dir, "broken")); !os.IsNotExist(err) {
		t.Errorf("dockerfiles/broken: %v; want no such directory", err)
	}
}
