package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/platform"
)

// TestRealCatalog loads dockerfiles/ as the tools do.
func TestRealCatalog(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dlv", "helm", "shfmt"} {
		if _, err := c.Get(name); err != nil {
			t.Error(err)
		}
	}
	tagRE := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`) // the distribution spec's tag grammar
	for _, p := range c.Programs {
		if !tagRE.MatchString(p.Name) || !tagRE.MatchString(p.VersionTag()) {
			t.Errorf("%s: %q is not a valid image tag", p.Name, p.VersionTag())
		}
	}
	helm, _ := c.Get("helm")
	if helm.Module != "helm.sh/helm/v3" || helm.Package != "helm.sh/helm/v3/cmd/helm" || !helm.SourceStage || len(helm.Platforms) != 11 {
		t.Errorf("helm = %+v", helm)
	}
	dlv, _ := c.Get("dlv")
	if real := fmt.Sprint(dlv.Real()); real != "[linux/amd64 linux/386 linux/arm64 linux/ppc64le linux/riscv64 linux/loong64]" {
		t.Errorf("dlv real platforms = %v", real)
	}
	if riscv, _ := platform.Parse("linux/riscv64"); strings.Join(dlv.BuildTags[riscv], ",") != "exp.linuxriscv64" || len(dlv.BuildTags) != 2 {
		t.Errorf("dlv tags = %v", dlv.BuildTags)
	}
	if dlv.SourceStage || strings.Join(dlv.Smoke, " ") != "version" {
		t.Errorf("dlv = %+v", dlv)
	}
	_, err = c.Get("no-such-program")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "dlv, ") || !strings.Contains(err.Error(), ", shfmt") {
		t.Errorf("unknown program: %v", err)
	}
}

const goodDockerfile = `ARG GO_IMAGE=golang:1.26-alpine
ARG MODULE=example.com/tool
# renovate: datasource=go depName=example.com/tool
ARG VERSION=v1.2.3
ARG PACKAGE=${MODULE}/cmd/tool
FROM ${GO_IMAGE}
`

func writeProgram(t *testing.T, name, dockerfile, spec string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if dockerfile != "" {
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644)
	}
	if spec != "-" {
		os.WriteFile(filepath.Join(dir, SpecFile), []byte(spec), 0o644)
	}
	return dir
}

func TestLoadProgram(t *testing.T) {
	p, err := LoadProgram(writeProgram(t, "tool", goodDockerfile, ""))
	if err != nil {
		t.Fatal(err)
	}
	if p.Module != "example.com/tool" || p.Version != "v1.2.3" || len(p.Platforms) != 11 || len(p.Unavailable) != 0 || strings.Join(p.Smoke, " ") != "--version" {
		t.Errorf("defaults: %+v", p)
	}
	p, err = LoadProgram(writeProgram(t, "tool", goodDockerfile, "platforms: [linux/amd64, linux/loong64, linux/aarch64]\nunavailable:\n  linux/loong64: no port yet\nsmoke: [version, --short]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Package != "example.com/tool/cmd/tool" || len(p.Platforms) != 3 || p.Platforms[2].String() != "linux/arm64" || p.Available(platform.Platform{OS: "linux", Arch: "loong64"}) {
		t.Errorf("spec: %+v", p)
	}
	// Opt-in targets join the defaults; only Linux targets the platform
	// table names can be verified, so only those are accepted.
	p, err = LoadProgram(writeProgram(t, "tool", goodDockerfile, "extra_platforms: [linux/ppc64, linux/mips64]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Platforms) != 13 || p.Platforms[11].String() != "linux/ppc64" || p.Platforms[12].String() != "linux/mips64" {
		t.Errorf("extra platforms: %v", p.Platforms)
	}
	for spec, want := range map[string]string{
		"extra_platforms: [windows/amd64]\n": "extra_platforms: windows/amd64 is not a Linux target crossbin can verify",
		"extra_platforms: [linux/riscv64]\n": "extra_platforms: linux/riscv64 is already one of the platforms",
	} {
		if _, err := LoadProgram(writeProgram(t, "tool", goodDockerfile, spec)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", spec, err)
		}
	}
}

func TestLoadProgramGit(t *testing.T) {
	df := strings.Replace(goodDockerfile, "ARG PACKAGE", "ARG GIT=https://example.com/tool.git\nARG PACKAGE", 1) + "FROM scratch AS source\nADD ${GIT}#${VERSION} /\n"
	p, err := LoadProgram(writeProgram(t, "tool", df, ""))
	if err != nil {
		t.Fatal(err)
	}
	if p.Git != "https://example.com/tool.git" || !p.SourceStage {
		t.Errorf("git program: %+v", p)
	}
}

func TestLoadProgramErrors(t *testing.T) {
	noRenovate := strings.Replace(goodDockerfile, "# renovate: datasource=go depName=example.com/tool\n", "", 1)
	for _, tc := range []struct {
		name, dir, dockerfile, spec, want string
	}{
		{"no spec", "tool", goodDockerfile, "-", "every program needs a program.yaml"},
		{"no Dockerfile", "tool", "", "", "Dockerfile"},
		{"bad name", "Tool", goodDockerfile, "", "program names are lower-case"},
		{"unknown field", "tool", goodDockerfile, "platfroms: [linux/amd64]\n", "field platfroms not found"}, //nolint:misspell // the misspelled field is the test
		{"bad yaml", "tool", goodDockerfile, "smoke: [\n", "parse"},
		{"missing VERSION", "tool", "ARG MODULE=example.com/tool\nFROM scratch\n", "", "missing `ARG VERSION=vX.Y.Z`"},
		{"missing PACKAGE", "tool", strings.Replace(goodDockerfile, "ARG PACKAGE=${MODULE}/cmd/tool\n", "", 1), "", "missing `ARG PACKAGE="},
		{"PACKAGE outside", "tool", strings.Replace(goodDockerfile, "PACKAGE=${MODULE}/cmd/tool", "PACKAGE=example.com/other/cmd/tool", 1), "", "want the main package's import path inside the module"},
		{"VERSION in a stage", "tool", "ARG MODULE=example.com/tool\nFROM scratch\nARG VERSION=v1.0.0\n", "", "missing `ARG VERSION=vX.Y.Z`"},
		{"bad VERSION", "tool", strings.Replace(goodDockerfile, "v1.2.3", "1.2.3", 1), "", "not a canonical semantic version"},
		{"short VERSION", "tool", strings.Replace(goodDockerfile, "v1.2.3", "v1.2", 1), "", "not a canonical semantic version"},
		{"missing MODULE", "tool", "ARG VERSION=v1.0.0\nFROM scratch\n", "", "missing `ARG MODULE=<module path>`"},
		{"bad MODULE", "tool", strings.Replace(goodDockerfile, "MODULE=example.com/tool", "MODULE=Example..com", 1), "", "ARG MODULE"},
		{"no renovate", "tool", noRenovate, "", "# renovate: datasource=go depName=example.com/tool"},
		{"bad platform", "tool", goodDockerfile, "platforms: [linux/sparc]\n", "platforms:"},
		{"duplicate platform", "tool", goodDockerfile, "platforms: [linux/arm64, linux/aarch64]\n", "listed twice"},
		{"unavailable elsewhere", "tool", goodDockerfile, "platforms: [linux/amd64, linux/arm64]\nunavailable:\n  linux/s390x: nope\n", "not one of the program's platforms"},
		{"no reason", "tool", goodDockerfile, "unavailable:\n  linux/s390x: \"\"\n", "needs a reason"},
		{"bad constraint", "tool", goodDockerfile, "update:\n  constraint: about 3\n", "update: constraint \"about 3\""},
		{"bad github", "tool", goodDockerfile, "update:\n  github: helm\n", "want owner/name"},
		{"exit without expect", "tool", goodDockerfile, "smoke: [-h]\nexit: 2\n", "needs `expect:`"},
		{"tags on unavailable", "tool", goodDockerfile, "unavailable:\n  linux/s390x: nope\ntags:\n  linux/s390x: [x]\n", "linux/s390x has no real build"},
		{"bad tag", "tool", goodDockerfile, "tags:\n  linux/riscv64: [\"a b\"]\n", "is not a Go build tag"},
		{"tags bad platform", "tool", goodDockerfile, "tags:\n  linux/sparc: [x]\n", "tags:"},
		{"git without source stage", "tool", strings.Replace(goodDockerfile, "ARG PACKAGE", "ARG GIT=https://example.com/tool.git\nARG PACKAGE", 1), "", "needs a `source` stage"},
		{"git not a URL", "tool", strings.Replace(goodDockerfile, "ARG PACKAGE", "ARG GIT=example.com/tool\nARG PACKAGE", 1), "", "want a repository URL"},
		{"git with ref", "tool", strings.Replace(goodDockerfile, "ARG PACKAGE", "ARG GIT=https://example.com/tool.git#main\nARG PACKAGE", 1), "", "no #ref"},
		{"all unavailable", "tool", goodDockerfile, "platforms: [linux/amd64]\nunavailable:\n  linux/amd64: nope\n", "no real build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProgram(writeProgram(t, tc.dir, tc.dockerfile, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add("description: x\nunavailable:\n  linux/s390x: no\nsmoke: [version]\n")
	f.Add("platforms: [linux/amd64]\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpec([]byte(in))
		if err != nil {
			return
		}
		p := Program{Name: "x"}
		_ = p.fromSpec(s) // must not panic
	})
}
