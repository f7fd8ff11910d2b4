// Package update bumps the catalog's pinned versions: for each program it
// asks the program's release source for its releases, picks the newest one
// its policy allows (upstream.Choose) and rewrites the one `ARG VERSION=`
// line of its Dockerfile, leaving every other byte as it was. Given a trial
// build, Apply builds each bump before writing it (the build takes the new
// version as a build argument, so the Dockerfile is untouched until then)
// and writes only the bumps that built.
package update

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossbin/crossbin/internal/atomicfile"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/dockerfile"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/upstream"
	"golang.org/x/sync/errgroup"
)

// ErrTarballUpdate: C programs (release tarballs) are not bumped yet.
var ErrTarballUpdate = errors.New("updating a release tarball's pin is not implemented yet")

// Options configure a check.
type Options struct {
	Proxy  upstream.Finder
	GitHub upstream.Finder
	// Patches are reported when a bump makes them obsolete.
	Patches []patch.Patch
	// Jobs bounds concurrent requests; Timeout bounds each program.
	Jobs    int
	Timeout time.Duration
}

// Row is one program's result.
type Row struct {
	Program catalog.Program
	Old     string
	New     string // equal to Old when nothing newer is allowed
	Notes   []string
	Err     error
}

// Bumped reports whether the row changes the pin.
func (r Row) Bumped() bool { return r.Err == nil && r.New != r.Old }

// Check finds the newest allowed version of each program, concurrently.
func Check(ctx context.Context, opt Options, programs []catalog.Program) []Row {
	rows := make([]Row, len(programs))
	g := errgroup.Group{}
	g.SetLimit(max(opt.Jobs, 1))
	for i, p := range programs {
		g.Go(func() error {
			rows[i] = check(ctx, opt, p)
			return nil
		})
	}
	_ = g.Wait()
	return rows
}

func check(ctx context.Context, opt Options, p catalog.Program) Row {
	row := Row{Program: p, Old: p.Version, New: p.Version}
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	if p.Tarball != nil {
		// Its version is a release tag, its URL and sha256 must move with
		// it: not a module version the proxy knows.
		row.Err = fmt.Errorf("%s: %w: pin the new ARG VERSION and ARG SHA256 (sha256sum of the new tarball) in %s by hand", p.Name, ErrTarballUpdate, p.Dockerfile())
		return row
	}
	finder, what := opt.Proxy, p.Module
	if p.Update.GitHub != "" {
		finder, what = opt.GitHub, p.Update.GitHub
	}
	rel, err := finder.Releases(ctx, what)
	if err != nil {
		row.Err = fmt.Errorf("%s: %w", p.Name, err)
		return row
	}
	ch, err := upstream.Choose(p.Version, rel, upstream.Policy{Constraint: p.Update.Constraint, Prereleases: p.Update.Prereleases})
	if err != nil {
		row.Err = fmt.Errorf("%s: %w", p.Name, err)
		return row
	}
	row.New, row.Notes = ch.Version, ch.Notes
	if row.Bumped() {
		for _, pt := range opt.Patches {
			if pt.Program == p.Name && pt.Matches(row.Old) && !pt.Matches(row.New) {
				row.Notes = append(row.Notes, "patch "+pt.Name+" becomes obsolete: remove it if the build passes")
			}
		}
	}
	return row
}

// Write pins version in the program's Dockerfile: only the value of its
// `ARG VERSION=` changes; the file is replaced atomically.
func Write(p catalog.Program, version string) error {
	out, err := pin(p, version)
	if err != nil {
		return err
	}
	return atomicfile.Write(p.Dockerfile(), out)
}

// pin is the program's Dockerfile as it reads now with version pinned.
func pin(p catalog.Program, version string) ([]byte, error) {
	data, err := os.ReadFile(p.Dockerfile())
	if err != nil {
		return nil, err
	}
	f, err := dockerfile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Dockerfile(), err)
	}
	out, err := f.SetArg("VERSION", version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Dockerfile(), err)
	}
	return out, nil
}

// Errors joins the rows' errors.
func Errors(rows []Row) error {
	var errs []error
	for _, r := range rows {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}

// Table renders the rows.
func Table(rows []Row) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tOLD\tNEW\tNOTES")
	for _, r := range rows {
		newer := r.New
		switch {
		case r.Err != nil:
			newer = "ERROR"
		case !r.Bumped():
			newer = "(current)"
		}
		notes := strings.Join(r.Notes, "; ")
		if r.Err != nil {
			notes = r.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Program.Name, r.Old, newer, notes)
	}
	tw.Flush()
	return b.String()
}
