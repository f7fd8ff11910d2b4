package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/errgroup"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
)

// Options configure builds.
type Options struct {
	Buildx buildx.Client
	// GoImage is the Go builder image for the Dockerfiles' GO_IMAGE.
	GoImage string
	// Repository receives the images, e.g. localhost:5000/crossbin.
	Repository string
	// Jobs bounds how many platforms build at once.
	Jobs int
	// GoEnv is passed to builds as build arguments (GOPROXY, GOSUMDB, ...).
	GoEnv map[string]string
	// Root is the repository root; unavailable/ is under it.
	Root string
	Log  *slog.Logger
	// BuildOutput, when set, receives buildx's own output, each line
	// prefixed with its job.
	BuildOutput io.Writer
	// Remote are go-containerregistry options for reading the registry.
	Remote []remote.Option
	// Source fetches and patches module sources.
	Source source.Preparer
	// Patches are the patches/ files; those matching a job are applied.
	Patches []patch.Patch
	// Inputs maps a program to the digest of its build inputs, recorded on
	// its published index (InputsAnnotation) so `mage ci` can tell what
	// changed.
	Inputs map[string]string
}

// InputsAnnotation is the index annotation holding the digest of the
// inputs a program was built from.
const InputsAnnotation = "dev.crossbin.inputs"

// Outcome is what happened to one job.
type Outcome struct {
	Job
	Patches  []string // names of the patches applied
	Digest   v1.Hash
	Duration time.Duration
	Verify   verify.Result
	Err      error
}

// Report is one program's build.
type Report struct {
	Program  catalog.Program
	Outcomes []Outcome
	// Tags are the references that point at the program's index now.
	Tags []string
	// TagsMoved reports whether this build created or moved the tags;
	// false when they already pointed at exactly these images.
	TagsMoved bool
	// TagNote says why tags were left alone.
	TagNote string
	// Obsolete lists the program's patches whose version range no longer
	// matches its pinned version; they were skipped.
	Obsolete []string
	// Duration is from the start of the run to this program's end.
	Duration time.Duration
	// Err is why the program was not published.
	Err error
}

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

// Build builds prog for its platforms (or subset), verifies every image and
// publishes the tags. It returns an error when any job fails; then no tag
// is created or moved.
func Build(ctx context.Context, opt Options, prog catalog.Program, subset []platform.Platform) (Report, error) {
	reps, err := BuildAll(ctx, opt, []catalog.Program{prog}, subset)
	return reps[0], err
}

// BuildAll plans each program (every platform, or subset) and runs them
// all; with a subset, images are pushed by digest and no tag moves.
func BuildAll(ctx context.Context, opt Options, progs []catalog.Program, subset []platform.Platform) ([]Report, error) {
	targets := make([]Target, len(progs))
	for i, prog := range progs {
		jobs, err := Plan(prog, subset)
		targets[i] = Target{Program: prog, Jobs: jobs, Publish: len(subset) == 0, PlanErr: err}
	}
	return Run(ctx, opt, targets)
}

// Target is a program and the jobs to run for it.
type Target struct {
	Program catalog.Program
	Jobs    []Job
	// Publish merges the images and moves the tags once every job of the
	// program succeeded and verified; it needs all of its platforms.
	Publish bool
	// PlanErr, when set, fails the target without running it.
	PlanErr error
}

// Run builds targets through one pool of program × platform jobs bounded by
// opt.Jobs, so a large catalog never runs more compiles at once than the
// machine can hold. Each program is then verified and published on its
// own: a failing program moves none of its tags and stops no other.
func Run(ctx context.Context, opt Options, targets []Target) ([]Report, error) {
	start := time.Now()
	reps := make([]Report, len(targets))
	work, err := os.MkdirTemp("", "crossbin-build-")
	if err != nil {
		return reps, err
	}
	defer os.RemoveAll(work)

	type task struct {
		prog, job int
		req       buildx.BuildRequest
	}
	var tasks []task
	var errs []error
	for pi, t := range targets {
		reps[pi].Program = t.Program
		err := t.PlanErr
		var reqs []buildx.BuildRequest
		if err == nil {
			reqs, err = stage(ctx, opt, t.Program, t.Jobs, &reps[pi], filepath.Join(work, strconv.Itoa(pi)))
		}
		if err != nil {
			opt.Log.Error("program not built", "program", t.Program.Name, "err", err)
			reps[pi].Err = err
			errs = append(errs, err)
			continue
		}
		for ji, req := range reqs {
			tasks = append(tasks, task{prog: pi, job: ji, req: req})
		}
	}
	opt.Log.Info("building", "programs", len(targets), "jobs", len(tasks), "parallel", opt.Jobs)
	g := errgroup.Group{}
	g.SetLimit(max(opt.Jobs, 1))
	var finished atomic.Int64
	progress := func() string { return fmt.Sprintf("%d/%d", finished.Add(1), len(tasks)) }
	for _, t := range tasks {
		g.Go(func() error {
			o := &reps[t.prog].Outcomes[t.job]
			*o = run(ctx, opt, o.Job, t.req, o.Patches, progress)
			return nil
		})
	}
	_ = g.Wait()
	for i := range reps {
		if reps[i].Err == nil {
			reps[i].Err = Finish(ctx, opt, &reps[i], targets[i].Publish)
			errs = append(errs, reps[i].Err)
		}
		reps[i].Duration = time.Since(start)
	}
	return reps, errors.Join(errs...)
}

