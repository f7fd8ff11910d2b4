package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/crossbin/crossbin/internal/dockerfile"
)

// Tarball is a C or C++ program's source: a release tarball pinned at the
// Dockerfile's top by URL and sha256, the version written once.
//
//	# renovate: datasource=github-releases depName=tmux/tmux
//	ARG VERSION=3.5a
//	ARG URL=https://github.com/tmux/tmux/releases/download/${VERSION}/tmux-${VERSION}.tar.gz
//	ARG SHA256=16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc0103198951
//
// URL and program.yaml's mirrors name the version as ${VERSION} (or
// ${VERSION#v}, for a tag v1.2.3 whose file is tool-1.2.3.tar.gz), the
// one expansion both BuildKit and crossbin make.
type Tarball struct {
	// URL is the upstream URL as the Dockerfile writes it.
	URL string
	// SHA256 is the tarball's digest, lower-case hex.
	SHA256 string
	// Mirrors are program.yaml's mirrors, as written, tried in order after
	// URL (see Spec.Build.Mirrors).
	Mirrors []string
	// Datasource and DepName are the Renovate annotation's.
	Datasource, DepName string
}

// URLs are the places the tarball of version is fetched from, in order:
// the upstream URL, then the mirrors.
func (t Tarball) URLs(version string) []string {
	out := []string{ExpandVersion(t.URL, version)}
	for _, m := range t.Mirrors {
		out = append(out, ExpandVersion(m, version))
	}
	return out
}

// ExpandVersion replaces ${VERSION}, $VERSION and ${VERSION#v} in s.
func ExpandVersion(s, version string) string {
	return strings.NewReplacer("${VERSION#v}", strings.TrimPrefix(version, "v"), "${VERSION}", version, "$VERSION", version).Replace(s)
}

// Build systems a tarball program builds with (Build.System).
const (
	Autotools = "autotools" // ./configure --host=<triple>, make
	CMake     = "cmake"     // cmake -G Ninja with a cross toolchain, ninja
	Meson     = "meson"     // meson setup --cross-file, ninja
	Make      = "make"      // make CC=<triple>-gcc ... (no configure step)
)

var systems = []string{Autotools, CMake, Meson, Make}

