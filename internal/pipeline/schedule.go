package pipeline

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/crossbin/crossbin/internal/durations"
)

// Durations remembers how long jobs took in earlier runs; *durations.Store
// is the real one. The build step starts the longest expected jobs first,
// so that the pool does not end on one long build while every other worker
// idles, logs an estimate of the time left, and records each build's time.
type Durations interface {
	Estimate(k durations.Key) (time.Duration, bool)
	Record(k durations.Key, d time.Duration) error
}

// DurationKey is what a job's duration is recorded under: the same across
// the program's versions.
func DurationKey(j Job) durations.Key {
	return durations.Key{Program: j.Program.Name, Platform: j.Platform.String(), Unavailable: j.Unavailable}
}

// schedule orders the pool's units longest expected first and returns
// their expectations in that order: a unit is expected to take the sum of
// its jobs' durations, and is unknown when any of them is. Without
// Durations, nothing is known and units keep their order.
func (c *Context) schedule(units [][]ref) ([][]ref, []expectation) {
	exp := make([]expectation, len(units))
	if c.Durations == nil {
		return units, exp
	}
	for k, u := range units {
		exp[k].known = true
		for _, r := range u {
			d, ok := c.Durations.Estimate(DurationKey(c.Reports[r.i].Outcomes[r.j].Job))
			exp[k].d += d
			exp[k].known = exp[k].known && ok
		}
	}
	order := longestFirst(exp)
	return permute(units, order), permute(exp, order)
}

// permute returns s in order.
func permute[T any](s []T, order []int) []T {
	out := make([]T, len(order))
	for k, o := range order {
		out[k] = s[o]
	}
	return out
}

// etaAttr is the log attribute for an estimate of the time left, none when
// nothing is known.
func etaAttr(d time.Duration, ok bool) []any {
	if !ok {
		return nil
	}
	return []any{"eta", d.Round(time.Second)}
}

// runningETA is etaAttr for a moment when jobs are still running: an
// estimate that has run out says so rather than "0s".
func runningETA(d time.Duration, ok bool) []any {
	if ok && d < time.Second {
		return []any{"eta", "overdue"}
	}
	return etaAttr(d, ok)
}

// expectation is how long a job is expected to take; known is false when
// nothing like it was ever recorded.
type expectation struct {
	d     time.Duration
	known bool
}

// longestFirst is the order in which to start jobs of these expectations:
// longest first, so that the pool's tail is short. Unknown jobs go before
// every known one: nothing like them was ever built, so they may be the
// longest, and a short one started early costs nothing. Ties, and unknowns
// among themselves, keep their given (catalog) order.
func longestFirst(exp []expectation) []int {
	order := make([]int, len(exp))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ea, eb := exp[a], exp[b]
		if ea.known != eb.known {
			if !ea.known {
				return -1
			}
			return 1
		}
		return cmp.Compare(eb.d, ea.d)
	})
	return order
}

// jobTime is one job of the pool as the estimate of time left sees it.
type jobTime struct {
	expectation
	// elapsed is how long the job has run so far (0: not started), or
	// took, once done.
	elapsed time.Duration
	done    bool
	failed  bool // done without an image; says nothing about the pace
}

// eta is the expected time left for the unfinished jobs on workers, and
// false when no job's duration is known:
//
//	pace   = Σ took / Σ expected over the jobs built so far with a known
//	         expectation (1 before the first), so a cold run whose records
//	         come from warm ones corrects itself as it goes
//	left_j = max(pace·expected_j − elapsed_j, 0) for each unfinished job,
//	         an unknown one counted as the mean expectation of the known
//	eta    = max(Σ left_j / workers, max_j left_j)
//
// The pool cannot finish before its longest remaining job, however many
// workers are idle.
func eta(jobs []jobTime, workers int) (time.Duration, bool) {
	var took, expected, sumKnown time.Duration
	known := 0
	for _, j := range jobs {
		if !j.known {
			continue
		}
		known++
		sumKnown += j.d
		if j.done && !j.failed {
			took += j.elapsed
			expected += j.d
		}
	}
	if known == 0 {
		return 0, false
	}
	pace := 1.0
	if expected > 0 {
		pace = float64(took) / float64(expected)
	}
	mean := sumKnown / time.Duration(known)
	var total, longest time.Duration
	for _, j := range jobs {
		if j.done {
			continue
		}
		d := j.d
		if !j.known {
			d = mean
		}
		left := max(time.Duration(pace*float64(d))-j.elapsed, 0)
		total += left
		longest = max(longest, left)
	}
	return max(total/time.Duration(max(workers, 1)), longest), true
}

// progress follows the build step's jobs for the estimate of time left.
type progress struct {
	mu      sync.Mutex
	jobs    []jobTime
	started []time.Time // zero: not started
	workers int
}

func newProgress(exp []expectation, workers int) *progress {
	p := &progress{jobs: make([]jobTime, len(exp)), started: make([]time.Time, len(exp)), workers: workers}
	for k, e := range exp {
		p.jobs[k].expectation = e
	}
	return p
}

func (p *progress) start(k int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started[k] = now
}

// finish marks job k done in took and returns the time left from now.
func (p *progress) finish(k int, took time.Duration, failed bool, now time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs[k].done, p.jobs[k].elapsed, p.jobs[k].failed = true, took, failed
	return p.eta(now)
}

// left is the time left at now.
func (p *progress) left(now time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eta(now)
}

// eta is the time left at now; p.mu is held (or p not yet shared).
func (p *progress) eta(now time.Time) (time.Duration, bool) {
	jobs := slices.Clone(p.jobs)
	for k := range jobs {
		if !jobs[k].done && !p.started[k].IsZero() {
			jobs[k].elapsed = now.Sub(p.started[k])
		}
	}
	return eta(jobs, p.workers)
}