// stage prepares the sources of prog's jobs and returns their build
// requests; rep.Outcomes gets one entry per job.
func stage(ctx context.Context, opt Options, prog catalog.Program, jobs []Job, rep *Report, work string) ([]buildx.BuildRequest, error) {
	src, err := opt.Source.Fetch(ctx, prog)
	if err != nil {
		return nil, err
	}
	sources, err := prepare(ctx, opt, prog, src, jobs, rep)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	rep.Outcomes = make([]Outcome, len(jobs))
	reqs := make([]buildx.BuildRequest, len(jobs))
	for i, job := range jobs {
		rep.Outcomes[i] = Outcome{Job: job, Patches: sources[i].Patches}
		reqs[i] = Request(opt, job, sources[i].Dir, src.Released, filepath.Join(work, fmt.Sprintf("%d.json", i)))
	}
	return reqs, nil
}

// Finish verifies a program's pushed images (rep.Outcomes with digests)
// and, when publish is set, merges them and moves its tags.
func Finish(ctx context.Context, opt Options, rep *Report, publish bool) error {
	if failed := rep.Failed(); len(failed) > 0 {
		rep.TagNote = "no tag moved: a platform failed"
		return failures(rep.Program, failed)
	}
	g := errgroup.Group{}
	g.SetLimit(max(opt.Jobs, 1))
	for i := range rep.Outcomes {
		g.Go(func() error {
			o := &rep.Outcomes[i]
			o.Verify = verifyDigest(ctx, opt, o.Job, o.Digest)
			if o.Verify.Err != nil {
				o.Err = fmt.Errorf("verify: %w", o.Verify.Err)
			}
			return nil
		})
	}
	_ = g.Wait()
	if failed := rep.Failed(); len(failed) > 0 {
		rep.TagNote = "no tag moved: verification failed"
		return failures(rep.Program, failed)
	}
	if !publish {
		rep.TagNote = "platform subset: images pushed by digest, tags not moved"
		return nil
	}
	return publishTags(ctx, opt, rep)
}

// prepare returns each job's source: the pristine module, or a patched copy
// shared by the jobs that the same patches apply to.
func prepare(ctx context.Context, opt Options, prog catalog.Program, src source.Source, jobs []Job, rep *Report) ([]source.Source, error) {
	sources := make([]source.Source, len(jobs))
	type group struct {
		patches   []patch.Patch
		platforms []platform.Platform
		jobs      []int
	}
	groups := map[string]*group{}
	var order []string
	for i, job := range jobs {
		sources[i] = src
		apply, obsolete := patch.Select(opt.Patches, prog.Name, prog.Version, job.Platform)
		if i == 0 {
			for _, p := range obsolete {
				rep.Obsolete = append(rep.Obsolete, p.Name)
				opt.Log.Warn("patch no longer applies: its version range does not match the pinned version", "patch", p.File, "program", prog.Name, "version", prog.Version, "range", p.Range)
			}
		}
		if job.Unavailable || len(apply) == 0 {
			continue
		}
		if !prog.SourceStage {
			return nil, fmt.Errorf("%s applies to %s, but %s has no `source` stage to take patched source: build it from the module source like dockerfiles/helm does", apply[0].File, prog.Name, prog.Dockerfile())
		}
		var names []string
		for _, p := range apply {
			names = append(names, p.Name)
		}
		key := strings.Join(names, ",")
		g, ok := groups[key]
		if !ok {
			g = &group{patches: apply}
			groups[key] = g
			order = append(order, key)
		}
		g.platforms = append(g.platforms, job.Platform)
		g.jobs = append(g.jobs, i)
	}
	for _, key := range order {
		g := groups[key]
		patched, err := opt.Source.Patch(ctx, prog, src, g.patches, g.platforms)
		if err != nil {
			return nil, err
		}
		for _, i := range g.jobs {
			sources[i] = patched
		}
	}
	return sources, nil
}

