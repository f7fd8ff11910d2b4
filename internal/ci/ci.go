// Package ci decides what a CI run builds and records what it built.
//
// Every program's build inputs hash to one digest (internal/inputs).
// Publishing records it as an annotation on the program's index; the plan
// compares it with what the registry holds, so a run with nothing changed
// builds nothing, and a changed pin rebuilds exactly that program.
//
// The same plan drives one process (`mage ci`) or a distributed run: the
// plan as a job matrix (ci:plan), one job per runner writing a Record
// (ci:build), and the merge of all records (ci:merge), which moves a
// program's tags only if nobody published it since its jobs planned
// (CheckMove). A program that cannot be planned fails alone (Entry.Err).
package ci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// Entry is one program in the plan.
type Entry struct {
	Program catalog.Program
	Inputs  string
	Build   bool
	Reason  string // why it is built, or why not
	// Err is why the program could not be planned: its inputs could not be
	// read, or the registry did not answer for one of its tags. Such a
	// program is neither built nor up to date; the others go on, and the
	// run fails naming it (PlanErrors).
	Err error
}

// Plan compares each program's inputs (set) with what its tags hold in
// repository against, concurrently. against is usually where the run
// publishes; a pull request's run plans against the published catalog and
// pushes elsewhere. A program that cannot be planned gets an Err and stops
// no other; the error is only for a cancelled context.
func Plan(ctx context.Context, reg registry.Client, against string, set inputs.Set, progs []catalog.Program) ([]Entry, error) {
	entries := make([]Entry, len(progs))
	g := errgroup.Group{}
	g.SetLimit(8)
	for i, prog := range progs {
		g.Go(func() error {
			entries[i] = plan(ctx, reg, against, set, prog)
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return entries, nil
}

// plan compares one program's inputs with both of its tags.
func plan(ctx context.Context, reg registry.Client, against string, set inputs.Set, prog catalog.Program) Entry {
	e := Entry{Program: prog}
	in, err := set.Of(prog)
	if err != nil {
		e.Err = fmt.Errorf("plan %s: %w", prog.Name, err)
		return e
	}
	e.Inputs = in
	for _, tag := range registry.TagsOf(against, prog).All() {
		p, err := ReadPublished(ctx, reg, tag)
		switch {
		case err != nil:
			e.Err = fmt.Errorf("plan %s: %w", prog.Name, err)
			return e
		case p.Index == "":
			e.Reason = "not published: " + tag
		case p.Inputs != in:
			e.Reason = "inputs changed since " + tag + " was published"
		default:
			continue
		}
		e.Build = true
		return e
	}
	e.Reason = "up to date"
	return e
}

// Published is what a tag pointed at when it was read: the index digest
// and the index's inputs annotation; zero when the tag did not exist.
type Published struct {
	Index  string
	Inputs string
}

// ReadPublished reads what tag points at; a missing tag is the zero
// Published, any other failure an error naming the tag.
func ReadPublished(ctx context.Context, reg registry.Client, tag string) (Published, error) {
	idx, err := reg.Index(ctx, tag)
	switch {
	case errors.Is(err, registry.ErrNotPublished):
		return Published{}, nil
	case err != nil:
		return Published{}, fmt.Errorf("read %s: %w (is the registry reachable?)", tag, err)
	}
	return Published{Index: idx.Digest.String(), Inputs: idx.Annotations[inputs.Annotation]}, nil
}

// PlanErrors joins the errors of the programs that could not be planned.
func PlanErrors(entries []Entry) error {
	var errs []error
	for _, e := range entries {
		if e.Err != nil {
			errs = append(errs, e.Err)
		}
	}
	return errors.Join(errs...)
}

// InputsMap maps the planned programs to their inputs, for pipeline.Options.
func InputsMap(entries []Entry) map[string]string {
	m := map[string]string{}
	for _, e := range entries {
		if e.Err != nil {
			continue
		}
		m[e.Program.Name] = e.Inputs
	}
	return m
}

// Matrix is the job matrix of a distributed run (GitHub Actions'
// strategy.matrix.include).
type Matrix struct {
	Include []MatrixJob `json:"include"`
}

// MatrixJob is one program × platform.
type MatrixJob struct {
	Program  string `json:"program"`
	Platform string `json:"platform"`
}

// NewMatrix lists the jobs of the programs the plan builds; a program that
// could not be planned is not in it (see PlanErrors).
func NewMatrix(entries []Entry) Matrix {
	m := Matrix{Include: []MatrixJob{}}
	for _, e := range entries {
		if !e.Build {
			continue
		}
		for _, pl := range e.Program.Platforms {
			m.Include = append(m.Include, MatrixJob{Program: e.Program.Name, Platform: pl.String()})
		}
	}
	return m
}

// WriteOutput appends the matrix to file as the step output line
// `matrix=<json>` (file is GitHub's $GITHUB_OUTPUT), so the workflow step
// is one command whose exit code counts.
func WriteOutput(file string, m Matrix) error {
	data, err := json.Marshal(m) // one line: GitHub's name=value form
	if err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write the matrix to %s: %w", file, err)
	}
	_, err = fmt.Fprintf(f, "matrix=%s\n", data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the matrix to %s: %w", file, err)
	}
	return nil
}

// Record is what one distributed job leaves for the merge.
type Record struct {
	Program  string `json:"program"`
	Version  string `json:"version"`
	Platform string `json:"platform"`
	Digest   string `json:"digest"`
	// Attestations are the attestation manifests describing the image
	// (provenance, SBOM), published beside it.
	Attestations []string `json:"attestations,omitempty"`
	Inputs       string   `json:"inputs"`
	// Base is the index the program's moving tag (<name>) pointed at in
	// the repository published to when the job planned, empty when it did
	// not exist: the merge moves the tags only if they still point there
	// (see CheckMove).
	Base string `json:"base,omitempty"`
}

// RecordFile is the record's file name in the records directory.
func (r Record) RecordFile() string {
	return r.Program + "_" + strings.ReplaceAll(r.Platform, "/", "-") + ".json"
}

// WriteRecord writes r into dir.
func WriteRecord(dir string, r Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, r.RecordFile()), append(data, '\n'), 0o644)
}

