// Package inputs hashes everything a program's images are built from into
// one digest, so a run can tell whether a published program is current.
//
// The digest covers the program's Dockerfile and spec, the patches that
// apply to its pinned version, the unavailable/ program's sources when it
// has unavailable platforms, which platforms are real, the Go builder image
// and the build stack's tool versions. A C program's also covers its
// release tarball (URL at the pinned version and sha256: the Dockerfile
// pins them, and they are named again so the digest says so outright), its
// build options, packages and tools (program.yaml) and the Debian builder
// image it builds on; a Go program's digest does not depend on that image. Publishing records it as the
// annotation Annotation on the program's index; `mage ci` compares it with
// what the registry holds, so nothing changed means nothing built, and a
// changed pin rebuilds exactly that program.
//
// Tool versions come in as plain data: this package knows nothing of the
// stack that pins them.
package inputs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/patch"
)

// Annotation is the index annotation holding the digest of the inputs a
// program was built from.
const Annotation = "dev.crossbin.inputs"

// recipe names how crossbin turns inputs into a published index; it
// changes when that changes, so every program is published again: v2
// publishes each image with its SBOM and provenance.
const recipe = "v2"

// UnavailableDir is where the unavailable program lives under the
// repository root; its image is built for every unavailable platform.
func UnavailableDir(root string) string { return filepath.Join(root, "unavailable") }

// unavailableFiles are the sources of the unavailable image.
var unavailableFiles = []string{"Dockerfile", "go.mod", "main.go"}

// Tool is one versioned tool of the build stack.
type Tool struct{ Module, Version string }

// Set is what every program's inputs share.
type Set struct {
	Root    string // the repository root
	Patches []patch.Patch
	GoImage string
	// DebianImage is the Debian builder image C programs build on,
	// pinned by digest.
	DebianImage string
	Tools       []Tool
}

// Of is the digest of everything prog's images are built from.
func (s Set) Of(prog catalog.Program) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "crossbin inputs %s\ngo image %s\n", recipe, s.GoImage)
	for _, t := range s.Tools {
		fmt.Fprintf(h, "tool %s %s\n", t.Module, t.Version)
	}
	if prog.BuildsC() {
		fmt.Fprintf(h, "debian image %s\n", s.DebianImage)
	}
	if tb := prog.Tarball; tb != nil {
		fmt.Fprintf(h, "tarball %s sha256:%s\n", catalog.ExpandVersion(tb.URL, prog.Version), tb.SHA256)
	}
	for _, d := range prog.Deps {
		fmt.Fprintf(h, "dep %s %s sha256:%s\n", d.Name, d.Upstream(), d.Tarball.SHA256)
	}
	for _, pl := range prog.Platforms {
		fmt.Fprintf(h, "platform %s available=%v\n", pl, prog.Available(pl))
	}
	files := []string{prog.Dockerfile(), filepath.Join(prog.Dir, catalog.SpecFile)}
	for _, p := range s.Patches {
		if p.Program == prog.Name && p.Matches(prog.Version) {
			files = append(files, p.File)
		}
	}
	if len(prog.Unavailable) > 0 {
		for _, f := range unavailableFiles {
			files = append(files, filepath.Join(UnavailableDir(s.Root), f))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("inputs of %s: %w", prog.Name, err)
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Map is each program's digest by name.
func (s Set) Map(progs []catalog.Program) (map[string]string, error) {
	m := make(map[string]string, len(progs))
	for _, p := range progs {
		in, err := s.Of(p)
		if err != nil {
			return nil, err
		}
		m[p.Name] = in
	}
	return m, nil
}
