package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/buildx"
)

// BatchBuilder is a Builder that also builds several requests of one
// program at once (buildx.Builder, through one `buildx bake`): one buildx
// process and one BuildKit session for all of a program's platforms
// instead of one each, and the steps they share run once. Any failure
// fails the whole batch; the build step then builds that batch's jobs one
// by one, which isolates and names each failure.
type BatchBuilder interface {
	Builder
	BuildBatch(ctx context.Context, dir, label string, reqs []buildx.BuildRequest) ([]v1.Hash, error)
}

// BuildStep builds every pending job of every target through one pool:
// with a BatchBuilder, a target's pending jobs are one unit of the pool,
// otherwise each job is.
type BuildStep struct{}

func (BuildStep) String() string { return "build" }

func (BuildStep) Run(ctx context.Context, c *Context) error {
	batcher, _ := c.Builder.(BatchBuilder)
	units, exp := c.schedule(c.units(c.refs(c.pending), batcher != nil))
	total := 0
	for _, u := range units {
		total += len(u)
	}
	b := &building{Context: c, batcher: batcher, track: newProgress(exp, max(c.Jobs, 1)), total: total, running: map[string]time.Time{}}
	c.Log.Info("building", append([]any{"programs", len(c.Targets), "jobs", total, "parallel", c.Jobs}, etaAttr(b.track.eta(time.Now()))...)...)
	b.logged.Store(time.Now().UnixNano())
	stop := b.heartbeat(cmp.Or(c.Heartbeat, DefaultHeartbeat))
	c.pool(len(units), func(k int) { b.unit(ctx, k, units[k]) })
	stop()
	c.settle(ErrBuildFailed)
	return nil
}

// DefaultHeartbeat is how long the build step stays silent at most: a
// program's bake logs nothing until all its platforms are built.
const DefaultHeartbeat = 15 * time.Second

