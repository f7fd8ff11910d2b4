package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/crossbin/crossbin/internal/dockerfile"
)

// A C program's libraries come from Debian (build: packages:, through
// multiarch) or, where Debian has none for a platform or its mirror does
// not serve them, from their own release tarballs: program.yaml's
// build: deps: names each one and how it builds,
//
//	deps:
//	  - name: libevent
//	    system: autotools
//	    options: [--disable-openssl]
//	    mirrors:
//	      - http://deb.debian.org/debian/pool/main/libe/libevent/libevent_${VERSION}.orig.tar.gz
//
// and the Dockerfile's top pins it like the program, under the name's
// prefix (LIBEVENT_), the version written once:
//
//	# renovate: datasource=github-releases depName=libevent/libevent
//	ARG LIBEVENT_VERSION=2.1.13-stable
//	ARG LIBEVENT_URL=https://github.com/libevent/libevent/releases/download/release-${LIBEVENT_VERSION}/libevent-${LIBEVENT_VERSION}.tar.gz
//	ARG LIBEVENT_SHA256=f7e9383b8c0baa81b687e5b5eecc01beefaf1b19b64151d95ed61647fe7a315c
//
// Each is fetched and verified on the host like the program's tarball,
// passed as the build context dep-<name>, built for the target with the
// cross toolchain before the program and installed where the target's
// Debian libraries go (/usr/include/<multiarch>, /usr/lib/<multiarch>),
// static only, so the program's build finds it as a Debian package.

// DepSpec is one entry of program.yaml's build: deps:.
type DepSpec struct {
	Name string `yaml:"name"`
	// System is how it builds: autotools, cmake or meson (make has no
	// common way to install).
	System string `yaml:"system"`
	// Options are its own options, one word each, beside the ones crossbin
	// passes (cross compiler, static only, install paths).
	Options []string `yaml:"options"`
	// Mirrors are more URLs of its tarball, ${VERSION} being its version.
	Mirrors []string `yaml:"mirrors"`
}

// Dep is a validated library built from its pinned release tarball.
type Dep struct {
	Name    string
	Version string
	Tarball Tarball // its URL written with ${VERSION}, as a program's
	System  string
	Options []string
}

// ArgPrefix is the prefix of a dep's ARG names: LIBEVENT_ for libevent.
func ArgPrefix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
}

// Upstream is the dep's tarball's pinned URL at its version.
func (d Dep) Upstream() string { return ExpandVersion(d.Tarball.URL, d.Version) }

var depNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// depPins are the pins of the Dockerfile's deps, by ARG prefix.
type depPins map[string]Dep

// depPinsFrom reads every global <PREFIX>_VERSION, _URL and _SHA256 but
// the program's own.
func depPinsFrom(f *dockerfile.File) (depPins, error) {
	pins := depPins{}
	for _, a := range f.Args {
		prefix, ok := strings.CutSuffix(a.Name, "_VERSION")
		if !a.Global || !ok || prefix == "" {
			continue
		}
		prefix += "_"
		d, err := depPin(f, prefix, a)
		if err != nil {
			return nil, err
		}
		pins[prefix] = d
	}
	return pins, nil
}

