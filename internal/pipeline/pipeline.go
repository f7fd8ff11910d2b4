// Package pipeline builds programs for their platforms and publishes one
// multi-platform image per program, as an ordered list of named steps:
//
//	plan    → one job per platform (a subset, or records of earlier builds)
//	source  → the program's source, patched per platform (internal/source)
//	build   → every job through one bounded pool, the longest expected
//	          first (Durations), pushed by digest with BuildKit's
//	          provenance (Builder)
//	attest  → an SBOM per image from its binary's Go build info, or a C
//	          binary's build record (Attester)
//	verify  → every pushed image pulled and checked, its binary run in a
//	          sandbox, its SBOM and provenance checked against it (Checker)
//	publish → the digests merged into one index pushed by digest and read
//	          back; the index signed and its signature checked (Signer,
//	          when a signing key is configured); then `<name>-<version>`
//	          tagged, then `<name>`
//
// Each step is a small type with a name and a Run over the shared Context;
// Run records each step's duration. A program that fails in one step is
// left alone by the later ones and stops no other program; why a program's
// tags did not move is a typed value on its Report (ErrBuildFailed,
// ErrVerifyFailed, or a Skip such as ErrSubset), not a sentence.
//
// Signing sits inside publish, between the index's read-back and the first
// tag: it needs the merged index's digest, and a signature that fails its
// check must leave both tags where they were.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
)

// Builder builds one job's request and returns the pushed image's digest;
// Export builds a request into a local directory (a C program's build
// record, RecordRequest). buildx.Builder is the real one.
type Builder interface {
	Build(ctx context.Context, req buildx.BuildRequest) (v1.Hash, error)
	Export(ctx context.Context, req buildx.BuildRequest) error
}

// Sources prepares a program's source for its real platforms;
// source.Preparer is the real one.
type Sources interface {
	Prepare(ctx context.Context, prog catalog.Program, platforms []platform.Platform) (source.Prepared, error)
}

// Checker verifies one pushed image and its attestations.
type Checker interface {
	Check(ctx context.Context, o Outcome) verify.Result
}

// Options configure a run.
type Options struct {
	Builder Builder
	Sources Sources
	// Checker verifies images; nil pulls each from Repository and runs
	// verify.Image on it, its binary run by Runner.
	Checker Checker
	// Attester attaches SBOMs; nil writes them from each binary's build
	// info (internal/attest) beside BuildKit's provenance.
	Attester Attester
	// Runner runs the binaries the default Checker pulls, sandboxed
	// (sandbox.Sandbox); nil fails their verification.
	Runner verify.Runner
	// Registry reads the registry (published tags, images to verify) and
	// publishes (the index, then the tags).
	Registry registry.Client
	// GoImage is the Go builder image for the Dockerfiles' GO_IMAGE.
	GoImage string
	// DebianImage is the Debian builder image C programs (release
	// tarballs) build on, for their Dockerfiles' DEBIAN_IMAGE; "" for a
	// run without C programs. DebianErr is why there is none: the plan
	// step fails each C program with it, and the others build.
	DebianImage string
	DebianErr   error
	// Repository receives the images, e.g. 127.0.0.1:5000/crossbin.
	Repository string
	// Jobs bounds how many platforms build (and verify) at once.
	Jobs int
	// SourceTimeout bounds preparing one program's source, BuildTimeout
	// one platform's build (0: no bound).
	SourceTimeout, BuildTimeout time.Duration
	// GoEnv is passed to builds as build arguments (GOPROXY, GOSUMDB, ...).
	GoEnv map[string]string
	// Root is the repository root; unavailable/ is under it.
	Root string
	Log  *slog.Logger
	// Inputs maps a program to the digest of its build inputs, recorded on
	// its published index (inputs.Annotation) so `mage ci` can tell what
	// changed.
	Inputs map[string]string
	// Annotations are set on every index published, beside the title,
	// version and inputs annotations.
	Annotations map[string]string
	// Signer signs each merged index before its tags move; nil signs
	// nothing.
	Signer Signer
	// Durations, when set, holds how long each job took in earlier runs:
	// the build step starts the longest expected jobs first, logs an
	// estimate of the time left (eta=) and records each build's duration.
	// nil records nothing and builds in catalog order.
	Durations Durations
	// Batch builds each program's pending platforms in one batch when
	// Builder is a BatchBuilder. Set it only for a builder that bounds how
	// many steps it runs at once (the embedded stack's buildkitd runs Jobs):
	// a batch starts all of a program's platforms together.
	Batch bool
	// Heartbeat is the longest the build step stays silent: it then logs
	// what is still building (0: DefaultHeartbeat).
	Heartbeat time.Duration
	// Steps run in order; nil means Steps().
	Steps []Step
}

// Signer signs the index digest (in Repository) unless it already carries
// a valid signature, and checks the signature; sign.Publisher is the real
// one.
type Signer interface {
	Sign(ctx context.Context, index v1.Hash) error
}

// Target is a program and what to do with it.
type Target struct {
	Program catalog.Program
	// Subset limits the build to these platforms; empty means all of the
	// program's platforms (see Plan).
	Subset []platform.Platform
	// Jobs, when set, are the jobs to run instead of planning them.
	Jobs []Job
	// Built, when set, are images already built and pushed (a distributed
	// run's records): they are verified and published, not built again.
	Built []Outcome
	// Publish merges the images and moves the tags once every job of the
	// program succeeded and verified; it needs all of its platforms.
	Publish bool
	// Err, when set, fails the target without running it.
	Err error
}

