//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/app"
)

// Install puts the published program's binary for this machine into -dir (default ./bin), via a Docker Engine when one answers, else the registry.
func Install(ctx context.Context, name string, dir *string) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		path, err := a.Install(ctx, name, orDefault(dir, "bin"))
		if err != nil {
			return err
		}
		fmt.Println(path)
		return nil
	})
}
