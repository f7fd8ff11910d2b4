// Package render writes the catalog's Dockerfiles from one template: the
// pins at the top of each Dockerfile (MODULE, VERSION, PACKAGE, GIT, or a C
// program's VERSION, URL and SHA256 — what `mage update` and Renovate
// rewrite) and the program's build spec (program.yaml's `build:`) are the
// inputs; everything else is shared. The cross C toolchain's stage is one
// definition for C programs and Go programs with cgo, whose build stage
// runs on it with the Go toolchain copied in.
// Each rendered Dockerfile still builds alone with `docker buildx build`.
package render

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/crossbin/crossbin/internal/atomicfile"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
)

//go:embed Dockerfile.tmpl
var dockerfileTemplate string

// data is what the template reads.
type data struct {
	Name, Description, Repository string
	Module, Version, Package, Git string
	From                          string
	LDFlags                       string // complete, after -ldflags=
	GoFlags                       string // with a leading space, or empty
	Args                          []string
	Fetch                         string
	Note                          []string
	// Tags reports per-platform build tags (the TAGS argument).
	Tags bool
	// TagsFlag is the go command's -tags flag with a leading space:
	// build: tags, and the per-platform TAGS argument; empty for none.
	TagsFlag string
	// C is set for a C or C++ program (from: tarball).
	C *cData
	// Toolchain is set for a build with the cross C toolchain: a C
	// program's, or a Go program's with cgo.
	Toolchain *toolchainData
}

// toolchainData is what the cross C toolchain's stages read.
type toolchainData struct {
	// Tools and Packages are the apt-get install words: build-machine
	// tools, and the target's libraries as NAME:"$DEBARCH".
	Tools, Packages []string
	// Platforms for crossbin's platform table, for the standalone case.
	Platforms []cPlatform
}

// cData is what the template's C section reads.
type cData struct {
	Datasource, DepName, URL, SHA256 string
	System                           string
	// Decompressor is the Debian package tar needs for the tarball when
	// the Dockerfile builds alone (gzip is always there).
	Decompressor string
	// Options and Targets are single-quoted shell words, each with a
	// leading space.
	Options, Targets string
	Binary           string
	// Deps are the libraries built from their own tarballs first.
	Deps []depData
	// PkgConfig is set when the program's build has a $TRIPLE-pkg-config
	// to find its libraries with: Debian's multiarch one, or the deps'.
	PkgConfig string
}

// depData is one dep's part of the template: its pins at the top, its
// fetch and source stages, its build.
type depData struct {
	Name, Prefix                     string
	Datasource, DepName, URL, SHA256 string
	Version, System                  string
	Decompressor                     string
	Options                          string // single-quoted words, each with a leading space
}

// cPlatform is one line of the standalone build's case over
// TARGETPLATFORM: the variables crossbin passes as build arguments.
type cPlatform struct {
	Platform string
	Env      string
}

// Dockerfile renders prog's Dockerfile. The pins come from prog, which the
// catalog read from the Dockerfile's top.
func Dockerfile(prog catalog.Program) ([]byte, error) {
	d, err := inputs(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Dockerfile(), err)
	}
	t, err := template.New("Dockerfile").Parse(dockerfileTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Dockerfile(), err)
	}
	return b.Bytes(), nil
}

