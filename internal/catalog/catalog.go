// Package catalog reads crossbin's programs from dockerfiles/<name>/.
//
// Each program directory holds two files, and together they say everything
// about the program exactly once:
//
//   - Dockerfile: how it builds, buildable alone with `docker buildx build`.
//     Its global build arguments pin the facts buildx itself needs:
//     `ARG MODULE=<module path>` and `ARG VERSION=<version>`, with the
//     Renovate annotation `# renovate: datasource=go depName=<module>` on
//     the line above VERSION so Renovate can bump it too, and
//     `ARG PACKAGE=${MODULE}/<path of the main package>`. A program whose
//     source is not a usable module on the proxy (replace directives to
//     paths inside the repository, no module at all) adds
//     `ARG GIT=<repository URL>`: its source is that repository at the tag
//     VERSION, and its Dockerfile has a `source` stage taking it.
//     A C or C++ program pins a release tarball instead: `ARG VERSION`
//     (Renovate-annotated), `ARG URL=` naming ${VERSION} and
//     `ARG SHA256=` (see Tarball); program.yaml's `build:` then says
//     `from: tarball` and how it builds (system, options, packages, tools).
//     Below the pins, the Dockerfile is rendered from one template and
//     program.yaml's `build:` (internal/render, `mage dockerfiles`).
//   - program.yaml: what the Dockerfile cannot say: which platforms have no
//     real build (and why), how to smoke-test the binary, where its home is.
//
// The catalog is the set of directories; there is no other list.
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/crossbin/crossbin/internal/dockerfile"
	"github.com/crossbin/crossbin/internal/platform"
	goversion "github.com/hashicorp/go-version"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// SpecFile is the name of a program's spec in its directory.
const SpecFile = "program.yaml"

// Spec is program.yaml.
type Spec struct {
	// Description is one line about the program.
	Description string `yaml:"description"`
	// Homepage is the program's upstream home.
	Homepage string `yaml:"homepage"`
	// Platforms are the platforms the image covers; default: the 11
	// default platforms (platform.Defaults).
	Platforms []string `yaml:"platforms"`
	// ExtraPlatforms opts into more Linux targets beside Platforms, e.g.
	// [linux/ppc64, linux/mips64]: any the platform table names, so they
	// are verified like the defaults.
	ExtraPlatforms []string `yaml:"extra_platforms"`
	// Unavailable maps platforms without a real build to the reason; they
	// get the unavailable binary.
	Unavailable map[string]string `yaml:"unavailable"`
	// Smoke is the arguments that make the binary print its version;
	// default ["--version"].
	Smoke []string `yaml:"smoke"`
	// Expect, for programs with no way to print their version, is what
	// the smoke command's output must contain instead of the version.
	Expect string `yaml:"expect"`
	// Exit is the smoke command's expected exit status (default 0), for
	// programs whose help exits non-zero.
	Exit int `yaml:"exit"`
	// Tags maps platforms to the Go build tags they need, e.g. delve's
	// experimental backend: {linux/riscv64: [exp.linuxriscv64]}. They reach
	// the Dockerfile as the build argument TAGS (comma-separated).
	Tags map[string][]string `yaml:"tags"`
	// Update is the policy `mage update` follows.
	Update UpdatePolicy `yaml:"update"`
	// Build says how the Dockerfile builds the program; `mage dockerfiles`
	// renders the Dockerfile from it and the pins at the Dockerfile's top.
	Build Build `yaml:"build"`
}

