package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
			if err := Write(Row{Program: p, Old: p.Version, New: "v9.8.7"}); err != nil {
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

// copyC copies the C example tmux (3.5a, GitHub releases tmux/tmux) into a
// temp dir with its URL pointing at base, and loads it.
func copyC(t *testing.T, base string) catalog.Program {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmux")
	os.MkdirAll(dir, 0o755)
	for _, f := range []string{"Dockerfile", "program.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "render", "testdata", "c", "tmux", f))
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "https://github.com/tmux/tmux/releases/download", base))
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	p, err := catalog.LoadProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tarballServers serves GitHub's releases API for tmux/tmux (tags as
// given) and the release downloads (files as given); the API must get the
// token as its Authorization header, the downloads no header at all.
func tarballServers(t *testing.T, token string, tags []string, files map[string]string) (api, dl *httptest.Server) {
	t.Helper()
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wantAuth := ""
		if token != "" {
			wantAuth = "Bearer " + token
		}
		if r.URL.Path != "/repos/tmux/tmux/releases" || r.Header.Get("Authorization") != wantAuth {
			t.Errorf("API request %s, Authorization %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		var items []string
		for _, tag := range tags {
			items = append(items, `{"tag_name":"`+tag+`"}`)
		}
		w.Write([]byte("[" + strings.Join(items, ",") + "]"))
	}))
	dl = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the token reached the tarball download %s", r.URL)
		}
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(api.Close)
	t.Cleanup(dl.Close)
	return api, dl
}

// fetchSHA256 stands in for source.Preparer.FetchTarball: it downloads and
// hashes, and fails on anything but 200.
func fetchSHA256(client *http.Client) func(context.Context, string) (string, error) {
	return func(ctx context.Context, u string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %s", u, resp.Status)
		}
		h := sha256.New()
		io.Copy(h, resp.Body)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
}

// TestCheckTarball: a C program's newest release tag (as published: 3.6a
// after 3.5a) is found through the GitHub API, its tarball fetched for the
// digest, and Apply writes ARG VERSION and ARG SHA256 together, nothing
// else; a trial build gets both.
func TestCheckTarball(t *testing.T) {
	const token = "ghp_secret-token"
	api, dl := tarballServers(t, token, []string{"3.5a", "3.6a", "3.6", "3.7-rc", "4.0"}, map[string]string{"/3.6a/tmux-3.6a.tar.gz": "tmux 3.6a"})
	tmux := copyC(t, dl.URL)
	opt := Options{GitHub: upstream.GitHub{BaseURL: api.URL, Token: token, Client: api.Client()}, Tarball: fetchSHA256(dl.Client())}
	rows := Check(context.Background(), opt, []catalog.Program{tmux})
	sum := sha256.Sum256([]byte("tmux 3.6a"))
	want := hex.EncodeToString(sum[:])
	r := rows[0]
	if r.Err != nil || r.New != "3.6a" || r.SHA256 != want || !strings.Contains(strings.Join(r.Notes, "; "), "new major release 4.0 not taken") ||
		!strings.Contains(strings.Join(r.Notes, "; "), "dep libevent 2.1.13-stable is not bumped: bump ARG LIBEVENT_VERSION and ARG LIBEVENT_SHA256 together by hand") {
		t.Fatalf("row %+v", r)
	}
	before, _ := os.ReadFile(tmux.Dockerfile())
	var built catalog.Program
	rows = Apply(context.Background(), rows, func(context.Context) (Build, error) {
		return func(_ context.Context, p catalog.Program) error { built = p; return nil }, nil
	})
	if rows[0].Err != nil || built.Version != "3.6a" || built.Tarball.SHA256 != want || tmux.Tarball.SHA256 == want {
		t.Fatalf("row %+v, built %s %+v", rows[0], built.Version, built.Tarball)
	}
	after, _ := os.ReadFile(tmux.Dockerfile())
	b, a := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	var changed []string
	for i := range b {
		if b[i] != a[i] {
			changed = append(changed, a[i])
		}
	}
	if strings.Join(changed, "\n") != "ARG VERSION=3.6a\nARG SHA256="+want || len(a) != len(b) {
		t.Errorf("changed lines:\n%s", strings.Join(changed, "\n"))
	}
	reloaded, err := catalog.LoadProgram(tmux.Dir)
	if err != nil || reloaded.Version != "3.6a" || reloaded.Tarball.SHA256 != want {
		t.Errorf("reloaded %v, %v", reloaded.Version, err)
	}
}

// TestCheckTarballMissing: a release without its tarball is one error
// naming the URL, and no bump.
func TestCheckTarballMissing(t *testing.T) {
	api, dl := tarballServers(t, "", []string{"3.6"}, nil)
	tmux := copyC(t, dl.URL)
	opt := Options{GitHub: upstream.GitHub{BaseURL: api.URL, Client: api.Client()}, Tarball: fetchSHA256(dl.Client())}
	rows := Check(context.Background(), opt, []catalog.Program{tmux})
	u := dl.URL + "/3.6/tmux-3.6.tar.gz"
	if err := rows[0].Err; err == nil || rows[0].Bumped() || !strings.Contains(err.Error(), "tmux 3.6: the release has no tarball at "+u) || !strings.Contains(err.Error(), "404") {
		t.Errorf("row %+v", rows[0])
	}
}

// TestCheckTarballNotGitHub: a tarball program whose releases are not on
// GitHub is an error saying to bump it by hand.
func TestCheckTarballNotGitHub(t *testing.T) {
	tmux := catalog.Program{Name: "tmux", Version: "3.5a", Dir: "dockerfiles/tmux", Tarball: &catalog.Tarball{URL: "https://example.com/tmux-${VERSION}.tar.gz", Datasource: "custom.tmux"}}
	rows := Check(context.Background(), Options{Proxy: fakeFinder{}, GitHub: fakeFinder{}}, []catalog.Program{tmux})
	if err := rows[0].Err; err == nil || !strings.Contains(err.Error(), "ARG SHA256") || rows[0].Bumped() {
		t.Errorf("row %+v", rows[0])
	}
}
