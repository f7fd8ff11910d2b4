//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/app"
)

// Readme regenerates the catalog table in README.md from dockerfiles/.
func Readme(ctx context.Context) error {
	return run(ctx, func(ctx context.Context, a *app.App) error {
		changed, err := a.Readme()
		if err != nil {
			return err
		}
		if changed {
			fmt.Println("README.md: catalog table updated")
		} else {
			fmt.Println("README.md: catalog table is current")
		}
		return nil
	})
}
