package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// Interrupted is the error of a run that a signal stopped. Mage exits with
// its ExitStatus, 128 plus the signal's number, as a shell reports a
// process a signal ended.
type Interrupted struct {
	Signal syscall.Signal
	Err    error
}

func (e Interrupted) Error() string {
	name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[e.Signal]
	if e.Err == nil {
		return "interrupted by " + name + ": stopped; no tag was moved by the unfinished work"
	}
	return fmt.Sprintf("interrupted by %s: %v", name, e.Err)
}

// ExitStatus is the exit status mage uses for this error.
func (e Interrupted) ExitStatus() int { return 128 + int(e.Signal) }

func (e Interrupted) Unwrap() error { return e.Err }

// Signals returns ctx cancelled by SIGINT or SIGTERM, and done, which stops
// listening and, when a signal ended the run, turns the target's error into
// Interrupted. (Mage itself cancels its targets on SIGINT only; a CI runner
// stops a job with SIGTERM.)
func Signals(ctx context.Context) (context.Context, func(error) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	var got atomic.Int32
	stopped := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			sig := s.(syscall.Signal)
			got.Store(int32(sig))
			cancel(Interrupted{Signal: sig})
		case <-stopped:
		}
	}()
	return ctx, func(err error) error {
		signal.Stop(ch)
		close(stopped)
		defer cancel(nil)
		if sig := syscall.Signal(got.Load()); sig != 0 {
			return Interrupted{Signal: sig, Err: err}
		}
		return err
	}
}
