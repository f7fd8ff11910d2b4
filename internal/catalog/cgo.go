package catalog

import (
	"errors"
	"fmt"
)

// A Go program whose program.yaml says `cgo: true` under `build:` is built
// with cgo, by the cross C toolchain the C programs build with (the
// Debian builder image, the platform table's GNU triple and flags) and
// linked statically: CGO_ENABLED=1, CC="<triple>-gcc <flags>",
// -ldflags '-linkmode external -extldflags -static'. The C libraries it
// links are `packages:`, installed for the target through multiarch as a
// C program's, so a platform whose libraries Debian trixie lacks
// (mips64le, loong64) must be listed under `unavailable:` when there are
// any; build-machine tools are `tools:`.
//
// A static glibc cannot use its name services (users, hosts) without the
// shared libraries of the same glibc at run time, which a scratch image
// does not have: a cgo program that imports net or os/user should ask for
// Go's own implementations with `tags: [netgo, osusergo]` under `build:`.

// goFromSpec checks a Go program's build: for cgo and build tags.
func (p *Program) goFromSpec(b Build) error {
	for _, tag := range b.Tags {
		if !tagRE.MatchString(tag) {
			return fmt.Errorf("build: tags: %q is not a Go build tag (letters, digits, '_' and '.')", tag)
		}
	}
	if !b.CGO {
		if len(b.Packages) > 0 || len(b.Tools) > 0 {
			return errors.New("build: packages and tools are for builds with the C toolchain: C programs (from: tarball) and Go programs with `cgo: true`")
		}
		return nil
	}
	return p.checkCrossC(b)
}
