package catalog

import (
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/platform"
)

const tarballDockerfile = `ARG DEBIAN_IMAGE=debian:trixie
# renovate: datasource=github-releases depName=tmux/tmux
ARG VERSION=3.5a
ARG URL=https://github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz
ARG SHA256=16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc0103198951
FROM scratch AS source
`

const tarballSpec = `build:
  from: tarball
  system: autotools
  options: [--enable-static]
  packages: [libevent-dev, libncurses-dev]
  tools: [bison]
  mirrors:
    - http://deb.debian.org/debian/pool/main/t/tmux/tmux_${VERSION}.orig.tar.gz
unavailable:
  linux/mips64le: no libevent or ncurses for mips64el in Debian trixie
  linux/loong64: no libevent or ncurses for loong64 in Debian trixie
`

func TestLoadTarballProgram(t *testing.T) {
	p, err := LoadProgram(writeProgram(t, "tmux", tarballDockerfile, tarballSpec))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "3.5a" || p.VersionTag() != "tmux-3.5a" || p.Module != "" || !p.SourceStage || p.Tarball == nil {
		t.Fatalf("tarball program: %+v", p)
	}
	tb := *p.Tarball
	if tb.SHA256 != "16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc0103198951" || tb.Datasource != "github-releases" || tb.DepName != "tmux/tmux" {
		t.Errorf("tarball: %+v", tb)
	}
	want := "https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz http://deb.debian.org/debian/pool/main/t/tmux/tmux_3.5a.orig.tar.gz"
	if got := strings.Join(tb.URLs(p.Version), " "); got != want {
		t.Errorf("URLs = %s\nwant %s", got, want)
	}
	if p.Build.System != Autotools || len(p.Real()) != 9 || p.Available(platform.Platform{OS: "linux", Arch: "loong64"}) {
		t.Errorf("build %+v, real %v", p.Build, p.Real())
	}
	// Without libraries, mips64el and loong64 build too: their cross C
	// library is all a plain C program needs.
	lz4 := strings.NewReplacer("tmux/tmux", "lz4/lz4", "VERSION=3.5a", "VERSION=v1.10.0", "download/${VERSION}/tmux-${VERSION}", "download/${VERSION}/lz4-${VERSION#v}").Replace(tarballDockerfile)
	p, err = LoadProgram(writeProgram(t, "lz4", lz4, "build:\n  from: tarball\n  system: make\n  targets: [lz4]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Real()) != 11 || p.Tarball.URLs(p.Version)[0] != "https://github.com/lz4/lz4/releases/download/v1.10.0/lz4-1.10.0.tar.gz" {
		t.Errorf("lz4: real %v, URLs %v", p.Real(), p.Tarball.URLs(p.Version))
	}
}

func TestLoadTarballProgramErrors(t *testing.T) {
	df := func(old, new string) string { return strings.Replace(tarballDockerfile, old, new, 1) }
	spec := func(old, new string) string { return strings.Replace(tarballSpec, old, new, 1) }
	const url = "https://github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz"
	for _, tc := range []struct{ name, dockerfile, spec, want string }{
		{"short sha256", df("198951\n", "19895\n"), tarballSpec, "ARG SHA256=16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc010319895: want the tarball's sha256 as 64 lower-case hex digits"},
		{"upper-case sha256", df("16216bd", "16216BD"), tarballSpec, "64 lower-case hex digits"},
		{"no sha256", df("ARG SHA256=", "ARG SHA="), tarballSpec, "missing `ARG SHA256=<64 hex digits>`"},
		{"URL without scheme", df(url, "github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz"), tarballSpec, "want an https:// (or http://) URL"},
		{"ftp URL", df("https://", "ftp://"), tarballSpec, "want an https:// (or http://) URL"},
		{"URL with credentials", df("https://", "https://me:secret@"), tarballSpec, "no credentials"},
		{"URL without VERSION", df(url, "https://example.com/tmux-3.5a.tar.gz"), tarballSpec, "name the version as ${VERSION}, so it is pinned once"},
		{"URL with another expansion", df(url, url+"?x=${NAME}"), tarballSpec, "the only expansions are ${VERSION}"},
		{"URL not a tarball", df(".tar.gz\n", ".zip\n"), tarballSpec, "want a tarball: the path ends in one of .tar.gz"},
		{"no renovate", df("# renovate: datasource=github-releases depName=tmux/tmux\n", ""), tarballSpec, "needs a comment like `# renovate: datasource=github-releases depName=owner/name`"},
		{"bad version", df("VERSION=3.5a", "VERSION=3.5a+1"), tarballSpec, "ARG VERSION=3.5a+1: want a release name"},
		{"MODULE beside URL", df("ARG URL", "ARG MODULE=example.com/x\nARG URL"), tarballSpec, "ARG MODULE is for Go programs"},
		{"no source stage", df("FROM scratch AS source", "FROM scratch"), tarballSpec, "needs a `source` stage"},
		{"unknown system", tarballDockerfile, spec("system: autotools", "system: scons"), `build: system "scons": want one of autotools, cmake, meson, make`},
		{"no system", tarballDockerfile, spec("  system: autotools\n", ""), `build: system "": want one of`},
		{"from install", tarballDockerfile, spec("from: tarball", "from: install"), "write `from: tarball`"},
		{"go fields", tarballDockerfile, spec("system: autotools", "system: autotools\n  ldflags: -X a.b=c"), "ldflags, goflags, fetch, args and tags are for Go programs"},
		{"go build tags", tarballDockerfile, spec("system: autotools", "system: autotools\n  tags: [netgo]"), "ldflags, goflags, fetch, args and tags are for Go programs"},
		{"cgo for C", tarballDockerfile, spec("system: autotools", "system: autotools\n  cgo: true"), "build: cgo is for Go programs"},
		{"go tags", tarballDockerfile, tarballSpec + "tags:\n  linux/amd64: [x]\n", "tags: Go build tags are for Go programs"},
		{"package with arch", tarballDockerfile, spec("libevent-dev,", "libevent-dev:arm64,"), `build: packages: "libevent-dev:arm64" is not a Debian package name`},
		{"bad tool", tarballDockerfile, spec("[bison]", "[Bison]"), `build: tools: "Bison" is not a Debian package name`},
		{"binary outside", tarballDockerfile, spec("system: autotools", "system: autotools\n  binary: ../tmux"), `build: binary "../tmux": want a clean path`},
		{"binary with shell", tarballDockerfile, spec("system: autotools", "system: autotools\n  binary: \"tmux;id\""), `build: binary "tmux;id": want a clean path`},
		{"absolute binary", tarballDockerfile, spec("system: autotools", "system: autotools\n  binary: /usr/bin/tmux"), `build: binary "/usr/bin/tmux"`},
		{"quote in option", tarballDockerfile, spec("[--enable-static]", `["--prefix='/x'"]`), "no single quotes"},
		{"bad mirror", tarballDockerfile, spec("http://deb.debian.org", "deb.debian.org"), "build: mirrors: deb.debian.org/debian/pool/main/t/tmux/tmux_${VERSION}.orig.tar.gz: want an https://"},
		{"libraries on mips64le", tarballDockerfile, spec("  linux/mips64le: no libevent or ncurses for mips64el in Debian trixie\n", ""), "build: packages: Debian trixie main has no linux/mips64le libraries (only its cross C library), so libevent-dev libncurses-dev cannot be installed for linux/mips64le: list linux/mips64le under unavailable: with that reason"},
		{"tarball without URL", goodDockerfile, "build:\n  from: tarball\n  system: make\n", "build: from tarball goes with `ARG URL=`"},
		{"C fields for Go", goodDockerfile, "build:\n  from: install\n  system: make\n", "are for C programs (from: tarball)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProgram(writeProgram(t, "tmux", tc.dockerfile, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			// Every error names the file to fix.
			if !strings.Contains(err.Error(), "/tmux/Dockerfile: ") && !strings.Contains(err.Error(), "/tmux/program.yaml: ") {
				t.Errorf("error names no file: %v", err)
			}
		})
	}
}
