package attest

// SBOMs of C programs. A C binary carries no build info, so what went into
// it is recorded where it is built: the C Dockerfile's `sbom` stage (a
// directory crossbin builds with --target sbom to a local output right
// after the image, from the same cache; the published image holds only the
// binary) writes
//
//	sha256           the binary's sha256, which ties the record to the image
//	compiler         the first line of `$TRIPLE-gcc --version`
//	target           the build's TRIPLE, DEBARCH, ... (/etc/crossbin-target)
//	packages         dpkg-query -W -f '${Package} ${Version} ${Architecture}\n'
//	packages-before  the same, right before the target's libraries were
//	                 installed (absent when the program needs none)
//
// ReadBuildRecord keeps the packages that can be in the binary: those
// installed for the target through multiarch (Architecture = DEBARCH, and
// not there before the target's libraries: on an amd64 build machine
// building for amd64 the base system has that architecture too), and the
// cross toolchain, whose package names end in -cross (the C library,
// libgcc, kernel headers: linked in) or in the triple (gcc, binutils: build
// tools). Build-machine tools (bison, make, pkgconf's host part) are left
// out: nothing of them is in the binary.
//
// The document DESCRIBES the release tarball as a package (version, the
// URL as its download location, the pinned sha256 as its checksum); the
// binary is a file with its sha256 (and SHA-1, which SPDX 2.3 requires of
// files) GENERATED_FROM it; the binary DEPENDS_ON each Debian library
// package (pkg:deb/debian/NAME@VERSION?arch=ARCH); the compiler and the
// cross toolchain's tool packages are BUILD_TOOL_OF the binary.

import (
	"bufio"
	"bytes"
	"crypto/sha1" //nolint:gosec // SPDX 2.3 requires a SHA-1 checksum for every file; SHA-256 is there too
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/filehash"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdxlib"
)

// Build record files, as the C Dockerfile's sbom stage writes them.
const (
	RecordSHA256         = "sha256"
	RecordCompiler       = "compiler"
	RecordTarget         = "target"
	RecordPackages       = "packages"
	RecordPackagesBefore = "packages-before"
)

// DebPackage is an installed Debian package. Tool marks the cross
// toolchain's programs (gcc, binutils), which built the binary but are not
// in it.
type DebPackage struct {
	Name, Version, Arch string
	Tool                bool
}

// PURL is pkg:deb/debian/NAME@VERSION?arch=ARCH.
func (p DebPackage) PURL() string {
	return "pkg:deb/debian/" + purlEscape(p.Name) + "@" + purlEscape(p.Version) + "?arch=" + purlEscape(p.Arch)
}

// BuildRecord is what a C build recorded about its binary.
type BuildRecord struct {
	SHA256   string // the binary's, lowercase hex
	Compiler string // e.g. "aarch64-linux-gnu-gcc (Debian 14.2.0-19) 14.2.0"
	Triple   string // e.g. aarch64-linux-gnu
	DebArch  string // e.g. arm64
	// Packages are the Debian packages that went into the binary or built
	// it, sorted by name.
	Packages []DebPackage
}

// ReadBuildRecord reads the record a C build wrote into dir.
func ReadBuildRecord(dir string) (BuildRecord, error) {
	read := func(name string, optional bool) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if optional && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the C build record: %w", err)
		}
		return data, nil
	}
	var files [5][]byte
	for i, name := range []string{RecordSHA256, RecordCompiler, RecordTarget, RecordPackages, RecordPackagesBefore} {
		var err error
		if files[i], err = read(name, name == RecordPackagesBefore); err != nil {
			return BuildRecord{}, err
		}
	}
	return ParseBuildRecord(files[0], files[1], files[2], files[3], files[4])
}

