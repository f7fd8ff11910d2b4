// Package proxytest serves Go modules the way a module proxy does
// (https://go.dev/ref/mod#goproxy-protocol), from files a test writes, over
// HTTP on 127.0.0.1: the go command, crossbin's proxy client and BuildKit
// builds on host networking can all use it as GOPROXY (with GOSUMDB=off).
package proxytest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// Module is one module version the proxy serves.
type Module struct {
	Path, Version string
	// Files are the module's files by slash-separated path; go.mod is
	// required.
	Files map[string]string
	Time  time.Time // zero: 2025-01-02T03:04:05Z
}

// Options change what the proxy answers.
type Options struct {
	// Status answers requests whose path ends with a key (e.g. "/@v/list")
	// with that HTTP status instead, as proxies that refuse lists do.
	Status map[string]int
	// NoLatest leaves out @latest (a 404), as proxy.golang.org answers
	// for modules it has not cached.
	NoLatest bool
}

// Serve starts the proxy for mods and returns its URL.
func Serve(t testing.TB, opt Options, mods ...Module) string {
	t.Helper()
	root := t.TempDir()
	latest := map[string]string{}
	var lists = map[string][]string{}
	for _, m := range mods {
		escaped, err := module.EscapePath(m.Path)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, filepath.FromSlash(escaped), "@v")
		src := t.TempDir()
		for name, content := range m.Files {
			p := filepath.Join(src, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		when := m.Time
		if when.IsZero() {
			when = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		}
		info := fmt.Sprintf(`{"Version":%q,"Time":%q}`, m.Version, when.Format(time.RFC3339))
		write(t, filepath.Join(dir, m.Version+".info"), info)
		write(t, filepath.Join(dir, m.Version+".mod"), m.Files["go.mod"])
		f, err := os.Create(filepath.Join(dir, m.Version+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		if err := modzip.CreateFromDir(f, module.Version{Path: m.Path, Version: m.Version}, src); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		lists[escaped] = append(lists[escaped], m.Version)
		latest[escaped] = info // the last one given
	}
	for escaped, versions := range lists {
		write(t, filepath.Join(root, filepath.FromSlash(escaped), "@v", "list"), strings.Join(versions, "\n")+"\n")
		if !opt.NoLatest {
			write(t, filepath.Join(root, filepath.FromSlash(escaped), "@latest"), latest[escaped])
		}
	}
	files := http.FileServer(http.Dir(root))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for suffix, status := range opt.Status {
			if strings.HasSuffix(r.URL.Path, suffix) {
				http.Error(w, http.StatusText(status), status)
				return
			}
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
