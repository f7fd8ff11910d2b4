package catalog

import (
	"strings"
	"testing"
)

const depsDockerfile = `ARG DEBIAN_IMAGE=debian:trixie
# renovate: datasource=github-releases depName=tmux/tmux
ARG VERSION=3.5a
ARG URL=https://github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz
ARG SHA256=16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc0103198951
# renovate: datasource=github-releases depName=libevent/libevent
ARG LIBEVENT_VERSION=2.1.13-stable
ARG LIBEVENT_URL=https://github.com/libevent/libevent/releases/download/release-${LIBEVENT_VERSION}/libevent-${LIBEVENT_VERSION}.tar.gz
ARG LIBEVENT_SHA256=f7e9383b8c0baa81b687e5b5eecc01beefaf1b19b64151d95ed61647fe7a315c
FROM scratch AS source
`

const depsSpec = `build:
  from: tarball
  system: autotools
  deps:
    - name: libevent
      system: autotools
      options: [--disable-openssl]
      mirrors:
        - http://deb.debian.org/debian/pool/main/libe/libevent/libevent_${VERSION}.orig.tar.gz
`

func TestLoadDeps(t *testing.T) {
	p, err := LoadProgram(writeProgram(t, "tmux", depsDockerfile, depsSpec))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deps) != 1 {
		t.Fatalf("deps: %+v", p.Deps)
	}
	d := p.Deps[0]
	if d.Name != "libevent" || d.Version != "2.1.13-stable" || d.System != Autotools || strings.Join(d.Options, " ") != "--disable-openssl" ||
		d.Tarball.SHA256 != "f7e9383b8c0baa81b687e5b5eecc01beefaf1b19b64151d95ed61647fe7a315c" || d.Tarball.DepName != "libevent/libevent" {
		t.Errorf("dep: %+v", d)
	}
	want := "https://github.com/libevent/libevent/releases/download/release-2.1.13-stable/libevent-2.1.13-stable.tar.gz " +
		"http://deb.debian.org/debian/pool/main/libe/libevent/libevent_2.1.13-stable.orig.tar.gz"
	if got := strings.Join(d.Tarball.URLs(d.Version), " "); got != want {
		t.Errorf("URLs = %s\nwant %s", got, want)
	}
	if d.Upstream() != strings.Fields(want)[0] || ArgPrefix("lib-foo") != "LIB_FOO_" {
		t.Errorf("upstream %s, prefix %s", d.Upstream(), ArgPrefix("lib-foo"))
	}
	// The program's own pins are not a dep's.
	if strings.Contains(p.Tarball.URL, "LIBEVENT") || p.Version != "3.5a" {
		t.Errorf("program: %+v %s", p.Tarball, p.Version)
	}
}

func TestLoadDepsErrors(t *testing.T) {
	df := func(old, new string) string { return strings.Replace(depsDockerfile, old, new, 1) }
	spec := func(old, new string) string { return strings.Replace(depsSpec, old, new, 1) }
	for _, tc := range []struct{ name, dockerfile, spec, want string }{
		{"no pins", tarballDockerfile, depsSpec, "build: deps: libevent has no pins: add `ARG LIBEVENT_VERSION=`, `ARG LIBEVENT_URL=` and `ARG LIBEVENT_SHA256=`"},
		{"pins without dep", depsDockerfile, "build:\n  from: tarball\n  system: autotools\n", "the Dockerfile pins LIBEVENT_VERSION, but program.yaml's build: deps: has no dep whose name gives the prefix LIBEVENT_ (libevent)"},
		{"no renovate", df("# renovate: datasource=github-releases depName=libevent/libevent\n", ""), depsSpec, "ARG LIBEVENT_VERSION needs a comment like `# renovate:"},
		{"no URL", df("ARG LIBEVENT_URL=", "ARG LIBEVENT_LOCATION="), depsSpec, "goes with `ARG LIBEVENT_URL="},
		{"URL with the program's version", df("release-${LIBEVENT_VERSION}/libevent-${LIBEVENT_VERSION}", "release-${VERSION}/libevent-${VERSION}"), depsSpec, "name the dep's own version, ${LIBEVENT_VERSION}, not the program's"},
		{"URL mixing versions", df("release-${LIBEVENT_VERSION}", "release-$VERSION"), depsSpec, "name the dep's own version"},
		{"URL without a version", df("release-${LIBEVENT_VERSION}/libevent-${LIBEVENT_VERSION}", "release-2.1.13-stable/libevent-2.1.13-stable"), depsSpec, "name the version as ${LIBEVENT_VERSION}, so it is pinned once"},
		{"URL not a tarball", df("${LIBEVENT_VERSION}.tar.gz", "${LIBEVENT_VERSION}.zip"), depsSpec, "want a tarball"},
		{"bad sha256", df("LIBEVENT_SHA256=f7e9", "LIBEVENT_SHA256=F7E9"), depsSpec, "ARG LIBEVENT_SHA256=F7E9"},
		{"no sha256", df("ARG LIBEVENT_SHA256=", "ARG LIBEVENT_DIGEST="), depsSpec, "goes with `ARG LIBEVENT_SHA256=<the tarball's sha256"},
		{"bad version", df("LIBEVENT_VERSION=2.1.13-stable", "LIBEVENT_VERSION=2.1.13+x"), depsSpec, "ARG LIBEVENT_VERSION=2.1.13+x: want a release name"},
		{"make system", depsDockerfile, spec("      system: autotools", "      system: make"), `build: deps: libevent: system "make": want autotools, cmake or meson`},
		{"bad name", depsDockerfile, spec("name: libevent", "name: LibEvent"), `build: deps: "LibEvent": a dep's name is lower-case`},
		{"twice", depsDockerfile, depsSpec + "    - name: libevent\n      system: autotools\n", "build: deps: libevent is listed twice"},
		{"quote in option", depsDockerfile, spec("[--disable-openssl]", `["--x='y'"]`), "build: deps: libevent: \"--x='y'\": no single quotes"},
		{"bad mirror", depsDockerfile, spec("- http://deb.debian.org", "- ftp://deb.debian.org"), "build: deps: libevent: mirrors: ftp://"},
		{"deps for Go", goodDockerfile, "build:\n  from: install\n  deps:\n    - name: libevent\n      system: autotools\n", "mirrors and deps are for C programs (from: tarball)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProgram(writeProgram(t, "tmux", tc.dockerfile, tc.spec))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "/tmux/Dockerfile: ") && !strings.Contains(err.Error(), "/tmux/program.yaml: ") {
				t.Errorf("error names no file: %v", err)
			}
		})
	}
}
