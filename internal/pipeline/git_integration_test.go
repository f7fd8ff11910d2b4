package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/dockerfile"
	"github.com/crossbin/crossbin/internal/gittest"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// gitProgram writes a program using kubectl's real Dockerfile (the git
// source template) pointed at repository url, module example.com/hello;
// the program keeps kubectl's name, which the Dockerfile's paths use.
func gitProgram(t *testing.T, url, version string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "dockerfiles", "kubectl", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range [][2]string{{"MODULE", "example.com/hello"}, {"VERSION", version}, {"GIT", url}, {"PACKAGE", "example.com/hello"}} {
		f, err := dockerfile.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if data, err = f.SetArg(arg[0], arg[1]); err != nil {
			t.Fatal(err)
		}
	}
	data = []byte(strings.ReplaceAll(string(data), "depName=k8s.io/kubernetes", "depName=example.com/hello"))
	dir := filepath.Join(t.TempDir(), "kubectl") // the Dockerfile's binary name
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte("description: test\nplatforms: [linux/amd64, linux/riscv64]\nsmoke: [version]\n"), 0o644)
	return dir
}

// TestGitSource builds a program whose source is a git repository at a tag
// (served by git's http-backend) with the catalog's git template: the tree
// of the tag is what gets built, on every platform, and published. An
// unreachable repository stops the build with an error naming it, and no
// tag appears.
func TestGitSource(t *testing.T) {
	opt := options(t)
	ctx := context.Background()
	hello := func(v string) string {
		return "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello " + v + "\") }\n"
	}
	url, _ := gittest.Serve(t,
		gittest.Release{Tag: "v1.0.0", Annotated: true, Date: "2024-05-06T07:08:09Z", Files: map[string]string{
			"go.mod": "module example.com/hello\n\ngo 1.22\n", "main.go": hello("v1.0.0"),
		}},
		gittest.Release{Tag: "v1.1.0", Date: "2025-01-01T00:00:00Z", Files: map[string]string{"main.go": hello("v1.1.0")}},
	)

	prog := load(t, gitProgram(t, url, "v1.0.0"))
	if prog.Git != url {
		t.Fatalf("catalog read ARG GIT as %q", prog.Git)
	}
	rep, err := pipeline.Build(ctx, opt, prog, nil)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	results, err := verify.Published(ctx, opt.Runner, opt.Registry, rep.Tags[1], prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Output != "hello v1.0.0" {
			t.Errorf("%s: ran %q; want the v1.0.0 tree's output", r.Platform, r.Output)
		}
	}

	down := gitProgram(t, "http://127.0.0.1:1/repo.git", "v1.0.0")
	prog = load(t, down)
	prog.Name = "kubectl-unreachable"
	_, err = pipeline.Build(ctx, opt, prog, nil)
	if !errors.Is(err, source.ErrUnreachable) || !strings.Contains(err.Error(), "http://127.0.0.1:1/repo.git") {
		t.Fatalf("unreachable repository: %v", err)
	}
	for _, tag := range registry.TagsOf(opt.Repository, prog).All() {
		ref, _ := name.NewTag(tag)
		if _, err := remote.Head(ref); err == nil {
			t.Errorf("%s exists after the source could not be fetched", tag)
		}
	}
}
