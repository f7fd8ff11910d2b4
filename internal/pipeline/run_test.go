package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/durations"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
)

// fakes records what the steps asked of the outside world; a key
// "program platform" in fail makes that call fail.
type fakes struct {
	mu       sync.Mutex
	failSrc  map[string]bool // by program
	failBld  map[string]bool // by job
	failChk  map[string]bool // by job
	hang     map[string]bool // by program (Prepare) or job (Build): wait for the context
	repo     string          // where Build pushes its images
	prepared map[string][]platform.Platform
	built    []buildx.BuildRequest
	checked  []string
	attested []string
	failAtt  map[string]bool // by job
	// batch makes the run's Builder a BatchBuilder (batching); batches
	// records each batch's labels.
	batch    bool
	batches  [][]string
	exported []buildx.BuildRequest
	records  []string // the build records Attest was given
}

// batching is fakes with batches, as bake builds them: a batch fails as a
// whole when any of its jobs would (naming the first, unless anonymous),
// and builds nothing then; a hung job hangs the batch.
type batching struct {
	*fakes
	anonymous bool  // failures do not name their job
	err       error // every batch fails with it
}

func (b batching) BuildBatch(ctx context.Context, dir, label string, reqs []buildx.BuildRequest) (buildx.Batch, error) {
	b.mu.Lock()
	var labels []string
	failing, hang := -1, false
	for k, r := range reqs {
		labels = append(labels, r.Label)
		if b.failBld[r.Label] && failing < 0 {
			failing = k
		}
		hang = hang || b.hang[r.Label]
	}
	b.batches = append(b.batches, labels)
	b.mu.Unlock()
	if _, err := os.Stat(dir); err != nil {
		return buildx.Batch{}, fmt.Errorf("batch %q: %w", label, err)
	}
	if program, _, _ := strings.Cut(reqs[0].Label, " "); label != program {
		return buildx.Batch{}, fmt.Errorf("batch labelled %q, not by its program %q", label, program)
	}
	if hang {
		<-ctx.Done()
		return buildx.Batch{}, &buildx.BatchError{Target: -1, Err: fmt.Errorf("buildx bake: %w", ctx.Err())}
	}
	if b.err != nil {
		return buildx.Batch{}, &buildx.BatchError{Target: -1, Err: b.err}
	}
	if failing >= 0 {
		if b.anonymous {
			failing = -1
		}
		return buildx.Batch{}, &buildx.BatchError{Target: failing, Err: errors.New("buildx bake: boom")}
	}
	res := buildx.Batch{Times: make([]time.Duration, len(reqs))}
	for k, r := range reqs {
		d, err := b.Build(ctx, r)
		if err != nil {
			return buildx.Batch{}, err
		}
		res.Digests = append(res.Digests, d)
		res.Times[k] = time.Duration(k+1) * time.Second
	}
	return res, nil
}

// Export records the request (a C program's build record).
func (f *fakes) Export(_ context.Context, req buildx.BuildRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exported = append(f.exported, req)
	return nil
}

func (f *fakes) Prepare(ctx context.Context, prog catalog.Program, pls []platform.Platform) (source.Prepared, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prepared == nil {
		f.prepared = map[string][]platform.Platform{}
	}
	f.prepared[prog.Name] = pls
	if f.hang[prog.Name] {
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		return source.Prepared{}, fmt.Errorf("go mod download: %w", ctx.Err())
	}
	if f.failSrc[prog.Name] {
		return source.Prepared{}, errors.New("module not found")
	}
	p := source.Prepared{Released: time.Unix(1700000000, 0), ByPlatform: map[platform.Platform]source.Source{}}
	for _, pl := range pls {
		p.ByPlatform[pl] = source.Source{Dir: "/src/" + prog.Name}
		if pl.Arch == "riscv64" {
			p.ByPlatform[pl] = source.Source{Dir: "/patched/" + prog.Name, Patches: []string{prog.Name + "-fix"}}
		}
	}
	return p, nil
}

// Build pushes a small image for the request's platform whose content is
// its label, so the same job always has the same digest.
func (f *fakes) Build(ctx context.Context, req buildx.BuildRequest) (v1.Hash, error) {
	f.mu.Lock()
	f.built = append(f.built, req)
	fail, hang := f.failBld[req.Label], f.hang[req.Label]
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return v1.Hash{}, fmt.Errorf("buildx build: %w", ctx.Err())
	}
	if fail {
		return v1.Hash{}, errors.New("buildx build: boom")
	}
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer([]byte(req.Label), types.DockerLayer))
	if err != nil {
		return v1.Hash{}, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, err
	}
	cfg.OS, cfg.Architecture, cfg.Variant = req.Platform.OS, req.Platform.Arch, req.Platform.Variant
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return v1.Hash{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	ref, err := name.NewDigest(f.repo + "@" + d.String())
	if err != nil {
		return v1.Hash{}, err
	}
	return d, registry.Client{}.Push(ctx, ref, img)
}

