package pipeline_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/render"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// TestCProgram builds lz4 from its pinned release tarball (GitHub is not
// reachable here: the bytes come from Debian's pool, a mirror its spec
// lists, checked against the pinned sha256) with the cross C toolchain on
// the build platform for arm64, riscv64, loong64 and mips64le, and runs
// each static binary under QEMU in the sandbox (loong64's and mips64le's
// under trixie's QEMU, registered by crossbin), with its SBOM naming the
// tarball.
func TestCProgram(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	ctx := context.Background()
	debian, err := ep.DebianImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
	opt.DebianImage = debian
	lz4 := load(t, filepath.Join("..", "..", "dockerfiles", "lz4"))
	var subset []platform.Platform
	for _, s := range []string{"linux/arm64", "linux/riscv64", "linux/loong64", "linux/mips64le"} {
		subset = append(subset, mustPlatform(t, s))
	}
	rep, err := pipeline.Build(ctx, opt, lz4, subset)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != len(subset) {
		t.Fatalf("%d outcomes", len(rep.Outcomes))
	}
	for _, o := range rep.Outcomes {
		v := o.Verify
		if !v.Ran || !v.SBOM || !strings.Contains(v.Output, strings.TrimPrefix(lz4.Version, "v")) {
			t.Errorf("%s: ran %v, SBOM checked %v, printed %q (%s)", o.Platform, v.Ran, v.SBOM, v.Output, v.Note)
		}
	}
}

// TestCDeps builds a small C program that links a library built from its
// own pinned tarball (a dep, with CMake), both served by a local server,
// for arm64, mips64le and loong64 — the last two have no Debian libraries
// at all — and runs each binary under QEMU in the sandbox (mips64le's
// through crossbin's binfmt entry that takes glibc's ELF ABI version 5).
// The SBOM names the dep's tarball. A dep whose bytes are not the pinned
// ones stops the build with the digest error naming its ARG.
func TestCDeps(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	ctx := context.Background()
	debian, err := ep.DebianImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lib := tarGz(t, "greet-1.0/", map[string]string{
		"CMakeLists.txt": "cmake_minimum_required(VERSION 3.13)\nproject(greet C)\ninclude(GNUInstallDirs)\n" +
			"add_library(greet STATIC greet.c)\ninstall(TARGETS greet ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})\n" +
			"install(FILES greet.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})\n",
		"greet.h": "const char *greeting(void);\n",
		"greet.c": "#include \"greet.h\"\nconst char *greeting(void) { return \"greetings from a dep\"; }\n",
	})
	// stamp.in is newer than stamp in the tarball, and make would remake
	// stamp (and fail): every file gets one time before the build, as a
	// tarball's generated files (configure, Makefile.in) must not be remade.
	prog := tarGz(t, "hello-2.0/", map[string]string{
		"Makefile": "hello: hello.c stamp\n\t$(CC) -o hello hello.c $(LDFLAGS) -lgreet\nstamp: stamp.in\n\tfalse\n",
		"stamp":    "", "stamp.in": "",
		"hello.c": "#include <stdio.h>\n#include <greet.h>\nint main(void) { printf(\"hello 2.0, %s\\n\", greeting()); return 0; }\n",
	})
	files := map[string][]byte{"/hello-2.0.tar.gz": prog, "/greet-1.0.tar.gz": lib}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	files["/tampered/greet-1.0.tar.gz"] = append(bytes.Clone(lib[:len(lib)-1]), lib[len(lib)-1]^1)

	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
	opt.DebianImage = debian
	dir := cDepsProgram(t, srv.URL, sha256Hex(prog), sha256Hex(lib), "")
	var subset []platform.Platform
	for _, s := range []string{"linux/arm64", "linux/mips64le", "linux/loong64"} {
		subset = append(subset, mustPlatform(t, s))
	}
	rep, err := pipeline.Build(ctx, opt, load(t, dir), subset)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Outcomes {
		v := o.Verify
		if !v.Ran || !v.SBOM || !strings.Contains(v.Output, "hello 2.0, greetings from a dep") {
			t.Errorf("%s: ran %v, SBOM checked %v, printed %q (%s)", o.Platform, v.Ran, v.SBOM, v.Output, v.Note)
		}
	}

	// The dep's bytes are not the pinned ones: one clear error, no image.
	// (A fresh source cache: the pinned bytes are in this one.)
	bad := cDepsProgram(t, srv.URL, sha256Hex(prog), sha256Hex(lib), "/tampered")
	fresh := opt
	fresh.Sources = stacktest.Pipeline(t, cfg, ep, "crossbin-test", t.TempDir(), nil).Sources
	rep, err = pipeline.Build(ctx, fresh, load(t, bad), subset[:1])
	if err == nil || !strings.Contains(err.Error(), "dep greet 1.0: release tarball: "+srv.URL+"/tampered/greet-1.0.tar.gz served a tarball with sha256 ") ||
		!strings.Contains(err.Error(), "but ARG GREET_SHA256 pins "+sha256Hex(lib)) {
		t.Fatalf("tampered dep: %v", err)
	}
	for _, o := range rep.Outcomes {
		if o.Digest.Hex != "" {
			t.Errorf("%s was built from a tampered dep: %s", o.Platform, o.Digest)
		}
	}
}

// cDepsProgram writes the hello program of TestCDeps, its dep's tarball
// under depPath on the server at base, and renders its Dockerfile as
// `mage dockerfiles` would.
func cDepsProgram(t *testing.T, base, progSum, libSum, depPath string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	os.MkdirAll(dir, 0o755)
	spec := "description: says hello through a library\nhomepage: https://example.com/hello\nexpect: hello 2.0\n" +
		"build:\n  from: tarball\n  system: make\n  repository: https://example.com/hello\n" +
		"  deps:\n    - name: greet\n      system: cmake\n"
	pins := "ARG DEBIAN_IMAGE=debian:trixie\n# renovate: datasource=github-releases depName=example/hello\nARG VERSION=2.0\n" +
		"ARG URL=" + base + "/hello-${VERSION}.tar.gz\nARG SHA256=" + progSum + "\n" +
		"# renovate: datasource=github-releases depName=example/greet\nARG GREET_VERSION=1.0\n" +
		"ARG GREET_URL=" + base + depPath + "/greet-${GREET_VERSION}.tar.gz\nARG GREET_SHA256=" + libSum + "\nFROM scratch AS source\n"
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte(spec), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(pins), 0o644)
	prog := load(t, dir)
	df, err := render.Dockerfile(prog)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644)
	return dir
}

// tarGz is a release tarball of files under prefix, the .in files an hour
// newer than the others.
func tarGz(t *testing.T, prefix string, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	names := slices.Sorted(maps.Keys(files))
	for _, n := range names {
		mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		if strings.HasSuffix(n, ".in") {
			mtime = mtime.Add(time.Hour)
		}
		tw.WriteHeader(&tar.Header{Name: prefix + n, Mode: 0o644, Size: int64(len(files[n])), ModTime: mtime})
		io.WriteString(tw, files[n])
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func mustPlatform(t *testing.T, s string) platform.Platform {
	t.Helper()
	p, err := platform.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
