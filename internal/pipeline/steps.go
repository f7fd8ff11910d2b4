package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
)

// Step is one stage of a run. Run returns an error only when the whole run
// cannot go on; a program's failure goes into its Report, and a Skip says
// the step had nothing to do.
type Step interface {
	String() string
	Run(ctx context.Context, c *Context) error
}

// Steps is the default order: plan → source → build → attest → verify →
// publish.
func Steps() []Step {
	return []Step{PlanStep{}, SourceStep{}, BuildStep{}, AttestStep{}, VerifyStep{}, PublishStep{}}
}

// Context is what the steps of one run share.
type Context struct {
	Options
	Targets []Target
	// Reports are the targets' reports, by index; steps fill them in.
	Reports  []Report
	prepared []source.Prepared // by target, from SourceStep
	work     string            // the run's scratch directory
}

// live lists the targets no step has failed yet.
func (c *Context) live() []int {
	var out []int
	for i, r := range c.Reports {
		if r.Err == nil {
			out = append(out, i)
		}
	}
	return out
}

// fail marks target i failed before (or instead of) its builds.
func (c *Context) fail(i int, err error) {
	c.Log.Error("program not built", "program", c.Targets[i].Program.Name, "err", err)
	c.Reports[i].Err = err
}

// pending lists target i's jobs not built yet.
func (c *Context) pending(i int) []int {
	var out []int
	for j, o := range c.Reports[i].Outcomes {
		if o.Digest.Hex == "" && o.Err == nil {
			out = append(out, j)
		}
	}
	return out
}

// settle fails every live target with a failed job: its error lists them,
// and unmoved says why its tags stay.
func (c *Context) settle(unmoved error) {
	for _, i := range c.live() {
		if failed := c.Reports[i].Failed(); len(failed) > 0 {
			c.Reports[i].Unmoved = unmoved
			c.Reports[i].Err = failures(c.Reports[i].Program, failed)
		}
	}
}

// ref is one job: target i's outcome j.
type ref struct{ i, j int }

// refs lists the outcomes picked by jobs of every live target, in catalog
// order.
func (c *Context) refs(jobs func(i int) []int) []ref {
	var out []ref
	for _, i := range c.live() {
		for _, j := range jobs(i) {
			out = append(out, ref{i, j})
		}
	}
	return out
}

// forEachJob runs f for the outcomes picked by jobs of every live target,
// at most opt.Jobs at once.
func (c *Context) forEachJob(jobs func(i int) []int, f func(i int, o *Outcome)) {
	c.forEachRef(c.refs(jobs), func(_ int, r ref) { f(r.i, &c.Reports[r.i].Outcomes[r.j]) })
}

// forEachRef runs f for refs, started in their order, at most opt.Jobs at
// once; k is the position in refs.
func (c *Context) forEachRef(refs []ref, f func(k int, r ref)) {
	c.pool(len(refs), func(k int) { f(k, refs[k]) })
}

// pool runs f(0) … f(n-1), started in that order, at most opt.Jobs at once.
func (c *Context) pool(n int, f func(k int)) {
	g := errgroup.Group{}
	g.SetLimit(max(c.Jobs, 1))
	for k := range n {
		g.Go(func() error {
			f(k)
			return nil
		})
	}
	_ = g.Wait()
}

// PlanStep lists each target's jobs.
type PlanStep struct{}

func (PlanStep) String() string { return "plan" }

func (PlanStep) Run(_ context.Context, c *Context) error {
	for i, t := range c.Targets {
		var jobs []Job
		var err error
		switch {
		case t.Err != nil:
			err = t.Err
		case t.Built != nil:
			c.Reports[i].Outcomes = slices.Clone(t.Built)
			continue
		case DebianMissing(t.Program, c.DebianErr) != nil:
			err = DebianMissing(t.Program, c.DebianErr)
		case t.Jobs != nil:
			jobs = t.Jobs
		default:
			jobs, err = Plan(t.Program, t.Subset)
		}
		if err != nil {
			c.fail(i, err)
			continue
		}
		c.Reports[i].Outcomes = make([]Outcome, len(jobs))
		for j, job := range jobs {
			c.Reports[i].Outcomes[j] = Outcome{Job: job}
		}
	}
	return nil
}

