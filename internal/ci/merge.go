package ci

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/registry"
)

// A distributed run (ci:plan, ci:build per job, ci:merge) publishes minutes
// after it planned, and the merge of one run may come after another run
// published: two runs overlapping, or a re-run of an old run's jobs. Its
// records would then move the tags back to older images. So the merge moves
// a program's tags like a compare-and-swap: each record holds the index the
// program's moving tag pointed at when its job planned (Record.Base), and
// right before the tags move the Guard step reads the tag again; CheckMove
// lets the merge go on only if the tag still points at that index, or
// already holds the inputs the records were built from. Every publish
// through ci:merge stamps its index with the time (Stamp), so any publish
// since the run planned, even one of the same inputs as before, changes the
// index digest: a newer publish is never overwritten; the program fails
// instead, and the next run of the newest catalog publishes it.
//
// Left to the workflow: the publishing workflow runs one run at a time
// (concurrency group crossbin-publish), which closes the seconds between the
// guard's read and the tag move, and keeps a newer commit's run from
// planning before an older one has published. Re-running all jobs of an old
// run plans again, and so publishes that commit's catalog, as a rollback.

// MergeTargets are what ci:merge runs: every program with records, and
// every program the plan builds, since one without records failed its
// ci:build jobs (Outcomes names the platforms missing and fails it). A
// program that could not be planned is left out; PlanErrors names it.
func MergeTargets(entries []Entry, records []Record) []pipeline.Target {
	var targets []pipeline.Target
	for _, e := range entries {
		recorded := slices.ContainsFunc(records, func(r Record) bool { return r.Program == e.Program.Name })
		if e.Err != nil || (!recorded && !e.Build) {
			continue
		}
		built, err := Outcomes(e.Program, e.Inputs, records)
		targets = append(targets, pipeline.Target{Program: e.Program, Built: built, Publish: true, Err: err})
	}
	return targets
}

// CheckMove decides whether a merge may move a program's tags. tag is its
// moving tag, records are the program's records (all built from the same
// inputs, see Outcomes), now is what tag points at just before the move.
func CheckMove(tag string, records []Record, now Published) error {
	if len(records) == 0 {
		return fmt.Errorf("%s: no records to publish", tag)
	}
	prog, ours := records[0].Program, records[0].Inputs
	if now.Index == "" || now.Inputs == ours {
		return nil // nothing there to overwrite, or these inputs already
	}
	var bases []string
	for _, r := range records {
		if !slices.Contains(bases, r.Base) {
			bases = append(bases, r.Base)
		}
	}
	if len(bases) > 1 {
		return fmt.Errorf("%s: not published: %s changed while this run built it (its jobs saw %s) and now holds inputs %s (index %s); this run built inputs %s and does not overwrite a newer publish: %s",
			prog, tag, describe(bases), now.Inputs, now.Index, ours, whatToDo)
	}
	if now.Index == bases[0] {
		return nil // nobody published since this run planned
	}
	return fmt.Errorf("%s: not published: %s now holds inputs %s (index %s), published after this run planned (it saw %s); this run built inputs %s and does not overwrite a newer publish: %s",
		prog, tag, now.Inputs, now.Index, describe(bases), ours, whatToDo)
}

const whatToDo = "nothing to do if a newer commit's run published it; otherwise re-run all jobs of the newest commit's publish run, so it plans from what is published now"

// describe names indexes for an error; "" is a tag that did not exist.
func describe(indexes []string) string {
	names := make([]string, len(indexes))
	for i, d := range indexes {
		names[i] = cmp.Or(d, "no index")
	}
	return strings.Join(names, " and ")
}

// Guard is the step ci:merge runs right before the pipeline's publish step:
// it reads each publishing program's moving tag in Repository again and
// fails the program when CheckMove refuses.
type Guard struct {
	Registry   registry.Client
	Repository string
	Records    []Record
}

func (Guard) String() string { return "guard" }

func (g Guard) Run(ctx context.Context, c *pipeline.Context) error {
	for i, t := range c.Targets {
		if c.Reports[i].Err != nil || !t.Publish {
			continue
		}
		var mine []Record
		for _, r := range g.Records {
			if r.Program == t.Program.Name {
				mine = append(mine, r)
			}
		}
		tag := registry.TagsOf(g.Repository, t.Program).Name
		now, err := ReadPublished(ctx, g.Registry, tag)
		if err == nil {
			err = CheckMove(tag, mine, now)
		}
		if err != nil {
			c.Log.Error("tags not moved", "program", t.Program.Name, "err", err)
			c.Reports[i].Err = err
		}
	}
	return nil
}

// Steps are the pipeline's steps with the guard right before publish.
func (g Guard) Steps() []pipeline.Step {
	steps := pipeline.Steps()
	i := slices.IndexFunc(steps, func(s pipeline.Step) bool { _, ok := s.(pipeline.PublishStep); return ok })
	if i < 0 {
		return append(steps, g)
	}
	return slices.Insert(steps, i, pipeline.Step(g))
}

// CreatedAnnotation is the index annotation Stamp sets.
const CreatedAnnotation = "org.opencontainers.image.created"

// Stamp is the annotation ci:merge puts on every index it publishes (see
// pipeline.Options.Annotations): the time of the publish, so no two
// publishes give the same index digest and the Guard tells any publish
// since a run planned from the index it saw.
func Stamp(now time.Time) map[string]string {
	return map[string]string{CreatedAnnotation: now.UTC().Format(time.RFC3339Nano)}
}