// ParseBuildRecord reads the record's files' contents; before is nil when
// the build installed no target libraries.
func ParseBuildRecord(sha, compiler, target, packages, before []byte) (BuildRecord, error) {
	fail := func(format string, a ...any) (BuildRecord, error) {
		return BuildRecord{}, fmt.Errorf("the C build record: "+format, a...)
	}
	r := BuildRecord{SHA256: strings.TrimSpace(string(sha)), Compiler: strings.TrimSpace(string(compiler))}
	if b, err := hex.DecodeString(r.SHA256); err != nil || len(b) != 32 || strings.ToLower(r.SHA256) != r.SHA256 {
		return fail("%s %q is not a lowercase hex SHA-256", RecordSHA256, r.SHA256)
	}
	if r.Compiler == "" || strings.Contains(r.Compiler, "\n") {
		return fail("%s %q is not one line naming the compiler", RecordCompiler, r.Compiler)
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(target)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok {
			vars[k] = strings.Trim(v, `"`)
		}
	}
	r.Triple, r.DebArch = vars["TRIPLE"], vars["DEBARCH"]
	if r.Triple == "" || r.DebArch == "" {
		return fail("%s names no TRIPLE and DEBARCH", RecordTarget)
	}
	all, err := parseDpkg(packages)
	if err != nil {
		return fail("%s: %w", RecordPackages, err)
	}
	there, err := parseDpkg(before)
	if err != nil {
		return fail("%s: %w", RecordPackagesBefore, err)
	}
	r.Packages = selectPackages(all, there, before != nil, r.Triple, r.DebArch)
	return r, nil
}

// parseDpkg reads dpkg-query's "NAME VERSION ARCH" lines. Packages listed
// but not installed (dpkg-query -W shows them with an empty version) are
// left out.
func parseDpkg(data []byte) ([]DebPackage, error) {
	var out []DebPackage
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		switch len(f) {
		case 0:
			continue
		case 2: // no version: known, not installed
			continue
		case 3:
			out = append(out, DebPackage{Name: f[0], Version: f[1], Arch: f[2]})
		default:
			return nil, fmt.Errorf("line %d: %q is not NAME VERSION ARCH", n, sc.Text())
		}
	}
	return out, sc.Err()
}

// selectPackages keeps the target's libraries (new since before, of the
// target's architecture; none when the build installed none) and the cross
// toolchain's packages.
func selectPackages(all, before []DebPackage, installed bool, triple, debarch string) []DebPackage {
	suffix := "-" + strings.ReplaceAll(triple, "_", "-") // gcc-x86-64-linux-gnu
	var out []DebPackage
	for _, p := range all {
		switch {
		case strings.HasSuffix(p.Name, "-cross"):
		case strings.HasSuffix(p.Name, suffix):
			p.Tool = true
		case installed && p.Arch == debarch && !slices.Contains(before, p):
		default:
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b DebPackage) int { return strings.Compare(a.Name+" "+a.Arch, b.Name+" "+b.Arch) })
	return out
}

// CSubject is a C program's binary and the pins it was built from.
type CSubject struct {
	Name     string            // the binary is /bin/<Name>
	Version  string            // pinned version
	Platform platform.Platform // the image's
	Released time.Time         // the document's creation time
	// URL is the release tarball's upstream URL at Version; TarballSHA256
	// its pinned digest.
	URL, TarballSHA256 string
	// Deps are the libraries built from their own pinned tarballs and
	// linked in (catalog.Dep).
	Deps []CDep
}

// CDep is one library built from its pinned release tarball: its upstream
// URL at Version and its pinned sha256.
type CDep struct {
	Name, Version, URL, SHA256 string
}

func (d CDep) id() spdx.ElementID { return spdx.ElementID("Package-dep-" + spdxID(d.Name)) }

// tarballPackage is the SPDX package of a pinned release tarball.
func tarballPackage(id spdx.ElementID, name, version, u, sha256 string) *spdx.Package {
	return &spdx.Package{
		PackageSPDXIdentifier:   id,
		PackageName:             name,
		PackageVersion:          version,
		PackageFileName:         path.Base(urlPath(u)),
		PackageDownloadLocation: u,
		PackageChecksums:        []spdx.Checksum{{Algorithm: spdx.SHA256, Value: sha256}},
		PackageExternalReferences: []*spdx.PackageExternalReference{{
			Category: spdx.CategoryPackageManager, RefType: spdx.PackageManagerPURL,
			Locator: "pkg:generic/" + purlEscape(name) + "@" + purlEscape(version) + "?checksum=sha256:" + sha256 + "&download_url=" + url.QueryEscape(u),
		}},
	}
}

