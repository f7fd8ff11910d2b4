package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
)

// ColdGoal is the ratio crossbin's cold run should stay within, over the
// bare loop's (issue 17).
const ColdGoal = 1.10

// DefaultPrograms are what the catalog benchmark builds unless told
// otherwise: a small and a large `go install` build, and two large builds
// from the module source.
func DefaultPrograms() []string { return []string{"shfmt", "helm", "gh", "golangci-lint"} }

// ParsePrograms reads a comma-separated list of program names; empty is
// DefaultPrograms.
func ParsePrograms(s string) ([]string, error) {
	var names []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			continue
		case slices.Contains(names, name):
			return nil, fmt.Errorf("programs: %s listed twice", name)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return DefaultPrograms(), nil
	}
	return names, nil
}

// Side is one way of building programs, measured cold and then warm.
type Side interface {
	String() string
	// Cold empties every cache the side builds with, before its cold pass;
	// the Go toolchain itself stays (crossbin's builder image, the bare
	// loop's installed Go).
	Cold(ctx context.Context) error
	// Warm readies one warm build: it drops whatever would make the build
	// a no-op, and keeps the Go module and build caches.
	Warm(ctx context.Context) error
	// Build builds prog for its real platforms.
	Build(ctx context.Context, prog catalog.Program) error
}

// Pass is one side's pass over the programs: each program's time, and the
// machine's peak memory in use during the pass.
type Pass struct {
	Times []time.Duration
	Peak  uint64
}

// Comparison is the bare loop against crossbin over the same programs and
// platforms on one machine.
type Comparison struct {
	Programs []catalog.Program
	// The four passes, in the order they ran.
	BareCold, BareWarm, CrossbinCold, CrossbinWarm Pass
	// Jobs is how many platforms crossbin built at once; the bare loop
	// builds one at a time (each go command uses every core).
	Jobs int
}

// Compare runs the bare side's cold pass, then its warm pass, then the
// same for crossbin: a cold pass empties the side's caches once and builds
// every program in order, so the first program carries what all share (the
// standard library for each platform, crossbin's Go image); the warm pass
// builds each program again, readied by Warm. A failed build ends the
// comparison: what was measured until then is returned with the error.
func Compare(ctx context.Context, progs []catalog.Program, bare, crossbin Side, log *slog.Logger) (Comparison, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := Comparison{Programs: progs}
	for _, p := range []struct {
		side       Side
		cold, warm *Pass
	}{{bare, &c.BareCold, &c.BareWarm}, {crossbin, &c.CrossbinCold, &c.CrossbinWarm}} {
		if err := p.side.Cold(ctx); err != nil {
			return c, fmt.Errorf("%s: empty the caches: %w", p.side, err)
		}
		if err := pass(ctx, p.side, progs, "cold", nil, p.cold, log); err != nil {
			return c, err
		}
		if err := pass(ctx, p.side, progs, "warm", p.side.Warm, p.warm, log); err != nil {
			return c, err
		}
	}
	return c, nil
}

// pass times side's build of each program, each after ready (when set),
// and samples the machine's memory meanwhile.
func pass(ctx context.Context, side Side, progs []catalog.Program, name string, ready func(context.Context) error, out *Pass, log *slog.Logger) error {
	mem := StartMemorySampler(250 * time.Millisecond)
	defer func() { out.Peak, _ = mem.Stop() }()
	for _, prog := range progs {
		if ready != nil {
			if err := ready(ctx); err != nil {
				return fmt.Errorf("%s, %s pass: ready %s: %w", side, name, prog.Name, err)
			}
		}
		log.Info("bench started", "side", side.String(), "pass", name, "program", prog.Name, "platforms", len(prog.Real()))
		start := time.Now()
		if err := side.Build(ctx, prog); err != nil {
			return fmt.Errorf("%s, %s pass: %s: %w", side, name, prog.Name, err)
		}
		took := time.Since(start)
		out.Times = append(out.Times, took)
		log.Info("bench done", "side", side.String(), "pass", name, "program", prog.Name, "duration", took.Round(100*time.Millisecond))
	}
	return nil
}

// Crossbin builds through the pipeline (build, attest, verify, publish)
// into two throwaway repositories, <Repository>-cold and -warm: cold after
// pruning the whole builder cache (as bench:ci -full does) and emptying the
// source step's caches, warm after dropping only BuildKit's layer cache (as
// Run's rebuild does).
type Crossbin struct {
	// Options run the pipeline; their Sources should prepare sources in
	// Caches (Caches.Preparer), their Repository is replaced.
	Options pipeline.Options
	// Buildx is the builder's buildx, which prunes its cache.
	Buildx buildx.Client
	// Caches are the source step's caches.
	Caches Caches
	// Repository names the throwaway repositories.
	Repository string
}

func (c *Crossbin) String() string { return "crossbin" }

func (c *Crossbin) Cold(ctx context.Context) error {
	if err := prune(ctx, c.Buildx, c.Options.GoImage, true); err != nil {
		return err
	}
	c.Options.Repository = c.Repository + "-cold"
	return c.Caches.Reset(ctx)
}

func (c *Crossbin) Warm(ctx context.Context) error {
	c.Options.Repository = c.Repository + "-warm"
	return prune(ctx, c.Buildx, c.Options.GoImage, false)
}

