// Package patch reads patches/: declarative fixes to a program's go.mod
// that let old releases build on platforms they predate.
//
// One YAML file per fix:
//
//	program: helm
//	versions: "< 3.7.0"            # hashicorp/go-version constraint on the program's version
//	platforms: [linux/riscv64]     # default: every platform
//	reason: procfs v0.2.0 has no cpuinfo parser for riscv64
//	link: https://github.com/prometheus/procfs/pull/...
//	require:                       # raise (or add) a requirement
//	  - {module: github.com/prometheus/procfs, version: v0.6.0}
//	replace:                       # or replace a module
//	  - {module: example.com/old, with: example.com/new, version: v1.2.3}
//
// A patch applies to a build when its program, version range and platforms
// all match. Its edits are made with golang.org/x/mod/modfile on a copy of
// the module's source; the go tool then completes go.sum, verifying every
// new module against the checksum database. A patch whose range no longer
// matches the pinned version is skipped and reported as obsolete.
package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/crossbin/crossbin/internal/platform"
	goversion "github.com/hashicorp/go-version"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Patch is one validated patch file.
type Patch struct {
	Name      string // file name without .yaml
	File      string // path, for messages
	Program   string
	Versions  goversion.Constraints
	Range     string              // Versions as written
	Platforms []platform.Platform // empty: every platform
	Reason    string
	Link      string
	Require   []Require
	Replace   []Replace
}

// Require raises or adds a requirement.
type Require struct {
	Module  string `yaml:"module"`
	Version string `yaml:"version"`
	Line    int    `yaml:"-"`
}

// Replace replaces every version of Module with With at Version.
type Replace struct {
	Module  string `yaml:"module"`
	With    string `yaml:"with"`
	Version string `yaml:"version"`
	Line    int    `yaml:"-"`
}

type file struct {
	Program   string      `yaml:"program"`
	Versions  string      `yaml:"versions"`
	Platforms []string    `yaml:"platforms"`
	Reason    string      `yaml:"reason"`
	Link      string      `yaml:"link"`
	Require   []yaml.Node `yaml:"require"`
	Replace   []yaml.Node `yaml:"replace"`
}

// Parse reads one patch file. name is used in messages.
func Parse(name string, data []byte) (Patch, error) {
	fail := func(line int, format string, args ...any) error {
		where := name
		if line > 0 {
			where = fmt.Sprintf("%s:%d", name, line)
		}
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Patch{}, fail(0, "empty patch file")
		}
		return Patch{}, fail(0, "%v", err)
	}
	p := Patch{
		Name: strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)), File: name,
		Program: f.Program, Range: strings.TrimSpace(f.Versions), Reason: strings.TrimSpace(f.Reason), Link: strings.TrimSpace(f.Link),
	}
	if p.Program == "" {
		return Patch{}, fail(0, "missing `program:`: the catalog program this patch is for")
	}
	if p.Reason == "" {
		return Patch{}, fail(0, "missing `reason:`: say in a sentence why the fix is needed")
	}
	if p.Range == "" {
		return Patch{}, fail(0, "missing `versions:`: the program versions that need it, e.g. \"< 3.7.0\"")
	}
	c, err := goversion.NewConstraint(p.Range)
	if err != nil {
		return Patch{}, fail(0, "versions %q: %v", p.Range, err)
	}
	p.Versions = c
	for _, raw := range f.Platforms {
		pl, err := platform.Parse(raw)
		if err != nil {
			return Patch{}, fail(0, "platforms: %v", err)
		}
		p.Platforms = append(p.Platforms, pl)
	}
	for _, n := range f.Require {
		var r Require
		if err := decodeStrict(&n, &r); err != nil {
			return Patch{}, fail(n.Line, "require: %v", err)
		}
		r.Line = n.Line
		if err := checkModuleVersion(r.Module, r.Version); err != nil {
			return Patch{}, fail(n.Line, "require: %v", err)
		}
		p.Require = append(p.Require, r)
	}
	for _, n := range f.Replace {
		var r Replace
		if err := decodeStrict(&n, &r); err != nil {
			return Patch{}, fail(n.Line, "replace: %v", err)
		}
		r.Line = n.Line
		if err := module.CheckPath(r.Module); err != nil {
			return Patch{}, fail(n.Line, "replace: %v", err)
		}
		if err := checkModuleVersion(r.With, r.Version); err != nil {
			return Patch{}, fail(n.Line, "replace: %v", err)
		}
		p.Replace = append(p.Replace, r)
	}
	if len(p.Require)+len(p.Replace) == 0 {
		return Patch{}, fail(0, "no `require:` or `replace:`: the patch changes nothing")
	}
	return p, nil
}

