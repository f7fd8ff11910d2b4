package baseimage

import (
	"context"
	"fmt"
)

// Lazy is a builder image that is had only when a run first needs it: the
// Debian image, which only C programs build on and whose assembly
// (mmdebstrap, ~30 s) a Go-only run must not pay. Its resolve runs once
// however many jobs ask at once; the others wait for it. The answer, image
// or failure, is kept for the rest of the run, so a failure fails every
// job that needs the image with the same reason instead of trying again.
// Only a resolve stopped by its caller's context is not kept.
type Lazy struct {
	what    string
	resolve func(context.Context) (string, error)
	turn    chan struct{} // holds one token: whoever takes it resolves
	done    bool
	ref     string
	err     error
}

// NewLazy returns the image that resolve makes; what names it in the error
// of a caller that stops waiting ("Debian builder image"). resolve's own
// errors name the image themselves.
func NewLazy(what string, resolve func(context.Context) (string, error)) *Lazy {
	l := &Lazy{what: what, resolve: resolve, turn: make(chan struct{}, 1)}
	l.turn <- struct{}{}
	return l
}

// Fixed is a Lazy that already holds ref (or err): nothing is resolved.
func Fixed(what, ref string, err error) *Lazy {
	return NewLazy(what, func(context.Context) (string, error) { return ref, err })
}

// Image returns the image reference, resolving it on the first call.
func (l *Lazy) Image(ctx context.Context) (string, error) {
	select {
	case <-l.turn:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the %s: %w", l.what, context.Cause(ctx))
	}
	defer func() { l.turn <- struct{}{} }()
	if l.done {
		return l.ref, l.err
	}
	ref, err := l.resolve(ctx)
	if err != nil && context.Cause(ctx) != nil {
		return "", err
	}
	l.ref, l.err, l.done = ref, err, true
	return ref, err
}
