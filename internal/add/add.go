// Package add makes a catalog entry of a Go command in one step, finding
// out what a maintainer would otherwise find by hand:
//
//   - the module and version: the longest prefix of the path the proxy
//     knows as a module, at its newest stable version (or the one asked
//     for; @latest where the proxy refuses the version list);
//   - the main package: the path given, the module root, or the module's
//     only command;
//   - the source kind: `go install pkg@version` unless go.mod has replace
//     or exclude directives, which it refuses;
//   - the platforms: every default platform is cross-compiled with the
//     host's go (CGO_ENABLED=0, as the Dockerfile builds); a failure
//     becomes `unavailable:` with the compiler's first error line;
//   - the smoke command and version stamp: the linux/amd64 binary runs in
//     the sandbox with --version, version, -version and -v, first as it
//     builds, then with each likely -X target set to the version; a program
//     that prints its version nowhere gets --help and what it prints.
//
// Nothing is written until all of it is known; the entry then appears in
// the catalog whole (Entry.Write).
package add

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"go/doc"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/proc"
	"github.com/crossbin/crossbin/internal/upstream"
	"github.com/crossbin/crossbin/internal/verify"
)

// Request is what the user asked for.
type Request struct {
	Path    string // module or package import path
	Name    string // catalog name; default: the binary's name
	Version string // default: the newest stable version
}

