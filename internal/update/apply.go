package update

import (
	"context"
	"fmt"
	"slices"

	"github.com/crossbin/crossbin/internal/catalog"
)

// A Build builds one program at p.Version, which need not be the version
// its Dockerfile pins yet: every build passes VERSION as a build argument.
// An error means it does not build.
type Build func(ctx context.Context, p catalog.Program) error

// A Verifier readies the trial builds (a builder, a BuildKit) once for all
// the bumps and returns the Build that runs each; its error means no bump
// can be verified.
type Verifier func(ctx context.Context) (Build, error)

// Apply writes each bumped row's new version. With a verifier it first
// builds each bumped program at its new version, with its Dockerfile
// untouched, and writes only the bumps that built (noting so): a bump that
// does not build, or cannot be verified, is never written, and one that
// fails leaves the others to be written. Rows that do not bump are left as
// they are. The returned rows carry each bump's outcome.
func Apply(ctx context.Context, rows []Row, verify Verifier) []Row {
	rows = slices.Clone(rows)
	var bumped []int
	for i, r := range rows {
		if r.Bumped() {
			bumped = append(bumped, i)
		}
	}
	if len(bumped) == 0 {
		return rows
	}
	var build Build
	if verify != nil {
		var err error
		if build, err = verify(ctx); err != nil {
			for _, i := range bumped {
				rows[i].Err = fmt.Errorf("%s: cannot verify the bump: %w", rows[i].Program.Name, err)
			}
			return rows
		}
	}
	for _, i := range bumped {
		rows[i] = apply(ctx, rows[i], build)
	}
	return rows
}

// apply verifies one bump with build, when there is one, then writes it.
func apply(ctx context.Context, r Row, build Build) Row {
	// A Dockerfile that cannot take the new version fails before a build
	// is spent on it.
	if _, err := pin(r); err != nil {
		r.Err = fmt.Errorf("%s: cannot pin %s: %w", r.Program.Name, r.New, err)
		return r
	}
	if build != nil {
		prog := r.Program
		prog.Version = r.New
		if prog.Tarball != nil {
			tb := *prog.Tarball
			tb.SHA256 = r.SHA256
			prog.Tarball = &tb
		}
		if err := build(ctx, prog); err != nil {
			r.Err = fmt.Errorf("%s %s does not build, the bump is not written: %w", prog.Name, r.New, err)
			return r
		}
	}
	if err := Write(r); err != nil {
		r.Err = fmt.Errorf("%s: cannot pin %s: %w", r.Program.Name, r.New, err)
		return r
	}
	if build != nil {
		r.Notes = append(slices.Clip(r.Notes), "verified by a build")
	}
	return r
}