// decodeStrict decodes a mapping node, rejecting unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("want a mapping like {module: ..., version: ...}")
	}
	var raw map[string]string
	if err := n.Decode(&raw); err != nil {
		return err
	}
	known := map[string]bool{"module": true, "version": true}
	if _, ok := v.(*Replace); ok {
		known["with"] = true
	}
	for k := range raw {
		if !known[k] {
			return fmt.Errorf("unknown field %q", k)
		}
	}
	return n.Decode(v)
}

func checkModuleVersion(mod, version string) error {
	if err := module.CheckPath(mod); err != nil {
		return err
	}
	if !semver.IsValid(version) {
		return fmt.Errorf("%s: version %q is not a semantic version like v1.2.3", mod, version)
	}
	return module.Check(mod, version)
}

// Load reads every *.yaml file in dir. A missing directory has no patches.
func Load(dir string) ([]Patch, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read patches: %w", err)
	}
	var patches []Patch
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := Parse(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		patches = append(patches, p)
	}
	sort.Slice(patches, func(i, j int) bool { return patches[i].Name < patches[j].Name })
	return patches, errors.Join(errs...)
}

// Matches reports whether the patch's range covers version.
func (p Patch) Matches(version string) bool {
	v, err := goversion.NewVersion(version)
	return err == nil && p.Versions.Check(v)
}

// Covers reports whether the patch is for pl.
func (p Patch) Covers(pl platform.Platform) bool {
	return len(p.Platforms) == 0 || slices.Contains(p.Platforms, pl)
}

// Select returns the patches for program at version on pl, and the
// program's patches whose version range no longer matches (obsolete).
func Select(patches []Patch, program, version string, pl platform.Platform) (apply, obsolete []Patch) {
	for _, p := range patches {
		if p.Program != program {
			continue
		}
		switch {
		case !p.Matches(version):
			obsolete = append(obsolete, p)
		case p.Covers(pl):
			apply = append(apply, p)
		}
	}
	return apply, obsolete
}

// Apply edits go.mod data with the patches, in order.
func Apply(gomod []byte, patches []Patch) ([]byte, error) {
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return nil, fmt.Errorf("parse go.mod: %w", err)
	}
	for _, p := range patches {
		for _, r := range p.Require {
			if current := required(f, r.Module); current != "" && semver.Compare(current, r.Version) >= 0 {
				continue // already new enough: a patch only raises
			}
			if err := f.AddRequire(r.Module, r.Version); err != nil {
				return nil, fmt.Errorf("%s:%d: require %s %s: %w", p.File, r.Line, r.Module, r.Version, err)
			}
		}
		for _, r := range p.Replace {
			if err := f.AddReplace(r.Module, "", r.With, r.Version); err != nil {
				return nil, fmt.Errorf("%s:%d: replace %s: %w", p.File, r.Line, r.Module, err)
			}
		}
	}
	f.Cleanup()
	return f.Format()
}

func required(f *modfile.File, mod string) string {
	for _, r := range f.Require {
		if r.Mod.Path == mod {
			return r.Mod.Version
		}
	}
	return ""
}

// Overview is one patch against the catalog's pinned versions.
type Overview struct {
	Patch   Patch
	Pinned  string // the program's pinned version
	Applies bool   // false: obsolete at the pinned version
}

// Table renders overviews as the `mage patches` table.
func Table(rows []Overview) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATCH\tPROGRAM\tPINNED\tRANGE\tPLATFORMS\tSTATUS\tREASON")
	for _, r := range rows {
		status := "applies"
		if !r.Applies {
			status = "OBSOLETE: remove it"
		}
		platforms := "all"
		if len(r.Patch.Platforms) > 0 {
			var s []string
			for _, p := range r.Patch.Platforms {
				s = append(s, p.String())
			}
			platforms = strings.Join(s, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Patch.Name, r.Patch.Program, r.Pinned, r.Patch.Range, platforms, status, r.Patch.Reason)
	}
	tw.Flush()
	return b.String()
}
