// Package render writes the catalog's Dockerfiles from one template: the
// pins at the top of each Dockerfile (MODULE, VERSION, PACKAGE, GIT, or a C
// program's VERSION, URL and SHA256 — what `mage update` and Renovate
// rewrite) and the program's build spec (program.yaml's `build:`) are the
// inputs; everything else is shared.
// Each rendered Dockerfile still builds alone with `docker buildx build`.
package render

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
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
	Tags                          bool
	// C is set for a C or C++ program (from: tarball).
	C *cData
}

// cData is what the template's C section reads.
type cData struct {
	Datasource, DepName, URL, SHA256 string
	System                           string
	// Decompressor is the Debian package tar needs for the tarball when
	// the Dockerfile builds alone (gzip is always there).
	Decompressor string
	// Tools and Packages are the apt-get install words: build-machine
	// tools, and the target's libraries as NAME:"$DEBARCH".
	Tools, Packages []string
	// Options and Targets are single-quoted shell words, each with a
	// leading space.
	Options, Targets string
	Binary           string
	// Targets for crossbin's platform table, for the standalone case.
	Platforms []cPlatform
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
	switch {
	case strings.HasSuffix(tb.URL, ".xz") || strings.HasSuffix(tb.URL, ".txz"):
		c.Decompressor = "xz-utils"
	case strings.HasSuffix(tb.URL, ".bz2") || strings.HasSuffix(tb.URL, ".tbz2"):
		c.Decompressor = "bzip2"
	case strings.HasSuffix(tb.URL, ".zst") || strings.HasSuffix(tb.URL, ".tzst"):
		c.Decompressor = "zstd"
	}
	switch b.System {
	case catalog.CMake:
		c.Tools = append(c.Tools, "cmake", "ninja-build")
	case catalog.Meson:
		c.Tools = append(c.Tools, "meson", "ninja-build")
	}
	c.Tools = append(c.Tools, b.Tools...)
	if len(b.Packages) > 0 {
		// pkgconf for the target installs <triple>-pkg-config, which
		// finds the target's libraries.
		for _, pkg := range append([]string{"pkgconf"}, b.Packages...) {
			c.Packages = append(c.Packages, pkg+`:"$DEBARCH"`)
		}
	}
	c.Options, c.Targets = shellWords(b.Options), shellWords(b.Targets)
	for _, pl := range platform.CrossCPlatforms() {
		env, err := pl.CEnv()
		if err != nil {
			return d, err
		}
		var words []string
		for _, v := range env {
			words = append(words, fmt.Sprintf("%s=%q", v.Name, v.Value))
		}
		c.Platforms = append(c.Platforms, cPlatform{pl.String(), strings.Join(words, " ")})
	}
	d.C = c
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

// shellWords quotes each word for sh, each with a leading space. The
// catalog refuses single quotes in them.
func shellWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(" '" + w + "'")
	}
	return b.String()
}
