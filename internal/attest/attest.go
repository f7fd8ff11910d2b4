// Package attest says what crossbin built: an SPDX 2.3 SBOM for each
// platform image, made from the Go build info the binary itself carries, and
// an in-toto v1 statement that binds the SBOM to the image it describes.
//
// The build info is what the linker recorded, so the SBOM lists what was
// really compiled, not what a go.mod asked for: the main module, every module
// that contributed a package (after replacements and after crossbin's
// patches raised a requirement), the Go toolchain that built the standard
// library, and the build settings (GOOS, GOARCH, the instruction-set level,
// CGO_ENABLED, -trimpath, -tags; -ldflags only without -trimpath, since the
// go tool leaves it out of trimmed builds). debug/buildinfo reads it from an
// ELF of any architecture, so the SBOM of a riscv64 image is made on an amd64
// host from the binary verify already extracted.
//
// In the document:
//
//   - the main package is the program's main module, at the version crossbin
//     pinned when the build info says (devel) (builds from a module source
//     directory), with the binary's SHA-256 as its checksum;
//   - each dependency is a package named by what was compiled: a module
//     replaced by another appears as the replacement, its comment naming the
//     module it stands in for; a module replaced by a directory keeps its
//     path and has no version;
//   - a module's go.sum hash (h1:, a base64 SHA-256 over the module's file
//     list, not the hash of any one file) is an external reference of type
//     "go-sum", never an SPDX checksum;
//   - package URLs are pkg:golang/<module path>@<version>, segments
//     percent-encoded, case kept (Go module paths are case-sensitive);
//   - the document DESCRIBES the main package, which DEPENDS_ON every other;
//   - nothing depends on the clock: the namespace comes from the subject
//     (name, version, platform, binary digest), the creation time is the
//     program's release time, and packages are sorted, so the same binary
//     gives the same bytes.
//
// The unavailable program (unavailable/, built where a program has no real
// build) gets a document whose main package is crossbin's own module and
// whose comment says the image holds no upstream code.
//
// A C program's binary has no build info: its document (CSBOM, CheckC; see
// c.go) is made from the record its Dockerfile's sbom stage writes, and
// describes the pinned release tarball, the Debian packages and the
// compiler.
package attest

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/filehash"
	"github.com/crossbin/crossbin/internal/platform"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"
	"golang.org/x/mod/modfile"
)

const (
	// UnavailableModule is the main module of crossbin's fallback program.
	UnavailableModule = "github.com/crossbin/crossbin/unavailable"
	// NamespacePrefix begins every document namespace.
	NamespacePrefix = "https://crossbin.dev/spdx/"
	// Creator is the tool named in every document's creation info.
	Creator = "crossbin"

	noAssertion = "NOASSERTION"
	devel       = "(devel)"
)

// Subject is the binary an SBOM describes and what crossbin knows about it
// that the build info does not say.
type Subject struct {
	Name     string            // program name; the binary is /bin/<Name>
	Module   string            // module path crossbin pins
	Version  string            // version crossbin pins
	Platform platform.Platform // the image's platform
	SHA256   string            // hex SHA-256 of the binary
	Released time.Time         // the pinned version's release time: the document's creation time
	Patches  []Patch           // crossbin patches applied for this platform
	// Unavailable marks crossbin's fallback binary: the program has no real
	// build for Platform.
	Unavailable bool
}

// Patch is a crossbin patch applied to the program's go.mod for a platform:
// its name (patches/<Name>.yaml) and the module paths it requires or
// replaces. The versions come from the build info, which records the result.
type Patch struct {
	Name    string
	Modules []string
}

func (s Subject) String() string {
	return fmt.Sprintf("%s %s for %s", s.Name, s.Version, s.Platform)
}

// SBOMFromFile reads the Go build info of the binary at path, of any
// architecture, and returns its SBOM. The binary's SHA-256 fills
// subject.SHA256 when empty and must match it otherwise.
func SBOMFromFile(path string, subject Subject) (*spdx.Document, error) {
	sum, err := filehash.SHA256(path)
	if err != nil {
		return nil, fmt.Errorf("SBOM of %s: %w", subject, err)
	}
	switch {
	case subject.SHA256 == "":
		subject.SHA256 = sum
	case subject.SHA256 != sum:
		return nil, fmt.Errorf("SBOM of %s: %s has sha256 %s, want %s", subject, path, sum, subject.SHA256)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SBOM of %s: read build info: %w", subject, err)
	}
	return SBOM(info, subject)
}