// Options are what Add works with.
type Options struct {
	CatalogDir string         // the repository's dockerfiles/
	Env        []string       // the go command's whole environment
	Proxy      upstream.Proxy // for version lists
	Runner     verify.Runner  // the sandbox the smoke runs use
	Jobs       int            // cross-compiles at once
	Log        *slog.Logger
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Add finds out everything about the program and writes its entry.
func Add(ctx context.Context, opt Options, req Request) (Entry, catalog.Program, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := refuseTarball(req.Path); err != nil {
		return Entry{}, catalog.Program{}, err
	}
	if err := module.CheckImportPath(req.Path); err != nil {
		return Entry{}, catalog.Program{}, fmt.Errorf("add %q: not a Go import path: %w", req.Path, err)
	}
	if req.Version != "" && (!semver.IsValid(req.Version) || semver.Canonical(req.Version) != strings.TrimSuffix(req.Version, "+incompatible")) {
		return Entry{}, catalog.Program{}, fmt.Errorf("add %s: -version=%s is not a canonical semantic version like v1.2.3", req.Path, req.Version)
	}
	if err := checkName(opt.CatalogDir, req.Name); err != nil {
		return Entry{}, catalog.Program{}, err
	}

	start := time.Now()
	r, err := resolve(ctx, opt, req)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	mod, version := r.mod, r.version
	log.Info("module found", "module", mod, "version", version, "duration", time.Since(start).Round(time.Millisecond))
	m, err := gotool.Download(ctx, opt.Env, mod, version)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	mains, err := MainPackages(m.Dir)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	rel, err := ChooseMain(mod, req.Path, mains)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	e := Entry{Module: mod, Version: version, Main: rel, Name: req.Name}
	if e.Name == "" {
		e.Name = DefaultName(e.Package())
		if err := checkName(opt.CatalogDir, e.Name); err != nil {
			return Entry{}, catalog.Program{}, fmt.Errorf("%w (the binary's name; -name=NAME gives another)", err)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return Entry{}, catalog.Program{}, fmt.Errorf("%s@%s has no go.mod: crossbin builds modules: %w", mod, version, err)
	}
	kind, note, err := SourceKind(gomod, mod)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	if kind == "install" && r.listRefused {
		kind, note = "module", "This module proxy refuses the module's version list, which `go install\npkg@version` reads: this builds from the module's source."
	}
	if kind == "install" && e.Name != DefaultName(e.Package()) {
		kind, note = "module", fmt.Sprintf("Named %s, not %s as `go install` would name it: this builds from the\nmodule's source.", e.Name, DefaultName(e.Package()))
	}
	e.Kind, e.Note = kind, strings.Split(note, "\n")
	e.Description, e.Homepage, e.Repository = describeProgram(m, rel, e.Name)

	src, err := os.MkdirTemp("", "crossbin-add-src-")
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	defer os.RemoveAll(src)
	if err := gotool.CopyTree(m.Dir, src); err != nil {
		return Entry{}, catalog.Program{}, fmt.Errorf("copy %s@%s: %w", mod, version, err)
	}
	h := host{env: opt.Env, src: src, mod: mod, version: version, main: rel, install: kind == "install", log: log}

	start = time.Now()
	log.Info("cross-compiling every default platform", "package", e.Package(), "platforms", len(platform.Defaults()))
	failed, err := h.Probe(ctx, platform.Defaults(), opt.Jobs)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	log.Info("platforms probed", "failed", len(failed), "duration", time.Since(start).Round(time.Second))
	if reason, ok := failed[smokePlatform]; ok {
		if cgo := cgoPackages(ctx, h); needsCgo(reason, cgo) {
			return Entry{}, catalog.Program{}, fmt.Errorf("%s needs cgo (%s use it) and does not build with CGO_ENABLED=0 (%s): crossbin builds static Go binaries without cgo", e.Package(), strings.Join(cgo, ", "), reason)
		}
		hint := ""
		if strings.Contains(reason, "403 Forbidden") || strings.Contains(reason, "404 Not Found") || strings.Contains(reason, "410 Gone") {
			hint = ": the module proxy does not serve a module it needs; try an earlier -version"
		}
		return Entry{}, catalog.Program{}, fmt.Errorf("%s@%s does not build for %s: %s%s", e.Package(), version, smokePlatform, reason, hint)
	}
	e.Unavailable = failed

	targets, err := StampTargets(src, mod, rel)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	start = time.Now()
	s, err := FindSmoke(ctx, h, opt.Runner, e.Name, targets)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	log.Info("smoke command found", "smoke", strings.Join(s.Args, " "), "stamp", s.Stamp, "output", s.Output, "duration", time.Since(start).Round(time.Millisecond))
	e.Smoke = s
	e.Note = append(e.Note, stampNote(s, e)...)

	prog, err := e.Write(opt.CatalogDir)
	if err != nil {
		return Entry{}, catalog.Program{}, err
	}
	return e, prog, nil
}

// checkName refuses a name the catalog cannot take.
// ErrNotGo refuses what add cannot find out by itself: a C or C++
// program's release tarball.
var ErrNotGo = errors.New("mage add makes entries for Go commands only")

// refuseTarball refuses a URL or a tarball file name with the way to add
// a C program: by hand, since its build system, options and libraries are
// not discoverable the way a Go command's are.
func refuseTarball(path string) error {
	lower := strings.ToLower(path)
	if !strings.Contains(lower, "://") && !slices.ContainsFunc(catalog.Archives, func(s string) bool { return strings.HasSuffix(lower, s) }) {
		return nil
	}
	return fmt.Errorf("add %s: %w; a C or C++ program from a release tarball is written by hand: "+
		"dockerfiles/<name>/Dockerfile with `ARG VERSION`, `ARG URL` and `ARG SHA256` above the first FROM, "+
		"and program.yaml with `build: {from: tarball, system: autotools|cmake|meson|make, ...}`; "+
		"then `go tool mage dockerfiles` renders the rest (see the README's catalog section)", path, ErrNotGo)
}

func checkName(catalogDir, name string) error {
	if name == "" {
		return nil
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("-name=%s: program names are lower-case letters, digits, '.', '_' and '-'", name)
	}
	if _, err := os.Stat(filepath.Join(catalogDir, name)); err == nil {
		return fmt.Errorf("a program named %s is already in the catalog (%s)", name, filepath.Join(catalogDir, name))
	}
	return nil
}

// resolved is the module that holds the path asked for.
type resolved struct {
	mod, version string
	// listRefused: the proxy refuses the module's version list, which
	// `go install pkg@version` reads.
	listRefused bool
}

// errNoStable and errNewerMajor stop the search: the module exists, and
// the user must choose.
var (
	errNoStable   = errors.New("no stable release")
	errNewerMajor = errors.New("not the newest major version")
)

// resolve finds the module holding req.Path and the version to pin: the
// longest candidate path the proxy knows as a module. Where one refuses
// its version list and names no @latest, shorter ones are tried, but the
// error reported is the longest's.
func resolve(ctx context.Context, opt Options, req Request) (resolved, error) {
	var first error
	for _, mod := range Candidates(req.Path) {
		if req.Version != "" {
			m, err := gotool.Download(ctx, opt.Env, mod, req.Version)
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			_, lerr := opt.Proxy.Releases(ctx, mod)
			return resolved{mod: mod, version: m.Version, listRefused: upstream.Refused(lerr)}, nil
		}
		r, err := newestStable(ctx, opt.Proxy, mod, req.Path)
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, upstream.ErrNotFound):
			continue
		case errors.Is(err, errNoStable), errors.Is(err, errNewerMajor):
			return resolved{}, err
		case first == nil:
			first = err
		}
	}
	if req.Version != "" {
		return resolved{}, fmt.Errorf("no module holding %s has version %s: %w", req.Path, req.Version, first)
	}
	if first != nil {
		return resolved{}, fmt.Errorf("find the newest version of %s: %w; name one with -version=vX.Y.Z", req.Path, first)
	}
	return resolved{}, fmt.Errorf("the module proxy knows no module holding %s: check the path (and GOPROXY)", req.Path)
}

