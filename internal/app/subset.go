package app

import (
	"fmt"
	"strings"
)

// wholePrograms refuses a platform subset (CROSSBIN_PLATFORMS) for a target
// that builds and publishes whole programs: publishing a full index, or
// judging a program by some of its platforms, while a subset was asked for
// would do something else than the user said.
func (a *App) wholePrograms(target string) error {
	if len(a.Config.Platforms) == 0 {
		return nil
	}
	names := make([]string, len(a.Config.Platforms))
	for i, p := range a.Config.Platforms {
		names[i] = p.String()
	}
	return fmt.Errorf("CROSSBIN_PLATFORMS=%s asks for a platform subset, but `mage %s` builds whole programs: unset CROSSBIN_PLATFORMS, or build a subset with `go tool mage build:program NAME -platforms=%s` (it moves no tag)",
		strings.Join(names, ","), target, strings.Join(names, ","))
}
