package verify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/attest"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// provenancePrefix starts every SLSA provenance predicate type BuildKit
// writes (v0.2 and v1).
const provenancePrefix = "https://slsa.dev/provenance/"

// Attestations checks a platform image's in-toto statements against its
// binary: an SBOM about this image that lists exactly what the binary's
// build info says it was compiled from, for the pinned module and version
// (attest.Check) or, for a C program, that describes its pinned tarball and
// this binary (attest.CheckC), and BuildKit's provenance naming the pinned
// VERSION.
func Attestations(stmts []registry.Statement, image v1.Hash, bin string, prog catalog.Program, pl platform.Platform) (sbom, provenance bool, err error) {
	var errs []error
	for _, st := range stmts {
		switch {
		case st.PredicateType == attest.PredicateSPDX:
			if err := checkSBOM(st.Data, image, bin, prog, pl); err != nil {
				errs = append(errs, err)
				continue
			}
			sbom = true
		case strings.HasPrefix(st.PredicateType, provenancePrefix):
			if err := checkProvenance(st.Data, prog); err != nil {
				errs = append(errs, err)
				continue
			}
			provenance = true
		}
	}
	if !sbom && len(errs) == 0 {
		errs = append(errs, errors.New("no SBOM attestation"))
	}
	if !provenance && len(errs) == 0 {
		errs = append(errs, errors.New("no provenance attestation"))
	}
	return sbom, provenance, errors.Join(errs...)
}

func checkSBOM(data []byte, image v1.Hash, bin string, prog catalog.Program, pl platform.Platform) error {
	_, subjects, predicate, err := attest.ParseStatement(data)
	if err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	if len(subjects) != 1 || subjects[0] != image.String() {
		return fmt.Errorf("SBOM: it is about %v, not the image %s", subjects, image)
	}
	doc, err := attest.ReadSPDX(predicate)
	if err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	if prog.Tarball != nil && prog.Available(pl) {
		if err := attest.CheckC(doc, bin, CSubject(prog, pl, time.Time{})); err != nil {
			return fmt.Errorf("SBOM: %w", err)
		}
		return nil
	}
	s := attest.Subject{Name: prog.Name, Module: prog.Module, Version: prog.Version, Platform: pl, Unavailable: !prog.Available(pl)}
	if err := attest.Check(doc, bin, s); err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	return nil
}

// CSubject is what a C program's SBOM for pl must say: its pins (the
// tarball's URL at the pinned version and its sha256). released is the
// document's creation time (not checked).
func CSubject(prog catalog.Program, pl platform.Platform, released time.Time) attest.CSubject {
	s := attest.CSubject{
		Name: prog.Name, Version: prog.Version, Platform: pl, Released: released,
		URL: catalog.ExpandVersion(prog.Tarball.URL, prog.Version), TarballSHA256: prog.Tarball.SHA256,
	}
	for _, d := range prog.Deps {
		s.Deps = append(s.Deps, attest.CDep{Name: d.Name, Version: d.Version, URL: d.Upstream(), SHA256: d.Tarball.SHA256})
	}
	return s
}

func checkProvenance(data []byte, prog catalog.Program) error {
	_, _, predicate, err := attest.ParseStatement(data)
	if err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	v, ok := attest.ProvenanceArg(predicate, "VERSION")
	switch {
	case !ok:
		return errors.New("provenance: it records no VERSION build argument")
	case v != prog.Version:
		return fmt.Errorf("provenance: it builds VERSION=%s, not the pinned %s", v, prog.Version)
	}
	return nil
}
