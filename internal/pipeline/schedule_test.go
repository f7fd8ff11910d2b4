package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

const sec = time.Second

func known(d time.Duration) expectation { return expectation{d: d, known: true} }

var unknown = expectation{}

func TestLongestFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		exp  []expectation
		want []int
	}{
		{"none", nil, []int{}},
		{"longest first", []expectation{known(10 * sec), known(300 * sec), known(40 * sec)}, []int{1, 2, 0}},
		{"already ordered", []expectation{known(300 * sec), known(40 * sec), known(10 * sec)}, []int{0, 1, 2}},
		{"ties keep their order", []expectation{known(20 * sec), known(60 * sec), known(20 * sec), known(60 * sec)}, []int{1, 3, 0, 2}},
		{"nothing known: catalog order", []expectation{unknown, unknown, unknown}, []int{0, 1, 2}},
		{"unknowns first, in their order", []expectation{known(10 * sec), unknown, known(300 * sec), unknown}, []int{1, 3, 2, 0}},
		{"zero is known, and shortest", []expectation{known(0), known(5 * sec), unknown}, []int{2, 1, 0}},
	} {
		got := longestFirst(tc.exp)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: longestFirst = %v; want %v", tc.name, got, tc.want)
		}
		// Deterministic: the same input always gives the same order.
		if again := longestFirst(slices.Clone(tc.exp)); !slices.Equal(again, got) {
			t.Errorf("%s: a second call gives %v", tc.name, again)
		}
	}
}

func TestETA(t *testing.T) {
	waiting := func(e expectation) jobTime { return jobTime{expectation: e} }
	running := func(e expectation, elapsed time.Duration) jobTime { return jobTime{expectation: e, elapsed: elapsed} }
	built := func(e expectation, took time.Duration) jobTime {
		return jobTime{expectation: e, elapsed: took, done: true}
	}
	failed := func(e expectation, took time.Duration) jobTime {
		return jobTime{expectation: e, elapsed: took, done: true, failed: true}
	}
	for _, tc := range []struct {
		name    string
		jobs    []jobTime
		workers int
		want    time.Duration
		ok      bool
	}{
		{"nothing known", []jobTime{waiting(unknown), running(unknown, 5*sec)}, 2, 0, false},
		{"no jobs", nil, 2, 0, false},
		{"divided across the pool", []jobTime{waiting(known(60 * sec)), waiting(known(60 * sec)), waiting(known(60 * sec)), waiting(known(60 * sec))}, 2, 120 * sec, true},
		{"no sooner than the longest job", []jobTime{waiting(known(300 * sec)), waiting(known(10 * sec)), waiting(known(10 * sec))}, 4, 300 * sec, true},
		{"a running job counts what it has left", []jobTime{running(known(100*sec), 40*sec), waiting(known(20 * sec))}, 1, 80 * sec, true},
		{"a job over its time has nothing left", []jobTime{running(known(10*sec), 40*sec), waiting(known(20 * sec))}, 1, 20 * sec, true},
		{"a slower run than recorded scales the rest", []jobTime{built(known(10*sec), 20*sec), waiting(known(30 * sec))}, 1, 60 * sec, true},
		{"a faster run too", []jobTime{built(known(40*sec), 10*sec), built(known(40*sec), 10*sec), waiting(known(80 * sec))}, 1, 20 * sec, true},
		{"a failure sets no pace", []jobTime{failed(known(60*sec), 1*sec), waiting(known(30 * sec))}, 1, 30 * sec, true},
		{"an unknown job counts as the mean of the known", []jobTime{waiting(known(10 * sec)), waiting(known(30 * sec)), waiting(unknown)}, 1, 60 * sec, true},
		{"all done", []jobTime{built(known(10*sec), 10*sec), failed(unknown, 3*sec)}, 2, 0, true},
		{"no workers counts as one", []jobTime{waiting(known(10 * sec)), waiting(known(10 * sec))}, 0, 20 * sec, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := eta(tc.jobs, tc.workers)
			if got != tc.want || ok != tc.ok {
				t.Errorf("eta = %s, %v; want %s, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestProgress: the pool's bookkeeping feeds eta the elapsed time of the
// running jobs and the time taken by the finished ones.
func TestProgress(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	p := newProgress([]expectation{known(100 * sec), known(50 * sec), known(50 * sec)}, 2)
	if d, ok := p.eta(t0); !ok || d != 100*sec {
		t.Errorf("before the start: %s, %v; want 100s", d, ok)
	}
	p.start(0, t0)
	p.start(1, t0)
	d, ok := p.finish(1, 50*sec, false, t0.Add(50*sec))
	// Left: job 0 50s (running), job 2 50s; on 2 workers: 50s.
	if want := 50 * sec; !ok || d != want {
		t.Errorf("after job 1: %s, %v; want %s", d, ok, want)
	}
	if got := fmt.Sprint(etaAttr(d, ok)...); got != "eta50s" {
		t.Errorf("etaAttr = %q", got)
	}
	// While jobs still run, a spent estimate is overdue, not 0s.
	if got := fmt.Sprint(runningETA(0, true)...); got != "etaoverdue" {
		t.Errorf("runningETA(0) = %q", got)
	}
	if got := fmt.Sprint(runningETA(d, ok)...); got != "eta50s" {
		t.Errorf("runningETA = %q", got)
	}
	if etaAttr(0, false) != nil {
		t.Error("an unknown eta has an attribute")
	}
}
