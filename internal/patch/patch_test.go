package patch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

const procfs = `program: helm
versions: "< 3.7.0"
platforms: [linux/riscv64]
reason: procfs v0.2.0 does not build for riscv64
link: https://github.com/prometheus/procfs/pull/364
require:
  - {module: github.com/prometheus/procfs, version: v0.6.0}
`

func TestParse(t *testing.T) {
	p, err := Parse("patches/helm-procfs.yaml", []byte(procfs))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "helm-procfs" || p.Program != "helm" || p.Range != "< 3.7.0" || len(p.Platforms) != 1 || len(p.Require) != 1 || p.Require[0].Line != 7 {
		t.Errorf("got %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "p.yaml: empty patch file"},
		{"not yaml", "program: [", "p.yaml: yaml"},
		{"unknown field", procfs + "requires: []\n", "field requires not found"},
		{"no program", strings.Replace(procfs, "program: helm\n", "", 1), "missing `program:`"},
		{"no reason", strings.Replace(procfs, "reason: procfs v0.2.0 does not build for riscv64\n", "", 1), "missing `reason:`"},
		{"no versions", strings.Replace(procfs, "versions: \"< 3.7.0\"\n", "", 1), "missing `versions:`"},
		{"bad range", strings.Replace(procfs, "< 3.7.0", "before 3.7", 1), "versions \"before 3.7\""},
		{"bad platform", strings.Replace(procfs, "linux/riscv64", "linux/riscv", 1), "platforms:"},
		{"bad module", strings.Replace(procfs, "{module: github.com/prometheus/procfs", "{module: github.com/Prom etheus/procfs", 1), "p.yaml:7: require:"},
		{"bad version", strings.Replace(procfs, "v0.6.0", "0.6", 1), "p.yaml:7: require: github.com/prometheus/procfs: version \"0.6\" is not a semantic version"},
		{"major mismatch", strings.Replace(procfs, "v0.6.0", "v2.0.0", 1), "p.yaml:7: require:"},
		{"unknown key", strings.Replace(procfs, "version: v0.6.0}", "version: v0.6.0, why: x}", 1), "p.yaml:7: require: unknown field \"why\""},
		{"scalar entry", strings.Replace(procfs, "  - {module: github.com/prometheus/procfs, version: v0.6.0}", "  - github.com/prometheus/procfs@v0.6.0", 1), "want a mapping"},
		{"no edits", strings.Replace(procfs, "require:\n  - {module: github.com/prometheus/procfs, version: v0.6.0}\n", "", 1), "changes nothing"},
		{"bad replace", procfs + "replace:\n  - {module: example.com/a, with: example.com/b}\n", "p.yaml:9: replace:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	p, err := Parse("helm-procfs.yaml", []byte(procfs))
	if err != nil {
		t.Fatal(err)
	}
	all := []Patch{p}
	riscv := platform.Platform{OS: "linux", Arch: "riscv64"}
	arm64 := platform.Platform{OS: "linux", Arch: "arm64"}
	for _, tc := range []struct {
		program, version string
		pl               platform.Platform
		apply, obsolete  int
	}{
		{"helm", "v3.6.2", riscv, 1, 0},
		{"helm", "v3.6.2", arm64, 0, 0},
		{"helm", "v3.7.0", riscv, 0, 1},
		{"helm", "v3.22.0", arm64, 0, 1},
		// go-version: a range without a prerelease never matches one.
		{"helm", "v3.7.0-rc.1", riscv, 0, 1},
		{"dlv", "v1.6.1", riscv, 0, 0},
	} {
		apply, obsolete := Select(all, tc.program, tc.version, tc.pl)
		if len(apply) != tc.apply || len(obsolete) != tc.obsolete {
			t.Errorf("Select(%s %s %s) = %d apply, %d obsolete; want %d, %d", tc.program, tc.version, tc.pl, len(apply), len(obsolete), tc.apply, tc.obsolete)
		}
	}
}

func TestApply(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("testdata", "helm-v3.6.2.go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("helm-procfs.yaml", []byte(procfs+"replace:\n  - {module: github.com/gofrs/flock, with: github.com/gofrs/flock, version: v0.8.1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Apply(gomod, []Patch{p})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "helm-v3.6.2.patched.go.mod", out)

	// A patch only raises: a newer requirement already there stays.
	lower, err := Parse("lower.yaml", []byte(strings.Replace(strings.Replace(procfs, "v0.6.0", "v1.0.0", 1), "{module: github.com/prometheus/procfs", "{module: github.com/spf13/cobra", 1)))
	if err != nil {
		t.Fatal(err)
	}
	out, err = Apply(gomod, []Patch{lower})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "github.com/spf13/cobra v1.1.3") || strings.Contains(string(out), "cobra v1.0.0") {
		t.Errorf("a patch lowered a requirement:\n%s", out)
	}
	if _, err := Apply([]byte("module x\nrequire (\n"), []Patch{p}); err == nil || !strings.Contains(err.Error(), "parse go.mod") {
		t.Errorf("broken go.mod: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(procfs), 0o644)
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(procfs), 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a patch"), 0o644)
	patches, err := Load(dir)
	if err != nil || len(patches) != 2 || patches[0].Name != "a" {
		t.Fatalf("Load = %v, %v", patches, err)
	}
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("program: helm\n"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "c.yaml") {
		t.Fatalf("a broken file went unnamed: %v", err)
	}
	if patches, err := Load(filepath.Join(dir, "missing")); err != nil || patches != nil {
		t.Fatalf("missing dir: %v, %v", patches, err)
	}
	real, err := Load(filepath.Join("..", "..", "patches"))
	if err != nil || len(real) == 0 {
		t.Fatalf("the repository's patches: %v, %v", real, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(procfs)
	f.Add("program: x\nversions: \">= 1\"\nreason: r\nreplace:\n  - {module: a.b/c, with: a.b/d, version: v1.0.0}\n")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse("fuzz.yaml", []byte(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := Apply([]byte("module example.com/m\n\ngo 1.16\n"), []Patch{p}); err != nil {
			t.Fatalf("a valid patch does not apply to a minimal go.mod: %v", err)
		}
	})
}
