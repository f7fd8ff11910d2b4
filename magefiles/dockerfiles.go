//go:build mage

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossbin/crossbin/internal/app"
)

// Dockerfiles renders every program's Dockerfile from the pins at its top and its program.yaml (a test fails when they drift).
func Dockerfiles(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		changed, err := a.Dockerfiles()
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			fmt.Println("dockerfiles: every Dockerfile is current")
			return nil
		}
		fmt.Printf("dockerfiles: rendered %s\n", strings.Join(changed, ", "))
		return nil
	})
}