func (s CSubject) String() string { return fmt.Sprintf("%s %s for %s", s.Name, s.Version, s.Platform) }

func (s CSubject) slug() string {
	return s.Name + "-" + s.Version + "-" + strings.ReplaceAll(s.Platform.String(), "/", "-")
}

// CSBOMFromFile is the SBOM of the C binary at path from its build record.
func CSBOMFromFile(path string, rec BuildRecord, s CSubject) (*spdx.Document, error) {
	sum, err := filehash.SHA256(path)
	if err != nil {
		return nil, fmt.Errorf("SBOM of %s: %w", s, err)
	}
	sha1sum, err := fileSHA1(path)
	if err != nil {
		return nil, fmt.Errorf("SBOM of %s: %w", s, err)
	}
	if rec.SHA256 != sum {
		return nil, fmt.Errorf("SBOM of %s: the build record describes a binary with sha256 %s, the image holds %s (the sbom stage was built again instead of taken from the image build's cache)", s, rec.SHA256, sum)
	}
	return CSBOM(rec, s, sha1sum)
}

func fileSHA1(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New() //nolint:gosec // see the import
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CSBOM is the SPDX 2.3 document of a C binary; sha1 is the binary's SHA-1.
func CSBOM(rec BuildRecord, s CSubject, sha1 string) (*spdx.Document, error) {
	fail := func(err error) (*spdx.Document, error) { return nil, fmt.Errorf("SBOM of %s: %w", s, err) }
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, "/ "):
		return fail(fmt.Errorf("program name %q is not a file name", s.Name))
	case s.Version == "" || s.URL == "" || s.TarballSHA256 == "":
		return fail(errors.New("no pinned version, tarball URL or tarball sha256"))
	case s.Released.IsZero():
		return fail(errors.New("no release time (the document's creation time)"))
	}
	if err := checkTriple(rec.Triple, s.Platform); err != nil {
		return fail(err)
	}
	compiler, err := compilerPackage(rec.Compiler, rec.Triple)
	if err != nil {
		return fail(err)
	}

	src := tarballPackage(spdx.ElementID("Package-"+spdxID(s.Name)), s.Name, s.Version, s.URL, s.TarballSHA256)
	src.PrimaryPackagePurpose = "SOURCE"
	src.ReleaseDate = s.Released.UTC().Format(time.RFC3339)
	src.PackageComment = fmt.Sprintf("The release tarball crossbin pins (URL and sha256 in the Dockerfile), verified before it was unpacked and built for %s.", s.Platform)
	bin := &spdx.File{
		FileSPDXIdentifier: spdx.ElementID("File-bin-" + spdxID(s.Name)),
		FileName:           "/bin/" + s.Name,
		FileTypes:          []string{"BINARY"},
		Checksums:          []spdx.Checksum{{Algorithm: spdx.SHA1, Value: sha1}, {Algorithm: spdx.SHA256, Value: rec.SHA256}},
		FileCopyrightText:  noAssertion,
		FileComment:        fmt.Sprintf("Statically linked for %s by %s.", s.Platform, rec.Compiler),
	}
	packages := []*spdx.Package{src, compiler}
	rels := []*spdx.Relationship{
		rel("DOCUMENT", src.PackageSPDXIdentifier, spdx.RelationshipDescribes),
		rel(bin.FileSPDXIdentifier, src.PackageSPDXIdentifier, spdx.RelationshipGeneratedFrom),
		rel(compiler.PackageSPDXIdentifier, bin.FileSPDXIdentifier, spdx.RelationshipBuildToolOf),
	}
	for _, d := range s.Deps {
		if d.Name == "" || d.Version == "" || d.URL == "" || d.SHA256 == "" {
			return fail(fmt.Errorf("dep %q: no pinned version, tarball URL or sha256", d.Name))
		}
		dp := tarballPackage(d.id(), d.Name, d.Version, d.URL, d.SHA256)
		dp.PrimaryPackagePurpose = "LIBRARY"
		dp.PackageComment = fmt.Sprintf("A library built from its release tarball crossbin pins (URL and sha256 in the Dockerfile), verified before it was unpacked, built for %s and linked statically.", s.Platform)
		packages = append(packages, dp)
		rels = append(rels, rel(bin.FileSPDXIdentifier, dp.PackageSPDXIdentifier, spdx.RelationshipDependsOn))
	}
	for _, p := range rec.Packages {
		dp := &spdx.Package{
			PackageSPDXIdentifier:   spdx.ElementID("Package-deb-" + spdxID(p.Name) + "-" + spdxID(p.Arch)),
			PackageName:             p.Name,
			PackageVersion:          p.Version,
			PackageDownloadLocation: noAssertion,
			PackageSupplier:         &spdx.Supplier{Supplier: "Debian", SupplierType: "Organization"},
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: spdx.CategoryPackageManager, RefType: spdx.PackageManagerPURL, Locator: p.PURL(),
			}},
		}
		if p.Tool {
			dp.PrimaryPackagePurpose = "APPLICATION"
			dp.PackageComment = "Part of the cross toolchain that built the binary; not in it."
			rels = append(rels, rel(dp.PackageSPDXIdentifier, bin.FileSPDXIdentifier, spdx.RelationshipBuildToolOf))
		} else {
			dp.PrimaryPackagePurpose = "LIBRARY"
			dp.PackageComment = "Installed for the target when the binary was linked statically: its static libraries and headers were there to link."
			rels = append(rels, rel(bin.FileSPDXIdentifier, dp.PackageSPDXIdentifier, spdx.RelationshipDependsOn))
		}
		packages = append(packages, dp)
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      s.slug(),
		DocumentNamespace: NamespacePrefix + url.PathEscape(s.slug()+"-"+rec.SHA256),
		DocumentComment: fmt.Sprintf("/bin/%s (sha256 %s) in crossbin's image of %s %s for %s, built from the release tarball by %s; the Debian packages are those the build installed for the target (multiarch, %s) and the cross toolchain's, as dpkg recorded them in the build stage.",
			s.Name, rec.SHA256, s.Name, s.Version, s.Platform, rec.Compiler, rec.DebArch),
		CreationInfo: &spdx.CreationInfo{
			Creators: []spdx.Creator{{CreatorType: "Tool", Creator: Creator}},
			Created:  s.Released.UTC().Format(time.RFC3339),
		},
		Packages:      packages,
		Files:         []*spdx.File{bin},
		Relationships: rels,
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		return fail(fmt.Errorf("invalid document: %w", err))
	}
	return doc, nil
}

