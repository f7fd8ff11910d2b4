package ci

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/pipeline"
)

// Row is one program in a CI run's summary.
type Row struct {
	Program string
	Version string
	Result  string // "built", "up to date", "FAILED"
	Built   int    // platforms built
	Skipped int    // platforms not built (up to date)
	Failed  int    // platforms that failed (all of them when it failed before building)
	// BuildTime is the program's platform builds summed: in a shared pool
	// the program's wall time says little.
	BuildTime time.Duration
	Note      string
}

// Summarize joins the plan and the reports of the programs that ran.
func Summarize(entries []Entry, reports []pipeline.Report) []Row {
	byName := map[string]pipeline.Report{}
	for _, r := range reports {
		byName[r.Program.Name] = r
	}
	var rows []Row
	for _, e := range entries {
		row := Row{Program: e.Program.Name, Version: e.Program.Version}
		rep, ran := byName[e.Program.Name]
		switch {
		case e.Err != nil: // not planned, so not built
			row.Result, row.Failed, row.Note = "FAILED", len(e.Program.Platforms), lines.First(e.Err.Error())
		case !ran:
			row.Result, row.Skipped, row.Note = "up to date", len(e.Program.Platforms), "inputs "+short(e.Inputs)
		default:
			for _, o := range rep.Outcomes {
				row.BuildTime += o.Duration
				if o.Err != nil {
					row.Failed++
				} else {
					row.Built++
				}
			}
			row.Result, row.Note = "built", "because "+e.Reason
			if rep.Err != nil {
				row.Result = "FAILED"
				row.Note = lines.First(rep.Err.Error())
				if len(rep.Outcomes) == 0 { // failed before any build started
					row.Failed = len(e.Program.Platforms)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Text renders the rows as a table.
func Text(rows []Row) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tVERSION\tRESULT\tBUILT\tSKIPPED\tFAILED\tBUILD TIME\tNOTE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", r.Program, r.Version, r.Result, r.Built, r.Skipped, r.Failed, duration(r.BuildTime), r.Note)
	}
	tw.Flush()
	return b.String()
}

// Markdown renders the rows for $GITHUB_STEP_SUMMARY.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("### crossbin\n\n| program | version | result | built | skipped | failed | build time | note |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %s | %s |\n", r.Program, r.Version, r.Result, r.Built, r.Skipped, r.Failed, duration(r.BuildTime), strings.ReplaceAll(r.Note, "|", `\|`))
	}
	return b.String()
}

func duration(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Millisecond).String()
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
