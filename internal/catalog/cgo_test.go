package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/platform"
)

func TestLoadCgoProgram(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		real       int
		packages   []string
		tags       []string
	}{
		// Without libraries every platform builds: the cross C library
		// is all the bundled C code needs, mips64el and loong64 included.
		{"bundled C", "build:\n  cgo: true\n  tags: [netgo, osusergo]\n", 11, nil, []string{"netgo", "osusergo"}},
		{"Debian library", "build:\n  cgo: true\n  tags: [libsqlite3]\n  packages: [libsqlite3-dev]\n  tools: [pkgconf]\n" +
			"unavailable:\n  linux/mips64le: no libsqlite3 for mips64el in Debian trixie\n  linux/loong64: no libsqlite3 for loong64 in Debian trixie\n",
			9, []string{"libsqlite3-dev"}, []string{"libsqlite3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := LoadProgram(writeProgram(t, "tool", goodDockerfile, tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			if !p.Build.CGO || !p.BuildsC() || p.Tarball != nil || len(p.Real()) != tc.real {
				t.Errorf("cgo program: cgo %v, builds C %v, real %v", p.Build.CGO, p.BuildsC(), p.Real())
			}
			if !slices.Equal(p.Build.Packages, tc.packages) || !slices.Equal(p.Build.Tags, tc.tags) {
				t.Errorf("packages %v, tags %v", p.Build.Packages, p.Build.Tags)
			}
		})
	}
	// A Go program without cgo builds no C, so it needs no Debian image.
	p, err := LoadProgram(writeProgram(t, "tool", goodDockerfile, "build:\n  tags: [netgo]\n"))
	if err != nil || p.BuildsC() {
		t.Errorf("Go program: builds C %v, %v", p.BuildsC(), err)
	}
}

func TestLoadCgoProgramErrors(t *testing.T) {
	const spec = "build:\n  cgo: true\n  packages: [libsqlite3-dev]\nunavailable:\n  linux/mips64le: no libsqlite3\n  linux/loong64: no libsqlite3\n"
	for _, tc := range []struct{ name, spec, want string }{
		{"libraries on loong64", strings.Replace(spec, "  linux/loong64: no libsqlite3\n", "", 1),
			"build: packages: Debian trixie main has no linux/loong64 libraries (only its cross C library), so libsqlite3-dev cannot be installed for linux/loong64: list linux/loong64 under unavailable: with that reason"},
		{"package with arch", strings.Replace(spec, "libsqlite3-dev", "libsqlite3-dev:arm64", 1), `build: packages: "libsqlite3-dev:arm64" is not a Debian package name`},
		{"packages without cgo", strings.Replace(spec, "  cgo: true\n", "", 1), "build: packages and tools are for builds with the C toolchain: C programs (from: tarball) and Go programs with `cgo: true`"},
		{"tools without cgo", "build:\n  tools: [bison]\n", "build: packages and tools are for builds with the C toolchain"},
		{"bad tag", "build:\n  cgo: true\n  tags: [net-go]\n", `build: tags: "net-go" is not a Go build tag`},
		{"C build system", "build:\n  cgo: true\n  system: make\n", "are for C programs (from: tarball)"},
		{"libraries on an opt-in platform", "extra_platforms: [linux/ppc64]\nbuild:\n  cgo: true\n  packages: [libz-dev]\nunavailable:\n  linux/mips64le: x\n  linux/loong64: x\n",
			"Debian trixie main has no linux/ppc64 libraries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProgram(writeProgram(t, "tool", goodDockerfile, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/tool/program.yaml: ") {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
	// Every default platform has a C cross toolchain: cgo alone makes none
	// unavailable.
	for _, pl := range platform.Defaults() {
		if _, ok := pl.CrossC(); !ok {
			t.Errorf("%s: no C cross toolchain for cgo", pl)
		}
	}
}