// Attest records nothing new: the fakes' images carry no binary.
func (f *fakes) Attest(_ context.Context, o Outcome, _ source.Source, released time.Time) ([]v1.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attested = append(f.attested, o.String())
	if o.Record != "" {
		f.records = append(f.records, o.Record)
	}
	if released.IsZero() || f.failAtt[o.String()] {
		return nil, errors.New("build info: not a Go binary")
	}
	return o.Attestations, nil
}

func (f *fakes) Check(_ context.Context, o Outcome) verify.Result {
	job := o.Job
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = append(f.checked, job.String())
	r := verify.Result{Platform: job.Platform, Output: job.Program.Version}
	if f.failChk[job.String()] {
		r.Err = errors.New("ELF header is EM_X86_64")
	}
	return r
}

// published is the index tag points at, or nil.
func published(t *testing.T, tag string) *registry.Index {
	t.Helper()
	idx, err := registry.Client{}.Index(context.Background(), tag)
	if errors.Is(err, registry.ErrNotPublished) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &idx
}

func fakeProgram(t *testing.T, name string, plats ...string) catalog.Program {
	t.Helper()
	p := catalog.Program{Name: name, Version: "v1.0.0", Dir: "dockerfiles/" + name, SourceStage: true, Unavailable: map[platform.Platform]string{}}
	for _, s := range plats {
		unavailable := strings.HasSuffix(s, "!")
		pl := mustParse(t, strings.TrimSuffix(s, "!"))
		p.Platforms = append(p.Platforms, pl)
		if unavailable {
			p.Unavailable[pl] = "no backend"
		}
	}
	return p
}

// fakeRun runs targets with f for every outside call but the registry,
// which is an in-process one (wrapped by wrap, if any).
func fakeRun(t *testing.T, f *fakes, wrap func(http.Handler) http.Handler, targets ...Target) (Result, string, error) {
	t.Helper()
	f.repo = registrytest.ServeWith(t, wrap)
	return runIn(f, f.repo, map[string]string{"good": "sha256:in"}, targets...)
}

func runIn(f *fakes, repo string, in map[string]string, targets ...Target) (Result, string, error) {
	f.repo = repo
	opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: repo, Jobs: 2, Root: "/repo", Inputs: in}
	if f.batch {
		opt.Builder, opt.Batch = batching{fakes: f}, true
	}
	res, err := Run(context.Background(), opt, targets)
	return res, repo, err
}

func stepNames(res Result) string {
	var s []string
	for _, tm := range res.Steps {
		s = append(s, tm.Step)
	}
	return strings.Join(s, " ")
}

// TestRunIsolatesFailures: a program whose platform fails to build moves
// no tag and is neither verified nor merged; the other is published; the
// run fails naming the platform.
func TestRunIsolatesFailures(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "one build per job", true: "batches"}[batch], func(t *testing.T) {
			isolatesFailures(t, batch)
		})
	}
}

// isolatesFailures is TestRunIsolatesFailures; with batch, each program's
// jobs are one batch first, and the failed batch is built job by job.
func isolatesFailures(t *testing.T, batch bool) {
	f := &fakes{failBld: map[string]bool{"bad linux/arm64": true}, batch: batch}
	good := fakeProgram(t, "good", "linux/amd64", "linux/riscv64", "linux/s390x!")
	bad := fakeProgram(t, "bad", "linux/amd64", "linux/arm64")
	res, repo, err := fakeRun(t, f, nil, Target{Program: good, Publish: true}, Target{Program: bad, Publish: true})

	if err == nil || !strings.Contains(err.Error(), "bad v1.0.0: 1 platform(s) failed") || !strings.Contains(err.Error(), "linux/arm64: buildx build: boom") {
		t.Fatalf("err = %v", err)
	}
	if stepNames(res) != "plan source build attest verify publish" {
		t.Errorf("steps = %q", stepNames(res))
	}
	g, b := res.Reports[0], res.Reports[1]
	if g.Err != nil || !g.TagsMoved() || g.Unmoved != nil {
		t.Errorf("good: err %v, moved %v, unmoved %v", g.Err, g.TagsMoved(), g.Unmoved)
	}
	if !errors.Is(b.Unmoved, ErrBuildFailed) || b.TagsMoved() || len(b.Tags) != 0 {
		t.Errorf("bad: unmoved %v, tags %v", b.Unmoved, b.Tags)
	}
	for _, tag := range []string{repo + ":good", repo + ":good-v1.0.0"} {
		idx := published(t, tag)
		if idx == nil || len(idx.Platforms) != 3 || idx.Annotations[inputs.Annotation] != "sha256:in" {
			t.Errorf("%s: %+v", tag, idx)
			continue
		}
		if want := []string{"linux/amd64", "linux/riscv64", "linux/s390x"}; idx.Platforms[0].Platform.String() != want[0] || idx.Platforms[2].Platform.String() != want[2] {
			t.Errorf("%s platforms: %v", tag, idx.Platforms)
		}
	}
	if published(t, repo+":bad") != nil || published(t, repo+":bad-v1.0.0") != nil {
		t.Error("the failed program has tags")
	}
	if slices.ContainsFunc(f.checked, func(s string) bool { return strings.HasPrefix(s, "bad ") }) {
		t.Errorf("a program that failed to build was verified: %v", f.checked)
	}
	if slices.Sort(f.attested); strings.Join(f.attested, ",") != "good linux/amd64,good linux/riscv64,good linux/s390x" {
		t.Errorf("attested %v; want every image of the program that built", f.attested)
	}
	// The unavailable platform needs no source and builds unavailable/;
	// the patched platform builds from its patched copy.
	if got := f.prepared["good"]; len(got) != 2 || slices.Contains(got, mustParse(t, "linux/s390x")) {
		t.Errorf("sources prepared for %v", got)
	}
	for _, req := range f.built {
		switch req.Label {
		case "good linux/s390x":
			if req.Context != "/repo/unavailable" || req.Args["NAME"] != "good" || req.Args["PLATFORM"] != "linux/s390x" {
				t.Errorf("unavailable request %+v", req)
			}
		case "good linux/riscv64":
			if req.Contexts["source"] != "/patched/good" {
				t.Errorf("riscv64 source %v", req.Contexts)
			}
		}
	}
	if o := g.Outcomes[1]; !slices.Equal(o.Patches, []string{"good-fix"}) || o.Digest.Hex == "" {
		t.Errorf("riscv64 outcome %+v", o)
	}
	var built []string
	for _, req := range f.built {
		built = append(built, req.Label)
	}
	slices.Sort(built)
	want := "bad linux/amd64,bad linux/arm64,good linux/amd64,good linux/riscv64,good linux/s390x"
	if got := strings.Join(built, ","); got != want {
		t.Errorf("built %s; want each job once: %s", got, want)
	}
	wantBatches := "[]"
	if batch {
		wantBatches = "[[good linux/amd64 good linux/riscv64 good linux/s390x] [bad linux/amd64 bad linux/arm64]]"
	}
	if got := fmt.Sprint(f.batches); got != wantBatches && (!batch || got != "[[bad linux/amd64 bad linux/arm64] [good linux/amd64 good linux/riscv64 good linux/s390x]]") {
		t.Errorf("batches %s; want %s", got, wantBatches)
	}
	if o := b.Outcomes[0]; o.Err != nil || o.Digest.Hex == "" {
		t.Errorf("bad linux/amd64, built alone after its batch failed: %+v", o)
	}
	if o := b.Outcomes[1]; o.Err == nil || o.Err.Error() != "buildx build: boom" {
		t.Errorf("bad linux/arm64: %v; want its own build's error", o.Err)
	}
}

