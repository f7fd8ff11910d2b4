package pipeline

import (
	"cmp"
	"context"
	"errors"
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
// instead of one each, and the steps they share run once. A failure is a
// *buildx.BatchError naming the failed request when it can; the build
// step then builds that one alone, for its own error, and the others in a
// batch again.
type BatchBuilder interface {
	Builder
	BuildBatch(ctx context.Context, dir, label string, reqs []buildx.BuildRequest) (buildx.Batch, error)
}

// BuildStep builds every pending job of every target through one pool:
// with a BatchBuilder, a target's pending jobs are one unit of the pool,
// otherwise each job is.
type BuildStep struct{}

func (BuildStep) String() string { return "build" }

func (BuildStep) Run(ctx context.Context, c *Context) error {
	var batcher BatchBuilder
	if c.Batch {
		batcher, _ = c.Builder.(BatchBuilder)
	}
	units, exp := c.schedule(c.units(c.refs(c.pending), batcher != nil))
	total := 0
	for _, u := range units {
		total += len(u)
	}
	b := &building{Context: c, batcher: batcher, track: newProgress(exp, max(c.Jobs, 1)), total: total, running: map[string]time.Time{}}
	c.Log.Info("building", append([]any{"programs", len(c.Targets), "jobs", total, "parallel", c.Jobs}, etaAttr(b.track.eta(time.Now()))...)...)
	b.logged.Store(time.Now().UnixNano())
	stop := b.heartbeat(max(cmp.Or(c.Heartbeat, DefaultHeartbeat), 15*time.Millisecond))
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
		tick := time.NewTicker(every / 15) // a line within a fifteenth of every
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
				b.Log.Info("still building", append([]any{"running", strings.Join(running, ", "), "done", fmt.Sprintf("%d/%d", b.finished.Load(), b.total)}, runningETA(b.track.left(now))...)...)
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

// unit builds pool unit k: its refs in batches when there are several and
// a BatchBuilder, and one by one otherwise. The unit's progress is settled
// before its last result is logged, so that line's estimate counts it
// done.
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

	alone, announce := refs, true
	if len(refs) > 1 && b.batcher != nil {
		b.announce(refs, len(refs))
		alone, announce = b.batches(ctx, refs), false
	}
	for _, r := range alone {
		b.one(ctx, r, announce)
	}
	failed := false
	for _, r := range refs {
		failed = failed || b.Reports[r.i].Outcomes[r.j].Err != nil
	}
	left := etaAttr(b.track.finish(k, time.Since(start), failed, time.Now()))
	for _, r := range refs {
		b.done(&b.Reports[r.i].Outcomes[r.j], left)
	}
}

// batches builds refs (one target's jobs) in batches until each has a
// result, and returns those left to build one by one. A batch whose
// failure names its failed job builds that one alone (its own error) and
// the rest in a batch again; a run cancelled, a full disk or a batch that
// timed out is every job's result; any other failure leaves every job of
// the batch to build alone.
func (b *building) batches(ctx context.Context, refs []ref) []ref {
	for len(refs) > 1 {
		err := b.batch(ctx, refs)
		var be *buildx.BatchError
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil, errors.Is(err, buildx.ErrNoSpace), errors.Is(err, errTimedOut):
			for _, r := range refs {
				b.Reports[r.i].Outcomes[r.j].Err = err
			}
			return nil
		case errors.As(err, &be) && be.Target >= 0 && be.Target < len(refs):
			failed := refs[be.Target]
			b.Log.Warn("platform failed in its program's bake; building it alone, the others in a bake again", "program", b.Reports[failed.i].Program.Name,
				"platform", b.Reports[failed.i].Outcomes[failed.j].Platform.String(), "err", firstLine(err))
			b.one(ctx, failed, false)
			refs = slices.Delete(slices.Clone(refs), be.Target, be.Target+1)
		default:
			b.Log.Warn("bake failed; building its platforms one by one", "program", b.Reports[refs[0].i].Program.Name, "platforms", len(refs), "err", firstLine(err))
			return refs
		}
	}
	return refs
}