// JSON encodes doc as indented SPDX JSON, the same bytes for the same
// document.
func JSON(doc *spdx.Document) ([]byte, error) {
	var b bytes.Buffer
	if err := spdxjson.Write(doc, &b, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("encode SPDX document %s: %w", doc.DocumentName, err)
	}
	return b.Bytes(), nil
}

// SBOM turns the build info of subject's binary into an SPDX 2.3 document.
// It fails when the build info contradicts the subject: another platform, or
// the unavailable program where a real build was expected (or the reverse).
func SBOM(info *debug.BuildInfo, subject Subject) (*spdx.Document, error) {
	fail := func(err error) (*spdx.Document, error) {
		return nil, fmt.Errorf("SBOM of %s: %w", subject, err)
	}
	if info == nil {
		return fail(errors.New("no build info"))
	}
	if err := subject.check(); err != nil {
		return fail(err)
	}
	if err := checkPlatform(info.Settings, subject.Platform); err != nil {
		return fail(err)
	}
	if err := checkMain(info, subject); err != nil {
		return fail(err)
	}
	std, err := stdlib(info.GoVersion)
	if err != nil {
		return fail(err)
	}

	main := mainPackage(info, subject)
	others := []*spdx.Package{std}
	for _, dep := range info.Deps {
		if dep != nil {
			others = append(others, dependency(dep, subject.Patches))
		}
	}
	slices.SortFunc(others, func(a, b *spdx.Package) int {
		return strings.Compare(a.PackageName+" "+a.PackageVersion, b.PackageName+" "+b.PackageVersion)
	})
	packages := append([]*spdx.Package{main}, others...)
	assignIDs(packages)

	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      subject.slug(),
		DocumentNamespace: NamespacePrefix + url.PathEscape(subject.slug()+"-"+subject.SHA256),
		DocumentComment:   documentComment(info, subject),
		CreationInfo: &spdx.CreationInfo{
			Creators: []spdx.Creator{{CreatorType: "Tool", Creator: Creator}},
			Created:  subject.Released.UTC().Format(time.RFC3339),
		},
		Packages: packages,
		Relationships: []*spdx.Relationship{{
			RefA:         spdx.DocElementID{ElementRefID: "DOCUMENT"},
			RefB:         spdx.DocElementID{ElementRefID: main.PackageSPDXIdentifier},
			Relationship: spdx.RelationshipDescribes,
		}},
	}
	for _, p := range others {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         spdx.DocElementID{ElementRefID: main.PackageSPDXIdentifier},
			RefB:         spdx.DocElementID{ElementRefID: p.PackageSPDXIdentifier},
			Relationship: spdx.RelationshipDependsOn,
		})
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return fail(fmt.Errorf("invalid document: %w", err))
	}
	return doc, nil
}

func (s Subject) check() error {
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, "/ "):
		return fmt.Errorf("program name %q is not a file name", s.Name)
	case s.Version == "":
		return errors.New("no pinned version")
	case s.Released.IsZero():
		return errors.New("no release time (the document's creation time)")
	case s.Unavailable && len(s.Patches) > 0:
		return errors.New("patches given for the unavailable program")
	}
	if _, err := s.Platform.GoEnv(); err != nil || s.Platform.OS == "" || s.Platform.Arch == "" {
		return fmt.Errorf("invalid platform %q", s.Platform)
	}
	if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(s.SHA256) != s.SHA256 {
		return fmt.Errorf("binary digest %q is not a lowercase hex SHA-256", s.SHA256)
	}
	return nil
}

// slug is name-version-os-arch[-variant], the document's name.
func (s Subject) slug() string {
	return s.Name + "-" + s.Version + "-" + strings.ReplaceAll(s.Platform.String(), "/", "-")
}

