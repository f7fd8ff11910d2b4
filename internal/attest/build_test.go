package attest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/filehash"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/spdx/tools-golang/spdx"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// The tests below build real binaries with the host go tool, offline: the
// one module they download comes from a file:// proxy the test writes, so
// its h1 hash in the build info is a real one.

// writeFiles writes name → content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fileProxy writes a GOPROXY directory serving example.com/fork v1.1.0 and
// returns its file:// URL and the module's h1 hash.
func fileProxy(t *testing.T) (url, h1 string) {
	t.Helper()
	src, proxy := t.TempDir(), t.TempDir()
	goMod := "module example.com/fork\n\ngo 1.26\n"
	writeFiles(t, src, map[string]string{
		"go.mod":   goMod,
		"greet.go": "package greet\n\nfunc Hello() string { return \"hello from the fork\" }\n",
	})
	v := module.Version{Path: "example.com/fork", Version: "v1.1.0"}
	dir := filepath.Join(proxy, "example.com", "fork", "@v")
	writeFiles(t, dir, map[string]string{
		"list":        "v1.1.0\n",
		"v1.1.0.info": `{"Version":"v1.1.0","Time":"2025-01-02T03:04:05Z"}`,
		"v1.1.0.mod":  goMod,
	})
	zipPath := filepath.Join(dir, "v1.1.0.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(f, v, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	h1, err = dirhash.HashZip(zipPath, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + filepath.ToSlash(proxy), h1
}

// goBuild builds the main package in dir for linux/goarch, offline, and
// returns the binary's path.
func goBuild(t *testing.T, dir, goproxy, goarch string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bin")
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-buildvcs=false", "-o", out}, args...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0",
		"GOPROXY="+goproxy, "GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=",
		"GOFLAGS=-mod=mod -modcacherw", "GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		"GOWORK=off", "GOTOOLCHAIN=local",
	)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for linux/%s: %v\n%s", goarch, err, b)
	}
	return out
}

