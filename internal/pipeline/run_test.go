package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
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
	digests  map[string]v1.Hash
	prepared map[string][]platform.Platform
	built    []buildx.BuildRequest
	checked  []string
	merged   []buildx.MergeRequest
}

func (f *fakes) Prepare(_ context.Context, prog catalog.Program, pls []platform.Platform) (source.Prepared, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prepared == nil {
		f.prepared = map[string][]platform.Platform{}
	}
	f.prepared[prog.Name] = pls
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

func (f *fakes) Build(_ context.Context, req buildx.BuildRequest) (v1.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.built = append(f.built, req)
	if f.failBld[req.Label] {
		return v1.Hash{}, errors.New("buildx build: boom")
	}
	if d, ok := f.digests[req.Label]; ok {
		return d, nil
	}
	sum := sha256.Sum256([]byte(req.Label))
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, nil
}

func (f *fakes) Check(_ context.Context, job Job, _ v1.Hash) verify.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = append(f.checked, job.String())
	r := verify.Result{Platform: job.Platform, Output: job.Program.Version}
	if f.failChk[job.String()] {
		r.Err = errors.New("ELF header is EM_X86_64")
	}
	return r
}

func (f *fakes) Merge(_ context.Context, req buildx.MergeRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.merged = append(f.merged, req)
	return nil
}

