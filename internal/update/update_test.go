package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/upstream"
)

type fakeFinder map[string]upstream.Releases

func (f fakeFinder) Releases(_ context.Context, what string) (upstream.Releases, error) {
	rel, ok := f[what]
	if !ok {
		return upstream.Releases{}, errors.New("GET " + what + ": 503 Service Unavailable")
	}
	return rel, nil
}

// copyProgram copies dockerfiles/<name> into a temp dir and loads it.
func copyProgram(t *testing.T, name string) catalog.Program {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"Dockerfile", "program.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "dockerfiles", name, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	p, err := catalog.LoadProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	helm, dlv, shfmt := copyProgram(t, "helm"), copyProgram(t, "dlv"), copyProgram(t, "shfmt")
	helm.Version, dlv.Version = "v3.6.2", "v1.6.1" // stable across updates
	helm.Update.Constraint = "~> 3.6.0"
	procfs, err := patch.Parse("helm-procfs.yaml", []byte("program: helm\nversions: \"< 3.6.3\"\nreason: r\nrequire:\n  - {module: github.com/prometheus/procfs, version: v0.6.0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := fakeFinder{
		"helm.sh/helm/v3": {Versions: []string{"v3.6.2", "v3.6.3", "v3.7.0"}, NextMajor: "helm.sh/helm/v4@v4.0.0"},
		"mvdan.cc/sh/v3":  {Versions: []string{"v3.14.1"}},
	}
	rows := Check(context.Background(), Options{Proxy: proxy, GitHub: fakeFinder{}, Patches: []patch.Patch{procfs}, Jobs: 2}, []catalog.Program{dlv, helm, shfmt})
	golden.Check(t, "check.table", []byte(Table(rows)))
	if !rows[1].Bumped() || rows[1].New != "v3.6.3" || rows[2].Bumped() || rows[0].Err == nil {
		t.Errorf("rows: %+v", rows)
	}
	if err := Errors(rows); err == nil || !strings.Contains(err.Error(), "dlv: GET github.com/go-delve/delve: 503") {
		t.Errorf("Errors = %v", err)
	}
}

func TestCheckGitHub(t *testing.T) {
	shfmt := copyProgram(t, "shfmt")
	shfmt.Update.GitHub = "mvdan/sh"
	rows := Check(context.Background(), Options{Proxy: fakeFinder{}, GitHub: fakeFinder{"mvdan/sh": {Versions: []string{"v3.15.0"}}}}, []catalog.Program{shfmt})
	if rows[0].Err != nil || rows[0].New != "v3.15.0" {
		t.Fatalf("%+v", rows[0])
	}
	// A release tagged v3.16 (not vMAJOR.MINOR.PATCH) is never a bump.
	rows = Check(context.Background(), Options{Proxy: fakeFinder{}, GitHub: fakeFinder{"mvdan/sh": {Versions: []string{"v3.15.0", "v3.16"}}}}, []catalog.Program{shfmt})
	if rows[0].Err != nil || rows[0].New != "v3.15.0" || !strings.Contains(strings.Join(rows[0].Notes, "; "), "not canonical (vMAJOR.MINOR.PATCH), skipped: v3.16") {
		t.Fatalf("non-canonical release: %+v", rows[0])
	}
	// A pin that is not canonical is an error naming it.
	shfmt.Version = "v3.14"
	rows = Check(context.Background(), Options{Proxy: fakeFinder{}, GitHub: fakeFinder{"mvdan/sh": {Versions: []string{"v3.15.0"}}}}, []catalog.Program{shfmt})
	if rows[0].Err == nil || rows[0].Bumped() || !strings.Contains(rows[0].Err.Error(), `shfmt: current version "v3.14" is not canonical`) {
		t.Fatalf("non-canonical pin: %+v", rows[0])
	}
}

// TestWrite rewrites the real Dockerfiles: only the VERSION line changes.
func TestWrite(t *testing.T) {
	for _, name := range []string{"dlv", "helm", "shfmt"} {
		t.Run(name, func(t *testing.T) {
			p := copyProgram(t, name)
			before, _ := os.ReadFile(p.Dockerfile())
			if err := Write(p, "v9.8.7"); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(p.Dockerfile())
			golden.Check(t, name+".Dockerfile", after)
			b, a := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
			changed := 0
			for i := range b {
				if b[i] != a[i] {
					changed++
					if !strings.HasPrefix(a[i], "ARG VERSION=v9.8.7") {
						t.Errorf("line %d changed: %q", i+1, a[i])
					}
				}
			}
			if changed != 1 || len(a) != len(b) {
				t.Errorf("%d lines changed", changed)
			}
			reloaded, err := catalog.LoadProgram(p.Dir)
			if err != nil || reloaded.Version != "v9.8.7" {
				t.Errorf("reloaded %v %v", reloaded.Version, err)
			}
		})
	}
}

// TestCheckTarballRefused: a C program is not looked up on the module
// proxy (it has no module); its row says to bump it by hand.
func TestCheckTarballRefused(t *testing.T) {
	tmux := catalog.Program{Name: "tmux", Version: "3.5a", Dir: "dockerfiles/tmux", Tarball: &catalog.Tarball{URL: "https://example.com/tmux-${VERSION}.tar.gz"}}
	rows := Check(context.Background(), Options{Proxy: fakeFinder{}, GitHub: fakeFinder{}}, []catalog.Program{tmux})
	if err := rows[0].Err; !errors.Is(err, ErrTarballUpdate) || !strings.Contains(err.Error(), "ARG SHA256") || rows[0].Bumped() {
		t.Errorf("row %+v", rows[0])
	}
}
