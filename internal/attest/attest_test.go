package attest

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/spdx/tools-golang/spdx"
)

var released = time.Date(2025, 7, 21, 9, 30, 0, 0, time.FixedZone("CEST", 2*60*60))

const binarySum = "4f2a0c7d9b1e3a5f6c8d0e2b4a6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d"

// dlvInfo is the build info of a program built from its module source
// ((devel)) for linux/arm/v7, with one dependency replaced by a crossbin
// patch.
func dlvInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "github.com/go-delve/delve/cmd/dlv",
		Main:      debug.Module{Path: "github.com/go-delve/delve", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/cosiner/argv", Version: "v0.1.0", Sum: "h1:BVDiEL32lwHukgJKP87btEPenzrrHUjajs/8yzaqcXg="},
			{
				Path: "golang.org/x/sys", Version: "v0.17.0", Sum: "h1:25cE3gD+tdBA7lp7QfhuV+rJiE9YXTcS3VG1SqssI/Y=",
				Replace: &debug.Module{Path: "golang.org/x/sys", Version: "v0.30.0", Sum: "h1:QT4PxZnuCmHvYx4SlmE8rFl4y1mvt4Ltq+VeJZMZV5U="},
			},
			{Path: "github.com/docker/docker", Version: "v20.10.27+incompatible", Sum: "h1:Id/XA1wTRBVGEFUTrGE7oCuZHgx0fWsvEsl7sFIiDcM="},
			{Path: "github.com/go-delve/liner", Version: "v1.2.3-0.20231231155935-4726ab1d7f62", Replace: &debug.Module{Path: "../liner", Version: "(devel)"}},
		},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "-compiler", Value: "gc"},
			{Key: "-ldflags", Value: "-s -w -X main.Version=v1.25.2"},
			{Key: "-tags", Value: "netgo,exp.linuxarm"},
			{Key: "-trimpath", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "arm"},
			{Key: "GOOS", Value: "linux"},
			{Key: "GOARM", Value: "7"},
		},
	}
}

func dlvSubject() Subject {
	return Subject{
		Name:     "dlv",
		Module:   "github.com/go-delve/delve",
		Version:  "v1.25.2",
		Platform: platform.Platform{OS: "linux", Arch: "arm", Variant: "v7"},
		SHA256:   binarySum,
		Released: released,
		Patches:  []Patch{{Name: "dlv-sys-arm", Modules: []string{"golang.org/x/sys", "golang.org/x/arch"}}},
	}
}

// unavailableInfo is the fallback program built for linux/s390x.
func unavailableInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      UnavailableModule,
		Main:      debug.Module{Path: UnavailableModule, Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "-compiler", Value: "gc"},
			{Key: "-ldflags", Value: "-s -w -X main.name=dlv -X main.version=v1.25.2 -X main.platform=linux/s390x"},
			{Key: "-trimpath", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "s390x"},
			{Key: "GOOS", Value: "linux"},
		},
	}
}

func unavailableSubject() Subject {
	s := dlvSubject()
	s.Platform = platform.Platform{OS: "linux", Arch: "s390x"}
	s.Patches = nil
	s.Unavailable = true
	return s
}

func TestSBOMGolden(t *testing.T) {
	for _, tc := range []struct {
		file    string
		info    *debug.BuildInfo
		subject Subject
	}{
		{"sbom-dlv-linux-arm-v7.spdx.json", dlvInfo(), dlvSubject()},
		{"sbom-unavailable-linux-s390x.spdx.json", unavailableInfo(), unavailableSubject()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := SBOM(tc.info, tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			got, err := JSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.file, got)
		})
	}
}

