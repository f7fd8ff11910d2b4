//go:build mage

package main

import (
	"context"
	"fmt"
)

// Readme regenerates the catalog table in README.md from dockerfiles/.
func Readme(ctx context.Context) error {
	a, err := load(ctx)
	if err != nil {
		return err
	}
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
}