func rel(a, b spdx.ElementID, kind string) *spdx.Relationship {
	return &spdx.Relationship{RefA: spdx.DocElementID{ElementRefID: a}, RefB: spdx.DocElementID{ElementRefID: b}, Relationship: kind}
}

// checkTriple compares the record's triple with the platform table's.
func checkTriple(triple string, pl platform.Platform) error {
	t, ok := pl.CrossC()
	if !ok {
		return fmt.Errorf("the platform table has no C toolchain for %s", pl)
	}
	if t.Triple != triple {
		return fmt.Errorf("the build record is for %s, platform %s builds with %s", triple, pl, t.Triple)
	}
	return nil
}

// compilerPackage is the compiler as `gcc --version` names it: the
// command and the version (its last word).
func compilerPackage(line, triple string) (*spdx.Package, error) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != triple+"-gcc" {
		return nil, fmt.Errorf("the build record's compiler %q is not %s-gcc", line, triple)
	}
	return &spdx.Package{
		PackageSPDXIdentifier:   spdx.ElementID("Package-compiler-" + spdxID(f[0])),
		PackageName:             f[0],
		PackageVersion:          f[len(f)-1],
		PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose:   "APPLICATION",
		PackageComment:          "The C compiler, as `" + f[0] + " --version` names itself: " + line,
	}, nil
}

// spdxID replaces what SPDX identifiers do not allow with '-'.
func spdxID(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return '-'
	}, s)
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}

