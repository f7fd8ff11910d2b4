package readme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
)

// TestREADMEIsCurrent fails when README.md's catalog table is stale: run
// `go tool mage readme`.
func TestREADMEIsCurrent(t *testing.T) {
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(readme, Table(c, DefaultRepo))
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Fatal("README.md's catalog table is stale: run `go tool mage readme`")
	}
}

func TestReplace(t *testing.T) {
	in := []byte("# x\n" + Begin + "\nold\n" + End + "\ntail\n")
	out, err := Replace(in, "new\n")
	if err != nil || string(out) != "# x\n"+Begin+"\nnew\n"+End+"\ntail\n" {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := Replace([]byte("no markers"), "x"); err == nil || !strings.Contains(err.Error(), "catalog markers") {
		t.Fatalf("err = %v", err)
	}
}

func TestTableMarksGitSources(t *testing.T) {
	c := catalog.Catalog{Programs: []catalog.Program{
		{Name: "docker", Homepage: "https://github.com/docker/cli", Version: "v29.9.1+incompatible"},
		{Name: "kubectl", Homepage: "https://kubernetes.io", Version: "v1.37.2", Git: "https://github.com/kubernetes/kubernetes.git"},
		{Name: "tmux", Homepage: "https://github.com/tmux/tmux", Version: "3.5a", Tarball: &catalog.Tarball{URL: "https://github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz"}},
		{Name: "litestream", Homepage: "https://litestream.io", Version: "v0.3.13", Build: catalog.Build{CGO: true}},
	}}
	table := Table(c, "r")
	for _, want := range []string{
		"| [docker](https://github.com/docker/cli) | v29.9.1+incompatible | module proxy |",
		"`r:docker-v29.9.1` |",
		"| [kubectl](https://kubernetes.io) | v1.37.2 | [git tag](https://github.com/kubernetes/kubernetes) ¹ |",
		"¹ Cloned from its git repository at the release tag",
		"| [tmux](https://github.com/tmux/tmux) | 3.5a | [release tarball](https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz) (C) |",
		"`r:tmux`, `r:tmux-3.5a` |",
		"| [litestream](https://litestream.io) | v0.3.13 | module proxy (Go with C: cgo) |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(Table(catalog.Catalog{Programs: c.Programs[:1]}, "r"), "¹") {
		t.Error("the footnote appears without a git program")
	}
}