func TestRunVerifyFailureMovesNoTag(t *testing.T) {
	f := &fakes{failChk: map[string]bool{"good linux/arm64": true}}
	res, repo, err := fakeRun(t, f, nil, Target{Program: fakeProgram(t, "good", "linux/amd64", "linux/arm64"), Publish: true})
	rep := res.Reports[0]
	if err == nil || !strings.Contains(err.Error(), "linux/arm64: verify: ELF header is EM_X86_64") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(rep.Unmoved, ErrVerifyFailed) || published(t, repo+":good-v1.0.0") != nil {
		t.Errorf("unmoved %v", rep.Unmoved)
	}
}

// TestRunSubsetSkipsPublish: a platform subset builds and verifies, and the
// publish step says it was skipped, as a value callers can test.
func TestRunSubsetSkipsPublish(t *testing.T) {
	f := &fakes{}
	prog := fakeProgram(t, "good", "linux/amd64", "linux/arm64")
	res, repo, err := fakeRun(t, f, nil, Target{Program: prog, Subset: []platform.Platform{mustParse(t, "linux/arm64")}})
	rep := res.Reports[0]
	if err != nil || !errors.Is(rep.Unmoved, ErrSubset) || rep.TagsMoved() || published(t, repo+":good") != nil || len(f.built) != 1 {
		t.Fatalf("err %v, unmoved %v, built %d", err, rep.Unmoved, len(f.built))
	}
	var skip Skip
	if !errors.As(rep.Unmoved, &skip) {
		t.Errorf("ErrSubset is not a Skip")
	}
	if last := res.Steps[len(res.Steps)-1]; last.Step != "publish" || last.Skipped != "no program publishes" {
		t.Errorf("publish timing %+v", last)
	}
	if !strings.Contains(rep.Table(), "platform subset: images pushed by digest, tags not moved") {
		t.Errorf("table:\n%s", rep.Table())
	}
}

// TestRunSourceFailure: a program whose source cannot be prepared fails
// before building; the other program still builds.
func TestRunSourceFailure(t *testing.T) {
	f := &fakes{failSrc: map[string]bool{"bad": true}}
	res, _, err := fakeRun(t, f, nil, Target{Program: fakeProgram(t, "bad", "linux/amd64"), Publish: true}, Target{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true})
	if err == nil || !strings.Contains(err.Error(), "module not found") || res.Reports[0].Unmoved != nil {
		t.Errorf("err %v, unmoved %v", err, res.Reports[0].Unmoved)
	}
	if len(f.built) != 1 || f.built[0].Label != "good linux/amd64" || !res.Reports[1].TagsMoved() {
		t.Errorf("built %v", f.built)
	}
}

