package verify

import (
	"context"
	"fmt"
	"slices"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// Published verifies the index a program's tag points at: it must hold
// exactly the program's platforms, each passing Image (its binary run with
// run, its SBOM and provenance checked against it).
func Published(ctx context.Context, run Runner, reg registry.Client, tag string, prog catalog.Program) ([]Result, error) {
	idx, err := reg.Index(ctx, tag)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (was it built? run `go tool mage build:program %s`)", tag, err, prog.Name)
	}
	var results []Result
	var seen []platform.Platform
	for _, d := range idx.Platforms {
		if d.Platform == nil {
			return results, fmt.Errorf("%s: manifest %s has no platform", tag, d.Digest)
		}
		pl, err := platform.Parse(d.Platform.String())
		if err != nil {
			return results, fmt.Errorf("%s: %w", tag, err)
		}
		if !slices.Contains(prog.Platforms, pl) {
			return results, fmt.Errorf("%s holds %s, which is not one of %s's platforms", tag, pl, prog.Name)
		}
		seen = append(seen, pl)
		img, err := idx.Image(ctx, d)
		if err != nil {
			return results, fmt.Errorf("%s %s: %w", tag, pl, err)
		}
		stmts, err := reg.Statements(ctx, idx.Repository(), idx.AttestationsOf(d.Digest))
		if err != nil {
			return results, fmt.Errorf("%s %s: attestations: %w", tag, pl, err)
		}
		results = append(results, Image(ctx, run, img, d.Digest, stmts, prog, pl))
	}
	for _, pl := range prog.Platforms {
		if !slices.Contains(seen, pl) {
			return results, fmt.Errorf("%s has no image for %s", tag, pl)
		}
	}
	for _, r := range results {
		if r.Err != nil {
			return results, fmt.Errorf("%s: %w", tag, r.Err)
		}
	}
	return results, nil
}