// CheckC compares a C image's SBOM with its binary and the program's pins:
// it must describe the pinned tarball (name, version, URL, sha256), hold
// /bin/<name> with the binary's sha256 generated from it, name the
// platform's cross compiler as a build tool, name exactly the pinned deps
// (each library built from its own tarball: URL, sha256, linked in), and
// give every Debian package a pkg:deb purl.
func CheckC(doc *spdx.Document, bin string, s CSubject) error {
	sum, err := filehash.SHA256(bin)
	if err != nil {
		return err
	}
	src := described(doc)
	switch {
	case src == nil:
		return errors.New("the SBOM describes no package")
	case src.PackageName != s.Name || src.PackageVersion != s.Version:
		return fmt.Errorf("the SBOM describes %s %s, not the pinned %s %s", src.PackageName, src.PackageVersion, s.Name, s.Version)
	case src.PackageDownloadLocation != s.URL:
		return fmt.Errorf("the SBOM's %s comes from %s, not the pinned %s", s.Name, src.PackageDownloadLocation, s.URL)
	case !hasSHA256(src.PackageChecksums, s.TarballSHA256):
		return fmt.Errorf("the SBOM's %s tarball is not the pinned sha256 %s", s.Name, s.TarballSHA256)
	}
	var file *spdx.File
	for _, f := range doc.Files {
		if f.FileName == "/bin/"+s.Name {
			file = f
		}
	}
	if file == nil || !hasSHA256(file.Checksums, sum) {
		return fmt.Errorf("the SBOM's /bin/%s is not this binary (sha256 %s)", s.Name, sum)
	}
	related := func(a, b spdx.ElementID, kind string) bool {
		return slices.ContainsFunc(doc.Relationships, func(r *spdx.Relationship) bool {
			return r.RefA.ElementRefID == a && r.RefB.ElementRefID == b && r.Relationship == kind
		})
	}
	if !related(file.FileSPDXIdentifier, src.PackageSPDXIdentifier, spdx.RelationshipGeneratedFrom) {
		return fmt.Errorf("the SBOM does not say /bin/%s was generated from the tarball", s.Name)
	}
	t, ok := s.Platform.CrossC()
	if !ok {
		return fmt.Errorf("the platform table has no C toolchain for %s", s.Platform)
	}
	for _, d := range s.Deps {
		i := slices.IndexFunc(doc.Packages, func(p *spdx.Package) bool { return p.PackageSPDXIdentifier == d.id() })
		switch {
		case i < 0 || doc.Packages[i].PackageName != d.Name || doc.Packages[i].PackageVersion != d.Version:
			return fmt.Errorf("the SBOM does not name the library %s %s built from its pinned tarball", d.Name, d.Version)
		case doc.Packages[i].PackageDownloadLocation != d.URL ||
			!hasSHA256(doc.Packages[i].PackageChecksums, d.SHA256):
			return fmt.Errorf("the SBOM's %s is not the pinned tarball %s (sha256 %s)", d.Name, d.URL, d.SHA256)
		case !related(file.FileSPDXIdentifier, d.id(), spdx.RelationshipDependsOn):
			return fmt.Errorf("the SBOM does not say /bin/%s links %s", s.Name, d.Name)
		}
	}
	var compilers []string
	for _, p := range doc.Packages {
		if p == src {
			continue
		}
		if strings.HasPrefix(string(p.PackageSPDXIdentifier), "Package-dep-") { // checked above when pinned
			if !slices.ContainsFunc(s.Deps, func(d CDep) bool { return p.PackageSPDXIdentifier == d.id() }) {
				return fmt.Errorf("the SBOM names a library %s %s built from source that the pins do not", p.PackageName, p.PackageVersion)
			}
			continue
		}
		if strings.HasSuffix(p.PackageName, "-gcc") && related(p.PackageSPDXIdentifier, file.FileSPDXIdentifier, spdx.RelationshipBuildToolOf) {
			compilers = append(compilers, p.PackageName)
			continue
		}
		if !slices.ContainsFunc(p.PackageExternalReferences, func(r *spdx.PackageExternalReference) bool {
			return r.RefType == spdx.PackageManagerPURL && strings.HasPrefix(r.Locator, "pkg:deb/debian/"+purlEscape(p.PackageName)+"@")
		}) {
			return fmt.Errorf("the SBOM's package %s %s has no pkg:deb purl", p.PackageName, p.PackageVersion)
		}
	}
	if want := t.Triple + "-gcc"; !slices.Equal(compilers, []string{want}) {
		return fmt.Errorf("the SBOM names %s as the compiler of /bin/%s, want %s", orNone(compilers), s.Name, want)
	}
	return nil
}