// TestRunBuiltOutcomes: a distributed run's records are verified and
// published without preparing sources or building.
func TestRunBuiltOutcomes(t *testing.T) {
	prog := fakeProgram(t, "good", "linux/amd64", "linux/s390x!")
	repo := registrytest.Serve(t)
	// The images a distributed run's jobs pushed.
	jobs := &fakes{repo: repo}
	var built []Outcome
	for _, pl := range prog.Platforms {
		job := NewJob(prog, pl)
		d, err := jobs.Build(context.Background(), buildx.BuildRequest{Label: job.String(), Platform: pl})
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, Outcome{Job: job, Digest: d})
	}
	f := &fakes{}
	res, _, err := runIn(f, repo, nil, Target{Program: prog, Built: built, Publish: true}, Target{Program: prog, Err: errors.New("no record for linux/amd64")})
	if len(f.built) != 0 || len(f.prepared) != 0 || len(f.attested) != 0 {
		t.Errorf("built %v, prepared %v, attested %v: a distributed run's images come with their SBOMs", f.built, f.prepared, f.attested)
	}
	if !res.Reports[0].TagsMoved() || len(f.checked) != 2 || published(t, repo+":good-v1.0.0") == nil {
		t.Errorf("moved %v, checked %v", res.Reports[0].TagsMoved(), f.checked)
	}
	if err == nil || res.Reports[1].Err == nil || !strings.Contains(err.Error(), "no record for linux/amd64") {
		t.Errorf("a target with Err ran: %v", err)
	}
}