func TestSBOM(t *testing.T) {
	doc, err := SBOM(dlvInfo(), dlvSubject())
	if err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("version %q", doc.SPDXVersion)
	}
	if want := "https://crossbin.dev/spdx/dlv-v1.25.2-linux-arm-v7-" + binarySum; doc.DocumentNamespace != want {
		t.Errorf("namespace %q, want %q", doc.DocumentNamespace, want)
	}
	if want := "2025-07-21T07:30:00Z"; doc.CreationInfo.Created != want {
		t.Errorf("created %q, want the release time in UTC %q", doc.CreationInfo.Created, want)
	}

	main := doc.Packages[0]
	if main.PackageName != "github.com/go-delve/delve" || main.PackageVersion != "v1.25.2" {
		t.Errorf("main package %s %s, want the module at the pinned version (build info says (devel))", main.PackageName, main.PackageVersion)
	}
	if len(main.PackageChecksums) != 1 || main.PackageChecksums[0].Value != binarySum {
		t.Errorf("main checksums %v, want the binary's sha256", main.PackageChecksums)
	}
	for _, want := range []string{"GOOS=linux", "GOARCH=arm", "GOARM=7", "-tags=netgo,exp.linuxarm", "-trimpath=true", "CGO_ENABLED=0", `-ldflags="-s -w -X main.Version=v1.25.2"`, "by go1.26.8 from package github.com/go-delve/delve/cmd/dlv"} {
		if !strings.Contains(main.PackageComment, want) {
			t.Errorf("main package comment lacks %q:\n%s", want, main.PackageComment)
		}
	}

	byName := map[string]*spdx.Package{}
	for _, p := range doc.Packages {
		byName[p.PackageName] = p
	}
	sys := byName["golang.org/x/sys"]
	if sys == nil || sys.PackageVersion != "v0.30.0" {
		t.Fatalf("golang.org/x/sys: %+v, want the replacement v0.30.0", sys)
	}
	for _, want := range []string{"Replaces golang.org/x/sys v0.17.0", "crossbin patch dlv-sys-arm"} {
		if !strings.Contains(sys.PackageComment, want) {
			t.Errorf("x/sys comment %q lacks %q", sys.PackageComment, want)
		}
	}
	if got := refs(sys, "go-sum"); len(got) != 1 || got[0] != "h1:QT4PxZnuCmHvYx4SlmE8rFl4y1mvt4Ltq+VeJZMZV5U=" {
		t.Errorf("x/sys go-sum refs %v, want the replacement's h1", got)
	}
	if len(sys.PackageChecksums) != 0 {
		t.Errorf("x/sys has checksums %v; an h1 hash is no SPDX checksum", sys.PackageChecksums)
	}
	if got := refs(byName["github.com/docker/docker"], "purl"); len(got) != 1 || got[0] != "pkg:golang/github.com/docker/docker@v20.10.27%2Bincompatible" {
		t.Errorf("docker purl %v", got)
	}
	if liner := byName["github.com/go-delve/liner"]; liner.PackageVersion != "" || len(liner.PackageExternalReferences) != 0 || !strings.Contains(liner.PackageComment, "the directory ../liner") {
		t.Errorf("liner, replaced by a directory: %+v, want no version, no references, the directory named", liner)
	}
	if got := refs(byName["stdlib"], "purl"); len(got) != 1 || got[0] != "pkg:golang/stdlib@1.26.8" {
		t.Errorf("stdlib purl %v", got)
	}
	if !strings.Contains(doc.DocumentComment, "crossbin patch dlv-sys-arm applies (golang.org/x/sys); not in this binary: golang.org/x/arch") {
		t.Errorf("document comment does not account for the patch: %s", doc.DocumentComment)
	}

	// sorted after the main package; the main package depends on each
	names := []string{}
	for _, p := range doc.Packages[1:] {
		names = append(names, p.PackageName)
	}
	if want := "github.com/cosiner/argv github.com/docker/docker github.com/go-delve/liner golang.org/x/sys stdlib"; strings.Join(names, " ") != want {
		t.Errorf("packages %q, want %q", names, want)
	}
	checkRelationships(t, doc)
}

// checkRelationships: DOCUMENT DESCRIBES the first package, which
// DEPENDS_ON every other one.
func checkRelationships(t *testing.T, doc *spdx.Document) {
	t.Helper()
	main := doc.Packages[0].PackageSPDXIdentifier
	var describes, dependsOn []spdx.ElementID
	for _, r := range doc.Relationships {
		switch {
		case r.Relationship == spdx.RelationshipDescribes && r.RefA.ElementRefID == "DOCUMENT":
			describes = append(describes, r.RefB.ElementRefID)
		case r.Relationship == spdx.RelationshipDependsOn && r.RefA.ElementRefID == main:
			dependsOn = append(dependsOn, r.RefB.ElementRefID)
		default:
			t.Errorf("unexpected relationship %+v", r)
		}
	}
	if len(describes) != 1 || describes[0] != main {
		t.Errorf("DESCRIBES %v, want only %s", describes, main)
	}
	for i, p := range doc.Packages[1:] {
		if i >= len(dependsOn) || dependsOn[i] != p.PackageSPDXIdentifier {
			t.Errorf("%s DEPENDS_ON %v, want every other package in order", main, dependsOn)
			break
		}
	}
}