// Build is the part of a Dockerfile that differs between programs.
type Build struct {
	// From is where the source comes from: "install" (`go install
	// pkg@version`), "module" (the module's source, in a `source` stage),
	// "git" (the repository ARG GIT names, at the tag) or "tarball" (a C or
	// C++ program's release tarball, ARG URL and ARG SHA256).
	From string `yaml:"from"`
	// LDFlags are added to -ldflags="-s -w", typically -X version stamps.
	LDFlags string `yaml:"ldflags"`
	// GoFlags are added to the go list and go build commands of a source
	// build, e.g. -modfile=vendor.mod.
	GoFlags string `yaml:"goflags"`
	// Args are extra ARG lines of the build stage (NAME=value).
	Args []string `yaml:"args"`
	// Fetch is a shell step after the module is copied to /src in the fetch
	// stage; it only runs when the Dockerfile builds alone.
	Fetch string `yaml:"fetch"`
	// Repository is the upstream source repository (the OCI source label);
	// default: the git repository, or the github.com module's repository.
	Repository string `yaml:"repository"`
	// Note says why the program builds this way (the Dockerfile's header).
	Note string `yaml:"note"`
	// CGO builds a Go program with cgo: with the cross C toolchain the C
	// programs build with, linked statically (see cgo.go). Its Debian
	// libraries are Packages, its build-machine tools Tools.
	CGO bool `yaml:"cgo"`
	// Tags are Go build tags for every platform, beside the per-platform
	// ones of Spec.Tags: a cgo program's netgo and osusergo, for example.
	Tags []string `yaml:"tags"`

	// The fields below are for C and C++ programs (from: tarball), whose
	// source is the release tarball pinned by ARG URL and ARG SHA256;
	// Packages and Tools also for Go programs with cgo.

	// System is the build system: autotools, cmake, meson or make.
	System string `yaml:"system"`
	// Options are the program's own options, one word each: configure's
	// (--enable-static), cmake's (-DWITH_X=OFF), meson setup's
	// (-Dx=disabled), or make's variables (PREFIX=/usr).
	Options []string `yaml:"options"`
	// Targets are what make (or ninja) builds; default: its default target.
	Targets []string `yaml:"targets"`
	// Packages are the Debian libraries the program links, installed for
	// the target through multiarch (libevent-dev becomes libevent-dev:arm64),
	// with their static archives.
	Packages []string `yaml:"packages"`
	// Tools are Debian packages the build runs on the build machine
	// (bison, autoconf).
	Tools []string `yaml:"tools"`
	// Binary is the built program's path in the build directory (the
	// source tree for autotools and make, the build tree for cmake and
	// meson); default the program's name.
	Binary string `yaml:"binary"`
	// Mirrors are more URLs of the same tarball, tried in order after ARG
	// URL when it fails (Debian's pool often holds the same bytes as
	// tool_${VERSION}.orig.tar.gz); every one is checked against SHA256.
	Mirrors []string `yaml:"mirrors"`
	// Deps are libraries built from their own tarballs first (deps.go).
	Deps []DepSpec `yaml:"deps"`
}

// UpdatePolicy says which upstream releases `mage update` may pin.
type UpdatePolicy struct {
	// Constraint limits versions (hashicorp/go-version), e.g. "~> 3.6".
	Constraint string `yaml:"constraint"`
	// Prereleases allows versions like v1.2.0-rc.1.
	Prereleases bool `yaml:"prereleases"`
	// GitHub, as owner/name, takes releases from GitHub instead of the
	// module proxy, for programs whose releases are not module versions.
	GitHub string `yaml:"github"`
}

// Program is one validated catalog entry.
type Program struct {
	Name    string
	Dir     string // dockerfiles/<name>
	Module  string
	Version string
	// Package is the main package's import path (helm.sh/helm/v3/cmd/helm).
	Package     string
	Description string
	Homepage    string
	// Platforms are all platforms the image covers, real and unavailable.
	Platforms []platform.Platform
	// Unavailable maps each platform without a real build to the reason.
	Unavailable map[platform.Platform]string
	Smoke       []string
	// Expect replaces the version in the smoke check (see Spec.Expect).
	Expect string
	Exit   int
	// BuildTags are the Go build tags per platform (see Spec.Tags).
	BuildTags map[platform.Platform][]string
	Update    UpdatePolicy
	// Build is how the Dockerfile builds it (see Spec.Build).
	Build Build
	// Git is the repository the source comes from, at the tag Version;
	// empty: the module proxy.
	Git string
	// SourceStage reports whether the Dockerfile has a `source` stage that
	// a prepared module source can replace (--build-context source=...).
	SourceStage bool
	// Tarball is a C program's pinned release tarball; nil for Go
	// programs, which have Module and Package instead.
	Tarball *Tarball
	// Deps are a C program's libraries built from their tarballs.
	Deps []Dep
	pins depPins // the Dockerfile's deps' pins, until the spec names them
}

// BuildsC reports whether the program's build compiles C, with the cross C
// toolchain on the Debian builder image: a C program, or a Go program
// with cgo.
func (p Program) BuildsC() bool { return p.Tarball != nil || p.Build.CGO }

// Dockerfile is the program's Dockerfile path.
func (p Program) Dockerfile() string { return filepath.Join(p.Dir, "Dockerfile") }

// Upstream is what the program is built from, in one phrase for tables and
// logs: its module path, or for a C program its release tarball's URL at
// the pinned version.
func (p Program) Upstream() string {
	if p.Tarball != nil {
		return ExpandVersion(p.Tarball.URL, p.Version)
	}
	return p.Module
}

// Release is a module version as its project names the release: module
// versions of pre-module repositories end in +incompatible, which the
// project's own version (docker's 29.9.1) and image tags do not have.
func Release(version string) string {
	return strings.TrimSuffix(version, "+incompatible")
}

// VersionTag is the image tag naming the pinned version, like helm-v3.6.2
// or docker-v29.9.1 (see Release).
func (p Program) VersionTag() string {
	return p.Name + "-" + Release(p.Version)
}

