package source

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/platform"
)

// Prepared is a program's source, ready for each platform it builds for.
type Prepared struct {
	// Released is the version's release time (SOURCE_DATE_EPOCH).
	Released time.Time
	// ByPlatform maps each platform to its source: the pristine one, or a
	// patched copy shared by the platforms the same patches apply to.
	ByPlatform map[platform.Platform]Source
	// Obsolete are the program's patches whose version range no longer
	// matches its pinned version; they were skipped.
	Obsolete []patch.Patch
}

// Prepare fetches prog's source and applies, per platform, the patches
// that select it (p.Patches): choosing and applying patches happen here
// only. platforms are the platforms with a real build; an unavailable
// platform builds the unavailable program and needs only Released.
func (p Preparer) Prepare(ctx context.Context, prog catalog.Program, platforms []platform.Platform) (Prepared, error) {
	src, err := p.Fetch(ctx, prog)
	if err != nil {
		return Prepared{}, err
	}
	out := Prepared{Released: src.Released, ByPlatform: map[platform.Platform]Source{}}
	_, out.Obsolete = patch.Select(p.Patches, prog.Name, prog.Version, platform.Platform{})
	for _, pt := range out.Obsolete {
		p.Log.Warn("patch no longer applies: its version range does not match the pinned version", "patch", pt.File, "program", prog.Name, "version", prog.Version, "range", pt.Range)
	}
	type group struct {
		patches   []patch.Patch
		platforms []platform.Platform
	}
	groups := map[string]*group{}
	var order []string
	for _, pl := range platforms {
		out.ByPlatform[pl] = src
		apply, _ := patch.Select(p.Patches, prog.Name, prog.Version, pl)
		if len(apply) == 0 {
			continue
		}
		if !prog.SourceStage {
			return Prepared{}, fmt.Errorf("%s applies to %s, but %s has no `source` stage to take patched source: build it from the module source like dockerfiles/helm does", apply[0].File, prog.Name, prog.Dockerfile())
		}
		var names []string
		for _, pt := range apply {
			names = append(names, pt.Name)
		}
		key := strings.Join(names, ",")
		g, ok := groups[key]
		if !ok {
			g = &group{patches: apply}
			groups[key] = g
			order = append(order, key)
		}
		g.platforms = append(g.platforms, pl)
	}
	for _, key := range order {
		g := groups[key]
		patched, err := p.Patch(ctx, prog, src, g.patches, g.platforms)
		if err != nil {
			return Prepared{}, err
		}
		for _, pl := range g.platforms {
			out.ByPlatform[pl] = patched
		}
	}
	return out, nil
}