// Request is the build request for one job. sourceDir is the program's
// verified module source; released is its release time.
func Request(opt Options, job Job, sourceDir string, released time.Time, metadataFile string) buildx.BuildRequest {
	prog := job.Program
	// VERSION is passed even though it is the Dockerfile's default, so
	// the program's pin (or a caller's override of it) is what gets built.
	args := map[string]string{"GO_IMAGE": opt.GoImage, "VERSION": prog.Version, "CREATED": released.Format(time.RFC3339)}
	for k, v := range opt.GoEnv {
		args[k] = v
	}
	goEnv, _ := job.Platform.GoEnv() // the catalog only holds valid platforms
	for _, v := range goEnv {
		args[v.Name] = v.Value
	}
	req := buildx.BuildRequest{
		Context:         prog.Dir,
		Platform:        job.Platform,
		Args:            args,
		Repository:      opt.Repository,
		MetadataFile:    metadataFile,
		SourceDateEpoch: released.Unix(),
		Progress:        "plain",
	}
	if job.Unavailable {
		dir := filepath.Join(opt.Root, "unavailable")
		req.Context, req.Dockerfile = dir, filepath.Join(dir, "Dockerfile")
		args["NAME"], args["PLATFORM"] = prog.Name, job.Platform.String()
		return req
	}
	if tags := prog.BuildTags[job.Platform]; len(tags) > 0 {
		args["TAGS"] = strings.Join(tags, ",")
	}
	if prog.SourceStage {
		req.Contexts = map[string]string{"source": sourceDir}
	}
	return req
}

// run builds one job; progress, called once when it ends, says how many of
// the run's jobs have ended.
func run(ctx context.Context, opt Options, job Job, req buildx.BuildRequest, patches []string, progress func() string) Outcome {
	start := time.Now()
	o := Outcome{Job: job, Patches: patches}
	kind := "build"
	if job.Unavailable {
		kind = "unavailable"
	}
	log := opt.Log.With("program", job.Program.Name, "platform", job.Platform.String())
	log.Info("platform started", "kind", kind)
	cmd := opt.Buildx.Command(ctx, buildx.BuildArgv(req)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if opt.BuildOutput != nil {
		w := &prefixWriter{prefix: "[" + job.String() + "] ", w: opt.BuildOutput}
		both := io.MultiWriter(&out, w)
		cmd.Stdout, cmd.Stderr = both, both
	}
	err := cmd.Run()
	o.Duration = time.Since(start)
	if err != nil {
		o.Err = fmt.Errorf("buildx build: %s (%w)\n%s", StepError(out.String()), err, lines.Last(out.String(), 25))
		log.Error("platform failed", "duration", o.Duration.Round(time.Second), "done", progress())
		return o
	}
	o.Digest, o.Err = readDigest(req.MetadataFile)
	log.Info("platform built", "digest", o.Digest.String(), "duration", o.Duration.Round(100*time.Millisecond), "done", progress())
	return o
}

// readDigest reads the pushed image's digest from buildx's metadata file.
func readDigest(path string) (v1.Hash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read buildx metadata: %w", err)
	}
	var md struct {
		Digest string `json:"containerimage.digest"`
	}
	if err := json.Unmarshal(data, &md); err != nil {
		return v1.Hash{}, fmt.Errorf("parse buildx metadata %s: %w", path, err)
	}
	h, err := v1.NewHash(md.Digest)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("buildx metadata %s has no image digest: %w", path, err)
	}
	return h, nil
}

func verifyDigest(ctx context.Context, opt Options, job Job, digest v1.Hash) verify.Result {
	ref, err := name.NewDigest(opt.Repository + "@" + digest.String())
	if err != nil {
		return verify.Result{Platform: job.Platform, Err: err}
	}
	img, err := remote.Image(ref, append(opt.Remote, remote.WithContext(ctx))...)
	if err != nil {
		return verify.Result{Platform: job.Platform, Err: fmt.Errorf("pull %s: %w", ref, err)}
	}
	return verify.Image(ctx, img, job.Program, job.Platform)
}

