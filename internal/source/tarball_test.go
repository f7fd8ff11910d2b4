package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/crossbin/crossbin/internal/catalog"
)

// entry is one member of a test tarball.
type entry struct {
	name, body, link string
	typ              byte
}

var released = time.Date(2024, 10, 4, 10, 0, 0, 0, time.UTC)

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: released.Add(-time.Hour)}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if strings.HasSuffix(e.name, ".sh") {
			h.Mode, h.ModTime = 0o4755, released // setuid is dropped; the newest time is the release's
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return b.Bytes()
}

func gz(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// goodTree is tool-1.0/ with a file, an executable script, a directory and
// links that stay inside.
func goodTree(t *testing.T) []byte {
	return tarOf(t,
		entry{name: "tool-1.0/", typ: tar.TypeDir},
		entry{name: "tool-1.0/configure.sh", body: "#!/bin/sh\n", typ: tar.TypeReg},
		entry{name: "tool-1.0/src/main.c", body: "int main(void) { return 0; }\n", typ: tar.TypeReg},
		entry{name: "tool-1.0/include/main.h", link: "../src/main.c", typ: tar.TypeSymlink},
		entry{name: "tool-1.0/main-copy.c", link: "tool-1.0/src/main.c", typ: tar.TypeLink},
	)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// server serves path → body and counts requests; a missing path is 404.
func server(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func tarballProgram(url, sum string, mirrors ...string) catalog.Program {
	return catalog.Program{Name: "tool", Version: "1.0", Tarball: &catalog.Tarball{URL: url, SHA256: sum, Mirrors: mirrors}}
}

func tarballPreparer(t *testing.T) Preparer {
	return Preparer{CacheDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// cacheFiles lists every file under the cache directory.
func cacheFiles(t *testing.T, dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, dir))
		}
		return err
	})
	return files
}

func TestFetchTarball(t *testing.T) {
	ctx := context.Background()
	body := gz(t, goodTree(t))
	srv, hits := server(t, map[string][]byte{"/tool-1.0.tar.gz": body})
	pr := tarballPreparer(t)
	prog := tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", digest(body))
	src, err := pr.Fetch(ctx, prog)
	if err != nil {
		t.Fatal(err)
	}
	if src.URL != srv.URL+"/tool-1.0.tar.gz" || src.Module.Sum != "sha256:"+digest(body) || !src.Released.Equal(released) {
		t.Errorf("source %+v", src)
	}
	main, err := os.ReadFile(filepath.Join(src.Dir, "include", "main.h"))
	if err != nil || !strings.Contains(string(main), "int main") {
		t.Errorf("link inside the tree: %q %v", main, err)
	}
	if fi, err := os.Stat(filepath.Join(src.Dir, "configure.sh")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("configure.sh: %v %v; want mode 0755 without setuid", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "main-copy.c")); err != nil {
		t.Errorf("hard link: %v", err)
	}
	// The same program again: the unpacked tree, no request.
	again, err := pr.Fetch(ctx, prog)
	if err != nil || again.Dir != src.Dir || hits.Load() != 1 {
		t.Fatalf("second fetch: %+v %v, %d requests", again, err, hits.Load())
	}
	// A lost tree is unpacked again from the cached tarball, still
	// without the network.
	srv.Close()
	os.RemoveAll(src.Dir)
	os.Remove(src.Dir + ".json")
	again, err = pr.Fetch(ctx, prog)
	if err != nil || again.URL != "cache" {
		t.Fatalf("fetch from the cached tarball: %+v %v", again, err)
	}
}

