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

// Options configure a check.
type Options struct {
	Proxy  upstream.Finder
	GitHub upstream.Finder
	// Tarball downloads a new release's tarball from url, verified as it
	// is written, and returns its sha256 (source.Preparer.FetchTarball);
	// it is how a C program's bump learns the digest it pins.
	Tarball func(ctx context.Context, url string) (sha256 string, err error)
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
	// SHA256 is the new release tarball's digest (C programs' bumps).
	SHA256 string
	Notes  []string
	Err    error
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
		return checkTarball(ctx, opt, row)
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

// checkTarball finds a C program's newest release on GitHub (the
// repository of update.github, else of the Renovate comment's depName),
// chosen by the release-tag rule (upstream.ChooseTag), and fetches its
// tarball for the digest the bump pins with it.
func checkTarball(ctx context.Context, opt Options, row Row) Row {
	p, tb := row.Program, row.Program.Tarball
	repo := p.Update.GitHub
	if repo == "" && strings.HasPrefix(tb.Datasource, "github-") { // github-releases, github-tags
		repo = tb.DepName
	}
	switch {
	case repo == "":
		row.Err = fmt.Errorf("%s: its releases are not on GitHub (renovate datasource %q): bump ARG VERSION and ARG SHA256 in %s by hand", p.Name, tb.Datasource, p.Dockerfile())
		return row
	case p.Update.Constraint != "" || p.Update.Prereleases:
		row.Err = fmt.Errorf("%s: update.constraint and update.prereleases apply to Go module versions; a release tarball follows its release tags (see upstream.ChooseTag)", p.Name)
		return row
	case opt.GitHub == nil || opt.Tarball == nil:
		row.Err = fmt.Errorf("%s: no GitHub client or tarball fetch to bump a release tarball with", p.Name)
		return row
	}
	rel, err := opt.GitHub.Releases(ctx, repo)
	if err != nil {
		row.Err = fmt.Errorf("%s: %w", p.Name, err)
		return row
	}
	ch, err := upstream.ChooseTag(p.Version, rel.Tags)
	if err != nil {
		row.Err = fmt.Errorf("%s: %w", p.Name, err)
		return row
	}
	row.Notes = ch.Notes
	for _, d := range p.Deps {
		pre := catalog.ArgPrefix(d.Name)
		row.Notes = append(row.Notes, fmt.Sprintf("dep %s %s is not bumped: bump ARG %sVERSION and ARG %sSHA256 together by hand", d.Name, d.Version, pre, pre))
	}
	if ch.Version == p.Version {
		return row
	}
	u := catalog.ExpandVersion(tb.URL, ch.Version)
	sum, err := opt.Tarball(ctx, u)
	if err != nil {
		row.Err = fmt.Errorf("%s %s: the release has no tarball at %s (the Dockerfile's URL at the new tag): %w", p.Name, ch.Version, u, err)
		return row
	}
	row.New, row.SHA256 = ch.Version, sum
	return row
}

// Write pins the row's new version in its program's Dockerfile (and, for a
// C program, the new tarball's ARG SHA256 with it): only those values
// change; the file is replaced atomically.
func Write(r Row) error {
	out, err := pin(r)
	if err != nil {
		return err
	}
	return atomicfile.Write(r.Program.Dockerfile(), out)
}

// pin is the program's Dockerfile as it reads now with the row's bump.
func pin(r Row) ([]byte, error) {
	p := r.Program
	out, err := os.ReadFile(p.Dockerfile())
	if err != nil {
		return nil, err
	}
	args := [][2]string{{"VERSION", r.New}}
	if p.Tarball != nil {
		if r.SHA256 == "" {
			return nil, fmt.Errorf("%s: a release tarball's bump needs its new sha256", p.Dockerfile())
		}
		args = append(args, [2]string{"SHA256", r.SHA256})
	}
	for _, a := range args {
		f, err := dockerfile.Parse(out)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Dockerfile(), err)
		}
		if out, err = f.SetArg(a[0], a[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Dockerfile(), err)
		}
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
