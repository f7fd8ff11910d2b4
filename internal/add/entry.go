package add

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/render"
)

// Entry is what `mage add` found out about a program: everything its
// catalog directory says.
type Entry struct {
	Name        string
	Module      string
	Version     string
	Main        string // main package relative to the module root, "." for the root
	Description string
	Homepage    string
	Repository  string // the source repository, when the module path does not say it
	Kind        string // install or module
	Note        []string
	Smoke       Smoke
	// Unavailable says why each platform that did not cross-compile did
	// not.
	Unavailable map[platform.Platform]string
}

// Package is the main package's import path.
func (e Entry) Package() string {
	if e.Main == "." {
		return e.Module
	}
	return e.Module + "/" + e.Main
}

// SpecYAML renders program.yaml: only what differs from the defaults, in
// the order the catalog's hand-written specs use.
func (e Entry) SpecYAML() []byte {
	var b bytes.Buffer
	b.WriteString("# Written by `go tool mage add " + e.Package() + "`; edit freely.\n")
	fmt.Fprintf(&b, "description: %s\n", scalar(e.Description))
	if e.Homepage != "" {
		fmt.Fprintf(&b, "homepage: %s\n", scalar(e.Homepage))
	}
	if len(e.Unavailable) > 0 {
		b.WriteString("# Found by cross-compiling every default platform (CGO_ENABLED=0): the\n# compiler's first error.\nunavailable:\n")
		for _, pl := range platform.Defaults() {
			if reason, ok := e.Unavailable[pl]; ok {
				fmt.Fprintf(&b, "  %s: %s\n", pl, scalar(reason))
			}
		}
	}
	if !slices.Equal(e.Smoke.Args, []string{"--version"}) {
		fmt.Fprintf(&b, "smoke: %s\n", flow(e.Smoke.Args))
	}
	if e.Smoke.Expect != "" {
		fmt.Fprintf(&b, "expect: %s\n", scalar(e.Smoke.Expect))
	}
	if e.Smoke.Exit != 0 {
		fmt.Fprintf(&b, "exit: %d\n", e.Smoke.Exit)
	}
	b.WriteString("\nbuild:\n")
	fmt.Fprintf(&b, "  from: %s\n", e.Kind)
	if e.Smoke.LDFlags != "" {
		fmt.Fprintf(&b, "  ldflags: %s\n", scalar(e.Smoke.LDFlags))
	}
	if e.Repository != "" {
		fmt.Fprintf(&b, "  repository: %s\n", scalar(e.Repository))
	}
	if len(e.Note) > 0 {
		b.WriteString("  note: |\n")
		for _, line := range e.Note {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("    " + line + "\n")
		}
	}
	return b.Bytes()
}

// scalar is s as a YAML scalar, quoted where YAML needs it.
func scalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func flow(args []string) string {
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, scalar(a))
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// pins is the top of the Dockerfile that program.yaml's render completes.
func (e Entry) pins() []byte {
	pkg := "${MODULE}"
	if e.Main != "." {
		pkg += "/" + e.Main
	}
	return fmt.Appendf(nil, "ARG MODULE=%s\n# %s\nARG VERSION=%s\nARG PACKAGE=%s\n", e.Module, catalog.RenovateComment(e.Module), e.Version, pkg)
}

// Write creates catalogDir/<name> with program.yaml and the rendered
// Dockerfile, checked by loading it as the catalog does. The directory
// appears whole or not at all: it is assembled next to the catalog and
// renamed into place.
func (e Entry) Write(catalogDir string) (catalog.Program, error) {
	final := filepath.Join(catalogDir, e.Name)
	if _, err := os.Stat(final); err == nil {
		return catalog.Program{}, fmt.Errorf("%s already exists: a program named %s is in the catalog; choose another -name", final, e.Name)
	}
	// Beside the catalog, not in it: one left by a killed run does not
	// break loading the catalog.
	tmp, err := os.MkdirTemp(filepath.Dir(catalogDir), ".crossbin-add-")
	if err != nil {
		return catalog.Program{}, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, e.Name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return catalog.Program{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, catalog.SpecFile), e.SpecYAML(), 0o644); err != nil {
		return catalog.Program{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), e.pins(), 0o644); err != nil {
		return catalog.Program{}, err
	}
	prog, err := catalog.LoadProgram(dir)
	if err != nil {
		return catalog.Program{}, fmt.Errorf("the entry for %s does not load: %w", e.Name, err)
	}
	df, err := render.Dockerfile(prog)
	if err != nil {
		return catalog.Program{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		return catalog.Program{}, err
	}
	if prog, err = catalog.LoadProgram(dir); err != nil {
		return catalog.Program{}, fmt.Errorf("the rendered entry for %s does not load: %w", e.Name, err)
	}
	if err := os.Rename(dir, final); err != nil {
		return catalog.Program{}, fmt.Errorf("move %s into the catalog: %w", e.Name, err)
	}
	prog.Dir = final
	return prog, nil
}