// checkPlatform compares the build settings with the platform's Go
// environment: GOOS, GOARCH and, where the build info records it, the
// instruction-set level (GOARM=7 for linux/arm/v7; Go may add ",softfloat").
func checkPlatform(settings []debug.BuildSetting, p platform.Platform) error {
	env, err := p.GoEnv()
	if err != nil {
		return err
	}
	recorded := map[string]string{}
	for _, s := range settings {
		recorded[s.Key] = s.Value
	}
	for i, v := range env {
		got, ok := recorded[v.Name]
		if !ok && i < 2 {
			return fmt.Errorf("build info records no %s", v.Name)
		}
		if v.Value == "" || !ok {
			continue
		}
		if level, _, _ := strings.Cut(got, ","); level != v.Value {
			return fmt.Errorf("binary was built with %s=%s, platform %s needs %s", v.Name, got, p, v)
		}
	}
	return nil
}

func checkMain(info *debug.BuildInfo, s Subject) error {
	isUnavailable := info.Main.Path == UnavailableModule
	switch {
	case s.Unavailable && !isUnavailable:
		return fmt.Errorf("binary's main module is %q, not crossbin's unavailable program", info.Main.Path)
	case !s.Unavailable && isUnavailable:
		return errors.New("binary is crossbin's unavailable program, but the subject is a real build")
	case info.Main.Path == "" && s.Module == "":
		return errors.New("neither the build info nor the subject names the main module")
	}
	return nil
}

func mainPackage(info *debug.BuildInfo, s Subject) *spdx.Package {
	path, version := info.Main.Path, info.Main.Version
	if path == "" {
		path = s.Module
	}
	var comment []string
	switch {
	case s.Unavailable:
		if version == devel {
			version = ""
		}
		comment = append(comment, fmt.Sprintf("crossbin's fallback program: it prints %q and exits 1.", s.Name+" "+s.Version+" is unavailable on "+s.Platform.String()))
	case version == devel || version == "":
		version = s.Version
		comment = append(comment, fmt.Sprintf("Built from the source of %s %s, pinned by crossbin (the build info says %q).", s.Module, s.Version, info.Main.Version))
	default:
		comment = append(comment, fmt.Sprintf("crossbin pins %s %s.", s.Module, s.Version))
	}
	comment = append(comment, fmt.Sprintf("Built for %s by %s from package %s with these settings (as `go version -m` shows them):", s.Platform, info.GoVersion, info.Path))
	comment = append(comment, buildSettings(info.Settings)...)

	p := goPackage(path, version, info.Main.Sum)
	p.PackageFileName = "/bin/" + s.Name
	p.PackageChecksums = []spdx.Checksum{{Algorithm: spdx.SHA256, Value: s.SHA256}}
	p.PrimaryPackagePurpose = "APPLICATION"
	if !s.Unavailable {
		p.ReleaseDate = s.Released.UTC().Format(time.RFC3339)
	}
	p.PackageComment = strings.Join(comment, "\n")
	return p
}

// buildSettings are the settings in the build info, KEY=VALUE in the
// go tool's order and quoting (-ldflags="-s -w").
func buildSettings(settings []debug.BuildSetting) []string {
	var out []string
	for line := range strings.Lines((&debug.BuildInfo{Settings: settings}).String()) {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(line, "build\t"), "\n"))
	}
	return out
}

// stdlib is the Go standard library and runtime, compiled into every Go
// binary by the toolchain named in the build info. Its package URL and CPE
// are spelled as scanners (syft, grype, trivy) match them: version without
// the "go" prefix.
func stdlib(goVersion string) (*spdx.Package, error) {
	release, _, _ := strings.Cut(goVersion, " ") // go1.26.8 X:boringcrypto → go1.26.8
	if !strings.HasPrefix(release, "go1") {
		return nil, fmt.Errorf("build info names no Go release (%q)", goVersion)
	}
	v := strings.TrimPrefix(release, "go")
	return &spdx.Package{
		PackageName:             "stdlib",
		PackageVersion:          release,
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "LIBRARY",
		PackageComment:          "The Go standard library and runtime, compiled in by " + goVersion + ".",
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: spdx.CategoryPackageManager, RefType: spdx.PackageManagerPURL, Locator: purl("stdlib", v)},
			{Category: spdx.CategorySecurity, RefType: spdx.SecurityCPE23Type, Locator: "cpe:2.3:a:golang:go:" + v + ":-:*:*:*:*:*:*"},
		},
	}, nil
}