func inputs(prog catalog.Program) (data, error) {
	b := prog.Build
	d := data{
		Name: prog.Name, Description: prog.Description,
		// The catalog holds PACKAGE expanded; the Dockerfile names it
		// through ${MODULE}.
		Module: prog.Module, Version: prog.Version, Package: "${MODULE}" + strings.TrimPrefix(prog.Package, prog.Module), Git: prog.Git,
		From: b.From, Args: b.Args, Fetch: b.Fetch, Tags: len(prog.BuildTags) > 0,
		LDFlags: strings.TrimSpace("-s -w " + b.LDFlags),
	}
	d.TagsFlag = tagsFlag(b.Tags, d.Tags)
	if d.From == "" {
		d.From = "install"
	}
	if prog.Tarball != nil {
		return cInputs(prog, d)
	}
	switch {
	case d.From != "install" && d.From != "module" && d.From != "git":
		return d, fmt.Errorf("build: from %q: want install, module or git", d.From)
	case (d.From == "git") != (d.Git != ""):
		return d, errors.New("build: from git goes with ARG GIT=<repository> at the top, and only it")
	case d.From == "install" && (b.GoFlags != "" || len(b.Args) > 0 || b.Fetch != ""):
		return d, errors.New("build: goflags, args and fetch need a source build (from: module or git)")
	case d.From == "git" && b.Fetch != "":
		return d, errors.New("build: fetch is for module sources; a git source is added as it is")
	case strings.ContainsAny(prog.Description, "\"\n"):
		return d, errors.New("description: no quotes or newlines (it becomes an image label)")
	}
	if b.GoFlags != "" {
		d.GoFlags = " " + strings.TrimSpace(b.GoFlags)
	}
	if b.CGO {
		// The external linker links the C code, statically.
		d.LDFlags = strings.TrimSpace("-s -w -linkmode external -extldflags -static " + b.LDFlags)
		tc, err := toolchain(b.Tools, b.Packages)
		if err != nil {
			return d, err
		}
		d.Toolchain = tc
	}
	d.Repository = b.Repository
	if d.Repository == "" {
		switch {
		case d.Git != "":
			d.Repository = strings.TrimSuffix(d.Git, ".git")
		case strings.HasPrefix(d.Module, "github.com/") && strings.Count(d.Module, "/") >= 2:
			d.Repository = "https://" + strings.Join(strings.SplitN(d.Module, "/", 4)[:3], "/")
		default:
			return d, fmt.Errorf("build: repository: say where %s's source repository is (the image's source label)", d.Module)
		}
	}
	if note := strings.TrimSpace(b.Note); note != "" {
		d.Note = strings.Split(note, "\n")
	}
	return d, nil
}

// rendered is one program's Dockerfile as it is and as it renders.
type rendered struct {
	prog          catalog.Program
	current, want []byte
}

func renderAll(c catalog.Catalog) ([]rendered, error) {
	var out []rendered
	for _, p := range c.Programs {
		current, err := os.ReadFile(p.Dockerfile())
		if err != nil {
			return nil, err
		}
		want, err := Dockerfile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, rendered{p, current, want})
	}
	return out, nil
}

// Drift lists the programs whose Dockerfile is not what the template
// renders.
func Drift(c catalog.Catalog) ([]string, error) {
	all, err := renderAll(c)
	if err != nil {
		return nil, err
	}
	var drifted []string
	for _, r := range all {
		if !bytes.Equal(r.current, r.want) {
			drifted = append(drifted, r.prog.Name)
		}
	}
	return drifted, nil
}

// Write renders every program's Dockerfile in place and returns the names
// of those that changed. Nothing is written unless every program renders.
func Write(c catalog.Catalog) ([]string, error) {
	all, err := renderAll(c)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, r := range all {
		if bytes.Equal(r.current, r.want) {
			continue
		}
		if err := atomicfile.Write(r.prog.Dockerfile(), r.want); err != nil {
			return changed, err
		}
		changed = append(changed, r.prog.Name)
	}
	return changed, nil
}