// DebianMissing is why prog cannot be built when the run has no Debian
// builder image (why is the reason): nil for a program that builds no C
// (a Go program without cgo), or when there is an image.
func DebianMissing(prog catalog.Program, why error) error {
	if why == nil || !prog.BuildsC() {
		return nil
	}
	kind := "a C program"
	if prog.Tarball == nil {
		kind = "a Go program with cgo"
	}
	return fmt.Errorf("%s is %s, but there is no Debian builder image: %w", prog.Name, kind, why)
}

// SourceStep prepares the source of every target that has jobs to build.
type SourceStep struct{}

func (SourceStep) String() string { return "source" }

func (SourceStep) Run(ctx context.Context, c *Context) error {
	for _, i := range c.live() {
		rep := &c.Reports[i]
		pending := c.pending(i)
		if len(pending) == 0 {
			continue
		}
		var real []platform.Platform
		for _, j := range pending {
			if o := rep.Outcomes[j]; !o.Unavailable {
				real = append(real, o.Platform)
			}
		}
		var p source.Prepared
		err := bounded(ctx, c.SourceTimeout, fmt.Sprintf("source of %s %s", rep.Program.Name, rep.Program.Version), "CROSSBIN_TIMEOUT_SOURCE", func(ctx context.Context) (err error) {
			p, err = c.Sources.Prepare(ctx, rep.Program, real)
			return err
		})
		if err != nil {
			c.fail(i, err)
			continue
		}
		c.prepared[i] = p
		for _, pt := range p.Obsolete {
			rep.Obsolete = append(rep.Obsolete, pt.Name)
		}
		for _, j := range pending {
			rep.Outcomes[j].Patches = p.ByPlatform[rep.Outcomes[j].Platform].Patches
		}
	}
	return nil
}

// VerifyStep checks every pushed image of every target.
type VerifyStep struct{}

func (VerifyStep) String() string { return "verify" }

func (VerifyStep) Run(ctx context.Context, c *Context) error {
	check := c.Checker
	if check == nil {
		check = pullChecker{c.Registry, c.Repository, c.Runner}
	}
	all := func(i int) []int {
		jobs := make([]int, len(c.Reports[i].Outcomes))
		for j := range jobs {
			jobs[j] = j
		}
		return jobs
	}
	c.forEachJob(all, func(_ int, o *Outcome) {
		o.Verify = check.Check(ctx, *o)
		if o.Verify.Err != nil {
			o.Err = fmt.Errorf("verify: %w", o.Verify.Err)
		}
	})
	c.settle(ErrVerifyFailed)
	return nil
}

// pullChecker pulls an image by digest and verifies it, its binary run by
// run.
type pullChecker struct {
	reg  registry.Client
	repo string
	run  verify.Runner
}

func (p pullChecker) Check(ctx context.Context, o Outcome) verify.Result {
	img, err := p.reg.ImageByDigest(ctx, p.repo, o.Digest)
	if err != nil {
		return verify.Result{Platform: o.Platform, Err: err}
	}
	stmts, err := p.reg.Statements(ctx, p.repo, o.Attestations)
	if err != nil {
		return verify.Result{Platform: o.Platform, Err: fmt.Errorf("attestations: %w", err)}
	}
	return verify.Image(ctx, p.run, img, o.Digest, stmts, o.Program, o.Platform)
}

// PublishStep merges each verified target's images into one index under its
// tags, unless the tags already hold exactly these images.
type PublishStep struct{}

func (PublishStep) String() string { return "publish" }

func (PublishStep) Run(ctx context.Context, c *Context) error {
	published := 0
	for _, i := range c.live() {
		rep := &c.Reports[i]
		if !c.Targets[i].Publish {
			rep.Unmoved = ErrSubset
			continue
		}
		published++
		rep.Err = c.publish(ctx, rep)
	}
	if published == 0 {
		return Skip("no program publishes")
	}
	return nil
}