func TestFetchTarballTampered(t *testing.T) {
	body := gz(t, goodTree(t))
	want := digest(body)
	tampered := bytes.Clone(body)
	tampered[len(tampered)/2] ^= 1
	srv, hits := server(t, map[string][]byte{"/tool-1.0.tar.gz": tampered, "/mirror/tool-1.0.tar.gz": body})
	pr := tarballPreparer(t)
	_, err := pr.Fetch(context.Background(), tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", want, srv.URL+"/mirror/tool-${VERSION}.tar.gz"))
	var de *DigestError
	if !errors.As(err, &de) || de.URL != srv.URL+"/tool-1.0.tar.gz" || de.Want != want || de.Got != digest(tampered) {
		t.Fatalf("err = %v; want a DigestError naming the URL and both digests", err)
	}
	for _, s := range []string{srv.URL + "/tool-1.0.tar.gz", want, digest(tampered), "tool 1.0"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %s: %v", s, err)
		}
	}
	// Other bytes at the pinned URL are not papered over by a mirror.
	if hits.Load() != 1 {
		t.Errorf("%d requests; a wrong digest must stop the search", hits.Load())
	}
	if files := cacheFiles(t, pr.CacheDir); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

func TestFetchTarballMirrors(t *testing.T) {
	body := gz(t, goodTree(t))
	sum := digest(body)
	srv, _ := server(t, map[string][]byte{"/by-hash/" + sum: body})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused

	pr := tarballPreparer(t)
	pr.Mirrors = []string{srv.URL + "/by-hash/{sha256}"}
	prog := tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", sum, down.URL+"/tool_${VERSION}.orig.tar.gz")
	if got := strings.Join(pr.TarballURLs(*prog.Tarball, prog.Version), " "); got != srv.URL+"/tool-1.0.tar.gz "+down.URL+"/tool_1.0.orig.tar.gz "+srv.URL+"/by-hash/"+sum {
		t.Errorf("URLs = %s", got)
	}
	src, err := pr.Fetch(context.Background(), prog)
	if err != nil || src.URL != srv.URL+"/by-hash/"+sum {
		t.Fatalf("404, then a dead mirror, then a good one: %+v %v", src, err)
	}

	// All down: one error naming every URL, and nothing left behind.
	pr = tarballPreparer(t)
	prog = tarballProgram(srv.URL+"/gone-${VERSION}.tar.gz", sum, down.URL+"/tool_${VERSION}.orig.tar.gz")
	_, err = pr.Fetch(context.Background(), prog)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), srv.URL+"/gone-1.0.tar.gz: 404 Not Found") || !strings.Contains(err.Error(), down.URL+"/tool_1.0.orig.tar.gz") {
		t.Fatalf("err = %v", err)
	}
	if files := cacheFiles(t, pr.CacheDir); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
}

// TestUnpackCompressions: the decompressor follows the bytes, not the name.
func TestUnpackCompressions(t *testing.T) {
	plain := goodTree(t)
	var x, z bytes.Buffer
	xw, _ := xz.NewWriter(&x)
	xw.Write(plain)
	xw.Close()
	zw, _ := zstd.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	bz2, err := os.ReadFile(filepath.Join("testdata", "tool-1.0.tar.bz2")) // bzip2 -9 of the same tree
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"gzip": gz(t, plain), "xz": x.Bytes(), "zstd": z.Bytes(), "bzip2": bz2} {
		archive := filepath.Join(t.TempDir(), "archive")
		os.WriteFile(archive, data, 0o644)
		dir := filepath.Join(t.TempDir(), "src")
		if _, err := Unpack(context.Background(), archive, dir); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "src", "main.c")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if name == "bzip2" { // a fixture made apart, with its own times
			continue
		}
		// Files keep the archive's times, so make sees configure
		// newer than what it is made from.
		for file, want := range map[string]time.Time{"src/main.c": released.Add(-time.Hour), "configure.sh": released} {
			fi, err := os.Stat(filepath.Join(dir, file))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if !fi.ModTime().Equal(want) {
				t.Errorf("%s: %s modified %v; want %v", name, file, fi.ModTime(), want)
			}
		}
	}
	archive := filepath.Join(t.TempDir(), "archive")
	os.WriteFile(archive, plain, 0o644)
	if _, err := Unpack(context.Background(), archive, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a tarball crossbin unpacks") {
		t.Errorf("uncompressed tar: %v", err)
	}
}

