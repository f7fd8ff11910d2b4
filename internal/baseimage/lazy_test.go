package baseimage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLazyOnce: however many ask at once, the image is resolved once, and
// a failure is kept for every later caller.
func TestLazyOnce(t *testing.T) {
	for _, fail := range []bool{false, true} {
		var calls atomic.Int32
		release := make(chan struct{})
		l := NewLazy("Debian builder image", func(context.Context) (string, error) {
			calls.Add(1)
			<-release
			if fail {
				return "", errors.New("mmdebstrap: mirror unreachable")
			}
			return "127.0.0.1:5000/crossbin/debian:trixie-0123@sha256:aa", nil
		})
		var wg sync.WaitGroup
		got := make([]string, 8)
		errs := make([]error, 8)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = l.Image(context.Background()) })
		}
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("fail=%v: resolved %d times", fail, n)
		}
		for i := range got {
			if fail && (errs[i] == nil || errs[i].Error() != "mmdebstrap: mirror unreachable") {
				t.Errorf("caller %d: %v", i, errs[i])
			}
			if !fail && (errs[i] != nil || got[i] != "127.0.0.1:5000/crossbin/debian:trixie-0123@sha256:aa") {
				t.Errorf("caller %d: %q, %v", i, got[i], errs[i])
			}
		}
	}
}

// TestLazyCancelled: a caller that gives up does not keep its failure for
// the others.
func TestLazyCancelled(t *testing.T) {
	calls := 0
	l := NewLazy("Debian builder image", func(ctx context.Context) (string, error) {
		calls++
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return "debian:trixie@sha256:aa", nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Image(ctx); err == nil {
		t.Fatal("a cancelled caller got an image")
	}
	if ref, err := l.Image(context.Background()); err != nil || ref != "debian:trixie@sha256:aa" || calls > 2 {
		t.Errorf("after a cancelled caller: %q, %v, %d calls", ref, err, calls)
	}
}
