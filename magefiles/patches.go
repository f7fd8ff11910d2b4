//go:build mage

package main

import (
	"context"
	"fmt"
)

// Patches lists every patch in patches/, the program and platforms it is for, and whether it still applies to the pinned version.
func Patches(ctx context.Context) error {
	a, err := load(ctx)
	if err != nil {
		return err
	}
	table, err := a.PatchOverview()
	if err != nil {
		return err
	}
	fmt.Print(table)
	return nil
}
