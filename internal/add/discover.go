package add

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Candidates are the module paths that may hold the package at importPath,
// longest first: the module of github.com/getsops/sops/v3/cmd/sops is one
// of it, …/v3/cmd and github.com/getsops/sops/v3 (never a bare major
// version element, which names no module of its own).
func Candidates(importPath string) []string {
	var out []string
	for p := importPath; strings.Contains(p, "/"); p = path.Dir(p) {
		if module.CheckPath(p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// buildContext is the platform the catalog's main packages are looked for
// on: the one every program builds for, without cgo.
func buildContext() build.Context {
	c := build.Default
	c.GOOS, c.GOARCH, c.CgoEnabled = "linux", "amd64", false
	c.GOROOT, c.GOPATH = "", ""
	return c
}

// skipDir reports directories that hold no command of the module: test data,
// vendored code, hidden and underscore directories, examples.
func skipDir(name string) bool {
	switch name {
	case "testdata", "vendor", "example", "examples", "_examples", "internal_test":
		return true
	}
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// MainPackages lists the module's main packages, as paths relative to dir
// (the module root), "." for the root itself. Nested modules (a directory
// with its own go.mod) are not part of the module and are skipped.
func MainPackages(dir string) ([]string, error) {
	// With cgo on, so a command that needs it is found, and refused for
	// that reason later, not as "no main package".
	ctx := buildContext()
	ctx.CgoEnabled = true
	var mains []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir {
			if skipDir(d.Name()) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		pkg, err := ctx.ImportDir(p, build.ImportComment)
		if err != nil || pkg.Name != "main" || len(pkg.GoFiles)+len(pkg.CgoFiles) == 0 {
			return nil //nolint:nilerr // a directory without a buildable package is no command
		}
		rel, _ := filepath.Rel(dir, p)
		mains = append(mains, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look for main packages: %w", err)
	}
	slices.Sort(mains)
	return mains, nil
}

// ChooseMain picks the main package of module mod (source in dir) for the
// import path the user gave: that package when it is inside the module,
// else the module root when it is a command, else the module's only
// command. Several commands are an error listing them.
func ChooseMain(mod, given string, mains []string) (string, error) {
	if given != mod {
		rel := strings.TrimPrefix(given, mod+"/")
		if !slices.Contains(mains, rel) {
			return "", fmt.Errorf("%s is not a main package of module %s (its commands: %s)", given, mod, list(mod, mains))
		}
		return rel, nil
	}
	switch {
	case slices.Contains(mains, "."):
		return ".", nil
	case len(mains) == 1:
		return mains[0], nil
	case len(mains) == 0:
		return "", fmt.Errorf("module %s has no main package: crossbin builds commands (package main)", mod)
	}
	return "", fmt.Errorf("module %s has several commands: %s; name one, e.g. `go tool mage add %s/%s`", mod, list(mod, mains), mod, mains[0])
}

func list(mod string, mains []string) string {
	if len(mains) == 0 {
		return "none"
	}
	var out []string
	for _, m := range mains {
		out = append(out, path.Join(mod, m))
	}
	return strings.Join(out, ", ")
}

// DefaultName is the name of the binary `go install` makes of pkg, by the
// go command's own rule: the last element, or the one before it when the
// last is a major version (…/yq/v4 → yq, golang.org/issue/24667).
func DefaultName(pkg string) string {
	dir, elem := path.Split(pkg)
	if elem != pkg && isVersionElement(elem) {
		_, elem = path.Split(path.Dir(dir + elem))
	}
	return elem
}

// isVersionElement reports v2, v3, …: a major version suffix.
func isVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || (s[1] == '1' && len(s) == 2) {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SourceKind decides how the Dockerfile gets the source, from the module's
// go.mod: `go install pkg@version` where it can (the go tool stamps the
// version into the build info), the module's source where go.mod has
// replace or exclude directives, which `go install pkg@version` refuses.
// It returns the kind and the note that says why.
func SourceKind(gomod []byte, mod string) (kind, note string, err error) {
	// Parse, not ParseLax: ParseLax drops the very directives asked about.
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return "", "", fmt.Errorf("read %s's go.mod: %w", mod, err)
	}
	var directives []string
	if len(f.Replace) > 0 {
		directives = append(directives, "replace")
	}
	if len(f.Exclude) > 0 {
		directives = append(directives, "exclude")
	}
	if len(directives) == 0 {
		return "install", "`go install module/pkg@version` lets the go tool stamp the real version.", nil
	}
	return "module", fmt.Sprintf("%s's go.mod has %s directives, so `go install module@version`\nrefuses it: this builds from the module's source.", path.Base(mod), strings.Join(directives, " and ")), nil
}

// versionNames are package-level string variables that usually hold a
// program's version, lower-cased.
var versionNames = []string{"version", "appversion", "gitversion", "buildversion", "versionstring", "semver", "release", "gittag", "tag"}

// StampTargets lists -X targets (importpath.name) that may carry the
// version, most likely first: string variables with a version-like name in
// the main package, in packages named like version or buildinfo, then in
// the module's packages the main package imports. The main package's own
// are named main.<name>, as the linker knows them.
func StampTargets(dir, mod, mainRel string) ([]string, error) {
	pkgs := []string{mainRel}
	imports, err := importsOf(filepath.Join(dir, mainRel))
	if err != nil {
		return nil, err
	}
	var named, imported []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || p == dir {
			return err
		}
		if skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return filepath.SkipDir // a nested module: not part of this one
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch base := strings.ToLower(d.Name()); {
		case strings.Contains(base, "version") || base == "buildinfo" || base == "build" || base == "meta":
			named = append(named, rel)
		case slices.Contains(imports, path.Join(mod, rel)):
			imported = append(imported, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look for version variables: %w", err)
	}
	pkgs = append(append(pkgs, named...), imported...)
	var out []string
	for _, rel := range pkgs {
		vars, err := stringVars(filepath.Join(dir, rel))
		if err != nil {
			continue
		}
		imp := path.Join(mod, rel)
		if rel == mainRel {
			// The linker names the main package "main".
			imp = "main"
		}
		for _, v := range vars {
			if slices.Contains(versionNames, strings.ToLower(v)) {
				out = append(out, imp+"."+v)
			}
		}
	}
	return out, nil
}

// importsOf lists the packages dir's Go files (for linux/amd64) import.
func importsOf(dir string) ([]string, error) {
	ctx := buildContext()
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return pkg.Imports, nil
}

// stringVars lists the package-level variables of dir's package that are
// strings: declared `string` or initialised with a string literal.
func stringVars(dir string) ([]string, error) {
	ctx := buildContext()
	pkg, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if isString(vs, i) && !slices.Contains(out, n.Name) {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out, nil
}

func isString(vs *ast.ValueSpec, i int) bool {
	if id, ok := vs.Type.(*ast.Ident); ok {
		return id.Name == "string"
	}
	if vs.Type == nil && i < len(vs.Values) {
		lit, ok := vs.Values[i].(*ast.BasicLit)
		if ok && lit.Kind == token.STRING {
			_, err := strconv.Unquote(lit.Value)
			return err == nil
		}
	}
	return false
}