// TestRunUnchanged: a second run with the same images and inputs moves
// nothing; changed inputs publish again.
func TestRunUnchanged(t *testing.T) {
	repo := registrytest.Serve(t)
	prog := fakeProgram(t, "good", "linux/amd64")
	run := func(in string) Report {
		res, _, err := runIn(&fakes{}, repo, map[string]string{"good": in}, Target{Program: prog, Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Reports[0]
	}
	first := run("sha256:in")
	idx := published(t, repo+":good")
	if !first.TagsMoved() || idx == nil {
		t.Fatalf("first run: unmoved %v", first.Unmoved)
	}
	if rep := run("sha256:in"); !errors.Is(rep.Unmoved, ErrUnchanged) || rep.TagsMoved() || published(t, repo+":good").Digest != idx.Digest {
		t.Errorf("same images and inputs: unmoved %v", rep.Unmoved)
	}
	if rep := run("sha256:other"); rep.Unmoved != nil || published(t, repo+":good").Annotations[inputs.Annotation] != "sha256:other" {
		t.Errorf("changed inputs: unmoved %v", rep.Unmoved)
	}
}

// TestRunTagOrder: the version tag moves first, the moving tag last; a
// run that stops between the two (here the registry refuses the second
// tag) leaves <name> where it was and says so, and the next run finishes.
func TestRunTagOrder(t *testing.T) {
	prog := fakeProgram(t, "good", "linux/amd64")
	var refuse atomic.Bool
	var order []string
	var mu sync.Mutex
	repo := registrytest.ServeWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, "sha256:") {
				tag := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
				mu.Lock()
				order = append(order, tag)
				mu.Unlock()
				if refuse.Load() && tag == "good" {
					http.Error(w, "stopped", http.StatusForbidden) // not retried, like a run killed here
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	in := map[string]string{"good": "sha256:one"}
	if _, _, err := runIn(&fakes{}, repo, in, Target{Program: prog, Publish: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, " ") != "good-v1.0.0 good" {
		t.Errorf("tags written in the order %v; want the version tag first", order)
	}
	old := published(t, repo+":good")

	refuse.Store(true)
	in["good"] = "sha256:two"
	res, _, err := runIn(&fakes{}, repo, in, Target{Program: prog, Publish: true})
	rep := res.Reports[0]
	version, moving := published(t, repo+":good-v1.0.0"), published(t, repo+":good")
	if err == nil || !strings.Contains(err.Error(), repo+":good-v1.0.0 points at the new index "+version.Digest.String()+", "+repo+":good was not moved: run again to finish") {
		t.Errorf("err = %v", err)
	}
	if rep.TagsMoved() || !errors.Is(rep.Unmoved, ErrPublishFailed) {
		t.Errorf("moved %v, unmoved %v", rep.TagsMoved(), rep.Unmoved)
	}
	if version.Annotations[inputs.Annotation] != "sha256:two" || moving.Digest != old.Digest {
		t.Errorf("after the stop: version tag has %s, moving tag %s (was %s)", version.Annotations[inputs.Annotation], moving.Digest, old.Digest)
	}

	refuse.Store(false)
	if _, _, err := runIn(&fakes{}, repo, in, Target{Program: prog, Publish: true}); err != nil {
		t.Fatal(err)
	}
	if published(t, repo+":good").Digest != version.Digest {
		t.Error("the next run did not finish moving the tags")
	}
}

// TestRunTimeouts: a source or a build that does not finish in its bound
// fails its program with an error naming the step, the program, the
// platform and the setting; the others go on.
func TestRunTimeouts(t *testing.T) {
	f := &fakes{hang: map[string]bool{"slowsrc": true, "slowbuild linux/arm64": true}}
	f.repo = registrytest.Serve(t)
	opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 2, SourceTimeout: 50 * time.Millisecond, BuildTimeout: 50 * time.Millisecond}
	res, err := Run(context.Background(), opt, []Target{
		{Program: fakeProgram(t, "slowsrc", "linux/amd64"), Publish: true},
		{Program: fakeProgram(t, "slowbuild", "linux/amd64", "linux/arm64"), Publish: true},
		{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true},
	})
	for _, want := range []string{
		"source of slowsrc v1.0.0: timed out after 50ms (raise CROSSBIN_TIMEOUT_SOURCE)",
		"slowbuild v1.0.0: 1 platform(s) failed",
		"linux/arm64: build slowbuild linux/arm64: timed out after 50ms (raise CROSSBIN_TIMEOUT_BUILD)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if !res.Reports[2].TagsMoved() || res.Reports[1].TagsMoved() {
		t.Errorf("moved: good %v, slowbuild %v", res.Reports[2].TagsMoved(), res.Reports[1].TagsMoved())
	}
}

// TestRunBatchFailures: how a failed batch of one program's platforms
// ends: the job it names is built alone and the others in a batch again;
// an anonymous failure builds every job alone; a timeout, a cancelled run
// or a full disk is every job's result, and nothing is built again.
func TestRunBatchFailures(t *testing.T) {
	const prog = "x linux/amd64,x linux/arm64,x linux/s390x"
	for _, tc := range []struct {
		name       string
		batch      batching
		batchOpt   bool
		cancel     bool
		wantErrs   string // each outcome's error, "-" for none
		wantBatch  string
		wantSingle string
	}{
		{name: "named", batch: batching{}, batchOpt: true, wantErrs: "- buildx build: boom -",
			wantBatch: "[[" + strings.ReplaceAll(prog, ",", " ") + "] [x linux/amd64 x linux/s390x]]", wantSingle: "x linux/arm64"},
		{name: "anonymous", batch: batching{anonymous: true}, batchOpt: true, wantErrs: "- buildx build: boom -",
			wantBatch: "[[" + strings.ReplaceAll(prog, ",", " ") + "]]", wantSingle: prog},
		{name: "full disk", batch: batching{err: fmt.Errorf("buildx bake: %w", buildx.ErrNoSpace)}, batchOpt: true,
			wantErrs: strings.Repeat("buildx bake: "+buildx.ErrNoSpace.Error()+" ", 3), wantBatch: "[[" + strings.ReplaceAll(prog, ",", " ") + "]]"},
		{name: "timeout", batch: batching{}, batchOpt: true,
			wantErrs:  strings.Repeat("build x (3 platforms in one bake): timed out after 100ms (raise CROSSBIN_TIMEOUT_BUILD): buildx bake: context deadline exceeded ", 3),
			wantBatch: "[[" + strings.ReplaceAll(prog, ",", " ") + "]]"},
		{name: "cancelled", batch: batching{}, batchOpt: true, cancel: true,
			wantErrs: strings.Repeat("buildx bake: context canceled ", 3), wantBatch: "[[" + strings.ReplaceAll(prog, ",", " ") + "]]"},
		{name: "batch off", batch: batching{}, batchOpt: false, wantErrs: "- buildx build: boom -", wantBatch: "[]", wantSingle: prog},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakes{repo: registrytest.Serve(t), failBld: map[string]bool{"x linux/arm64": true}}
			if tc.name == "timeout" || tc.cancel {
				f.failBld, f.hang = nil, map[string]bool{"x linux/arm64": true}
			}
			tc.batch.fakes = f
			store, _ := durations.Open(filepath.Join(t.TempDir(), "durations.json"))
			opt := Options{Builder: tc.batch, Batch: tc.batchOpt, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 2,
				BuildTimeout: 10 * time.Second, Durations: store}
			if tc.name == "timeout" {
				opt.BuildTimeout = 50 * time.Millisecond
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				opt.BuildTimeout = 0
				go func() { time.Sleep(50 * time.Millisecond); cancel() }()
			}
			res, _ := Run(ctx, opt, []Target{{Program: fakeProgram(t, "x", "linux/amd64", "linux/arm64", "linux/s390x!"), Publish: true}})
			var errs []string
			for _, o := range res.Reports[0].Outcomes {
				switch {
				case o.Err == nil && o.Digest.Hex != "":
					errs = append(errs, "-")
				case o.Err == nil:
					errs = append(errs, "no image, no error")
				default:
					errs = append(errs, o.Err.Error())
				}
			}
			if got := strings.Join(errs, " "); strings.TrimSpace(got) != strings.TrimSpace(tc.wantErrs) {
				t.Errorf("outcomes:\n %s\nwant\n %s", got, tc.wantErrs)
			}
			if got := fmt.Sprint(f.batches); got != tc.wantBatch {
				t.Errorf("batches %s; want %s", got, tc.wantBatch)
			}
			var single []string
			for _, req := range f.built {
				single = append(single, req.Label)
			}
			// A successful batch builds through f.Build too: count only
			// the jobs no successful batch built.
			if tc.name == "named" {
				single = slices.DeleteFunc(single, func(l string) bool { return l != "x linux/arm64" })
				// The second batch's jobs took its reported times.
				if tb := store.Table(); tb[durations.Key{Program: "x", Platform: "linux/amd64"}] != time.Second ||
					tb[durations.Key{Program: "x", Platform: "linux/s390x", Unavailable: true}] != 2*time.Second {
					t.Errorf("recorded durations %v; want the batch's per-job times", tb)
				}
			}
			if slices.Sort(single); strings.Join(single, ",") != tc.wantSingle {
				t.Errorf("built alone %q; want %q", single, tc.wantSingle)
			}
		})
	}
}

// TestRunHeartbeat: while a build (or a program's batch) runs longer than
// the heartbeat without a progress line, the build step says what is
// still building, and for how long.
func TestRunHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		batch   bool
		running string
	}{{false, `running="slow linux/arm64 `}, {true, `running="slow (2 platforms) `}} {
		f := &fakes{hang: map[string]bool{"slow linux/arm64": true}, batch: tc.batch}
		f.repo = registrytest.Serve(t)
		var bld Builder = f
		if tc.batch {
			bld = batching{fakes: f}
		}
		var logs syncBuffer
		opt := Options{Builder: bld, Batch: tc.batch, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 1,
			BuildTimeout: 300 * time.Millisecond, Heartbeat: 60 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil))}
		_, err := Run(context.Background(), opt, []Target{{Program: fakeProgram(t, "slow", "linux/amd64", "linux/arm64"), Publish: true}})
		if err == nil {
			t.Fatal("the hung build succeeded")
		}
		var beats []string
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `msg="still building"`) {
				beats = append(beats, line)
			}
		}
		if len(beats) < 2 || !strings.Contains(beats[0], tc.running) || !strings.Contains(beats[0], "done=") {
			t.Errorf("batch=%v: heartbeat lines:\n%s", tc.batch, strings.Join(beats, "\n"))
		}
	}
}

