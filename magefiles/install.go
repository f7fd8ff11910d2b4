//go:build mage

package main

import (
	"context"
	"fmt"
)

// Install puts the published program's binary for this machine into -dir (default ./bin), via a Docker Engine when one answers, else the registry.
func Install(ctx context.Context, name string, dir *string) error {
	a, err := load(ctx)
	if err != nil {
		return err
	}
	path, err := a.Install(ctx, name, orDefault(dir, "bin"))
	if err != nil {
		return err
	}
	fmt.Println(path)
	return nil
}