// cInputs fills the template's C section. The catalog has checked the
// build spec (see catalog.Tarball).
func cInputs(prog catalog.Program, d data) (data, error) {
	b, tb := prog.Build, prog.Tarball
	c := &cData{
		Datasource: tb.Datasource, DepName: tb.DepName, URL: tb.URL, SHA256: tb.SHA256,
		System: b.System, Binary: b.Binary,
	}
	if c.Binary == "" {
		c.Binary = prog.Name
	}
	c.Decompressor = decompressor(tb.URL)
	tools := systemTools(nil, b.System)
	for _, dep := range prog.Deps {
		tools = systemTools(tools, dep.System)
		c.Deps = append(c.Deps, depData{
			Name: dep.Name, Prefix: catalog.ArgPrefix(dep.Name),
			Datasource: dep.Tarball.Datasource, DepName: dep.Tarball.DepName, SHA256: dep.Tarball.SHA256,
			// The catalog holds the URL naming ${VERSION}; the Dockerfile
			// names the dep's own version.
			URL:     strings.ReplaceAll(dep.Tarball.URL, "${VERSION", "${"+catalog.ArgPrefix(dep.Name)+"VERSION"),
			Version: dep.Version, System: dep.System,
			Decompressor: decompressor(dep.Tarball.URL), Options: shellWords(dep.Options),
		})
	}
	if len(b.Packages) > 0 || len(prog.Deps) > 0 {
		// Debian's multiarch pkgconf, or the deps' wrapper over the
		// build machine's (which needs pkgconf there).
		c.PkgConfig = `PKG_CONFIG="$TRIPLE-pkg-config"`
		if len(b.Packages) == 0 {
			tools = addTools(tools, "pkgconf")
		}
	}
	tc, err := toolchain(addTools(tools, b.Tools...), b.Packages)
	if err != nil {
		return d, err
	}
	c.Options, c.Targets = shellWords(b.Options), shellWords(b.Targets)
	d.C, d.Toolchain = c, tc
	d.Repository = b.Repository
	if d.Repository == "" {
		if !strings.HasPrefix(tb.Datasource, "github-") {
			return d, errors.New("build: repository: say where the program's source repository is (the image's source label)")
		}
		d.Repository = "https://github.com/" + tb.DepName
	}
	if note := strings.TrimSpace(b.Note); note != "" {
		d.Note = strings.Split(note, "\n")
	}
	if strings.ContainsAny(prog.Description, "\"\n") {
		return d, errors.New("description: no quotes or newlines (it becomes an image label)")
	}
	return d, nil
}

// decompressor is the Debian package tar needs for a tarball at url when
// the Dockerfile builds alone (gzip is always there).
func decompressor(url string) string {
	switch {
	case strings.HasSuffix(url, ".xz") || strings.HasSuffix(url, ".txz"):
		return "xz-utils"
	case strings.HasSuffix(url, ".bz2") || strings.HasSuffix(url, ".tbz2"):
		return "bzip2"
	case strings.HasSuffix(url, ".zst") || strings.HasSuffix(url, ".tzst"):
		return "zstd"
	}
	return ""
}

// systemTools adds what a build system runs on the build machine.
func systemTools(tools []string, system string) []string {
	switch system {
	case catalog.Autotools:
		return addTools(tools, "autotools-dev") // current config.sub and config.guess
	case catalog.CMake:
		return addTools(tools, "cmake", "ninja-build")
	case catalog.Meson:
		return addTools(tools, "meson", "ninja-build")
	}
	return tools
}

// addTools appends the tools not yet in tools, in order.
func addTools(tools []string, add ...string) []string {
	for _, t := range add {
		if !slices.Contains(tools, t) {
			tools = append(tools, t)
		}
	}
	return tools
}

// toolchain fills the cross C toolchain's stages: tools for the build
// machine, the target's libraries (packages), and the platform table for
// the standalone build.
func toolchain(tools, packages []string) (*toolchainData, error) {
	tc := &toolchainData{Tools: tools}
	if len(packages) > 0 {
		// pkgconf for the target installs <triple>-pkg-config, which
		// finds the target's libraries.
		for _, pkg := range append([]string{"pkgconf"}, packages...) {
			tc.Packages = append(tc.Packages, pkg+`:"$DEBARCH"`)
		}
	}
	for _, pl := range platform.CrossCPlatforms() {
		env, err := pl.CEnv()
		if err != nil {
			return nil, err
		}
		var words []string
		for _, v := range env {
			words = append(words, fmt.Sprintf("%s=%q", v.Name, v.Value))
		}
		tc.Platforms = append(tc.Platforms, cPlatform{pl.String(), strings.Join(words, " ")})
	}
	return tc, nil
}

// tagsFlag is the go command's -tags flag: the program's tags for every
// platform and, when some platform has its own (perPlatform), the TAGS
// build argument, which is empty on the others.
func tagsFlag(tags []string, perPlatform bool) string {
	all := strings.Join(tags, ",")
	switch {
	case all == "" && !perPlatform:
		return ""
	case all == "":
		return ` -tags="${TAGS}"`
	case !perPlatform:
		return " -tags=" + all
	}
	return ` -tags="` + all + `${TAGS:+,$TAGS}"`
}

// shellWords quotes each word for sh, each with a leading space. The
// catalog refuses single quotes in them.
func shellWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(" '" + w + "'")
	}
	return b.String()
}
