package pipeline

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossbin/crossbin/internal/lines"
)

// Table renders the report as the summary printed after a build.
func (r Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s)\n", r.Program.Name, r.Program.Version, r.Program.Upstream())
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tRESULT\tPATCHES\tSIZE\tDURATION\tCHECK")
	for _, o := range r.Outcomes {
		result := "built"
		if o.Unavailable {
			result = "unavailable"
		}
		check := o.Verify.Output
		switch {
		case o.Err != nil:
			result = "FAILED"
			check = lines.First(o.Err.Error())
		case o.Verify.Note != "":
			check = o.Verify.ELF + "; " + o.Verify.Note
		}
		size := "-"
		if o.Verify.Size > 0 {
			size = fmt.Sprintf("%.1f MiB", float64(o.Verify.Size)/(1<<20))
		}
		patches := "-"
		if len(o.Patches) > 0 {
			patches = strings.Join(o.Patches, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Platform, result, patches, size, o.Duration.Round(100*time.Millisecond), check)
	}
	tw.Flush()
	if len(r.Tags) > 0 {
		verb := "published"
		if !r.TagsMoved() {
			verb = "unchanged"
		}
		fmt.Fprintf(&b, "%s: %s\n", verb, strings.Join(r.Tags, " "))
	}
	if len(r.Obsolete) > 0 {
		fmt.Fprintf(&b, "obsolete patches (skipped; their range no longer matches %s): %s\n", r.Program.Version, strings.Join(r.Obsolete, ", "))
	}
	if r.Unmoved != nil {
		fmt.Fprintf(&b, "%s\n", r.Unmoved)
	}
	fmt.Fprintf(&b, "total: %s\n", r.Duration.Round(100*time.Millisecond))
	return b.String()
}
