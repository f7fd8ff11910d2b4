package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
)

// Job is one program on one platform.
type Job struct {
	Program     catalog.Program
	Platform    platform.Platform
	Unavailable bool // built from unavailable/ instead of the program
}

// NewJob is prog on pl: the unavailable program builds where prog
// declares the platform unavailable. This is the one place that rule lives.
func NewJob(prog catalog.Program, pl platform.Platform) Job {
	return Job{Program: prog, Platform: pl, Unavailable: !prog.Available(pl)}
}

func (j Job) String() string { return j.Program.Name + " " + j.Platform.String() }

// Plan lists the jobs for prog: every platform it covers, or only those in
// subset. Asking for a platform the program does not cover, or one it
// declares unavailable, is an error: a subset asks for real builds.
func Plan(prog catalog.Program, subset []platform.Platform) ([]Job, error) {
	platforms := prog.Platforms
	if len(subset) > 0 {
		platforms = nil
		for _, pl := range subset {
			if !slices.Contains(prog.Platforms, pl) {
				return nil, fmt.Errorf("%s does not cover %s (its platforms: %s)", prog.Name, pl, join(prog.Platforms))
			}
			if reason, ok := prog.Unavailable[pl]; ok {
				return nil, fmt.Errorf("%s is unavailable on %s (%s): choose among its real platforms %s", prog.Name, pl, reason, join(prog.Real()))
			}
			if !slices.Contains(platforms, pl) {
				platforms = append(platforms, pl)
			}
		}
	}
	jobs := make([]Job, len(platforms))
	for i, pl := range platforms {
		jobs[i] = NewJob(prog, pl)
	}
	return jobs, nil
}

func join(ps []platform.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