func (c *Context) publish(ctx context.Context, rep *Report) error {
	prog := rep.Program
	tags := registry.TagsOf(c.Repository, prog)
	rep.Tags = tags.All()
	var digests []v1.Hash
	var platforms []registry.Platform
	for _, o := range rep.Outcomes {
		digests = append(digests, o.Digest)
		platforms = append(platforms, registry.Platform{Image: o.Digest, Attestations: o.Attestations})
	}
	annotations := maps.Clone(c.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["org.opencontainers.image.title"] = prog.Name
	annotations["org.opencontainers.image.version"] = prog.Version
	if in := c.Inputs[prog.Name]; in != "" {
		annotations[inputs.Annotation] = in
	}
	// Unchanged: both tags hold exactly these images, from the same
	// inputs, each with as many attestation manifests as this run has
	// (an index published before attestations existed is replaced).
	unchanged := true
	var held []v1.Hash // the indexes the tags hold
	for _, tag := range rep.Tags {
		current, err := c.Registry.Index(ctx, tag)
		held = append(held, current.Digest)
		if err != nil || !slices.Equal(current.Digests(), digests) || current.Annotations[inputs.Annotation] != annotations[inputs.Annotation] {
			unchanged = false
			continue
		}
		for _, p := range platforms {
			if len(current.AttestationsOf(p.Image)) < len(p.Attestations) {
				unchanged = false
			}
		}
	}
	if unchanged {
		// Published before a key was configured: signed now, no tag moves.
		for _, d := range slices.Compact(held) {
			if err := c.sign(ctx, rep, d); err != nil {
				return err
			}
		}
		rep.Unmoved = ErrUnchanged
		return nil
	}
	rep.Unmoved = ErrPublishFailed
	idx, err := c.Registry.PushIndex(ctx, c.Repository, platforms, annotations)
	if err != nil {
		return fmt.Errorf("merge %s: %w", prog.Name, err)
	}
	if err := c.checkIndex(ctx, rep, idx, digests, annotations); err != nil {
		return fmt.Errorf("merge %s: %w", prog.Name, err)
	}
	if err := c.sign(ctx, rep, idx); err != nil {
		return err
	}
	// The version tag first, then the moving one, each only after the index
	// checked out and its signature too: a run that dies between the two leaves <name> where it
	// was, never pointing at a release that <name>-<version> does not name.
	// A run cancelled before this point moves no tag; one cancelled (a
	// signal) while the two small tag writes run lets them finish, bounded
	// by the registry timeout, rather than leave the pair split.
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("publish %s: stopped before moving its tags: %w", prog.Name, err)
	}
	tagCtx := context.WithoutCancel(ctx)
	if err := c.Registry.Tag(tagCtx, tags.Version, idx); err != nil {
		return fmt.Errorf("publish %s: %w (no tag moved)", prog.Name, err)
	}
	if err := c.Registry.Tag(tagCtx, tags.Name, idx); err != nil {
		return fmt.Errorf("publish %s: %w (%s points at the new index %s, %s was not moved: run again to finish)", prog.Name, err, tags.Version, idx, tags.Name)
	}
	rep.Unmoved = nil
	c.Log.Info("published", "program", prog.Name, "index", idx.String(), "tags", strings.Join(rep.Tags, " "))
	return nil
}

// sign signs the index digest with c.Signer, if any, and checks the
// signature; a failure leaves every tag where it was.
func (c *Context) sign(ctx context.Context, rep *Report, digest v1.Hash) error {
	if c.Signer == nil {
		return nil
	}
	if err := c.Signer.Sign(ctx, digest); err != nil {
		rep.Unmoved = ErrSignFailed
		return fmt.Errorf("sign %s (index %s): %w (no tag moved)", rep.Program.Name, digest, err)
	}
	c.Log.Info("signed", "program", rep.Program.Name, "index", digest.String())
	return nil
}

// checkIndex reads the pushed index back and checks it holds exactly the
// verified images, each under its job's platform, and the annotations.
func (c *Context) checkIndex(ctx context.Context, rep *Report, digest v1.Hash, digests []v1.Hash, annotations map[string]string) error {
	idx, err := c.Registry.IndexByDigest(ctx, c.Repository, digest)
	if err != nil {
		return fmt.Errorf("read the pushed index back: %w", err)
	}
	if !slices.Equal(idx.Digests(), digests) {
		return fmt.Errorf("the pushed index %s holds %v, not the verified images %v", digest, idx.Digests(), digests)
	}
	for i, d := range idx.Platforms {
		want := rep.Outcomes[i].Platform
		if d.Platform == nil {
			return fmt.Errorf("the pushed index %s has no platform for %s", digest, want)
		}
		if got, err := platform.Parse(d.Platform.String()); err != nil || got != want {
			return fmt.Errorf("the pushed index %s says %s for the %s image", digest, d.Platform, want)
		}
	}
	for k, v := range annotations {
		if idx.Annotations[k] != v {
			return fmt.Errorf("the pushed index %s has %s=%q, want %q", digest, k, idx.Annotations[k], v)
		}
	}
	return nil
}