// Available reports whether pl gets a real build.
func (p Program) Available(pl platform.Platform) bool {
	_, unavailable := p.Unavailable[pl]
	return !unavailable && slices.Contains(p.Platforms, pl)
}

// Real lists the platforms with a real build.
func (p Program) Real() []platform.Platform {
	var real []platform.Platform
	for _, pl := range p.Platforms {
		if p.Available(pl) {
			real = append(real, pl)
		}
	}
	return real
}

// Catalog is every program, sorted by name.
type Catalog struct {
	Programs []Program
}

// ErrUnknown reports a program not in the catalog.
var ErrUnknown = errors.New("unknown program")

// Get returns the program called name.
func (c Catalog) Get(name string) (Program, error) {
	for _, p := range c.Programs {
		if p.Name == name {
			return p, nil
		}
	}
	return Program{}, fmt.Errorf("%w %q: the catalog has %s (one directory each under dockerfiles/)", ErrUnknown, name, strings.Join(c.Names(), ", "))
}

// Names lists the programs' names.
func (c Catalog) Names() []string {
	names := make([]string, len(c.Programs))
	for i, p := range c.Programs {
		names[i] = p.Name
	}
	return names
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Load reads every program under dir (the repository's dockerfiles/).
func Load(dir string) (Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Catalog{}, fmt.Errorf("read the catalog: %w", err)
	}
	var c Catalog
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p, err := LoadProgram(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Programs = append(c.Programs, p)
	}
	sort.Slice(c.Programs, func(i, j int) bool { return c.Programs[i].Name < c.Programs[j].Name })
	return c, errors.Join(errs...)
}

// LoadProgram reads and validates one program directory.
func LoadProgram(dir string) (Program, error) {
	name := filepath.Base(dir)
	p := Program{Name: name, Dir: dir}
	if !nameRE.MatchString(name) {
		return p, fmt.Errorf("%s: program names are lower-case letters, digits, '.', '_' and '-'", dir)
	}
	specPath := filepath.Join(dir, SpecFile)
	data, err := os.ReadFile(specPath)
	if err != nil {
		return p, fmt.Errorf("program %s: %w (every program needs a %s)", name, err, SpecFile)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return p, fmt.Errorf("%s: %w", specPath, err)
	}
	df, err := os.ReadFile(p.Dockerfile())
	if err != nil {
		return p, fmt.Errorf("program %s: %w", name, err)
	}
	if err := p.fromDockerfile(df); err != nil {
		return p, fmt.Errorf("%s: %w", p.Dockerfile(), err)
	}
	if err := p.fromSpec(spec); err != nil {
		return p, fmt.Errorf("%s: %w", specPath, err)
	}
	return p, nil
}

// ParseSpec decodes program.yaml strictly: unknown fields are errors.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Spec{}, fmt.Errorf("parse: %w", err)
	}
	return s, nil
}

func (p *Program) fromDockerfile(data []byte) error {
	f, err := dockerfile.Parse(data)
	if err != nil {
		return err
	}
	if _, ok := f.Global("URL"); ok {
		return p.fromTarballDockerfile(f)
	}
	mod, ok := f.Global("MODULE")
	if !ok || mod.Value == "" {
		return errors.New("missing `ARG MODULE=<module path>` before the first FROM")
	}
	if err := module.CheckPath(mod.Value); err != nil {
		return fmt.Errorf("line %d: ARG MODULE: %w", mod.Line, err)
	}
	ver, ok := f.Global("VERSION")
	if !ok || ver.Value == "" {
		return errors.New("missing `ARG VERSION=vX.Y.Z` before the first FROM: the version is pinned there")
	}
	if !semver.IsValid(ver.Value) || semver.Canonical(ver.Value) != strings.TrimSuffix(ver.Value, "+incompatible") {
		return fmt.Errorf("line %d: ARG VERSION=%s is not a canonical semantic version like v1.2.3", ver.Line, ver.Value)
	}
	if want := RenovateComment(mod.Value); !strings.Contains(ver.Comment, want) {
		return fmt.Errorf("line %d: ARG VERSION needs the comment `# %s` on the line above, so Renovate can bump it", ver.Line, want)
	}
	pkg, ok := f.Global("PACKAGE")
	if !ok || pkg.Value == "" {
		return errors.New("missing `ARG PACKAGE=${MODULE}/<path of the main package>` before the first FROM")
	}
	// The one expansion the catalog needs: PACKAGE names its module.
	pkgPath := strings.NewReplacer("${MODULE}", mod.Value, "$MODULE", mod.Value).Replace(pkg.Value)
	if (pkgPath != mod.Value && !strings.HasPrefix(pkgPath, mod.Value+"/")) || module.CheckImportPath(pkgPath) != nil {
		return fmt.Errorf("line %d: ARG PACKAGE=%s: want the main package's import path inside the module, like ${MODULE}/cmd/tool", pkg.Line, pkg.Value)
	}
	p.Module, p.Version, p.Package = mod.Value, ver.Value, pkgPath
	_, p.SourceStage = f.Stage("source")
	if git, ok := f.Global("GIT"); ok {
		if err := checkGitURL(git.Value); err != nil {
			return fmt.Errorf("line %d: ARG GIT=%s: %w", git.Line, git.Value, err)
		}
		if !p.SourceStage {
			return fmt.Errorf("line %d: ARG GIT needs a `source` stage for the repository's tree (FROM scratch AS source, ADD ${GIT}#${VERSION} /)", git.Line)
		}
		p.Git = git.Value
	}
	return nil
}