func TestSBOMFromFile(t *testing.T) {
	proxy, forkH1 := fileProxy(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod": `module example.com/hello

go 1.26

require (
	example.com/greet v1.0.0
	example.com/local v0.0.0
)

replace example.com/greet v1.0.0 => example.com/fork v1.1.0

replace example.com/local => ./local
`,
		"main.go": `package main

import (
	"fmt"

	"example.com/greet"
	"example.com/local"
)

var version = "(unset)"

func main() { fmt.Println(greet.Hello(), local.Name, version) }
`,
		"local/go.mod":   "module example.com/local\n\ngo 1.26\n",
		"local/local.go": "package local\n\nconst Name = \"local\"\n",
	})

	for _, goarch := range []string{"amd64", "arm64", "riscv64"} {
		t.Run(goarch, func(t *testing.T) {
			bin := goBuild(t, dir, proxy, goarch, "-tags", "crossbin", "-ldflags", "-s -w -X main.version=v1.0.0")
			subject := Subject{
				Name:     "hello",
				Module:   "example.com/hello",
				Version:  "v1.0.0",
				Platform: platform.Platform{OS: "linux", Arch: goarch},
				Released: released,
				Patches:  []Patch{{Name: "hello-fork", Modules: []string{"example.com/greet"}}},
			}
			doc, err := SBOMFromFile(bin, subject)
			if err != nil {
				t.Fatal(err)
			}

			main := doc.Packages[0]
			if main.PackageName != "example.com/hello" || main.PackageVersion != "v1.0.0" {
				t.Errorf("main package %s %s, want example.com/hello at the pinned v1.0.0", main.PackageName, main.PackageVersion)
			}
			for _, want := range []string{"GOOS=linux", "GOARCH=" + goarch, "-tags=crossbin", "CGO_ENABLED=0", "-trimpath=true"} {
				if !strings.Contains(main.PackageComment, "\n"+want+"\n") && !strings.HasSuffix(main.PackageComment, "\n"+want) {
					t.Errorf("main package comment lacks the setting %s:\n%s", want, main.PackageComment)
				}
			}
			if sum, _ := filehash.SHA256(bin); len(main.PackageChecksums) != 1 || main.PackageChecksums[0].Value != sum {
				t.Errorf("main checksums %v, want the binary's sha256 %s", main.PackageChecksums, sum)
			}

			byName := map[string]*spdx.Package{}
			for _, p := range doc.Packages {
				byName[p.PackageName] = p
			}
			if byName["example.com/greet"] != nil {
				t.Error("the replaced module example.com/greet is listed; the fork was compiled")
			}
			fork := byName["example.com/fork"]
			if fork == nil || fork.PackageVersion != "v1.1.0" {
				t.Fatalf("example.com/fork: %+v, want the replacement at v1.1.0", fork)
			}
			if !strings.Contains(fork.PackageComment, "Replaces example.com/greet v1.0.0") || !strings.Contains(fork.PackageComment, "crossbin patch hello-fork") {
				t.Errorf("fork comment %q does not name the module it replaces and the patch", fork.PackageComment)
			}
			if got := refs(fork, "go-sum"); len(got) != 1 || got[0] != forkH1 {
				t.Errorf("fork go-sum %v, want the module zip's %s", got, forkH1)
			}
			if got := refs(fork, "purl"); len(got) != 1 || got[0] != "pkg:golang/example.com/fork@v1.1.0" {
				t.Errorf("fork purl %v", got)
			}
			local := byName["example.com/local"]
			if local == nil || local.PackageVersion != "" || !strings.Contains(local.PackageComment, "the directory ./local") {
				t.Errorf("example.com/local: %+v, want no version and the directory named", local)
			}
			if byName["stdlib"] == nil {
				t.Error("no stdlib package")
			}
			checkRelationships(t, doc)

			first, err := JSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			again, err := SBOMFromFile(bin, subject)
			if err != nil {
				t.Fatal(err)
			}
			second, err := JSON(again)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("two SBOMs of the same binary differ:\n%s\n---\n%s", first, second)
			}
		})
	}
}

func TestSBOMFromFileChecksDigest(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":  "module example.com/tiny\n\ngo 1.26\n",
		"main.go": "package main\n\nfunc main() {}\n",
	})
	bin := goBuild(t, dir, "off", "arm64")
	subject := Subject{Name: "tiny", Module: "example.com/tiny", Version: "v0.1.0", Platform: platform.Platform{OS: "linux", Arch: "arm64"}, Released: released, SHA256: binarySum}
	if _, err := SBOMFromFile(bin, subject); err == nil || !strings.Contains(err.Error(), "want "+binarySum) {
		t.Errorf("err = %v, want a digest mismatch", err)
	}
	subject.Platform = platform.Platform{OS: "linux", Arch: "riscv64"}
	subject.SHA256 = ""
	if _, err := SBOMFromFile(bin, subject); err == nil || !strings.Contains(err.Error(), "GOARCH=arm64, platform linux/riscv64 needs GOARCH=riscv64") {
		t.Errorf("err = %v, want a platform mismatch", err)
	}
}

// TestSBOMFromFileUnavailable builds crossbin's own unavailable/ the way
// the pipeline stamps it.
func TestSBOMFromFileUnavailable(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("..", "..", "unavailable"))
	if err != nil {
		t.Fatal(err)
	}
	bin := goBuild(t, src, "off", "s390x", "-ldflags", "-s -w -X main.name=dlv -X main.version=v1.25.2 -X main.platform=linux/s390x")
	subject := unavailableSubject()
	subject.SHA256 = ""
	doc, err := SBOMFromFile(bin, subject)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.DocumentComment, "this image holds no code of dlv") {
		t.Errorf("document comment: %s", doc.DocumentComment)
	}
	if main := doc.Packages[0]; main.PackageName != UnavailableModule || main.PackageVersion != "" {
		t.Errorf("main package %s %q, want %s without a version", main.PackageName, main.PackageVersion, UnavailableModule)
	}
	if len(doc.Packages) != 2 {
		t.Errorf("%d packages, want the fallback program and stdlib", len(doc.Packages))
	}

	subject.Unavailable = false
	if _, err := SBOMFromFile(bin, subject); err == nil {
		t.Error("the unavailable binary passed as a real build of dlv")
	}
}
