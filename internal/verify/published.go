package verify

import (
	"context"
	"fmt"
	"slices"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Published verifies the index a program's tag points at: it must hold
// exactly the program's platforms, each passing Image.
func Published(ctx context.Context, tag string, prog catalog.Program, opts ...remote.Option) ([]Result, error) {
	ref, err := name.NewTag(tag)
	if err != nil {
		return nil, err
	}
	opts = append(opts, remote.WithContext(ctx))
	idx, err := remote.Index(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (was it built? run `go tool mage build:program %s`)", tag, err, prog.Name)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tag, err)
	}
	var results []Result
	var seen []platform.Platform
	for _, d := range m.Manifests {
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
		img, err := idx.Image(d.Digest)
		if err != nil {
			return results, fmt.Errorf("%s %s: %w", tag, pl, err)
		}
		results = append(results, Image(ctx, img, prog, pl))
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