// checkGitURL accepts the URLs git clone and BuildKit's ADD both take.
func checkGitURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" && u.Scheme != "git":
		return errors.New("want a repository URL like https://github.com/owner/name.git")
	case u.Host == "" || u.Path == "" || u.Path == "/":
		return errors.New("want a host and a repository path")
	case u.Fragment != "" || u.RawQuery != "":
		return errors.New("no #ref or ?query: the ref is the tag VERSION")
	}
	return nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

func (p *Program) tagsFromSpec(tags map[string][]string) error {
	p.BuildTags = map[platform.Platform][]string{}
	for raw, list := range tags {
		pl, err := platform.Parse(raw)
		if err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		if !p.Available(pl) {
			return fmt.Errorf("tags: %s has no real build, so it takes no build tags", pl)
		}
		for _, tag := range list {
			if !tagRE.MatchString(tag) {
				return fmt.Errorf("tags: %s: %q is not a Go build tag (letters, digits, '_' and '.')", pl, tag)
			}
		}
		p.BuildTags[pl] = list
	}
	return nil
}

// RenovateComment is the annotation above `ARG VERSION=`.
func RenovateComment(module string) string {
	return "renovate: datasource=go depName=" + module
}

func (p *Program) fromSpec(s Spec) error {
	p.Description, p.Homepage = s.Description, s.Homepage
	p.Platforms = platform.Defaults()
	if len(s.Platforms) > 0 {
		p.Platforms = nil
		for _, raw := range s.Platforms {
			pl, err := platform.Parse(raw)
			if err != nil {
				return fmt.Errorf("platforms: %w", err)
			}
			if slices.Contains(p.Platforms, pl) {
				return fmt.Errorf("platforms: %s listed twice", pl)
			}
			p.Platforms = append(p.Platforms, pl)
		}
	}
	for _, raw := range s.ExtraPlatforms {
		pl, err := platform.Parse(raw)
		if err != nil {
			return fmt.Errorf("extra_platforms: %w", err)
		}
		if _, known := pl.Names(); !known || pl.OS != "linux" {
			return fmt.Errorf("extra_platforms: %s is not a Linux target crossbin can verify (see internal/platform/names.go)", pl)
		}
		if slices.Contains(p.Platforms, pl) {
			return fmt.Errorf("extra_platforms: %s is already one of the platforms", pl)
		}
		p.Platforms = append(p.Platforms, pl)
	}
	p.Unavailable = map[platform.Platform]string{}
	for raw, reason := range s.Unavailable {
		pl, err := platform.Parse(raw)
		if err != nil {
			return fmt.Errorf("unavailable: %w", err)
		}
		if !slices.Contains(p.Platforms, pl) {
			return fmt.Errorf("unavailable: %s is not one of the program's platforms", pl)
		}
		if strings.TrimSpace(reason) == "" {
			return fmt.Errorf("unavailable: %s needs a reason", pl)
		}
		p.Unavailable[pl] = strings.TrimSpace(reason)
	}
	if len(p.Real()) == 0 {
		return errors.New("every platform is unavailable: the program has no real build")
	}
	if err := p.tarballFromSpec(s); err != nil {
		return err
	}
	if err := p.tagsFromSpec(s.Tags); err != nil {
		return err
	}
	if s.Update.Constraint != "" {
		if _, err := goversion.NewConstraint(s.Update.Constraint); err != nil {
			return fmt.Errorf("update: constraint %q: %w", s.Update.Constraint, err)
		}
	}
	if s.Update.GitHub != "" && strings.Count(s.Update.GitHub, "/") != 1 {
		return fmt.Errorf("update: github %q: want owner/name", s.Update.GitHub)
	}
	p.Update = s.Update
	p.Build = s.Build
	p.Expect, p.Exit = s.Expect, s.Exit
	if p.Exit != 0 && p.Expect == "" {
		return errors.New("exit: a non-zero smoke exit status needs `expect:` to say what the output must hold")
	}
	p.Smoke = s.Smoke
	if len(p.Smoke) == 0 {
		p.Smoke = []string{"--version"}
	}
	return nil
}