// syncBuffer is a strings.Builder safe for the heartbeat's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunCancelledMidMerge: a run cancelled (as a signal does) while its
// index is being pushed moves no tag; one cancelled while the version tag
// is being written finishes the pair instead of splitting it.
func TestRunCancelledMidMerge(t *testing.T) {
	for _, tc := range []struct {
		name, blockOn string // the manifest PUT held until the run is cancelled
		wantTags      bool
	}{
		{"while pushing the index", "sha256:", false},
		{"while writing the version tag", "good-v1.0.0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			repo := registrytest.ServeWith(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && strings.HasSuffix(r.URL.Path, "/"+tc.blockOn) || r.Method == http.MethodPut && tc.blockOn == "sha256:" && strings.Contains(r.URL.Path, "/manifests/sha256:") && strings.Contains(r.Header.Get("Content-Type"), "index") {
						cancel() // the signal arrives while this request is in flight
						time.Sleep(50 * time.Millisecond)
					}
					h.ServeHTTP(w, r)
				})
			})
			f := &fakes{repo: repo}
			opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: repo, Jobs: 1, Inputs: map[string]string{"good": "sha256:in"}}
			res, err := Run(ctx, opt, []Target{{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}})
			version, moving := published(t, repo+":good-v1.0.0"), published(t, repo+":good")
			if tc.wantTags {
				if err != nil || version == nil || moving == nil || version.Digest != moving.Digest {
					t.Errorf("err %v; tags %v %v: want both moved together", err, version, moving)
				}
				return
			}
			if err == nil || !errors.Is(err, context.Canceled) || version != nil || moving != nil || res.Reports[0].TagsMoved() {
				t.Errorf("err %v; tags %v %v: want no tag and a cancelled run", err, version, moving)
			}
		})
	}
}

// TestRunAnnotations: Options.Annotations land on the published index
// beside the title, version and inputs.
func TestRunAnnotations(t *testing.T) {
	f := &fakes{repo: registrytest.Serve(t)}
	opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 1, Inputs: map[string]string{"good": "sha256:in"},
		Annotations: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"}}
	if _, err := Run(context.Background(), opt, []Target{{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}}); err != nil {
		t.Fatal(err)
	}
	got := published(t, f.repo+":good").Annotations
	want := map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z", "org.opencontainers.image.title": "good",
		"org.opencontainers.image.version": "v1.0.0", inputs.Annotation: "sha256:in"}
	if !maps.Equal(got, want) {
		t.Errorf("annotations %v; want %v", got, want)
	}
}

// TestRunAttestFailureMovesNoTag: an image whose SBOM cannot be written is
// not verified or published.
func TestRunAttestFailureMovesNoTag(t *testing.T) {
	f := &fakes{failAtt: map[string]bool{"good linux/arm64": true}}
	res, repo, err := fakeRun(t, f, nil, Target{Program: fakeProgram(t, "good", "linux/amd64", "linux/arm64"), Publish: true})
	if err == nil || !strings.Contains(err.Error(), "linux/arm64: attest: build info: not a Go binary") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(res.Reports[0].Unmoved, ErrAttestFailed) || len(f.checked) != 0 || published(t, repo+":good-v1.0.0") != nil {
		t.Errorf("unmoved %v, checked %v", res.Reports[0].Unmoved, f.checked)
	}
}

