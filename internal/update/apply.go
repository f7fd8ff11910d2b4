package update

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/crossbin/crossbin/internal/catalog"
)

// A Build builds one program as its files stand; an error means it does not
// build.
type Build func(ctx context.Context, p catalog.Program) error

// A Verifier readies the trial builds (a builder, a BuildKit) once for all
// the bumps and returns the Build that runs each; its error means no bump
// can be verified.
type Verifier func(ctx context.Context) (Build, error)

// Apply writes each bumped row's new version. With a verifier it then builds
// every bumped program as written, keeps the bumps that build (noting so) and
// reverts the others; a bump that cannot be verified is reverted too, so only
// bumps that built stay. Rows that do not bump are left as they are. The
// returned rows carry each bump's outcome.
func Apply(ctx context.Context, rows []Row, verify Verifier) []Row {
	rows = slices.Clone(rows)
	var bumped []int
	for i, r := range rows {
		if !r.Bumped() {
			continue
		}
		if err := Write(r.Program, r.New); err != nil {
			rows[i].Err = err
			continue
		}
		bumped = append(bumped, i)
	}
	if verify == nil || len(bumped) == 0 {
		return rows
	}
	build, err := verify(ctx)
	if err != nil {
		for _, i := range bumped {
			rows[i].Err = errors.Join(fmt.Errorf("%s: cannot verify the bump: %w", rows[i].Program.Name, err), revert(rows[i]))
		}
		return rows
	}
	for _, i := range bumped {
		// Build the program as the bump left it, not as Check saw it.
		prog, err := catalog.LoadProgram(rows[i].Program.Dir)
		if err != nil {
			rows[i].Err = errors.Join(err, revert(rows[i]))
			continue
		}
		if err := build(ctx, prog); err != nil {
			rows[i].Err = errors.Join(fmt.Errorf("%s %s does not build, the bump is reverted: %w", prog.Name, rows[i].New, err), revert(rows[i]))
			continue
		}
		rows[i].Notes = append(slices.Clip(rows[i].Notes), "verified by a build")
	}
	return rows
}

// revert pins the row's old version again.
func revert(r Row) error {
	if err := Write(r.Program, r.Old); err != nil {
		return fmt.Errorf("revert %s to %s: %w", r.Program.Name, r.Old, err)
	}
	return nil
}
