package attest

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crossbin/crossbin/internal/filehash"
	intoto "github.com/in-toto/attestation/go/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"google.golang.org/protobuf/encoding/protojson"
)

// ParseStatement reads an in-toto v1 statement: its predicate type, the
// subjects' sha256 digests and the predicate as JSON.
func ParseStatement(data []byte) (predicateType string, subjects []string, predicate []byte, err error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(data, &st); err != nil {
		return "", nil, nil, fmt.Errorf("in-toto statement: %w", err)
	}
	for _, s := range st.GetSubject() {
		subjects = append(subjects, "sha256:"+s.GetDigest()["sha256"])
	}
	predicate, err = protojson.Marshal(st.GetPredicate())
	if err != nil {
		return "", nil, nil, fmt.Errorf("in-toto statement predicate: %w", err)
	}
	return st.GetPredicateType(), subjects, predicate, nil
}

// ReadSPDX decodes an SPDX JSON document.
func ReadSPDX(data []byte) (*spdx.Document, error) {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("SPDX document: %w", err)
	}
	return doc, nil
}

// Check compares an SBOM with the binary it claims to describe: the
// described package must be the pinned module at the pinned version (or
// crossbin's unavailable program), carry the binary's SHA-256, and the
// document's packages must be exactly the modules the binary's build info
// lists, as compiled (replacements included), plus the standard library.
func Check(doc *spdx.Document, bin string, s Subject) error {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read the build info of %s: %w", bin, err)
	}
	sum, err := filehash.SHA256(bin)
	if err != nil {
		return err
	}
	s.SHA256 = sum
	main := described(doc)
	if main == nil {
		return fmt.Errorf("the SBOM describes no package")
	}
	wantPath := s.Module
	if s.Unavailable {
		wantPath = UnavailableModule
	}
	if main.PackageName != wantPath && main.PackageName != info.Main.Path {
		return fmt.Errorf("the SBOM describes %s, not %s", main.PackageName, wantPath)
	}
	if !s.Unavailable && main.PackageVersion != s.Version && main.PackageVersion != info.Main.Version {
		return fmt.Errorf("the SBOM describes %s %s, not the pinned %s", main.PackageName, main.PackageVersion, s.Version)
	}
	if !hasSHA256(main.PackageChecksums, sum) {
		return fmt.Errorf("the SBOM's %s is not this binary (sha256 %s)", main.PackageName, sum)
	}
	var want []string
	for _, dep := range info.Deps {
		if dep != nil {
			p := dependency(dep, nil)
			want = append(want, p.PackageName+"@"+p.PackageVersion)
		}
	}
	if std, err := stdlib(info.GoVersion); err == nil {
		want = append(want, std.PackageName+"@"+std.PackageVersion)
	}
	var got []string
	for _, p := range doc.Packages {
		if p != main {
			got = append(got, p.PackageName+"@"+p.PackageVersion)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("the SBOM lists %d modules, the binary's build info %d: missing %s, extra %s",
			len(got), len(want), orNone(minus(want, got)), orNone(minus(got, want)))
	}
	return nil
}

// described is the package the document DESCRIBES.
func described(doc *spdx.Document) *spdx.Package {
	for _, r := range doc.Relationships {
		if r.Relationship == spdx.RelationshipDescribes && r.RefA.ElementRefID == "DOCUMENT" {
			for _, p := range doc.Packages {
				if p.PackageSPDXIdentifier == r.RefB.ElementRefID {
					return p
				}
			}
		}
	}
	return nil
}

// Version reports whether the SBOM's described package is at version.
func Version(doc *spdx.Document) (module, version string) {
	if p := described(doc); p != nil {
		return p.PackageName, p.PackageVersion
	}
	return "", ""
}

// ProvenanceArg finds a build argument in a BuildKit provenance predicate
// (SLSA v0.2 invocation.parameters.args or v1 externalParameters.request.args).
func ProvenanceArg(predicate []byte, name string) (string, bool) {
	var p struct {
		Invocation struct {
			Parameters struct {
				Args map[string]string `json:"args"`
			} `json:"parameters"`
		} `json:"invocation"`
		BuildDefinition struct {
			ExternalParameters struct {
				Request struct {
					Args map[string]string `json:"args"`
				} `json:"request"`
			} `json:"externalParameters"`
		} `json:"buildDefinition"`
	}
	if json.Unmarshal(predicate, &p) != nil {
		return "", false
	}
	key := "build-arg:" + name
	if v, ok := p.BuildDefinition.ExternalParameters.Request.Args[key]; ok {
		return v, true
	}
	v, ok := p.Invocation.Parameters.Args[key]
	return v, ok
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// hasSHA256 reports whether checksums hold the SHA-256 v.
func hasSHA256(checksums []spdx.Checksum, v string) bool {
	return slices.ContainsFunc(checksums, func(c spdx.Checksum) bool { return c.Algorithm == spdx.SHA256 && c.Value == v })
}