// TestRunLongestFirst: with one worker, the jobs start longest expected
// first across programs (ties in catalog order, a new program at the median
// of the recorded builds); each progress line carries an estimate of the
// time left; every image built is recorded, a failure is not. Without
// Durations the order is the catalog's and no line has an estimate.
func TestRunLongestFirst(t *testing.T) {
	small := fakeProgram(t, "small", "linux/amd64", "linux/arm64")
	big := fakeProgram(t, "big", "linux/amd64", "linux/s390x!")
	fresh := fakeProgram(t, "fresh", "linux/amd64")
	targets := []Target{{Program: small}, {Program: big}, {Program: fresh}}
	catalogOrder := "small linux/amd64,small linux/arm64,big linux/amd64,big linux/s390x,fresh linux/amd64"

	for _, tc := range []struct {
		name      string
		store     bool
		wantOrder string
		batch     bool
	}{
		// Recorded: big amd64 5m, small arm64 20s, small amd64 10s, the
		// stand-in 2s; fresh is new: the median of 10s 20s 5m, 20s, after
		// small arm64 (a tie, later in the catalog).
		{"recorded durations", true, "big linux/amd64,small linux/arm64,fresh linux/amd64,small linux/amd64,big linux/s390x", false},
		{"no store", false, catalogOrder, false},
		// Batches: a program's jobs are one unit, expected to take their
		// sum: big 5m2s, small 30s, fresh 20s. small's batch fails (its
		// amd64 does), so its jobs are built one by one.
		{"batches", true, "big linux/amd64,big linux/s390x,small linux/amd64,small linux/arm64,fresh linux/amd64", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakes{repo: registrytest.Serve(t), failBld: map[string]bool{"small linux/amd64": true}}
			var bld Builder = f
			if tc.batch {
				bld = batching{fakes: f}
			}
			var logs strings.Builder
			opt := Options{Builder: bld, Batch: tc.batch, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 1,
				Log: slog.New(slog.NewTextHandler(&logs, nil))}
			var store *durations.Store
			if tc.store {
				store, _ = durations.Open(filepath.Join(t.TempDir(), "durations.json"))
				for k, d := range map[durations.Key]time.Duration{
					{Program: "small", Platform: "linux/amd64"}:                  10 * time.Second,
					{Program: "small", Platform: "linux/arm64"}:                  20 * time.Second,
					{Program: "big", Platform: "linux/amd64"}:                    5 * time.Minute,
					{Program: "big", Platform: "linux/s390x", Unavailable: true}: 2 * time.Second,
				} {
					if err := store.Record(k, d); err != nil {
						t.Fatal(err)
					}
				}
				opt.Durations = store
			}
			_, err := Run(context.Background(), opt, targets)
			if err == nil || !strings.Contains(err.Error(), "small v1.0.0: 1 platform(s) failed") {
				t.Errorf("err = %v", err)
			}
			var order []string
			for _, req := range f.built {
				order = append(order, req.Label)
			}
			if got := strings.Join(order, ","); got != tc.wantOrder {
				t.Errorf("started\n %s\nwant\n %s", got, tc.wantOrder)
			}
			var progress []string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, `msg="platform built"`) || strings.Contains(line, `msg="platform failed"`) {
					progress = append(progress, line)
				}
			}
			if len(progress) != 5 {
				t.Fatalf("progress lines:\n%s", strings.Join(progress, "\n"))
			}
			for _, line := range progress {
				if strings.Contains(line, " eta=") != tc.store {
					t.Errorf("eta in %q: %v; want %v", line, !tc.store, tc.store)
				}
			}
			if !tc.store {
				return
			}
			// The first line: 5m expected, done in milliseconds; the pace
			// brings the rest down to about nothing.
			if !strings.Contains(progress[0], "done=1/5 eta=0s") {
				t.Errorf("first progress line %q", progress[0])
			}
			tb := store.Table()
			if d := tb[durations.Key{Program: "small", Platform: "linux/amd64"}]; d != 10*time.Second {
				t.Errorf("the failed job's duration changed to %s", d)
			}
			if d := tb[durations.Key{Program: "big", Platform: "linux/amd64"}]; d >= 5*time.Minute || d < 150*time.Second {
				t.Errorf("big linux/amd64: %s; want halfway between 5m and the fake's milliseconds", d)
			}
			if _, ok := tb[durations.Key{Program: "fresh", Platform: "linux/amd64"}]; !ok || len(tb) != 5 {
				t.Errorf("recorded %v; want the new program's build too", tb)
			}
		})
	}
}