// announce logs that refs started, batch of them together.
func (b *building) announce(refs []ref, batch int) {
	for _, r := range refs {
		o := &b.Reports[r.i].Outcomes[r.j]
		b.Log.Info("platform started", "program", o.Program.Name, "platform", o.Platform.String(), "kind", kind(o), "batch", batch)
	}
}

// request is ref r's build request, its metadata file in the run's
// scratch directory.
func (b *building) request(r ref) buildx.BuildRequest {
	o := b.Reports[r.i].Outcomes[r.j]
	p := b.prepared[r.i]
	meta := filepath.Join(b.work, fmt.Sprintf("%d-%s.json", r.i, strings.ReplaceAll(o.Platform.String(), "/", "-")))
	return Request(b.Options, o.Job, p.ByPlatform[o.Platform], p.Released, meta)
}

// batch builds refs in one go and records each one's image on its
// outcome. A bake runs up to Jobs steps at once, so it is bounded by
// BuildTimeout for every Jobs of its platforms.
func (b *building) batch(ctx context.Context, refs []ref) error {
	i := refs[0].i
	reqs := make([]buildx.BuildRequest, len(refs))
	for k, r := range refs {
		reqs[k] = b.request(r)
	}
	dir, err := os.MkdirTemp(b.work, fmt.Sprintf("%d-bake-", i))
	if err != nil {
		return err
	}
	name := b.Reports[i].Program.Name
	rounds := time.Duration((len(refs) + max(b.Jobs, 1) - 1) / max(b.Jobs, 1))
	start := time.Now()
	return bounded(ctx, b.BuildTimeout*rounds, fmt.Sprintf("build %s (%d platforms in one bake)", name, len(refs)), "CROSSBIN_TIMEOUT_BUILD", func(ctx context.Context) error {
		res, err := b.batcher.BuildBatch(ctx, dir, name, reqs)
		if err != nil {
			return err
		}
		// What each job is expected to cost next time: its own steps'
		// time, else its share of the batch.
		share := time.Since(start) / time.Duration(len(refs))
		for k, r := range refs {
			o := &b.Reports[r.i].Outcomes[r.j]
			o.Duration = share
			if k < len(res.Times) && res.Times[k] > 0 {
				o.Duration = res.Times[k]
			}
			if o.Err = b.split(ctx, o, res.Digests[k]); o.Err == nil {
				o.Err = b.record(ctx, o, reqs[k])
			}
		}
		return nil
	})
}

// one builds ref r alone; announce logs that it started.
func (b *building) one(ctx context.Context, r ref, announce bool) {
	o := &b.Reports[r.i].Outcomes[r.j]
	req := b.request(r)
	if announce {
		b.Log.Info("platform started", "program", o.Program.Name, "platform", o.Platform.String(), "kind", kind(o))
	}
	start := time.Now()
	err := bounded(ctx, b.BuildTimeout, "build "+o.String(), "CROSSBIN_TIMEOUT_BUILD", func(ctx context.Context) error {
		pushed, err := b.Builder.Build(ctx, req)
		if err != nil {
			return err
		}
		if err := b.split(ctx, o, pushed); err != nil {
			return err
		}
		return b.record(ctx, o, req)
	})
	o.Duration, o.Err = time.Since(start), err
}

// split records the pushed image's digest and its attestations on o.
func (b *building) split(ctx context.Context, o *Outcome, pushed v1.Hash) error {
	p, err := b.Registry.Split(ctx, b.Repository, pushed)
	o.Digest, o.Attestations = p.Image, p.Attestations
	return err
}

// record exports a C program's build record (what its SBOM names) for o,
// built with req: the image's build again, its record stage to a local
// directory, from BuildKit's cache.
func (b *building) record(ctx context.Context, o *Outcome, req buildx.BuildRequest) error {
	if o.Program.Tarball == nil || o.Unavailable {
		return nil
	}
	o.Record = strings.TrimSuffix(req.MetadataFile, ".json") + "-record"
	if err := b.Builder.Export(ctx, RecordRequest(req, o.Record)); err != nil {
		return fmt.Errorf("the build record (stage %s) for the SBOM: %w", RecordStage, err)
	}
	return nil
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