// Archives are the tarball compressions crossbin unpacks, by file suffix.
var Archives = []string{".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".tzst"}

var (
	sha256RE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	binaryRE   = regexp.MustCompile(`^[A-Za-z0-9._+/-]+$`) // written into a shell command unquoted
	releaseRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	renovateRE = regexp.MustCompile(`renovate:\s*datasource=(\S+)\s+depName=(\S+)`)
	// debPackageRE is Debian policy's package name (no :arch: crossbin
	// adds the target's).
	debPackageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
)

// fromTarballDockerfile reads the pins of a tarball program.
func (p *Program) fromTarballDockerfile(f *dockerfile.File) error {
	ver, ok := f.Global("VERSION")
	if !ok || ver.Value == "" {
		return errors.New("missing `ARG VERSION=<release>` before the first FROM: the version is pinned there")
	}
	if !releaseRE.MatchString(ver.Value) {
		return fmt.Errorf("line %d: ARG VERSION=%s: want a release name of letters, digits, '.', '_' and '-' (it becomes an image tag)", ver.Line, ver.Value)
	}
	m := renovateRE.FindStringSubmatch(ver.Comment)
	if m == nil {
		return fmt.Errorf("line %d: ARG VERSION needs a comment like `# renovate: datasource=github-releases depName=owner/name` on the line above, so Renovate can bump it", ver.Line)
	}
	raw, _ := f.Global("URL")
	if err := checkTarballURL(raw.Value); err != nil {
		return fmt.Errorf("line %d: ARG URL=%s: %w", raw.Line, raw.Value, err)
	}
	if !strings.Contains(raw.Value, "${VERSION") && !strings.Contains(raw.Value, "$VERSION") {
		return fmt.Errorf("line %d: ARG URL=%s: name the version as ${VERSION}, so it is pinned once (in ARG VERSION)", raw.Line, raw.Value)
	}
	sum, ok := f.Global("SHA256")
	if !ok {
		return errors.New("missing `ARG SHA256=<64 hex digits>` before the first FROM: the tarball's digest (sha256sum FILE)")
	}
	if !sha256RE.MatchString(sum.Value) {
		return fmt.Errorf("line %d: ARG SHA256=%s: want the tarball's sha256 as 64 lower-case hex digits (sha256sum FILE)", sum.Line, sum.Value)
	}
	for _, name := range []string{"MODULE", "PACKAGE", "GIT"} {
		if a, ok := f.Global(name); ok {
			return fmt.Errorf("line %d: ARG %s is for Go programs; a tarball program (ARG URL) has none", a.Line, name)
		}
	}
	pins, err := depPinsFrom(f)
	if err != nil {
		return err
	}
	p.Version, p.pins = ver.Value, pins
	p.Tarball = &Tarball{URL: raw.Value, SHA256: sum.Value, Datasource: m[1], DepName: m[2]}
	_, p.SourceStage = f.Stage("source")
	if !p.SourceStage {
		return errors.New("a tarball program needs a `source` stage for the unpacked tree (run `go tool mage dockerfiles`)")
	}
	return nil
}

// checkTarballURL accepts an http(s) URL of a compressed tar file, with
// ${VERSION} in it. Expansions other than VERSION's are refused: crossbin
// would fetch another URL than BuildKit.
func checkTarballURL(raw string) error {
	rest := strings.NewReplacer("${VERSION#v}", "", "${VERSION}", "", "$VERSION", "").Replace(raw)
	if strings.Contains(rest, "$") {
		return errors.New("the only expansions are ${VERSION} and ${VERSION#v}")
	}
	u, err := url.Parse(ExpandVersion(raw, "1.0.0"))
	switch {
	case err != nil:
		return err
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("want an https:// (or http://) URL of the release tarball")
	case u.Host == "":
		return errors.New("want a host")
	case u.User != nil:
		return errors.New("no credentials in a tarball URL: it is in the Dockerfile, the logs and the SBOM")
	case u.Fragment != "":
		return errors.New("no #fragment")
	}
	if !slices.ContainsFunc(Archives, func(s string) bool { return strings.HasSuffix(u.Path, s) }) {
		return fmt.Errorf("want a tarball: the path ends in one of %s", strings.Join(Archives, " "))
	}
	return nil
}

// tarballFromSpec checks program.yaml's build: for a tarball program.
func (p *Program) tarballFromSpec(s Spec) error {
	b := s.Build
	if p.Tarball == nil {
		if b.From == "tarball" {
			return errors.New("build: from tarball goes with `ARG URL=` and `ARG SHA256=` at the Dockerfile's top")
		}
		if b.System != "" || len(b.Options) > 0 || len(b.Targets) > 0 || b.Binary != "" || len(b.Mirrors) > 0 || len(b.Deps) > 0 {
			return errors.New("build: system, options, targets, binary, mirrors and deps are for C programs (from: tarball)")
		}
		return p.goFromSpec(b)
	}
	switch {
	case b.From != "tarball":
		return fmt.Errorf("build: from %q: a Dockerfile with ARG URL builds from the tarball: write `from: tarball`", b.From)
	case !slices.Contains(systems, b.System):
		return fmt.Errorf("build: system %q: want one of %s", b.System, strings.Join(systems, ", "))
	case b.LDFlags != "" || b.GoFlags != "" || b.Fetch != "" || len(b.Args) > 0 || len(b.Tags) > 0:
		return errors.New("build: ldflags, goflags, fetch, args and tags are for Go programs; a C program takes options")
	case b.CGO:
		return errors.New("build: cgo is for Go programs; a C program builds with the C toolchain anyway")
	case len(s.Tags) > 0:
		return errors.New("tags: Go build tags are for Go programs")
	case b.Binary != "" && (path.IsAbs(b.Binary) || path.Clean(b.Binary) != b.Binary || strings.HasPrefix(b.Binary, "../") || b.Binary == ".." || !binaryRE.MatchString(b.Binary)):
		return fmt.Errorf("build: binary %q: want a clean path relative to the build directory, like src/tool (letters, digits, '.', '_', '+', '-' and '/')", b.Binary)
	}
	if err := checkWordsAndMirrors("build", "options and targets", slices.Concat(b.Options, b.Targets), b.Mirrors); err != nil {
		return err
	}
	p.Tarball.Mirrors = b.Mirrors
	if err := p.depsFromSpec(b.Deps, p.pins); err != nil {
		return err
	}
	return p.checkCrossC(b)
}

// checkWordsAndMirrors checks a tarball's build words (each is passed to
// the shell single-quoted) and its mirrors; where prefixes the errors.
func checkWordsAndMirrors(where, what string, words, mirrors []string) error {
	for _, w := range words {
		if strings.ContainsAny(w, "'\n") {
			return fmt.Errorf("%s: %q: no single quotes or newlines in %s (each is passed as one word)", where, w, what)
		}
	}
	for _, m := range mirrors {
		if err := checkTarballURL(m); err != nil {
			return fmt.Errorf("%s: mirrors: %s: %w", where, m, err)
		}
	}
	return nil
}

// checkCrossC checks what a build with the cross C toolchain (a C
// program's, or a Go program's with cgo) installs: Debian package names,
// and a toolchain, with the libraries through multiarch, for every real
// platform.
func (p *Program) checkCrossC(b Build) error {
	for _, list := range []struct {
		field string
		names []string
	}{{"packages", b.Packages}, {"tools", b.Tools}} {
		for _, n := range list.names {
			if !debPackageRE.MatchString(n) {
				return fmt.Errorf("build: %s: %q is not a Debian package name (lower-case, no :arch; crossbin adds the target's)", list.field, n)
			}
		}
	}
	for _, pl := range p.Real() {
		tc, ok := pl.CrossC()
		if !ok {
			return fmt.Errorf("%s has no C cross toolchain in the platform table: list it under unavailable: with the reason", pl)
		}
		if len(b.Packages) > 0 && !tc.Multiarch {
			return fmt.Errorf("build: packages: Debian trixie main has no %s libraries (only its cross C library), so %s cannot be installed for %s: list %s under unavailable: with that reason", pl, strings.Join(b.Packages, " "), pl, pl)
		}
	}
	return nil
}
