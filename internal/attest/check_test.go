package attest

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spdx/tools-golang/spdx"

	"github.com/crossbin/crossbin/internal/platform"
)

// TestCheck: an SBOM passes against the binary it was made from, after a
// round trip through its in-toto statement, and fails against another
// binary, a wrong pin or a changed module list.
func TestCheck(t *testing.T) {
	proxy, _ := fileProxy(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.26\n\nrequire example.com/greet v1.0.0\n\nreplace example.com/greet v1.0.0 => example.com/fork v1.1.0\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
	})
	bin := goBuild(t, dir, proxy, "arm64")
	other := goBuild(t, dir, proxy, "arm64", "-ldflags", "-X main.unused=1")
	subject := Subject{Name: "hello", Module: "example.com/hello", Version: "v1.0.0", Platform: platform.Platform{OS: "linux", Arch: "arm64"}, Released: released}
	doc, err := SBOMFromFile(bin, subject)
	if err != nil {
		t.Fatal(err)
	}
	digest := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	stmt, err := Statement(doc, Image{Name: "r/hello", Digest: digest})
	if err != nil {
		t.Fatal(err)
	}
	typ, subjects, predicate, err := ParseStatement(stmt)
	if err != nil || typ != PredicateSPDX || len(subjects) != 1 || subjects[0] != digest.String() {
		t.Fatalf("ParseStatement = %s %v, %v", typ, subjects, err)
	}
	back, err := ReadSPDX(predicate)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(back, bin, subject); err != nil {
		t.Errorf("the SBOM fails against its own binary: %v", err)
	}
	if m, v := Version(back); m != "example.com/hello" || v != "v1.0.0" {
		t.Errorf("Version = %s %s", m, v)
	}

	if err := Check(back, other, subject); err == nil || !strings.Contains(err.Error(), "is not this binary") {
		t.Errorf("another binary: %v", err)
	}
	pinned := subject
	pinned.Version = "v2.0.0"
	if err := Check(back, bin, pinned); err == nil || !strings.Contains(err.Error(), "not the pinned v2.0.0") {
		t.Errorf("another pin: %v", err)
	}
	trimmed := *back
	trimmed.Packages = withoutPackage(back.Packages, "example.com/fork")
	if err := Check(&trimmed, bin, subject); err == nil || !strings.Contains(err.Error(), "missing example.com/fork@v1.1.0") {
		t.Errorf("a module left out: %v", err)
	}
}

func withoutPackage(ps []*spdx.Package, name string) []*spdx.Package {
	var out []*spdx.Package
	for _, p := range ps {
		if p.PackageName != name {
			out = append(out, p)
		}
	}
	return out
}

func TestProvenanceArg(t *testing.T) {
	for _, tc := range []struct{ name, predicate, want string }{
		{"SLSA v1", `{"buildDefinition":{"externalParameters":{"request":{"args":{"build-arg:VERSION":"v3.14.1"}}}}}`, "v3.14.1"},
		{"SLSA v0.2", `{"invocation":{"parameters":{"args":{"build-arg:VERSION":"v1.27.2"}}}}`, "v1.27.2"},
		{"absent", `{"buildDefinition":{}}`, ""},
		{"not JSON", `nope`, ""},
	} {
		got, ok := ProvenanceArg([]byte(tc.predicate), "VERSION")
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: %q, %v", tc.name, got, ok)
		}
	}
}