// heartbeat logs what is still building whenever nothing was logged for
// every; stop ends it.
func (b *building) heartbeat(every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if now.Sub(time.Unix(0, b.logged.Load())) < every {
					continue
				}
				b.mu.Lock()
				var running []string
				for _, name := range slices.Sorted(maps.Keys(b.running)) {
					running = append(running, name+" "+now.Sub(b.running[name]).Round(time.Second).String())
				}
				b.mu.Unlock()
				b.Log.Info("still building", append([]any{"running", strings.Join(running, ", "), "done", fmt.Sprintf("%d/%d", b.finished.Load(), b.total)}, etaAttr(b.track.left(now))...)...)
				b.logged.Store(now.UnixNano())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// units groups refs into the pool's units: one per target when batches
// can be built, one per ref otherwise. Refs come in catalog order, so a
// target's refs are adjacent.
func (c *Context) units(refs []ref, batch bool) [][]ref {
	var out [][]ref
	for _, r := range refs {
		if batch && len(out) > 0 && out[len(out)-1][0].i == r.i {
			out[len(out)-1] = append(out[len(out)-1], r)
			continue
		}
		out = append(out, []ref{r})
	}
	return out
}

// building is one build step's state shared by its workers.
type building struct {
	*Context
	batcher  BatchBuilder
	track    *progress
	total    int
	finished atomic.Int64
	logged   atomic.Int64 // when a progress line was last logged (UnixNano)

	mu      sync.Mutex
	running map[string]time.Time // what is building, since when
}

// unit builds pool unit k: its refs in one batch when there are several
// and a BatchBuilder, and one by one otherwise or after a failed batch.
// The unit's progress is settled before its last result is logged, so
// that line's estimate counts it done.
func (b *building) unit(ctx context.Context, k int, refs []ref) {
	start := time.Now()
	b.track.start(k, start)
	name := b.Reports[refs[0].i].Outcomes[refs[0].j].String()
	if len(refs) > 1 {
		name = fmt.Sprintf("%s (%d platforms)", b.Reports[refs[0].i].Program.Name, len(refs))
	}
	b.mu.Lock()
	b.running[name] = start
	b.mu.Unlock()
	defer func() { b.mu.Lock(); delete(b.running, name); b.mu.Unlock() }()
	if len(refs) > 1 && b.batcher != nil {
		err := b.batch(ctx, refs)
		if err == nil {
			left := etaAttr(b.track.finish(k, time.Since(start), false, time.Now()))
			for _, r := range refs {
				b.done(&b.Reports[r.i].Outcomes[r.j], left)
			}
			return
		}
		o := b.Reports[refs[0].i].Outcomes[refs[0].j]
		b.Log.Warn("batch failed; building its platforms one by one", "program", o.Program.Name, "platforms", len(refs), "err", firstLine(err))
	}
	failed := false
	for n, r := range refs {
		o := &b.Reports[r.i].Outcomes[r.j]
		b.one(ctx, r)
		failed = failed || o.Err != nil
		left := etaAttr(b.track.left(time.Now()))
		if n == len(refs)-1 {
			left = etaAttr(b.track.finish(k, time.Since(start), failed, time.Now()))
		}
		b.done(o, left)
	}
}

// request is ref r's build request, its metadata file in the run's
// scratch directory.
func (b *building) request(r ref) buildx.BuildRequest {
	o := b.Reports[r.i].Outcomes[r.j]
	p := b.prepared[r.i]
	meta := filepath.Join(b.work, fmt.Sprintf("%d-%s.json", r.i, strings.ReplaceAll(o.Platform.String(), "/", "-")))
	return Request(b.Options, o.Job, p.ByPlatform[o.Platform].Dir, p.Released, meta)
}

// batch builds refs (one target's jobs) in one go. Its error leaves the
// outcomes untouched for one build each.
func (b *building) batch(ctx context.Context, refs []ref) error {
	i := refs[0].i
	reqs := make([]buildx.BuildRequest, len(refs))
	for k, r := range refs {
		reqs[k] = b.request(r)
		o := &b.Reports[r.i].Outcomes[r.j]
		b.Log.Info("platform started", "program", o.Program.Name, "platform", o.Platform.String(), "kind", kind(o), "batch", len(refs))
	}
	dir := filepath.Join(b.work, fmt.Sprintf("%d-bake", i))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	start := time.Now()
	var pushed []v1.Hash
	name := b.Reports[i].Program.Name
	// Each job is bounded by BuildTimeout; the batch by their sum.
	err := bounded(ctx, b.BuildTimeout*time.Duration(len(refs)), "build "+name, "CROSSBIN_TIMEOUT_BUILD", func(ctx context.Context) error {
		var err error
		pushed, err = b.batcher.BuildBatch(ctx, dir, name, reqs)
		return err
	})
	if err != nil {
		return err
	}
	// The batch's time, shared among its jobs: what each is expected to
	// cost next time, so a program's jobs sum to its batch.
	took := time.Since(start) / time.Duration(len(refs))
	for k, r := range refs {
		o := &b.Reports[r.i].Outcomes[r.j]
		o.Duration = took
		o.Err = b.split(ctx, o, pushed[k])
	}
	return nil
}

// one builds ref r alone.
func (b *building) one(ctx context.Context, r ref) {
	o := &b.Reports[r.i].Outcomes[r.j]
	req := b.request(r)
	b.Log.Info("platform started", "program", o.Program.Name, "platform", o.Platform.String(), "kind", kind(o))
	start := time.Now()
	err := bounded(ctx, b.BuildTimeout, "build "+o.String(), "CROSSBIN_TIMEOUT_BUILD", func(ctx context.Context) error {
		pushed, err := b.Builder.Build(ctx, req)
		if err != nil {
			return err
		}
		return b.split(ctx, o, pushed)
	})
	o.Duration, o.Err = time.Since(start), err
}

// split records the pushed image's digest and its attestations on o.
func (b *building) split(ctx context.Context, o *Outcome, pushed v1.Hash) error {
	p, err := b.Registry.Split(ctx, b.Repository, pushed)
	o.Digest, o.Attestations = p.Image, p.Attestations
	return err
}

// done logs o's result with the progress and the time left and, for a
// build that produced its image, records its duration.
func (b *building) done(o *Outcome, left []any) {
	b.logged.Store(time.Now().UnixNano())
	log := b.Log.With("program", o.Program.Name, "platform", o.Platform.String())
	progress := fmt.Sprintf("%d/%d", b.finished.Add(1), b.total)
	if o.Err != nil {
		log.Error("platform failed", append([]any{"duration", o.Duration.Round(time.Second), "done", progress}, left...)...)
		return
	}
	// Only a build that produced its image is a duration worth
	// expecting again: a failure may have stopped at any point.
	if b.Durations != nil {
		if err := b.Durations.Record(DurationKey(o.Job), o.Duration); err != nil {
			log.Warn("duration not recorded", "err", err)
		}
	}
	log.Info("platform built", append([]any{"digest", o.Digest.String(), "duration", o.Duration.Round(100 * time.Millisecond), "done", progress}, left...)...)
}

func kind(o *Outcome) string {
	if o.Unavailable {
		return "unavailable"
	}
	return "build"
}

// firstLine is err's first line: buildx's output follows it.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
