package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/attest"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
	"github.com/spdx/tools-golang/spdx"
)

// Attester attaches an SBOM to one built image and returns the image's
// attestation manifests afterwards.
type Attester interface {
	Attest(ctx context.Context, o Outcome, src source.Source, released time.Time) ([]v1.Hash, error)
}

// AttestStep writes an SBOM for every image this run built, from the Go
// build info of the binary inside it or, for a C program, from the build
// record its build step exported (internal/attest), and attaches it
// beside BuildKit's provenance. Images built elsewhere (a distributed
// run's records) came with theirs; VerifyStep checks both kinds.
type AttestStep struct{}

func (AttestStep) String() string { return "attest" }

func (AttestStep) Run(ctx context.Context, c *Context) error {
	a := c.Attester
	if a == nil {
		a = sbomAttester{c.Registry, c.Repository}
	}
	built := func(i int) []int {
		if c.prepared[i].Released.IsZero() {
			return nil // no source prepared: nothing built in this run
		}
		var jobs []int
		for j, o := range c.Reports[i].Outcomes {
			if o.Err == nil {
				jobs = append(jobs, j)
			}
		}
		return jobs
	}
	c.forEachJob(built, func(i int, o *Outcome) {
		p := c.prepared[i]
		atts, err := a.Attest(ctx, *o, p.ByPlatform[o.Platform], p.Released)
		if err != nil {
			o.Err = fmt.Errorf("attest: %w", err)
			return
		}
		o.Attestations = atts
	})
	c.settle(ErrAttestFailed)
	return nil
}

// sbomAttester pulls the image, reads its binary's build info and attaches
// the SBOM as an in-toto statement.
type sbomAttester struct {
	reg  registry.Client
	repo string
}

func (a sbomAttester) Attest(ctx context.Context, o Outcome, src source.Source, released time.Time) ([]v1.Hash, error) {
	prog := o.Program
	img, err := a.reg.ImageByDigest(ctx, a.repo, o.Digest)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "crossbin-attest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, prog.Name)
	if _, err := registry.ExtractFile(img, "bin/"+prog.Name, bin); err != nil {
		return nil, err
	}
	doc, err := sbom(bin, o, src, released)
	if err != nil {
		return nil, err
	}
	stmt, err := attest.Statement(doc, attest.Image{Name: a.repo, Digest: o.Digest})
	if err != nil {
		return nil, err
	}
	return a.reg.Attach(ctx, a.repo, o.Digest, o.Attestations, stmt, attest.PredicateSPDX)
}

// sbom is the SBOM of the job's binary: a C program's from its build
// record, every other (Go programs, unavailable platforms) from the
// binary's Go build info.
func sbom(bin string, o Outcome, src source.Source, released time.Time) (*spdx.Document, error) {
	prog := o.Program
	if prog.Tarball != nil && !o.Unavailable {
		rec, err := attest.ReadBuildRecord(o.Record)
		if err != nil {
			return nil, err
		}
		return attest.CSBOMFromFile(bin, rec, verify.CSubject(prog, o.Platform, released))
	}
	subject := attest.Subject{Name: prog.Name, Module: prog.Module, Version: prog.Version, Platform: o.Platform, Released: released, Unavailable: o.Unavailable}
	for _, p := range src.Applied {
		ap := attest.Patch{Name: p.Name}
		for _, r := range p.Require {
			ap.Modules = append(ap.Modules, r.Module)
		}
		for _, r := range p.Replace {
			ap.Modules = append(ap.Modules, r.Module)
		}
		subject.Patches = append(subject.Patches, ap)
	}
	return attest.SBOMFromFile(bin, subject)
}
