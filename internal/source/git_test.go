package source

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/gittest"
)

// gitServer serves example.com/tool: v1.0.0 is an annotated tag, v1.1.0 a
// lightweight one adding second.go.
func gitServer(t *testing.T) (url string, commits map[string]string) {
	return gittest.Serve(t,
		gittest.Release{Tag: "v1.0.0", Annotated: true, Date: "2021-06-09T18:00:00Z", Files: map[string]string{
			"go.mod":        "module example.com/tool\n\ngo 1.16\n",
			"main.go":       "package main\n\nfunc main() {}\n",
			".dockerignore": "*.go\n",
		}},
		gittest.Release{Tag: "v1.1.0", Date: "2022-01-02T03:04:05Z", Files: map[string]string{"second.go": "package main\n"}},
	)
}

func TestFetchGit(t *testing.T) {
	ctx := context.Background()
	url, commits := gitServer(t)
	pr := preparer(t, t.TempDir())
	tool := catalog.Program{Name: "tool", Dir: "dockerfiles/tool", Module: "example.com/tool", Version: "v1.0.0", Package: "example.com/tool", Git: url, SourceStage: true}

	src, err := pr.Fetch(ctx, tool)
	if err != nil {
		t.Fatal(err)
	}
	if src.Module.Sum != "git:"+commits["v1.0.0"] || !src.Released.Equal(time.Date(2021, 6, 9, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("source: %+v", src)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "main.go")); err != nil {
		t.Error(err)
	}
	for _, absent := range []string{"second.go", ".git", ".dockerignore"} {
		if _, err := os.Stat(filepath.Join(src.Dir, absent)); err == nil {
			t.Errorf("%s is in the v1.0.0 tree", absent)
		}
	}

	// A second fetch resolves the tag again but reuses the tree.
	marker := filepath.Join(src.Dir, "marker")
	os.WriteFile(marker, nil, 0o644)
	again, err := pr.Fetch(ctx, tool)
	if err != nil || again.Dir != src.Dir {
		t.Fatalf("second fetch: %v %s", err, again.Dir)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Error("the tree was cloned again")
	}

	tool.Version = "v1.1.0" // a lightweight tag
	src, err = pr.Fetch(ctx, tool)
	if err != nil {
		t.Fatal(err)
	}
	if src.Module.Sum != "git:"+commits["v1.1.0"] || src.Released.Year() != 2022 {
		t.Errorf("lightweight tag: %+v", src)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "second.go")); err != nil {
		t.Error(err)
	}
}

func TestFetchGitErrors(t *testing.T) {
	ctx := context.Background()
	url, _ := gitServer(t)
	pr := preparer(t, t.TempDir())
	tool := catalog.Program{Name: "tool", Dir: "dockerfiles/tool", Module: "example.com/tool", Version: "v9.9.9", Git: url, SourceStage: true}
	if _, err := pr.Fetch(ctx, tool); err == nil || !strings.Contains(err.Error(), "the repository has no tag v9.9.9") || errors.Is(err, ErrUnreachable) {
		t.Errorf("missing tag: %v", err)
	}

	// A closed port: the error names the program, the repository and the
	// Dockerfile that pins it.
	srv := httptest.NewServer(nil)
	down := srv.URL + "/tool.git"
	srv.Close()
	tool.Version, tool.Git = "v1.0.0", down
	_, err := pr.Fetch(ctx, tool)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unreachable: %v", err)
	}
	for _, want := range []string{"tool v1.0.0", down, "dockerfiles/tool/Dockerfile", "git ls-remote"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestTagCommit(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, tc := range []struct{ out, want, err string }{
		{a + "\trefs/tags/v1.0.0\n" + b + "\trefs/tags/v1.0.0^{}\n", b, ""},
		{a + "\trefs/tags/v1.0.0\n", a, ""},
		{b + "\trefs/tags/v1.0.0^{}\n" + a + "\trefs/tags/v1.0.0\n", b, ""},
		{a + "\trefs/tags/v1.0.0-rc.1\n", "", "no tag v1.0.0"},
		{"", "", "no tag v1.0.0"},
		{"garbage\n", "", "no tag v1.0.0"},
	} {
		got, err := tagCommit(tc.out, "v1.0.0")
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("tagCommit(%q) = %q, %v; want %q, %q", tc.out, got, err, tc.want, tc.err)
		}
	}
}