func TestUnpackRefuses(t *testing.T) {
	outside := t.TempDir()
	top := entry{name: "tool-1.0/", typ: tar.TypeDir}
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"dot-dot", []entry{top, {name: "tool-1.0/../../evil", body: "x", typ: tar.TypeReg}}, "climbs out of the tree"},
		{"absolute", []entry{{name: "/etc/evil", body: "x", typ: tar.TypeReg}}, "is an absolute path"},
		{"symlink out", []entry{top, {name: "tool-1.0/etc", link: "../../etc", typ: tar.TypeSymlink}}, "links to ../../etc, outside the tree"},
		{"absolute symlink", []entry{top, {name: "tool-1.0/etc", link: outside, typ: tar.TypeSymlink}}, "outside the tree"},
		{"write through symlink", []entry{top, {name: "tool-1.0/d", link: ".", typ: tar.TypeSymlink}, {name: "tool-1.0/d/../../x", body: "x", typ: tar.TypeReg}}, "climbs out"},
		{"chained symlinks", []entry{top, {name: "tool-1.0/a/b", link: "..", typ: tar.TypeSymlink}, {name: "tool-1.0/c", link: "a/b/..", typ: tar.TypeSymlink}}, "tool-1.0/c: the link leads outside the tree"},
		{"hard link out", []entry{top, {name: "tool-1.0/passwd", link: "/etc/passwd", typ: tar.TypeLink}}, "hard link to /etc/passwd"},
		{"device", []entry{top, {name: "tool-1.0/null", typ: tar.TypeChar}}, "is a character device"},
		{"two top-level directories", []entry{top, {name: "other/x", body: "x", typ: tar.TypeReg}}, "no single top-level directory"},
		{"file at the top", []entry{{name: "README", body: "x", typ: tar.TypeReg}}, "a file beside the top-level directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "archive")
			os.WriteFile(archive, gz(t, tarOf(t, tc.entries...)), 0o644)
			_, err := Unpack(context.Background(), archive, filepath.Join(t.TempDir(), "src"))
			if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("wrote outside the tree: %v", entries)
			}
		})
	}
}

// TestFetchTarballUnsafe: a tarball with the pinned digest but a
// traversal entry is refused, and no tree is left in the cache.
func TestFetchTarballUnsafe(t *testing.T) {
	body := gz(t, tarOf(t, entry{name: "tool-1.0/", typ: tar.TypeDir}, entry{name: "tool-1.0/../evil", body: "x", typ: tar.TypeReg}))
	srv, _ := server(t, map[string][]byte{"/tool-1.0.tar.gz": body})
	pr := tarballPreparer(t)
	_, err := pr.Fetch(context.Background(), tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", digest(body)))
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), "tool 1.0: release tarball: unpack") {
		t.Fatalf("err = %v", err)
	}
	for _, f := range cacheFiles(t, pr.CacheDir) {
		if !strings.HasPrefix(f, "/source/tarball/sha256/") {
			t.Errorf("left behind: %s", f)
		}
	}
}

// TestFetchNewTarball: a new release's tarball is fetched with its digest
// computed and kept in the cache under it; a release without that file is
// an error naming the URL.
func TestFetchNewTarball(t *testing.T) {
	body := []byte("tmux 3.6 release bytes")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tmux-3.6.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	p := Preparer{CacheDir: t.TempDir(), HTTP: srv.Client(), Log: slog.New(slog.DiscardHandler)}
	sum, err := p.FetchTarball(context.Background(), srv.URL+"/tmux-3.6.tar.gz")
	want := sha256.Sum256(body)
	if err != nil || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("sha256 %s, %v", sum, err)
	}
	if _, from, err := p.Download(context.Background(), []string{"http://127.0.0.1:1/unreachable"}, sum); err != nil || from != "cache" {
		t.Errorf("after the fetch: from %q, %v", from, err)
	}
	missing := srv.URL + "/tmux-3.7.tar.gz"
	if _, err := p.FetchTarball(context.Background(), missing); err == nil || !strings.Contains(err.Error(), missing+": 404 Not Found") {
		t.Errorf("missing: %v", err)
	}
}