// Outcome is what happened to one job.
type Outcome struct {
	Job
	Patches []string // names of the patches applied
	// Digest is the platform's image; Attestations are the attestation
	// manifests describing it (BuildKit's provenance, crossbin's SBOM).
	Digest       v1.Hash
	Attestations []v1.Hash
	Duration     time.Duration
	// Record is the directory holding a C program's build record (its
	// Dockerfile's sbom stage), which its SBOM is made from; "" for Go
	// programs and unavailable platforms.
	Record string
	Verify verify.Result
	Err    error
}

// Report is one program's run.
type Report struct {
	Program  catalog.Program
	Outcomes []Outcome
	// Tags are the references that point at the program's index now.
	Tags []string
	// Unmoved is why the tags were not moved: ErrBuildFailed,
	// ErrVerifyFailed, or a Skip (ErrSubset, ErrUnchanged); nil when they
	// moved or the program failed before building.
	Unmoved error
	// Obsolete lists the program's patches whose version range no longer
	// matches its pinned version; they were skipped.
	Obsolete []string
	// Duration is from the start of the run to this program's end.
	Duration time.Duration
	// Err is why the program was not published.
	Err error
}

// TagsMoved reports whether this run created or moved the program's tags.
func (r Report) TagsMoved() bool { return len(r.Tags) > 0 && r.Unmoved == nil }

// Failed lists the jobs that failed.
func (r Report) Failed() []Outcome {
	var failed []Outcome
	for _, o := range r.Outcomes {
		if o.Err != nil {
			failed = append(failed, o)
		}
	}
	return failed
}

// Skip is why a step left a program, or the whole run, alone without
// anything failing.
type Skip string

func (s Skip) Error() string { return string(s) }

// Why tags did not move.
var (
	ErrBuildFailed  = errors.New("no tag moved: a platform failed")
	ErrVerifyFailed = errors.New("no tag moved: verification failed")
	ErrAttestFailed = errors.New("no tag moved: an SBOM could not be written")
	ErrSignFailed   = errors.New("no tag moved: the index could not be signed, or its signature did not check out")
	// ErrPublishFailed: the index or a tag could not be written; the
	// program's error says which tags moved.
	ErrPublishFailed = errors.New("publishing failed: see the error for which tags moved")
	ErrSubset        = Skip("platform subset: images pushed by digest, tags not moved")
	ErrUnchanged     = Skip("tags already point at these images: nothing moved")
)

// Result is a run: each target's report and each step's time.
type Result struct {
	Reports []Report
	Steps   []Timing
}

// Timing is how long one step took, or why it was skipped.
type Timing struct {
	Step     string
	Duration time.Duration
	Skipped  string
}

// Run runs the steps over targets: one pool of program × platform jobs
// bounded by opt.Jobs, so a large catalog never runs more compiles at once
// than the machine can hold; then each program is verified and published on
// its own, and a failing program moves none of its tags and stops no other.
// The error joins every program's error.
func Run(ctx context.Context, opt Options, targets []Target) (Result, error) {
	c := &Context{Options: opt, Targets: targets, Reports: make([]Report, len(targets)), prepared: make([]source.Prepared, len(targets))}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	for i, t := range targets {
		c.Reports[i].Program = t.Program
	}
	var err error
	if c.work, err = os.MkdirTemp("", "crossbin-build-"); err != nil {
		return Result{Reports: c.Reports}, err
	}
	defer os.RemoveAll(c.work)
	steps := opt.Steps
	if steps == nil {
		steps = Steps()
	}
	start := time.Now()
	var res Result
	for _, s := range steps {
		// A cancelled run (a signal, a caller's deadline) starts no
		// further step: nothing is verified or published after it.
		if err := context.Cause(ctx); err != nil {
			res.Reports = c.Reports
			return res, fmt.Errorf("stopped before %s: %w", s, err)
		}
		t0 := time.Now()
		err := s.Run(ctx, c)
		tm := Timing{Step: s.String(), Duration: time.Since(t0)}
		var skip Skip
		if errors.As(err, &skip) {
			tm.Skipped, err = string(skip), nil
		}
		res.Steps = append(res.Steps, tm)
		if err != nil {
			res.Reports = c.Reports
			return res, fmt.Errorf("%s: %w", s, err)
		}
	}
	var errs []error
	for i := range c.Reports {
		c.Reports[i].Duration = time.Since(start)
		errs = append(errs, c.Reports[i].Err)
	}
	res.Reports = c.Reports
	return res, errors.Join(errs...)
}

// Build runs one program: every platform, or only subset (then images are
// pushed by digest and no tag moves).
func Build(ctx context.Context, opt Options, prog catalog.Program, subset []platform.Platform) (Report, error) {
	res, err := Run(ctx, opt, []Target{{Program: prog, Subset: subset, Publish: len(subset) == 0}})
	return res.Reports[0], err
}

// bounded runs f under timeout (none when 0); an expiry that is not the
// caller's own cancellation becomes an error naming what, the bound and
// the setting that raises it.
func bounded(ctx context.Context, timeout time.Duration, what, setting string, f func(context.Context) error) error {
	if timeout <= 0 {
		return f(ctx)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := f(tctx)
	if err != nil && tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return fmt.Errorf("%s: %w after %s (raise %s): %w", what, errTimedOut, timeout, setting, err)
	}
	return err
}

// errTimedOut marks an error of bounded's expiry.
var errTimedOut = errors.New("timed out")

func failures(prog catalog.Program, failed []Outcome) error {
	errs := []error{fmt.Errorf("%s %s: %d platform(s) failed; no tag was created or moved", prog.Name, prog.Version, len(failed))}
	for _, o := range failed {
		errs = append(errs, fmt.Errorf("%s: %w", o.Platform, o.Err))
	}
	return errors.Join(errs...)
}