// newestStable is mod's newest release, not retracted: from the version
// list, or @latest where the proxy refuses the list. asked is the path the
// user gave: when it is the module itself and a newer major version
// exists (…/v4 beside …), that is an error naming it.
func newestStable(ctx context.Context, p upstream.Proxy, mod, asked string) (resolved, error) {
	rel, err := p.Releases(ctx, mod)
	if err != nil && !errors.Is(err, upstream.ErrNotFound) {
		latest, lerr := p.Latest(ctx, mod)
		if lerr == nil {
			return resolved{mod: mod, version: latest, listRefused: upstream.Refused(err)}, nil
		}
		if errors.Is(lerr, upstream.ErrNotFound) {
			return resolved{}, fmt.Errorf("the module proxy refuses %s's version list (%w) and names no @latest", mod, err)
		}
		return resolved{}, err
	}
	if err != nil {
		return resolved{}, err
	}
	// A module with a go.mod beats the +incompatible tags of the same
	// repository (the Docker CLI has only those).
	var best, incompatible string
	for _, v := range rel.Versions {
		if semver.Prerelease(v) != "" || (rel.Retracted != nil && rel.Retracted(v)) {
			continue
		}
		slot := &best
		if strings.HasSuffix(v, "+incompatible") {
			slot = &incompatible
		}
		if *slot == "" || semver.Compare(v, *slot) > 0 {
			*slot = v
		}
	}
	if best == "" {
		best = incompatible
	}
	if best == "" {
		if len(rel.Versions) == 0 {
			return resolved{}, fmt.Errorf("%w: %s has no tagged version", upstream.ErrNotFound, mod)
		}
		return resolved{}, fmt.Errorf("%s has %w (only %s): name a version with -version", mod, errNoStable, strings.Join(rel.Versions, ", "))
	}
	if rel.NextMajor != "" && asked == mod {
		return resolved{}, fmt.Errorf("%s@%s is %w: %s exists; add that path (or pin this one with -version=%s)",
			mod, best, errNewerMajor, rel.NextMajor, best)
	}
	return resolved{mod: mod, version: best}, nil
}

// describeProgram is the description (the main package's doc synopsis,
// else the README's first sentence),
// homepage and source repository, from the module's source and the
// proxy's record of where it came from.
func describeProgram(m gotool.Module, rel, name string) (description, homepage, repository string) {
	ctx := buildContext()
	if pkg, err := ctx.ImportDir(filepath.Join(m.Dir, rel), build.ImportComment); err == nil && pkg.Doc != "" {
		var p doc.Package
		description = strings.TrimSuffix(p.Synopsis(pkg.Doc), ".")
	}
	if description == "" {
		description = readmeSummary(m.Dir)
	}
	if description == "" {
		description = name + ", built from " + m.Path
	}
	// It becomes an image label in double quotes, where $ expands and \
	// escapes.
	description = strings.NewReplacer("\"", "'", "\n", " ", "$", "", "\\", "").Replace(description)
	origin := originURL(m.Info)
	if strings.HasPrefix(m.Path, "github.com/") {
		homepage = "https://" + strings.Join(strings.SplitN(m.Path, "/", 4)[:3], "/")
		return description, homepage, ""
	}
	if origin == "" {
		// The import path's own URL: where `go get` finds the repository.
		origin = "https://" + m.Path
	}
	return description, origin, origin
}

// originURL is the VCS URL the proxy's .info records, if any.
func originURL(info string) string {
	b, err := os.ReadFile(info)
	if err != nil {
		return ""
	}
	var v struct{ Origin struct{ URL string } }
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	return strings.TrimSuffix(v.Origin.URL, ".git")
}

// stampNote says where the version the smoke command prints comes from.
func stampNote(s Smoke, e Entry) []string {
	switch {
	case s.Expect != "":
		return []string{"", fmt.Sprintf("%s prints its version with none of --version, version, -version, -v,", e.Name),
			"and no string variable named like a version carries it: the smoke run", "checks what --help prints."}
	case s.LDFlags != "":
		return []string{"", fmt.Sprintf("The version is stamped with %s (`%s` prints it).", s.Stamp, strings.Join(append([]string{e.Name}, s.Args...), " "))}
	}
	return []string{"", fmt.Sprintf("No version stamp is needed: `%s` prints it as the module builds.", strings.Join(append([]string{e.Name}, s.Args...), " "))}
}

// needsCgo reports whether the build failed for want of cgo: the failing
// package is one that uses cgo, or none of a package's files are left
// without it. Packages with a pure-Go fallback do not count.
func needsCgo(reason string, cgo []string) bool {
	if len(cgo) == 0 {
		return false
	}
	if strings.Contains(reason, "build constraints exclude all Go files") {
		return true
	}
	pkg, _, _ := strings.Cut(reason, ": ")
	return slices.Contains(cgo, pkg)
}

// cgoPackages lists the packages of the main package's build that use cgo
// when it is enabled.
func cgoPackages(ctx context.Context, h host) []string {
	cmd := proc.Command(ctx, "go", "list", "-deps", "-f", "{{if .CgoFiles}}{{.ImportPath}}{{end}}", "./"+h.main)
	cmd.Dir = h.src
	env, err := h.goEnv(smokePlatform, "CGO_ENABLED=1")
	if err != nil {
		return nil
	}
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var pkgs []string
	for _, l := range strings.Fields(string(out)) {
		if !slices.Contains(pkgs, l) && !strings.HasPrefix(l, "runtime/") && l != "net" && l != "os/user" && !strings.HasPrefix(l, "plugin") {
			pkgs = append(pkgs, l)
		}
	}
	return pkgs
}