// dependency is a module of the build info as it was compiled: a module
// replaced by another module appears as the replacement; one replaced by a
// directory keeps its path and has no version.
func dependency(m *debug.Module, patches []Patch) *spdx.Package {
	var p *spdx.Package
	var comment []string
	switch r := m.Replace; {
	case r == nil:
		p = goPackage(m.Path, m.Version, m.Sum)
	case modfile.IsDirectoryPath(r.Path): // the build info says version (devel)
		p = goPackage(m.Path, "", "")
		comment = append(comment, fmt.Sprintf("Replaces %s %s with the directory %s, which has no module version.", m.Path, m.Version, r.Path))
	default:
		p = goPackage(r.Path, r.Version, r.Sum)
		comment = append(comment, fmt.Sprintf("Replaces %s %s.", m.Path, m.Version))
	}
	for _, patch := range patches {
		if slices.Contains(patch.Modules, m.Path) {
			comment = append(comment, fmt.Sprintf("Set by crossbin patch %s (patches/%s.yaml), applied to this build.", patch.Name, patch.Name))
		}
	}
	p.PrimaryPackagePurpose = "LIBRARY"
	p.PackageComment = strings.Join(comment, " ")
	return p
}

// goPackage is a Go module at version (none for a directory), with its
// package URL and, when the build info has one, its go.sum hash.
func goPackage(path, version, sum string) *spdx.Package {
	p := &spdx.Package{
		PackageName:             path,
		PackageVersion:          version,
		PackageDownloadLocation: noAssertion,
	}
	if version != "" {
		p.PackageExternalReferences = append(p.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: spdx.CategoryPackageManager, RefType: spdx.PackageManagerPURL, Locator: purl(path, version),
		})
	}
	if sum != "" {
		p.PackageExternalReferences = append(p.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: spdx.CategoryOther, RefType: "go-sum", Locator: sum,
			ExternalRefComment: "go.sum hash of the module (dirhash h1: base64 SHA-256 over its files), as the build info records it",
		})
	}
	return p
}

// assignIDs gives each package SPDXRef-Package-<name>, with the characters
// SPDX identifiers do not allow replaced by '-' and a counter where two
// names would collide. The packages are already in their final order.
func assignIDs(packages []*spdx.Package) {
	seen := map[spdx.ElementID]bool{}
	for _, p := range packages {
		base := "Package-" + spdxID(p.PackageName)
		id := spdx.ElementID(base)
		for n := 2; seen[id]; n++ {
			id = spdx.ElementID(fmt.Sprintf("%s-%d", base, n))
		}
		seen[id] = true
		p.PackageSPDXIdentifier = id
	}
}

func documentComment(info *debug.BuildInfo, s Subject) string {
	if s.Unavailable {
		return fmt.Sprintf("%s %s is unavailable on %s: this image holds no code of %s. /bin/%s (sha256 %s) is crossbin's fallback program, module %s, which only prints so and exits 1; this document lists what that program was built from.",
			s.Name, s.Version, s.Platform, s.Name, s.Name, s.SHA256, UnavailableModule)
	}
	c := fmt.Sprintf("/bin/%s (sha256 %s) in crossbin's image of %s %s for %s, from the Go build info in the binary.", s.Name, s.SHA256, s.Module, s.Version, s.Platform)
	for _, patch := range s.Patches {
		var linked, absent []string
		for _, m := range patch.Modules {
			if slices.ContainsFunc(info.Deps, func(d *debug.Module) bool { return d != nil && d.Path == m }) {
				linked = append(linked, m)
			} else {
				absent = append(absent, m)
			}
		}
		c += fmt.Sprintf(" crossbin patch %s applies", patch.Name)
		if len(linked) > 0 {
			c += " (" + strings.Join(linked, ", ") + ")"
		}
		if len(absent) > 0 {
			c += "; not in this binary: " + strings.Join(absent, ", ")
		}
		c += "."
	}
	return c
}