// refs are the locators of p's external references of type refType.
func refs(p *spdx.Package, refType string) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, r := range p.PackageExternalReferences {
		if r.RefType == refType {
			out = append(out, r.Locator)
		}
	}
	return out
}

func TestSBOMUnavailable(t *testing.T) {
	doc, err := SBOM(unavailableInfo(), unavailableSubject())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.DocumentComment, "dlv v1.25.2 is unavailable on linux/s390x: this image holds no code of dlv") {
		t.Errorf("document comment: %s", doc.DocumentComment)
	}
	main := doc.Packages[0]
	if main.PackageName != UnavailableModule || main.PackageVersion != "" {
		t.Errorf("main package %s %q, want crossbin's unavailable module without a version", main.PackageName, main.PackageVersion)
	}
	if got := refs(main, "purl"); len(got) != 0 {
		t.Errorf("unavailable program has purls %v; it has no version to name", got)
	}
	if len(doc.Packages) != 2 || doc.Packages[1].PackageName != "stdlib" {
		t.Errorf("packages %v, want the program and the standard library only", doc.Packages)
	}
	checkRelationships(t, doc)
}

func TestSBOMRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*debug.BuildInfo, *Subject)
		wantErr string
	}{
		{"other arm level", func(i *debug.BuildInfo, _ *Subject) { i.Settings[8].Value = "6" }, "GOARM=6, platform linux/arm/v7 needs GOARM=7"},
		{"other arch", func(_ *debug.BuildInfo, s *Subject) { s.Platform = platform.Platform{OS: "linux", Arch: "arm64"} }, "needs GOARCH=arm64"},
		{"no GOOS", func(i *debug.BuildInfo, _ *Subject) { i.Settings = i.Settings[:6] }, "records no GOOS"},
		{"unavailable binary, real subject", func(i *debug.BuildInfo, _ *Subject) { i.Main.Path = UnavailableModule }, "binary is crossbin's unavailable program"},
		{"real binary, unavailable subject", func(_ *debug.BuildInfo, s *Subject) { s.Unavailable, s.Patches = true, nil }, "not crossbin's unavailable program"},
		{"no release time", func(_ *debug.BuildInfo, s *Subject) { s.Released = time.Time{} }, "no release time"},
		{"short digest", func(_ *debug.BuildInfo, s *Subject) { s.SHA256 = "abc" }, "not a lowercase hex SHA-256"},
		{"no version", func(_ *debug.BuildInfo, s *Subject) { s.Version = "" }, "no pinned version"},
		{"no Go release", func(i *debug.BuildInfo, _ *Subject) { i.GoVersion = "" }, "names no Go release"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, subject := dlvInfo(), dlvSubject()
			tc.edit(info, &subject)
			_, err := SBOM(info, subject)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestPurl(t *testing.T) {
	for _, tc := range []struct{ path, version, want string }{
		{"golang.org/x/sys", "v0.30.0", "pkg:golang/golang.org/x/sys@v0.30.0"},
		{"github.com/BurntSushi/toml", "v1.4.0", "pkg:golang/github.com/BurntSushi/toml@v1.4.0"},
		{"github.com/docker/docker", "v20.10.27+incompatible", "pkg:golang/github.com/docker/docker@v20.10.27%2Bincompatible"},
		{"example.com/m", "v0.0.0-20250101000000-abcdef123456", "pkg:golang/example.com/m@v0.0.0-20250101000000-abcdef123456"},
		{"example.com/a b@c", "", "pkg:golang/example.com/a%20b%40c"},
		{"gopkg.in/yaml.v3", "v3.0.1", "pkg:golang/gopkg.in/yaml.v3@v3.0.1"},
	} {
		if got := purl(tc.path, tc.version); got != tc.want {
			t.Errorf("purl(%q, %q) = %q; want %q", tc.path, tc.version, got, tc.want)
		}
	}
}

func TestAssignIDs(t *testing.T) {
	packages := []*spdx.Package{{PackageName: "example.com/a_b"}, {PackageName: "example.com/a~b"}, {PackageName: "stdlib"}}
	assignIDs(packages)
	var got []string
	for _, p := range packages {
		got = append(got, string(p.PackageSPDXIdentifier))
	}
	if want := "Package-example.com-a-b Package-example.com-a-b-2 Package-stdlib"; strings.Join(got, " ") != want {
		t.Errorf("ids %q, want %q", got, want)
	}
}