// ReadRecords reads every record in dir.
func ReadRecords(dir string) ([]Record, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no job records (*.json) in %s: run ci:build first", dir)
	}
	var records []Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r Record
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if r.Program == "" || r.Digest == "" || r.Platform == "" {
			return nil, fmt.Errorf("%s: incomplete record", f)
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool { return records[i].RecordFile() < records[j].RecordFile() })
	return records, nil
}

// Outcomes turns a program's records into pipeline outcomes for a merge,
// checking that every platform is there, from the current version and
// inputs.
func Outcomes(prog catalog.Program, inputs string, records []Record) ([]pipeline.Outcome, error) {
	byPlatform := map[string]Record{}
	for _, r := range records {
		if r.Program != prog.Name {
			continue
		}
		if r.Version != prog.Version || r.Inputs != inputs {
			return nil, fmt.Errorf("%s %s: the record for %s was built from other inputs (%s, %s): rebuild it", prog.Name, prog.Version, r.Platform, r.Version, r.Inputs)
		}
		byPlatform[r.Platform] = r
	}
	var outcomes []pipeline.Outcome
	var missing []string
	for _, pl := range prog.Platforms {
		r, ok := byPlatform[pl.String()]
		if !ok {
			missing = append(missing, pl.String())
			continue
		}
		o, err := outcome(prog, pl, r)
		if err != nil {
			return nil, err
		}
		outcomes = append(outcomes, o)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s %s: no record for %s: every platform must be built before the merge", prog.Name, prog.Version, strings.Join(missing, ", "))
	}
	return outcomes, nil
}

func outcome(prog catalog.Program, pl platform.Platform, r Record) (pipeline.Outcome, error) {
	o := pipeline.Outcome{Job: pipeline.NewJob(prog, pl)}
	h, err := v1.NewHash(r.Digest)
	if err != nil {
		return o, fmt.Errorf("%s %s: %w", prog.Name, pl, err)
	}
	o.Digest = h
	for _, a := range r.Attestations {
		ah, err := v1.NewHash(a)
		if err != nil {
			return o, fmt.Errorf("%s %s: attestation: %w", prog.Name, pl, err)
		}
		o.Attestations = append(o.Attestations, ah)
	}
	return o, nil
}
