package verify

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/attest"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// TestAttestationsC: a C program's image is held to the C SBOM rules: its
// pinned tarball and its binary; a changed pin fails the check.
func TestAttestationsC(t *testing.T) {
	prog, err := catalog.LoadProgram(filepath.Join("..", "render", "testdata", "c", "tmux"))
	if err != nil {
		t.Fatal(err)
	}
	pl := platform.Platform{OS: "linux", Arch: "arm64"}
	record := filepath.Join("..", "attest", "testdata", "record-tmux-linux-arm64")
	bin := filepath.Join(record, "binary")
	rec, err := attest.ReadBuildRecord(record)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := attest.CSBOMFromFile(bin, rec, CSubject(prog, pl, time.Unix(1728115200, 0)))
	if err != nil {
		t.Fatal(err)
	}
	image, _ := v1.NewHash("sha256:" + strings.Repeat("c", 64))
	stmt, err := attest.Statement(doc, attest.Image{Name: "127.0.0.1:5000/crossbin", Digest: image})
	if err != nil {
		t.Fatal(err)
	}
	provenance := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + strings.Repeat("c", 64) +
		`"}}],"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"invocation":{"parameters":{"args":{"build-arg:VERSION":"3.5a"}}}}}`)
	stmts := []registry.Statement{{PredicateType: attest.PredicateSPDX, Data: stmt}, {PredicateType: "https://slsa.dev/provenance/v0.2", Data: provenance}}
	if sbom, prov, err := Attestations(stmts, image, bin, prog, pl); err != nil || !sbom || !prov {
		t.Fatalf("sbom %v, provenance %v: %v", sbom, prov, err)
	}
	prog.Tarball.SHA256 = strings.Repeat("0", 64)
	if _, _, err := Attestations(stmts, image, bin, prog, pl); err == nil || !strings.Contains(err.Error(), "SBOM: the SBOM's tmux tarball is not the pinned sha256") {
		t.Errorf("changed pin: %v", err)
	}
}