// Tags are the tags a program's index gets.
func Tags(repo string, prog catalog.Program) []string {
	return []string{repo + ":" + prog.Name, repo + ":" + prog.VersionTag()}
}

// publishTags merges the digests into one index under the program's tags,
// unless both tags already point at an index of exactly these images.
func publishTags(ctx context.Context, opt Options, rep *Report) error {
	prog := rep.Program
	rep.Tags = Tags(opt.Repository, prog)
	var sources []string
	var digests []v1.Hash
	for _, o := range rep.Outcomes {
		sources = append(sources, opt.Repository+"@"+o.Digest.String())
		digests = append(digests, o.Digest)
	}
	annotations := map[string]string{
		"org.opencontainers.image.title":   prog.Name,
		"org.opencontainers.image.version": prog.Version,
	}
	if in := opt.Inputs[prog.Name]; in != "" {
		annotations[InputsAnnotation] = in
	}
	unchanged := true
	for _, tag := range rep.Tags {
		current, err := Published(ctx, opt, tag)
		if err != nil || !slices.Equal(current.Manifests, digests) || current.Inputs != annotations[InputsAnnotation] {
			unchanged = false
		}
	}
	if unchanged {
		rep.TagNote = "tags already point at these images: nothing moved"
		return nil
	}
	argv, err := buildx.MergeArgv(buildx.MergeRequest{Tags: rep.Tags, Sources: sources, Annotations: annotations})
	if err != nil {
		return err
	}
	if _, err := opt.Buildx.Run(ctx, argv...); err != nil {
		return fmt.Errorf("merge %s: %w", prog.Name, err)
	}
	rep.TagsMoved = true
	opt.Log.Info("published", "program", prog.Name, "tags", strings.Join(rep.Tags, " "))
	return nil
}

// Index is what a published tag holds.
type Index struct {
	Digest    v1.Hash
	Manifests []v1.Hash
	Inputs    string // the InputsAnnotation, if any
}

// ErrNotPublished reports a tag the registry does not have.
var ErrNotPublished = errors.New("not published")

// Published reads the index a tag points at.
func Published(ctx context.Context, opt Options, tag string) (Index, error) {
	ref, err := name.NewTag(tag)
	if err != nil {
		return Index{}, err
	}
	idx, err := remote.Index(ref, append(opt.Remote, remote.WithContext(ctx))...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return Index{}, fmt.Errorf("%w: %s", ErrNotPublished, tag)
	}
	if err != nil {
		return Index{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return Index{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return Index{}, err
	}
	out := Index{Digest: d, Inputs: m.Annotations[InputsAnnotation]}
	for _, desc := range m.Manifests {
		out.Manifests = append(out.Manifests, desc.Digest)
	}
	return out, nil
}

func failures(prog catalog.Program, failed []Outcome) error {
	errs := []error{fmt.Errorf("%s %s: %d platform(s) failed; no tag was created or moved", prog.Name, prog.Version, len(failed))}
	for _, o := range failed {
		errs = append(errs, fmt.Errorf("%s: %w", o.Platform, o.Err))
	}
	return errors.Join(errs...)
}

// StepError picks the cause out of buildx's plain progress output: the
// last lines the failed step printed (e.g. the compiler's error), or
// buildx's own ERROR line when no step failed.
func StepError(out string) string {
	lines := strings.Split(out, "\n")
	step := ""
	for _, l := range lines {
		if id, rest, ok := strings.Cut(l, " "); ok && strings.HasPrefix(id, "#") && strings.HasPrefix(rest, "ERROR:") {
			step = id
		}
	}
	var printed []string
	for _, l := range lines {
		id, rest, ok := strings.Cut(l, " ")
		if !ok || id != step || step == "" {
			continue
		}
		// Step output lines are "#12 29.95 text": drop the timestamp.
		if ts, text, ok := strings.Cut(rest, " "); ok && strings.Trim(ts, "0123456789.") == "" {
			printed = append(printed, text)
		}
	}
	if len(printed) > 0 {
		if len(printed) > 8 {
			printed = printed[len(printed)-8:]
		}
		return strings.Join(printed, "; ")
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "ERROR:") {
			return lines[i]
		}
	}
	return "see the build output above"
}

// prefixWriter writes whole lines, each with a prefix; concurrent jobs
// share the underlying writer.
type prefixWriter struct {
	prefix string
	w      io.Writer
	buf    []byte
}

var outputMu sync.Mutex

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		outputMu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		outputMu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
