package source

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/platform"
)

// fakeProxy writes a file:// module proxy holding example.com/prog v1.0.0
// (main package cmd/prog, requiring example.com/dep v1.0.0) and
// example.com/dep v1.0.0 and v1.1.0.
func fakeProxy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(mod, version, gomod string, files map[string]string) {
		base := filepath.Join(dir, mod, "@v")
		if err := os.MkdirAll(base, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(base, version+".mod"), []byte(gomod), 0o644)
		os.WriteFile(filepath.Join(base, version+".info"), fmt.Appendf(nil, `{"Version":%q,"Time":"2021-06-09T18:00:00Z"}`, version), 0o644)
		f, err := os.Create(filepath.Join(base, version+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		if _, ok := files["-no-go.mod"]; ok { // a module released before go.mod
			delete(files, "-no-go.mod")
		} else {
			files["go.mod"] = gomod
		}
		for name, content := range files {
			w, _ := zw.Create(mod + "@" + version + "/" + name)
			io.WriteString(w, content)
		}
		zw.Close()
		f.Close()
		list, _ := os.ReadFile(filepath.Join(base, "list"))
		os.WriteFile(filepath.Join(base, "list"), append(list, version+"\n"...), 0o644)
	}
	dep := func(v string) map[string]string {
		return map[string]string{"dep.go": "package dep\n\nconst Version = \"" + v + "\"\n"}
	}
	write("example.com/dep", "v1.0.0", "module example.com/dep\n\ngo 1.16\n", dep("v1.0.0"))
	write("example.com/dep", "v1.1.0", "module example.com/dep\n\ngo 1.16\n", dep("v1.1.0"))
	write("example.com/prog", "v1.0.0", "module example.com/prog\n\ngo 1.16\n\nrequire example.com/dep v1.0.0\n", map[string]string{
		"cmd/prog/main.go": "package main\n\nimport \"example.com/dep\"\n\nfunc main() { println(dep.Version) }\n",
	})
	write("example.com/ignoring", "v1.0.0", "module example.com/ignoring\n", map[string]string{
		".dockerignore":     "/go.mod\n",
		"cmd/ignoring/x.go": "package main\n\nfunc main() {}\n",
	})
	write("example.com/old", "v1.0.0", "module example.com/old\n", map[string]string{
		"-no-go.mod":      "",
		"cmd/old/main.go": "package main\n\nimport \"example.com/dep\"\n\nfunc main() { println(dep.Version) }\n",
	})
	return dir
}

func preparer(t *testing.T, proxy string) Preparer {
	env := append(os.Environ(), "GOPROXY=file://"+proxy, "GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GOFLAGS=-modcacherw", "GOMODCACHE="+t.TempDir())
	return Preparer{CacheDir: t.TempDir(), Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var prog = catalog.Program{Name: "prog", Module: "example.com/prog", Version: "v1.0.0", Package: "example.com/prog/cmd/prog"}

func writePatch(t *testing.T, body string) patch.Patch {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog-dep.yaml")
	data := "program: prog\nversions: \"< 2.0.0\"\nreason: test\n" + body
	os.WriteFile(path, []byte(data), 0o644)
	p, err := patch.Parse(path, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFetchAndPatch(t *testing.T) {
	ctx := context.Background()
	pr := preparer(t, fakeProxy(t))
	src, err := pr.Fetch(ctx, prog)
	if err != nil {
		t.Fatal(err)
	}
	if src.Released.Unix() != 1623261600 || !strings.HasSuffix(src.Dir, "example.com/prog@v1.0.0") {
		t.Fatalf("fetched %+v", src)
	}
	same, err := pr.Patch(ctx, prog, src, nil, nil)
	if err != nil || same.Dir != src.Dir {
		t.Fatalf("no patches must keep the pristine source: %+v %v", same, err)
	}

	p := writePatch(t, "require:\n  - {module: example.com/dep, version: v1.1.0}\n")
	riscv := platform.Platform{OS: "linux", Arch: "riscv64"}
	patched, err := pr.Patch(ctx, prog, src, []patch.Patch{p}, []platform.Platform{riscv})
	if err != nil {
		t.Fatal(err)
	}
	if patched.Dir == src.Dir || strings.Join(patched.Patches, ",") != "prog-dep" {
		t.Fatalf("patched %+v", patched)
	}
	gomod, _ := os.ReadFile(filepath.Join(patched.Dir, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(patched.Dir, "go.sum"))
	if !strings.Contains(string(gomod), "example.com/dep v1.1.0") || !strings.Contains(string(gosum), "example.com/dep v1.1.0 h1:") {
		t.Fatalf("go.mod:\n%s\ngo.sum:\n%s", gomod, gosum)
	}
	pristine, _ := os.ReadFile(filepath.Join(src.Dir, "go.mod"))
	if strings.Contains(string(pristine), "v1.1.0") {
		t.Fatal("patching changed the module cache")
	}
	// The same patch again is a cache hit; a changed patch is a new copy.
	again, err := pr.Patch(ctx, prog, src, []patch.Patch{p}, []platform.Platform{riscv})
	if err != nil || again.Dir != patched.Dir {
		t.Fatalf("cache miss: %s vs %s (%v)", again.Dir, patched.Dir, err)
	}
	os.WriteFile(p.File, append([]byte("# changed\n"), mustRead(t, p.File)...), 0o644)
	k1, _ := Key(src.Module.Sum, []patch.Patch{p})
	if filepath.Base(patched.Dir) == prog.Name+"-"+prog.Version+"-"+k1 {
		t.Fatal("a changed patch file kept its cache key")
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPatchErrors(t *testing.T) {
	ctx := context.Background()
	pr := preparer(t, fakeProxy(t))
	src, err := pr.Fetch(ctx, prog)
	if err != nil {
		t.Fatal(err)
	}
	amd64 := platform.Platform{OS: "linux", Arch: "amd64"}
	for _, tc := range []struct{ name, body, want string }{
		{"version not on the proxy", "require:\n  - {module: example.com/dep, version: v1.9.9}\n", "prog-dep.yaml:5 (example.com/dep v1.9.9)"},
		{"unknown module", "require:\n  - {module: example.com/nothere, version: v1.0.0}\n", "prog-dep.yaml:5 (example.com/nothere v1.0.0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writePatch(t, tc.body)
			_, err := pr.Patch(ctx, prog, src, []patch.Patch{p}, []platform.Platform{amd64})
			if err == nil || !strings.Contains(err.Error(), p.File) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to name %s and %q", err, p.File, tc.want)
			}
			entries, _ := os.ReadDir(filepath.Join(pr.CacheDir, "source"))
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), ".") {
					t.Fatalf("a failed patch left %s in the cache", e.Name())
				}
			}
		})
	}
	t.Run("module not on the proxy", func(t *testing.T) {
		missing := prog
		missing.Version = "v1.2.3"
		if _, err := pr.Fetch(ctx, missing); err == nil || !strings.Contains(err.Error(), "example.com/prog@v1.2.3") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestChecksumMismatch(t *testing.T) {
	ctx := context.Background()
	proxy := fakeProxy(t)
	pr := preparer(t, proxy)
	src, err := pr.Fetch(ctx, prog)
	if err != nil {
		t.Fatal(err)
	}
	// The program's go.sum pins a different hash for the dependency than
	// the proxy serves.
	bad := src
	bad.Dir = t.TempDir()
	os.WriteFile(filepath.Join(bad.Dir, "go.mod"), mustRead(t, filepath.Join(src.Dir, "go.mod")), 0o644)
	os.MkdirAll(filepath.Join(bad.Dir, "cmd", "prog"), 0o755)
	os.WriteFile(filepath.Join(bad.Dir, "cmd", "prog", "main.go"), mustRead(t, filepath.Join(src.Dir, "cmd", "prog", "main.go")), 0o644)
	os.WriteFile(filepath.Join(bad.Dir, "go.sum"), []byte("example.com/dep v1.1.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nexample.com/dep v1.1.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o644)
	bad.Module.Sum = "h1:different"
	p := writePatch(t, "require:\n  - {module: example.com/dep, version: v1.1.0}\n")
	_, err = pr.Patch(ctx, prog, bad, []patch.Patch{p}, []platform.Platform{{OS: "linux", Arch: "amd64"}})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), p.File) {
		t.Fatalf("err = %v; want a checksum mismatch naming the patch", err)
	}
}

// TestModuleWithoutGoMod: a module released before go.mod gets the go.mod
// the go tool synthesizes, and a patch supplies its requirements.
func TestModuleWithoutGoMod(t *testing.T) {
	ctx := context.Background()
	pr := preparer(t, fakeProxy(t))
	old := catalog.Program{Name: "old", Module: "example.com/old", Version: "v1.0.0", Package: "example.com/old/cmd/old", SourceStage: true}
	src, err := pr.Fetch(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(mustRead(t, filepath.Join(src.Dir, "go.mod"))); got != "module example.com/old\n" {
		t.Errorf("go.mod = %q", got)
	}
	again, err := pr.Fetch(ctx, old)
	if err != nil || again.Dir != src.Dir {
		t.Errorf("second fetch: %v, %s != %s", err, again.Dir, src.Dir)
	}
	path := filepath.Join(t.TempDir(), "old-requires.yaml")
	body := "program: old\nversions: \"= 1.0.0\"\nreason: no go.mod\nrequire:\n  - {module: example.com/dep, version: v1.1.0}\n"
	os.WriteFile(path, []byte(body), 0o644)
	pt, err := patch.Parse(path, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	amd64, _ := platform.Parse("linux/amd64")
	patched, err := pr.Patch(ctx, old, src, []patch.Patch{pt}, []platform.Platform{amd64})
	if err != nil {
		t.Fatal(err)
	}
	if gomod := string(mustRead(t, filepath.Join(patched.Dir, "go.mod"))); !strings.Contains(gomod, "example.com/dep v1.1.0") {
		t.Errorf("patched go.mod:\n%s", gomod)
	}
	if sum := string(mustRead(t, filepath.Join(patched.Dir, "go.sum"))); !strings.Contains(sum, "example.com/dep v1.1.0 h1:") {
		t.Errorf("go.sum:\n%s", sum)
	}
}

// TestDockerignoreDropped: upstream's .dockerignore would apply to the
// source build context (the Docker CLI's drops go.mod), so the prepared
// source leaves it out.
func TestDockerignoreDropped(t *testing.T) {
	pr := preparer(t, fakeProxy(t))
	ignoring := catalog.Program{Name: "ignoring", Module: "example.com/ignoring", Version: "v1.0.0", Package: "example.com/ignoring/cmd/ignoring"}
	// Built by `go install`, the program's source is not a build context.
	if src, err := pr.Fetch(context.Background(), ignoring); err != nil || src.Dir != src.Module.Dir {
		t.Fatalf("install-mode fetch: %v, dir %s", err, src.Dir)
	}
	ignoring.SourceStage = true
	src, err := pr.Fetch(context.Background(), ignoring)
	if err != nil {
		t.Fatal(err)
	}
	if src.Dir == src.Module.Dir {
		t.Fatal("the module cache's copy is used as it is")
	}
	if _, err := os.Stat(filepath.Join(src.Dir, ".dockerignore")); err == nil {
		t.Error(".dockerignore is still there")
	}
	if string(mustRead(t, filepath.Join(src.Dir, "go.mod"))) != "module example.com/ignoring\n" {
		t.Error("go.mod changed")
	}
}