// depPin reads one dep's pins: the version under its Renovate comment, the
// URL naming it as ${PREFIX_VERSION}, the sha256.
func depPin(f *dockerfile.File, prefix string, ver dockerfile.Arg) (Dep, error) {
	if !releaseRE.MatchString(ver.Value) {
		return Dep{}, fmt.Errorf("line %d: ARG %s=%s: want a release name of letters, digits, '.', '_' and '-'", ver.Line, ver.Name, ver.Value)
	}
	m := renovateRE.FindStringSubmatch(ver.Comment)
	if m == nil {
		return Dep{}, fmt.Errorf("line %d: ARG %s needs a comment like `# renovate: datasource=github-releases depName=owner/name` on the line above", ver.Line, ver.Name)
	}
	raw, ok := f.Global(prefix + "URL")
	if !ok {
		return Dep{}, fmt.Errorf("line %d: ARG %s goes with `ARG %sURL=<its tarball, naming ${%s}>`", ver.Line, ver.Name, prefix, ver.Name)
	}
	if strings.Contains(raw.Value, "${VERSION") || strings.Contains(raw.Value, "$VERSION") {
		return Dep{}, fmt.Errorf("line %d: ARG %s=%s: name the dep's own version, ${%s}, not the program's", raw.Line, raw.Name, raw.Value, ver.Name)
	}
	// The URL names its own version; crossbin's expansion is ${VERSION}'s.
	own := strings.NewReplacer("${"+ver.Name+"}", "${VERSION}", "${"+ver.Name+"#v}", "${VERSION#v}").Replace(raw.Value)
	if own == raw.Value {
		return Dep{}, fmt.Errorf("line %d: ARG %s=%s: name the version as ${%s}, so it is pinned once", raw.Line, raw.Name, raw.Value, ver.Name)
	}
	if err := checkTarballURL(own); err != nil {
		return Dep{}, fmt.Errorf("line %d: ARG %s=%s: %w", raw.Line, raw.Name, raw.Value, err)
	}
	sum, ok := f.Global(prefix + "SHA256")
	switch {
	case !ok:
		return Dep{}, fmt.Errorf("line %d: ARG %s goes with `ARG %sSHA256=<the tarball's sha256, 64 lower-case hex digits>`", ver.Line, ver.Name, prefix)
	case !sha256RE.MatchString(sum.Value):
		return Dep{}, fmt.Errorf("line %d: ARG %s=%s: want the tarball's sha256 as 64 lower-case hex digits (sha256sum FILE)", sum.Line, sum.Name, sum.Value)
	}
	return Dep{Version: ver.Value, Tarball: Tarball{URL: own, SHA256: sum.Value, Datasource: m[1], DepName: m[2]}}, nil
}

// depsFromSpec matches program.yaml's deps with the Dockerfile's pins:
// every dep pinned, every pin a dep.
func (p *Program) depsFromSpec(specs []DepSpec, pins depPins) error {
	if len(specs) > 0 && p.Tarball == nil {
		return errors.New("build: deps are for C programs (from: tarball)")
	}
	seen := map[string]bool{}
	for _, s := range specs {
		prefix := ArgPrefix(s.Name)
		d, ok := pins[prefix]
		switch {
		case !depNameRE.MatchString(s.Name):
			return fmt.Errorf("build: deps: %q: a dep's name is lower-case letters, digits and '-'", s.Name)
		case seen[s.Name]:
			return fmt.Errorf("build: deps: %s is listed twice", s.Name)
		case !ok:
			return fmt.Errorf("build: deps: %s has no pins: add `ARG %sVERSION=`, `ARG %sURL=` and `ARG %sSHA256=` (with a Renovate comment above the version) at the Dockerfile's top", s.Name, prefix, prefix, prefix)
		case s.System != Autotools && s.System != CMake && s.System != Meson:
			return fmt.Errorf("build: deps: %s: system %q: want autotools, cmake or meson", s.Name, s.System)
		}
		if err := checkWordsAndMirrors("build: deps: "+s.Name, "options", s.Options, s.Mirrors); err != nil {
			return err
		}
		seen[s.Name] = true
		d.Name, d.System, d.Options, d.Tarball.Mirrors = s.Name, s.System, s.Options, s.Mirrors
		p.Deps = append(p.Deps, d)
	}
	for prefix := range pins {
		if !slices.ContainsFunc(p.Deps, func(d Dep) bool { return ArgPrefix(d.Name) == prefix }) {
			return fmt.Errorf("the Dockerfile pins %sVERSION, but program.yaml's build: deps: has no dep whose name gives the prefix %s (%s)", prefix, prefix, strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(prefix, "_")), "_", "-"))
		}
	}
	return nil
}
