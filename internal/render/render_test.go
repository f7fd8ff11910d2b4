package render

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

// TestDockerfilesAreRendered fails when a Dockerfile in dockerfiles/ is
// not what its pins and program.yaml render: run `go tool mage dockerfiles`.
func TestDockerfilesAreRendered(t *testing.T) {
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	drifted, err := Drift(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(drifted) > 0 {
		t.Fatalf("Dockerfiles differ from what program.yaml renders: %s (run `go tool mage dockerfiles`)", strings.Join(drifted, ", "))
	}
}

func TestDockerfileErrors(t *testing.T) {
	// The pins as the catalog reads them from a Dockerfile's top.
	pins := catalog.Program{Module: "example.com/tool", Version: "v1.0.0", Package: "example.com/tool"}
	gitPins := catalog.Program{Module: "github.com/o/tool", Version: "v1.0.0", Package: "github.com/o/tool", Git: "https://github.com/o/tool.git"}
	for _, tc := range []struct {
		name  string
		build catalog.Build
		desc  string
		pins  catalog.Program
		want  string
	}{
		{"unknown from", catalog.Build{From: "docker", Repository: "r"}, "", pins, `from "docker"`},
		{"git without ARG GIT", catalog.Build{From: "git", Repository: "r"}, "", pins, "ARG GIT"},
		{"ARG GIT without from git", catalog.Build{From: "module"}, "", gitPins, "ARG GIT"},
		{"install with goflags", catalog.Build{GoFlags: "-mod=mod", Repository: "r"}, "", pins, "need a source build"},
		{"git with fetch", catalog.Build{From: "git", Fetch: "true"}, "", gitPins, "fetch is for module sources"},
		{"no repository", catalog.Build{}, "", pins, "say where example.com/tool's source repository is"},
		{"quoted description", catalog.Build{Repository: "r"}, `A "tool"`, pins, "no quotes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pins
			p.Name, p.Dir, p.Description, p.Build = "tool", "dockerfiles/tool", "A tool", tc.build
			if tc.desc != "" {
				p.Description = tc.desc
			}
			_, err := Dockerfile(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	// A git source derives its repository label from ARG GIT.
	p := gitPins
	p.Name, p.Dir, p.Description, p.Build = "tool", "dockerfiles/tool", "A tool", catalog.Build{From: "git"}
	out, err := Dockerfile(p)
	if err != nil || !strings.Contains(string(out), `image.source="https://github.com/o/tool"`) || !strings.Contains(string(out), "ADD --keep-git-dir=false ${GIT}#${VERSION} /") {
		t.Fatalf("git render: %v\n%s", err, out)
	}
}

// TestCDockerfiles renders the C examples under testdata/c/: an autotools
// program with Debian libraries (tmux) and a plain-make one (lz4). Each
// Dockerfile there is both input (its pins) and golden file.
func TestCDockerfiles(t *testing.T) {
	for _, name := range []string{"tmux", "lz4"} {
		t.Run(name, func(t *testing.T) {
			p, err := catalog.LoadProgram(filepath.Join("testdata", "c", name))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Dockerfile(p)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("c", name, "Dockerfile"), out)
		})
	}
}

// TestCBuildSystems: each build system's step gets the cross toolchain
// from the target variables, links statically and strips the binary.
func TestCBuildSystems(t *testing.T) {
	base, err := catalog.LoadProgram(filepath.Join("testdata", "c", "lz4"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		system string
		want   []string
	}{
		{catalog.CMake, []string{"cmake ninja-build", `-DCMAKE_C_COMPILER="$TRIPLE-gcc"`, "-DCMAKE_EXE_LINKER_FLAGS=-static", "'-DX=ON'", "--target 'lz4'", `"$TRIPLE-strip" -o /out/lz4 /build/programs/lz4`}},
		{catalog.Meson, []string{"meson ninja-build", "--cross-file /tmp/cross.ini", "cpu_family = '%s'", "-Dc_link_args=-static", "'-DX=ON'", "meson compile -C /build 'lz4'", "/build/programs/lz4"}},
		{catalog.Autotools, []string{`./configure --host="$TRIPLE"`, "LDFLAGS=-static '-DX=ON'", `make -j"$(nproc)" 'lz4'`}},
	} {
		p := base
		p.Build.System, p.Build.Options = tc.system, []string{"-DX=ON"}
		out, err := Dockerfile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: no %q in\n%s", tc.system, w, out)
			}
		}
		if strings.Contains(string(out), "pkgconf") || strings.Contains(string(out), "dpkg --add-architecture") {
			t.Errorf("%s: a program without libraries adds no architecture", tc.system)
		}
	}
	// With deps and no Debian libraries, every build system, the program's
	// and each dep's, finds libraries with $TRIPLE-pkg-config: the wrapper
	// the deps step writes over the build machine's pkgconf.
	for _, tc := range []struct {
		system string
		want   []string
	}{
		{catalog.CMake, []string{`-DPKG_CONFIG_EXECUTABLE="$TRIPLE-pkg-config" '-DX=ON'`}},
		{catalog.Meson, []string{`pkg-config = '%s-pkg-config'`}},
		{catalog.Autotools, []string{`LDFLAGS=-static PKG_CONFIG="$TRIPLE-pkg-config" '-DX=ON'`}},
	} {
		p := base
		p.Build.System, p.Build.Options = tc.system, []string{"-DX=ON"}
		for _, sys := range []string{catalog.Autotools, catalog.CMake, catalog.Meson} {
			p.Deps = append(p.Deps, catalog.Dep{Name: "lib" + sys, Version: "1.0", System: sys,
				Tarball: catalog.Tarball{URL: "https://example.com/lib-${VERSION}.tar.xz", SHA256: base.Tarball.SHA256, Datasource: "github-releases", DepName: "o/lib"}})
		}
		out, err := Dockerfile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := append(slices.Clone(tc.want),
			`printf '#!/bin/sh\nPKG_CONFIG_LIBDIR=/usr/lib/%s/pkgconfig:/usr/share/pkgconfig exec pkg-config "$@"\n' "$MULTIARCH"`,
			`MULTIARCH="$("$TRIPLE-gcc" -print-multiarch)"`,
			`CXX="$TRIPLE-g++ $ARCHFLAGS" PKG_CONFIG="$TRIPLE-pkg-config" && \`,    // the autotools dep
			`-DBUILD_SHARED_LIBS=OFF -DPKG_CONFIG_EXECUTABLE="$TRIPLE-pkg-config"`, // the cmake dep
			`pkg-config = '%s-pkg-config'\n[host_machine]`,                         // the meson dep
			"pkgconf", "ARG LIBMESON_URL=https://example.com/lib-${LIBMESON_VERSION}.tar.xz",
			"apt-get install -y --no-install-recommends xz-utils",
			"COPY --from=dep-libcmake / /deps/libcmake")
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s with deps: no %q in\n%s", tc.system, w, out)
			}
		}
	}
	// A repository label needs a GitHub datasource or `repository:`.
	p := base
	p.Tarball = &catalog.Tarball{URL: base.Tarball.URL, SHA256: base.Tarball.SHA256, Datasource: "repology", DepName: "debian_13/lz4"}
	if _, err := Dockerfile(p); err == nil || !strings.Contains(err.Error(), "build: repository: say where") {
		t.Errorf("repology without repository: %v", err)
	}
	p.Build.Repository = "https://github.com/lz4/lz4"
	if _, err := Dockerfile(p); err != nil {
		t.Error(err)
	}
	// Built alone, tar needs the decompressor the tarball's name calls for.
	p.Tarball.URL = strings.Replace(base.Tarball.URL, ".tar.gz", ".tar.xz", 1)
	if out, err := Dockerfile(p); err != nil || !strings.Contains(string(out), "apt-get install -y --no-install-recommends xz-utils\nRUN mkdir /src && tar -xf /tarball") {
		t.Errorf("xz tarball: %v\n%s", err, out)
	}
}

// TestCgoDockerfile renders the cgo example under testdata/cgo/ (a module
// source: go-sqlite3's example, SQLite compiled in): its build stage runs
// on the C toolchain stage, which is the C programs' text, with the Go
// toolchain copied in.
func TestCgoDockerfile(t *testing.T) {
	p, err := catalog.LoadProgram(filepath.Join("testdata", "cgo", "sqlite-example"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Dockerfile(p)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("cgo", "sqlite-example", "Dockerfile"), out)
	c, err := catalog.LoadProgram(filepath.Join("testdata", "c", "lz4"))
	if err != nil {
		t.Fatal(err)
	}
	cOut, err := Dockerfile(c)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := toolchainStage(t, out), toolchainStage(t, cOut); a != b {
		t.Errorf("the cgo toolchain stage differs from the C one:\n%s\n---\n%s", a, b)
	}
	for _, w := range []string{
		"FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS go\n",
		"FROM toolchain AS build\nCOPY --from=go /usr/local/go /usr/local/go\n",
		`CGO_ENABLED=1 CC="$TRIPLE-gcc $ARCHFLAGS" CXX="$TRIPLE-g++ $ARCHFLAGS" \`,
		"-tags=sqlite_omit_load_extension,netgo,osusergo -o /out/sqlite-example",
		`-ldflags="-s -w -linkmode external -extldflags -static"`,
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "CGO_ENABLED=0") || strings.Contains(string(out), "AS record") {
		t.Errorf("a cgo build without cgo, or with a C build record:\n%s", out)
	}

	// Installed, with Debian libraries through multiarch and per-platform
	// tags beside the program's.
	p.Build.From, p.Build.LDFlags = "install", "-X main.version=${VERSION}"
	p.Build.Packages, p.Build.Tools = []string{"libsqlite3-dev"}, []string{"bison"}
	p.BuildTags = map[platform.Platform][]string{{OS: "linux", Arch: "riscv64"}: {"x"}}
	out, err = Dockerfile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"FROM toolchain AS build\n# The program's libraries for the target",
		`dpkg --add-architecture "$DEBARCH"`,
		`pkgconf:"$DEBARCH" libsqlite3-dev:"$DEBARCH"`,
		"--no-install-recommends \\\n      bison && \\",
		`PKG_CONFIG="$TRIPLE-pkg-config" \`,
		`go install -trimpath -tags="sqlite_omit_load_extension,netgo,osusergo${TAGS:+,$TAGS}" -ldflags="-s -w -linkmode external -extldflags -static -X main.version=${VERSION}" "${PACKAGE}@${VERSION}"`,
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("install: no %q in\n%s", w, out)
		}
	}
}

// toolchainStage is a Dockerfile's toolchain stage, from its comment to
// the next stage.
func toolchainStage(t *testing.T, dockerfile []byte) string {
	t.Helper()
	s := string(dockerfile)
	start := strings.Index(s, "# The target's cross C toolchain")
	end := strings.Index(s, "FROM toolchain AS build")
	if start < 0 || end < start {
		t.Fatalf("no toolchain stage in\n%s", s)
	}
	return s[start:end]
}

func TestTagsFlag(t *testing.T) {
	for _, tc := range []struct {
		tags        []string
		perPlatform bool
		want        string
	}{
		{nil, false, ""},
		{nil, true, ` -tags="${TAGS}"`},
		{[]string{"netgo", "osusergo"}, false, " -tags=netgo,osusergo"},
		{[]string{"netgo"}, true, ` -tags="netgo${TAGS:+,$TAGS}"`},
	} {
		if got := tagsFlag(tc.tags, tc.perPlatform); got != tc.want {
			t.Errorf("tagsFlag(%v, %v) = %s; want %s", tc.tags, tc.perPlatform, got, tc.want)
		}
	}
}