// TestFetchDeps fetches a program's deps beside its tarball, each checked
// against its own pin, and names the dep and its ARG when one is not the
// pinned bytes; nothing of it is kept.
func TestFetchDeps(t *testing.T) {
	prog := gz(t, goodTree(t))
	lib := gz(t, tarOf(t, entry{name: "libx-2.0/x.c", body: "int x;\n", typ: tar.TypeReg}))
	srv, _ := server(t, map[string][]byte{"/tool-1.0.tar.gz": prog, "/libx-2.0.tar.gz": lib, "/tampered/libx-2.0.tar.gz": append(bytes.Clone(lib[:len(lib)-1]), lib[len(lib)-1]^1)})
	p := tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", digest(prog))
	p.Deps = []catalog.Dep{{Name: "libx", Version: "2.0", Tarball: catalog.Tarball{URL: srv.URL + "/libx-${VERSION}.tar.gz", SHA256: digest(lib)}}}
	pr := tarballPreparer(t)
	src, err := pr.Fetch(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	dir := src.Deps["libx"]
	if data, err := os.ReadFile(filepath.Join(dir, "x.c")); err != nil || string(data) != "int x;\n" || len(src.Deps) != 1 {
		t.Fatalf("dep tree %s: %q %v (deps %v)", dir, data, err, src.Deps)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "src", "main.c")); err != nil {
		t.Errorf("the program's own tree: %v", err)
	}

	p.Deps[0].Tarball.URL = srv.URL + "/tampered/libx-${VERSION}.tar.gz"
	pr = tarballPreparer(t)
	_, err = pr.Fetch(context.Background(), p)
	var de *DigestError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "tool 1.0: dep libx 2.0: release tarball: "+srv.URL+"/tampered/libx-2.0.tar.gz served a tarball with sha256 ") ||
		!strings.Contains(err.Error(), "but ARG LIBX_SHA256 pins "+digest(lib)) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range cacheFiles(t, pr.CacheDir) {
		if strings.Contains(f, "libx") {
			t.Errorf("the tampered dep left %s in the cache", f)
		}
	}
}

// TestTarballDropsDockerignore: a .dockerignore at a tarball's top would
// make BuildKit leave files out of the source context; it is dropped, as
// from module and git sources.
func TestTarballDropsDockerignore(t *testing.T) {
	data := gz(t, tarOf(t,
		entry{name: "tool-1.0/.dockerignore", body: "*.c\n", typ: tar.TypeReg},
		entry{name: "tool-1.0/main.c", body: "int main(void) { return 0; }\n", typ: tar.TypeReg},
	))
	srv, _ := server(t, map[string][]byte{"/tool-1.0.tar.gz": data})
	src, err := tarballPreparer(t).Fetch(context.Background(), tarballProgram(srv.URL+"/tool-${VERSION}.tar.gz", digest(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, ".dockerignore")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".dockerignore kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "main.c")); err != nil {
		t.Error(err)
	}
}

// unreachable is a transport for a machine that cannot reach the host.
type unreachable struct{}

func (unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: connect: network is unreachable")
}

// TestGitstatusdStopsAtTheFetch: the catalog's gitstatusd (C++; its
// tarballs are on GitHub only) gets as far as the fetch; where GitHub is
// unreachable, as here, that is one error naming the URL and the fix, and
// nothing is cached.
func TestGitstatusdStopsAtTheFetch(t *testing.T) {
	prog, err := catalog.LoadProgram(filepath.Join("..", "..", "dockerfiles", "gitstatusd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Deps) != 1 || prog.Deps[0].Name != "libgit2" || prog.Deps[0].System != catalog.CMake {
		t.Fatalf("deps: %+v", prog.Deps)
	}
	pr := tarballPreparer(t)
	pr.HTTP = &http.Client{Transport: unreachable{}}
	_, err = pr.Fetch(context.Background(), prog)
	const u = "https://github.com/romkatv/gitstatus/archive/refs/tags/v1.5.5.tar.gz"
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "gitstatusd v1.5.5: release tarball: ") ||
		!strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), "add a mirror to program.yaml or CROSSBIN_TARBALL_MIRRORS") {
		t.Fatalf("err = %v", err)
	}
	if left := cacheFiles(t, pr.CacheDir); len(left) != 0 {
		t.Errorf("left in the cache: %v", left)
	}
}
