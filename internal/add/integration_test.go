package add_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/add"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/proxytest"
	"github.com/crossbin/crossbin/internal/sandbox"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/crossbin/crossbin/internal/upstream"
	"github.com/crossbin/crossbin/internal/verify"
)

// hello is testdata/hello as a module at version v.
func hello(t *testing.T, v string) proxytest.Module {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"go.mod", "main.go", "broken_s390x.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "hello", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return proxytest.Module{Path: "crossbin.test/hello", Version: v, Files: files}
}

// setup serves hello at three versions (the newest a prerelease) and
// returns add's options on an empty catalog, with the go command pointed
// at that proxy only.
func setup(t *testing.T, popt proxytest.Options) add.Options {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: builds and runs binaries in the sandbox (skipped with -short)")
	}
	// A command that needs cgo: without it, its package has no Go files.
	cgo := proxytest.Module{Path: "crossbin.test/cgo", Version: "v1.0.0", Files: map[string]string{
		"go.mod":  "module crossbin.test/cgo\n\ngo 1.22\n",
		"main.go": "package main\n\n// int answer(void) { return 42; }\nimport \"C\"\n\nfunc main() { println(C.answer()) }\n",
	}}
	lib := proxytest.Module{Path: "crossbin.test/lib", Version: "v1.0.0", Files: map[string]string{
		"go.mod": "module crossbin.test/lib\n\ngo 1.22\n",
		"lib.go": "package lib\n\nfunc Answer() int { return 42 }\n",
	}}
	url := proxytest.Serve(t, popt, hello(t, "v0.9.0"), hello(t, "v1.0.0"), hello(t, "v1.1.0-rc.1"), cgo, lib)
	dir := filepath.Join(t.TempDir(), "dockerfiles")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := upstream.ParseGOPROXY(url)
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY="+url, "GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=",
		"GOFLAGS=-modcacherw", "GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"))
	return add.Options{CatalogDir: dir, Env: env, Proxy: upstream.Proxy{Entries: entries},
		Runner: sandbox.Sandbox{Dir: t.TempDir()}, Jobs: 2, Log: stacktest.Logger(t)}
}

// TestAdd adds hello from a local module proxy: the newest stable version,
// the module root as the main package, install from the proxy, the -X
// stamp found by running it, and linux/s390x unavailable with the
// compiler's words. Then the entry builds, verifies and publishes on the
// embedded stack, its builds fetching from the same proxy.
func TestAdd(t *testing.T) {
	opt := setup(t, proxytest.Options{})
	ctx := context.Background()
	e, prog, err := add.Add(ctx, opt, add.Request{Path: "crossbin.test/hello"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join(prog.Dir, catalog.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "hello.yaml", spec)
	s390x := platform.Platform{OS: "linux", Arch: "s390x"}
	if e.Version != "v1.0.0" || e.Main != "." || e.Kind != "install" || e.Smoke.LDFlags != "-X main.version=${VERSION#v}" ||
		len(e.Unavailable) != 1 || e.Unavailable[s390x] != "crossbin.test/hello: undefined: undefinedOnS390x" {
		t.Fatalf("found %+v", e)
	}

	// Added again: refused before anything is done.
	if _, _, err := add.Add(ctx, opt, add.Request{Path: "crossbin.test/hello"}); err == nil || !strings.Contains(err.Error(), "already in the catalog") {
		t.Fatalf("a second add: %v", err)
	}

	cfg, ep := stacktest.Up(t)
	// The builds fetch hello from the same proxy (BuildKit runs them on
	// the host's network).
	cfg.GoEnv = map[string]string{"GOPROXY": opt.Proxy.Entries[0].URL, "GOSUMDB": "off"}
	popt := stacktest.Pipeline(t, cfg, ep, "crossbin-add-test", t.TempDir(), nil)
	rep, err := pipeline.Build(ctx, popt, prog, nil)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	results, err := verify.Published(ctx, popt.Runner, popt.Registry, rep.Tags[0], prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		switch {
		case r.Platform == s390x && !strings.Contains(r.Output, "is unavailable on linux/s390x"):
			t.Errorf("linux/s390x printed %q; want the unavailable line", r.Output)
		case r.Platform != s390x && r.Ran && r.Output != "hello 1.0.0":
			t.Errorf("%s printed %q; want hello 1.0.0", r.Platform, r.Output)
		}
	}
}

// TestAddRefusedList: where the proxy refuses the version list, @latest
// names the version; where it names none either, the error asks for
// -version, and -version works.
func TestAddRefusedList(t *testing.T) {
	opt := setup(t, proxytest.Options{Status: map[string]int{"/@v/list": 403}, NoLatest: true})
	ctx := context.Background()
	_, _, err := add.Add(ctx, opt, add.Request{Path: "crossbin.test/hello"})
	if err == nil || !strings.Contains(err.Error(), "refuses crossbin.test/hello's version list") || !strings.Contains(err.Error(), "-version=vX.Y.Z") {
		t.Fatalf("got %v; want an error asking for -version", err)
	}
	if left, _ := os.ReadDir(opt.CatalogDir); len(left) > 0 {
		t.Fatalf("the failed add left %s", left[0].Name())
	}
	e, _, err := add.Add(ctx, opt, add.Request{Path: "crossbin.test/hello", Version: "v0.9.0", Name: "hello-old"})
	if err != nil || e.Version != "v0.9.0" || e.Name != "hello-old" || e.Kind != "module" || !strings.Contains(strings.Join(e.Note, " "), "refuses the module's version list") {
		t.Fatalf("with -version and -name: %+v, %v; want v0.9.0 from the module's source, as the list is refused", e, err)
	}
}

// TestAddBadInputs: one clear error each, and nothing written.
func TestAddBadInputs(t *testing.T) {
	opt := setup(t, proxytest.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		req  add.Request
		want string
	}{
		{add.Request{Path: "crossbin.test/nothing"}, "the module proxy knows no module holding crossbin.test/nothing"},
		{add.Request{Path: "crossbin.test/hello", Version: "v9.9.9"}, "no module holding crossbin.test/hello has version v9.9.9"},
		{add.Request{Path: "crossbin.test/hello", Version: "1.0"}, "-version=1.0 is not a canonical semantic version"},
		{add.Request{Path: "crossbin.test/hello/sub"}, "crossbin.test/hello/sub is not a main package of module crossbin.test/hello"},
		{add.Request{Path: "crossbin.test/hello", Name: "Hello"}, "program names are lower-case"},
		{add.Request{Path: "not a path"}, "not a Go import path"},
		{add.Request{Path: "crossbin.test/cgo"}, "crossbin.test/cgo needs cgo (crossbin.test/cgo use it)"},
		{add.Request{Path: "crossbin.test/lib"}, "module crossbin.test/lib has no main package"},
	} {
		_, _, err := add.Add(ctx, opt, tc.req)
		if errors.Is(err, sandbox.ErrUnsupported) {
			t.Skip(err)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v; want %q", tc.req, err, tc.want)
		}
	}
	if left, _ := os.ReadDir(opt.CatalogDir); len(left) > 0 {
		t.Fatalf("failed adds left %s", left[0].Name())
	}
}