func (f *fakes) mergedTags() []string {
	var tags []string
	for _, m := range f.merged {
		tags = append(tags, m.Tags...)
	}
	return tags
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

// fakeRun runs targets with f for every outside call, against an
// in-process registry.
func fakeRun(t *testing.T, f *fakes, targets ...Target) (Result, string, error) {
	t.Helper()
	repo := registrytest.Serve(t)
	opt := Options{Builder: f, Merger: f, Sources: f, Checker: f, Repository: repo, Jobs: 2, Root: "/repo",
		Inputs: map[string]string{"good": "sha256:in"}}
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
	f := &fakes{failBld: map[string]bool{"bad linux/arm64": true}}
	good := fakeProgram(t, "good", "linux/amd64", "linux/riscv64", "linux/s390x!")
	bad := fakeProgram(t, "bad", "linux/amd64", "linux/arm64")
	res, repo, err := fakeRun(t, f, Target{Program: good, Publish: true}, Target{Program: bad, Publish: true})

	if err == nil || !strings.Contains(err.Error(), "bad v1.0.0: 1 platform(s) failed") || !strings.Contains(err.Error(), "linux/arm64: buildx build: boom") {
		t.Fatalf("err = %v", err)
	}
	if stepNames(res) != "plan source build verify publish" {
		t.Errorf("steps = %q", stepNames(res))
	}
	g, b := res.Reports[0], res.Reports[1]
	if g.Err != nil || !g.TagsMoved() || g.Unmoved != nil {
		t.Errorf("good: err %v, moved %v, unmoved %v", g.Err, g.TagsMoved(), g.Unmoved)
	}
	if !errors.Is(b.Unmoved, ErrBuildFailed) || b.TagsMoved() || len(b.Tags) != 0 {
		t.Errorf("bad: unmoved %v, tags %v", b.Unmoved, b.Tags)
	}
	if want := []string{repo + ":good", repo + ":good-v1.0.0"}; !slices.Equal(f.mergedTags(), want) {
		t.Errorf("merged %v, want %v", f.mergedTags(), want)
	}
	if m := f.merged[0]; m.Annotations[inputs.Annotation] != "sha256:in" || len(m.Sources) != 3 || !strings.HasPrefix(m.Sources[0], repo+"@sha256:") {
		t.Errorf("merge request %+v", m)
	}
	if slices.ContainsFunc(f.checked, func(s string) bool { return strings.HasPrefix(s, "bad ") }) {
		t.Errorf("a program that failed to build was verified: %v", f.checked)
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
}

func TestRunVerifyFailureMovesNoTag(t *testing.T) {
	f := &fakes{failChk: map[string]bool{"good linux/arm64": true}}
	res, _, err := fakeRun(t, f, Target{Program: fakeProgram(t, "good", "linux/amd64", "linux/arm64"), Publish: true})
	rep := res.Reports[0]
	if err == nil || !strings.Contains(err.Error(), "linux/arm64: verify: ELF header is EM_X86_64") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(rep.Unmoved, ErrVerifyFailed) || len(f.merged) != 0 {
		t.Errorf("unmoved %v, merged %v", rep.Unmoved, f.merged)
	}
}

// TestRunSubsetSkipsPublish: a platform subset builds and verifies, and the
// publish step says it was skipped, as a value callers can test.
func TestRunSubsetSkipsPublish(t *testing.T) {
	f := &fakes{}
	prog := fakeProgram(t, "good", "linux/amd64", "linux/arm64")
	res, _, err := fakeRun(t, f, Target{Program: prog, Subset: []platform.Platform{mustParse(t, "linux/arm64")}})
	rep := res.Reports[0]
	if err != nil || !errors.Is(rep.Unmoved, ErrSubset) || rep.TagsMoved() || len(f.merged) != 0 || len(f.built) != 1 {
		t.Fatalf("err %v, unmoved %v, merged %v, built %d", err, rep.Unmoved, f.merged, len(f.built))
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
	res, _, err := fakeRun(t, f, Target{Program: fakeProgram(t, "bad", "linux/amd64"), Publish: true}, Target{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true})
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
	f := &fakes{}
	prog := fakeProgram(t, "good", "linux/amd64", "linux/s390x!")
	built := []Outcome{
		{Job: NewJob(prog, mustParse(t, "linux/amd64")), Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}},
		{Job: NewJob(prog, mustParse(t, "linux/s390x")), Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}},
	}
	res, _, err := fakeRun(t, f, Target{Program: prog, Built: built, Publish: true}, Target{Program: prog, Err: errors.New("no record for linux/amd64")})
	if len(f.built) != 0 || len(f.prepared) != 0 {
		t.Errorf("built %v, prepared %v", f.built, f.prepared)
	}
	if !res.Reports[0].TagsMoved() || len(f.checked) != 2 || len(f.merged) != 1 {
		t.Errorf("moved %v, checked %v, merged %d", res.Reports[0].TagsMoved(), f.checked, len(f.merged))
	}
	if err == nil || res.Reports[1].Err == nil || !strings.Contains(err.Error(), "no record for linux/amd64") {
		t.Errorf("a target with Err ran: %v", err)
	}
}

// TestRunUnchanged: tags that already hold exactly these images with the
// same inputs are not merged again.
func TestRunUnchanged(t *testing.T) {
	repo := registrytest.Serve(t)
	prog := fakeProgram(t, "good", "linux/amd64")
	img, _ := random.Image(32, 1)
	d, _ := img.Digest()
	registrytest.PushIndex(t, []registrytest.Manifest{{Image: img, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}},
		map[string]string{inputs.Annotation: "sha256:in"}, registry.TagsOf(repo, prog).All()...)
	run := func(in string) (Report, *fakes) {
		f := &fakes{digests: map[string]v1.Hash{"good linux/amd64": d}}
		opt := Options{Builder: f, Merger: f, Sources: f, Checker: f, Repository: repo, Jobs: 1, Inputs: map[string]string{"good": in}}
		res, err := Run(context.Background(), opt, []Target{{Program: prog, Publish: true}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Reports[0], f
	}
	if rep, f := run("sha256:in"); !errors.Is(rep.Unmoved, ErrUnchanged) || len(f.merged) != 0 || rep.TagsMoved() {
		t.Errorf("same images and inputs: unmoved %v, merged %v", rep.Unmoved, f.merged)
	}
	if rep, f := run("sha256:other"); rep.Unmoved != nil || len(f.merged) != 1 {
		t.Errorf("changed inputs: unmoved %v, merged %v", rep.Unmoved, f.merged)
	}
}