// TestRunTarballFailures: a C program whose release tarball is not the
// pinned bytes, or cannot be fetched from any URL, fails in the source
// step with the source package's error; nothing of it is built and no tag
// moves, while the other program publishes.
func TestRunTarballFailures(t *testing.T) {
	tampered := []byte("not the release")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "tampered") {
			w.Write(tampered)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	want := strings.Repeat("0", 64)
	for _, tc := range []struct{ file, err string }{
		{"tampered-${VERSION}.tar.gz", "tampered-v1.0.0.tar.gz served a tarball with sha256 "},
		{"gone-${VERSION}.tar.gz", "every URL failed"},
	} {
		f := &fakes{}
		c := fakeProgram(t, "c", "linux/arm64")
		c.Tarball = &catalog.Tarball{URL: srv.URL + "/" + tc.file, SHA256: want}
		f.repo = registrytest.ServeWith(t, nil)
		opt := Options{Builder: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 2, Root: "/repo",
			Sources: tarballSources{source.Preparer{CacheDir: t.TempDir(), HTTP: srv.Client(), Log: slog.New(slog.DiscardHandler)}, f}}
		res, err := Run(context.Background(), opt, []Target{{Program: c, Publish: true}, {Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}})
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "c v1.0.0: release tarball") {
			t.Errorf("%s: err = %v", tc.file, err)
		}
		if res.Reports[0].TagsMoved() || published(t, f.repo+":c") != nil || published(t, f.repo+":c-v1.0.0") != nil {
			t.Errorf("%s: tags moved for a program whose tarball failed", tc.file)
		}
		if len(f.built) != 1 || f.built[0].Label != "good linux/amd64" || !res.Reports[1].TagsMoved() {
			t.Errorf("%s: built %v", tc.file, f.built)
		}
	}
}

// tarballSources prepares C programs' sources with the real Preparer and
// the others with the fakes.
type tarballSources struct {
	real source.Preparer
	fake *fakes
}

func (s tarballSources) Prepare(ctx context.Context, prog catalog.Program, pls []platform.Platform) (source.Prepared, error) {
	if prog.Tarball != nil {
		return s.real.Prepare(ctx, prog, pls)
	}
	return s.fake.Prepare(ctx, prog, pls)
}

// TestRunWithoutDebianImage: a run whose Debian builder image could not be
// had fails its C programs and Go programs with cgo with the reason and
// builds the other Go ones.
func TestRunWithoutDebianImage(t *testing.T) {
	f := &fakes{}
	c := fakeProgram(t, "c", "linux/arm64")
	c.Tarball = &catalog.Tarball{URL: "https://example.com/c-${VERSION}.tar.gz", SHA256: strings.Repeat("0", 64)}
	cg := fakeProgram(t, "cg", "linux/arm64")
	cg.Build.CGO = true
	f.repo = registrytest.ServeWith(t, nil)
	opt := Options{Builder: f, Checker: f, Attester: f, Sources: f, Repository: f.repo, Jobs: 2, Root: "/repo",
		DebianErr: errors.New("assemble the Debian builder image: mmdebstrap: mirror unreachable")}
	res, err := Run(context.Background(), opt, []Target{{Program: c, Publish: true}, {Program: cg, Publish: true}, {Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}})
	for _, want := range []string{
		"c is a C program, but there is no Debian builder image: assemble the Debian builder image: mmdebstrap: mirror unreachable",
		"cg is a Go program with cgo, but there is no Debian builder image: assemble the Debian builder image",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant %q", err, want)
		}
	}
	if res.Reports[0].TagsMoved() || res.Reports[1].TagsMoved() || len(f.built) != 1 || f.built[0].Label != "good linux/amd64" || !res.Reports[2].TagsMoved() {
		t.Errorf("built %v, reports %+v", f.built, res.Reports)
	}
}

// TestRunExportsCBuildRecord: each real platform of a C program has its
// build record exported with the image build's own arguments, and the
// attest step gets it; an unavailable platform (the Go stand-in) and a Go
// program get none.
func TestRunExportsCBuildRecord(t *testing.T) {
	f := &fakes{}
	c := fakeProgram(t, "c", "linux/arm64", "linux/riscv64", "linux/loong64!")
	c.Tarball = &catalog.Tarball{URL: "https://example.com/c-${VERSION}.tar.gz", SHA256: strings.Repeat("0", 64)}
	f.repo = registrytest.ServeWith(t, nil)
	opt := Options{Builder: f, Checker: f, Attester: f, Sources: f, Repository: f.repo, Jobs: 2, Root: "/repo", DebianImage: "debian:trixie@sha256:" + strings.Repeat("a", 64)}
	if _, err := Run(context.Background(), opt, []Target{{Program: c}, {Program: fakeProgram(t, "good", "linux/amd64")}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, req := range f.exported {
		var image buildx.BuildRequest
		for _, b := range f.built {
			if b.Label+" sbom" == req.Label {
				image = b
			}
		}
		if req.Target != RecordStage || req.LocalOutput == "" || req.Provenance != "" || !maps.Equal(req.Args, image.Args) || !maps.Equal(req.Contexts, image.Contexts) {
			t.Errorf("%s: %+v, image %+v", req.Label, req, image)
		}
		got = append(got, req.Label)
	}
	slices.Sort(got)
	if strings.Join(got, ",") != "c linux/arm64 sbom,c linux/riscv64 sbom" {
		t.Errorf("exported %v", got)
	}
	slices.Sort(f.records)
	if len(f.records) != 2 || f.records[0] == f.records[1] {
		t.Errorf("records given to attest: %v", f.records)
	}
}