func (c *Crossbin) Build(ctx context.Context, prog catalog.Program) error {
	_, err := pipeline.Run(ctx, c.Options, []pipeline.Target{RealTarget(prog)})
	return err
}

// RealTarget builds prog's real platforms: published as its index when
// they are all its platforms, only pushed by digest otherwise.
func RealTarget(prog catalog.Program) pipeline.Target {
	if real := prog.Real(); len(real) < len(prog.Platforms) {
		return pipeline.Target{Program: prog, Subset: real}
	}
	return pipeline.Target{Program: prog, Publish: true}
}

// Row is one line of the comparison: a program's four times, or the total.
type Row struct {
	Program, Version                               string
	Platforms                                      int
	BareCold, BareWarm, CrossbinCold, CrossbinWarm time.Duration
}

// ColdRatio is crossbin's cold time over the bare loop's; 0 when either is
// missing.
func (r Row) ColdRatio() float64 { return measured(r.CrossbinCold, r.BareCold) }

// WarmRatio is crossbin's warm time over the bare loop's; 0 when either is
// missing.
func (r Row) WarmRatio() float64 { return measured(r.CrossbinWarm, r.BareWarm) }

func measured(a, b time.Duration) float64 {
	if a == 0 {
		return 0
	}
	return ratio(a, b)
}

// Rows are the programs' rows, a time missing where its pass stopped
// early.
func (c Comparison) Rows() []Row {
	at := func(p Pass, i int) time.Duration {
		if i < len(p.Times) {
			return p.Times[i]
		}
		return 0
	}
	rows := make([]Row, len(c.Programs))
	for i, prog := range c.Programs {
		rows[i] = Row{
			Program: prog.Name, Version: prog.Version, Platforms: len(prog.Real()),
			BareCold: at(c.BareCold, i), BareWarm: at(c.BareWarm, i),
			CrossbinCold: at(c.CrossbinCold, i), CrossbinWarm: at(c.CrossbinWarm, i),
		}
	}
	return rows
}

// Total adds the rows up; a time is missing from the total when it is
// missing from any row, so a ratio never compares unequal work.
func Total(rows []Row) Row {
	t := Row{Program: "total"}
	sum := func(get func(Row) time.Duration) time.Duration {
		var s time.Duration
		for _, r := range rows {
			if get(r) == 0 {
				return 0
			}
			s += get(r)
		}
		return s
	}
	for _, r := range rows {
		t.Platforms += r.Platforms
	}
	t.BareCold = sum(func(r Row) time.Duration { return r.BareCold })
	t.BareWarm = sum(func(r Row) time.Duration { return r.BareWarm })
	t.CrossbinCold = sum(func(r Row) time.Duration { return r.CrossbinCold })
	t.CrossbinWarm = sum(func(r Row) time.Duration { return r.CrossbinWarm })
	return t
}

// cells are a row's columns after the program's name and version.
func (r Row) cells() []string {
	return []string{fmt.Sprint(r.Platforms), span(r.BareCold), span(r.BareWarm), span(r.CrossbinCold), span(r.CrossbinWarm), times(r.ColdRatio()), times(r.WarmRatio())}
}

var header = []string{"program", "version", "platforms", "bare cold", "bare warm", "crossbin cold", "crossbin warm", "cold ratio", "warm ratio"}

// String renders the comparison as a table with the goal and the peak
// memory of each pass.
func (c Comparison) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	rows := c.Rows()
	for _, r := range append(rows, Total(rows)) {
		fmt.Fprintln(tw, strings.Join(append([]string{r.Program, r.Version}, r.cells()...), "\t"))
	}
	tw.Flush()
	b.WriteString(c.notes(Total(rows)))
	return b.String()
}

// Markdown renders the table for README.md.
func (c Comparison) Markdown() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|---|---|" + strings.Repeat("--:|", len(header)-2) + "\n")
	rows := c.Rows()
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.Program, r.Version, strings.Join(r.cells(), " | "))
	}
	fmt.Fprintf(&b, "| **total** | | %s |\n", strings.Join(Total(rows).cells(), " | "))
	return b.String()
}

// notes says whether the cold goal is met, how each side built, and the
// peak memory of each pass.
func (c Comparison) notes(total Row) string {
	var b strings.Builder
	switch r := total.ColdRatio(); {
	case r == 0:
		fmt.Fprintf(&b, "cold goal ≤ %.2f×: not measured\n", ColdGoal)
	case r <= ColdGoal:
		fmt.Fprintf(&b, "cold goal ≤ %.2f×: met (%s)\n", ColdGoal, times(r))
	default:
		fmt.Fprintf(&b, "cold goal ≤ %.2f×: not met (%s)\n", ColdGoal, times(r))
	}
	fmt.Fprintf(&b, "bare: one platform at a time, cold on empty GOCACHE and GOMODCACHE; crossbin: %d jobs at once, build+push+verify+merge, cold after pruning the builder cache, warm with the layer cache dropped\n", c.Jobs)
	fmt.Fprintf(&b, "peak memory in use: bare cold %s, bare warm %s, crossbin cold %s, crossbin warm %s\n",
		GiB(c.BareCold.Peak), GiB(c.BareWarm.Peak), GiB(c.CrossbinCold.Peak), GiB(c.CrossbinWarm.Peak))
	return b.String()
}

func span(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Millisecond).String()
}

func times(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r)
}
