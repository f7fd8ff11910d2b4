//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/magefile/mage/mg"

	"github.com/crossbin/crossbin/internal/app"
)

// Stack manages the embedded build stack: BuildKit, buildx and a registry.
type Stack mg.Namespace

// Up brings the embedded stack up, building whatever is missing.
func (Stack) Up(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		ep, err := a.Stack().Up(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("builder:  %s\nregistry: %s\ngo image: %s\n", ep.Buildx, ep.Registry, ep.GoImage)
		return nil
	})
}

// Down stops the embedded stack's processes; caches are kept.
func (Stack) Down(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		return a.Stack().Down(ctx)
	})
}

// Status reports the embedded stack's health; it fails when it is not healthy.
func (Stack) Status(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		st := a.Stack().Status(ctx)
		fmt.Print(st)
		if !st.Healthy() {
			return errors.New("the stack is not healthy: run `go tool mage stack:up`")
		}
		return nil
	})
}
