package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

var (
	amd64  = platform.Platform{OS: "linux", Arch: "amd64"}
	armv7  = platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"}
	riscv  = platform.Platform{OS: "linux", Arch: "riscv64"}
	mips64 = platform.Platform{OS: "linux", Arch: "mips64le"}
)

// programs covers each way a Dockerfile builds: `go install` (shfmt), the
// module source with a version stamp (helm), goflags and args that build on
// each other (docker), build tags and ${VERSION#v} (dlv); each has a
// platform without a real build, which the bare loop leaves out.
func programs() []catalog.Program {
	unavailable := map[platform.Platform]string{mips64: "does not build"}
	all := []platform.Platform{amd64, armv7, riscv, mips64}
	return []catalog.Program{
		{Name: "shfmt", Module: "mvdan.cc/sh/v3", Version: "v3.14.1", Package: "mvdan.cc/sh/v3/cmd/shfmt",
			Platforms: all, Unavailable: unavailable},
		{Name: "helm", Module: "helm.sh/helm/v3", Version: "v3.22.0", Package: "helm.sh/helm/v3/cmd/helm",
			Platforms: all, Unavailable: unavailable, SourceStage: true,
			Build: catalog.Build{From: "module", LDFlags: "-X helm.sh/helm/v3/internal/version.version=${VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean"}},
		{Name: "docker", Module: "github.com/docker/cli", Version: "v29.9.1+incompatible", Package: "github.com/docker/cli/cmd/docker",
			Platforms: all, Unavailable: unavailable, SourceStage: true,
			Build: catalog.Build{From: "module", LDFlags: "-X github.com/docker/cli/cli/version.Version=${RELEASE}",
				GoFlags: "-mod=mod -modfile=vendor.mod", Args: []string{"UNSUFFIXED=${VERSION%+incompatible}", "RELEASE=${UNSUFFIXED#v}"}}},
		{Name: "dlv", Module: "github.com/go-delve/delve", Version: "v1.26.0", Package: "github.com/go-delve/delve/cmd/dlv",
			Platforms: all, Unavailable: unavailable, Git: "https://github.com/go-delve/delve.git", SourceStage: true,
			BuildTags: map[platform.Platform][]string{riscv: {"exp.linuxriscv64"}},
			Build:     catalog.Build{From: "git", LDFlags: "-X main.version=${VERSION#v}"}},
	}
}

func TestCommandsGolden(t *testing.T) {
	var b strings.Builder
	for _, prog := range programs() {
		sources := map[platform.Platform]string{}
		for _, pl := range prog.Real() {
			sources[pl] = "/cache/source/" + prog.Name + "-" + pl.Arch
		}
		cmds, err := Commands(prog, sources, "/out")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "## %s\n", prog.Name)
		for _, c := range cmds {
			fmt.Fprintf(&b, "%s\n  dir: %s\n  out: %s\n  env: %s\n  %q\n", c.Platform, c.Dir, c.Out, strings.Join(c.Env, " "), c.Args)
		}
	}
	golden.Check(t, "commands.golden", []byte(b.String()))
}

func TestCommandsErrors(t *testing.T) {
	progs := programs()
	for _, tc := range []struct {
		name string
		prog catalog.Program
		want string
	}{
		{"no prepared source", progs[1], "helm for linux/amd64: no prepared source"},
		{"unknown variable", func() catalog.Program {
			p := progs[0]
			p.Build.LDFlags = "-X main.commit=${COMMIT}"
			return p
		}(), "build: ldflags: ${COMMIT}: COMMIT is not a build argument"},
		{"bad arg", func() catalog.Program {
			p := progs[2]
			p.Build.Args = []string{"RELEASE=${VERSION##*v}"}
			return p
		}(), "build: args: RELEASE: ${VERSION##*v}: only a literal prefix or suffix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Commands(tc.prog, nil, "/out")
			errMatches(t, err, tc.want)
		})
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"VERSION": "v29.9.1+incompatible", "NAME": "tool"}
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "-s -w", want: "-s -w"},
		{in: "-X main.version=${VERSION}", want: "-X main.version=v29.9.1+incompatible"},
		{in: "-X main.version=$VERSION", want: "-X main.version=v29.9.1+incompatible"},
		{in: "${VERSION#v}", want: "29.9.1+incompatible"},
		{in: "${VERSION%+incompatible}", want: "v29.9.1"},
		{in: "${NAME#v}", want: "tool"},
		{in: "${VERSION%+other}", want: "v29.9.1+incompatible"},
		{in: "${MISSING}", err: "MISSING is not a build argument"},
		{in: "${VERSION:-x}", err: "VERSION:-x is not a build argument"},
		{in: "${VERSION#*v}", err: "only a literal prefix or suffix"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := expand(tc.in, vars)
			if errMatches(t, err, tc.err) && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// errMatches checks err against want, a part of the message ("": no
// error), and reports whether the result is worth comparing.
func errMatches(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want != "":
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
		return false
	case err != nil:
		t.Fatal(err)
	}
	return true
}

func TestCaches(t *testing.T) {
	if err := (Caches{}).Reset(context.Background()); err == nil {
		t.Error("Reset of the host's caches: want an error")
	}
	if v := (Caches{}).Vars(); v != nil {
		t.Errorf("host caches set %q, want nothing", v)
	}
	dir := t.TempDir() + "/caches"
	c := Caches{Dir: dir}
	if err := c.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"GOCACHE=" + dir + "/gocache", "GOMODCACHE=" + dir + "/gomod"}
	if got := c.Vars(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Vars() = %q, want %q", got, want)
	}
	if err := c.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestCommandsCatalog builds the bare loop of every catalog program: each
// program.yaml's ldflags and args expand.
func TestCommandsCatalog(t *testing.T) {
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range c.Programs {
		sources := map[platform.Platform]string{}
		for _, pl := range prog.Real() {
			sources[pl] = "/src"
		}
		cmds, err := Commands(prog, sources, "/out")
		if err != nil {
			t.Error(err)
			continue
		}
		if len(cmds) != len(prog.Real()) {
			t.Errorf("%s: %d commands for %d real platforms", prog.Name, len(cmds), len(prog.Real()))
		}
	}
}
