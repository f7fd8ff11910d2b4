package ci

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
)

func TestWriteOutput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "github_output")
	os.WriteFile(file, []byte("earlier=1\n"), 0o644)
	m := Matrix{Include: []MatrixJob{{Program: "shfmt", Platform: "linux/amd64"}, {Program: "shfmt", Platform: "linux/arm/v7"}}}
	if err := WriteOutput(file, m); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	want := `earlier=1
matrix={"include":[{"program":"shfmt","platform":"linux/amd64"},{"program":"shfmt","platform":"linux/arm/v7"}]}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := WriteOutput(filepath.Join(t.TempDir(), "no", "such", "dir"), m); err == nil || !strings.Contains(err.Error(), "write the matrix to ") {
		t.Errorf("unwritable file: %v", err)
	}
}

func TestCheckMove(t *testing.T) {
	const tag = "r:shfmt"
	recs := func(bases ...string) []Record {
		var out []Record
		for _, b := range bases {
			out = append(out, Record{Program: "shfmt", Inputs: "sha256:ours", Base: b})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		records []Record
		now     Published
		want    []string // in the error; none: the tags may move
	}{
		{"first publish", recs("", ""), Published{}, nil},
		{"nothing published since the run planned", recs("sha256:i1", "sha256:i1"), Published{Index: "sha256:i1", Inputs: "sha256:old"}, nil},
		{"these inputs already published (a re-run)", recs("sha256:i1"), Published{Index: "sha256:i2", Inputs: "sha256:ours"}, nil},
		{"tag deleted since", recs("sha256:i1"), Published{}, nil},
		{"a newer publish", recs("sha256:i1", "sha256:i1"), Published{Index: "sha256:i2", Inputs: "sha256:newer"},
			[]string{"shfmt: not published: r:shfmt now holds inputs sha256:newer (index sha256:i2), published after this run planned (it saw sha256:i1); this run built inputs sha256:ours and does not overwrite a newer publish", "nothing to do if a newer commit's run published it; otherwise re-run all jobs"}},
		{"published where there was nothing", recs(""), Published{Index: "sha256:i2", Inputs: "sha256:newer"}, []string{"(it saw no index)"}},
		{"the same inputs republished (a revert)", recs("sha256:i1"), Published{Index: "sha256:i3", Inputs: "sha256:old"}, []string{"does not overwrite a newer publish"}},
		{"the jobs saw different tags", recs("sha256:i1", "sha256:i2"), Published{Index: "sha256:i2", Inputs: "sha256:newer"},
			[]string{"r:shfmt changed while this run built it (its jobs saw sha256:i1 and sha256:i2) and now holds inputs sha256:newer (index sha256:i2); this run built inputs sha256:ours"}},
		{"no records", nil, Published{}, []string{"no records"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMove(tag, tc.records, tc.now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("the tags may move; want a refusal")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestGuard runs the guard step over an in-process registry: a program
// whose tag still points where its jobs saw it goes on to publish; one
// published since fails and keeps its tags.
func TestGuard(t *testing.T) {
	repo := registrytest.Serve(t)
	shfmt, dlv := program(t, "shfmt"), program(t, "dlv")
	publish(t, repo, shfmt, "sha256:old")
	publish(t, repo, dlv, "sha256:old")
	base := func(p string) string {
		idx, err := (registry.Client{}).Index(context.Background(), repo+":"+p)
		if err != nil {
			t.Fatal(err)
		}
		return idx.Digest.String()
	}
	records := []Record{
		{Program: "shfmt", Inputs: "sha256:ours", Base: base("shfmt")},
		{Program: "dlv", Inputs: "sha256:ours", Base: base("dlv")},
	}
	publish(t, repo, dlv, "sha256:newer") // after dlv's jobs planned

	c := &pipeline.Context{
		Options: pipeline.Options{Log: slog.New(slog.DiscardHandler)},
		Targets: []pipeline.Target{{Program: shfmt, Publish: true}, {Program: dlv, Publish: true}},
		Reports: []pipeline.Report{{Program: shfmt}, {Program: dlv}},
	}
	g := Guard{Repository: repo, Records: records}
	if err := g.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := c.Reports[0].Err; err != nil {
		t.Errorf("shfmt refused: %v", err)
	}
	if err := c.Reports[1].Err; err == nil || !strings.Contains(err.Error(), "dlv: not published: "+repo+":dlv now holds inputs sha256:newer") {
		t.Errorf("dlv: %v; want the refusal", err)
	}

	var names []string
	for _, s := range g.Steps() {
		names = append(names, s.String())
	}
	if !slices.Equal(names, []string{"plan", "source", "build", "attest", "verify", "guard", "publish"}) {
		t.Errorf("steps %v; want the guard right before publish", names)
	}
}

// TestStamp: every publish through ci:merge carries its time, so two
// publishes of the same images give two index digests.
func TestStamp(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	want := map[string]string{CreatedAnnotation: "2026-01-02T02:04:05.000000006Z"}
	if got := Stamp(at); !maps.Equal(got, want) {
		t.Errorf("Stamp = %v; want %v", got, want)
	}
}

// TestMergeTargets: a program the plan builds but no job recorded fails
// the merge by name; one up to date without records, and one that could
// not be planned, are left out.
func TestMergeTargets(t *testing.T) {
	shfmt, dlv, helm, gh := program(t, "shfmt"), program(t, "dlv"), program(t, "helm"), program(t, "gh")
	var records []Record
	for _, pl := range shfmt.Platforms {
		records = append(records, Record{Program: "shfmt", Version: shfmt.Version, Platform: pl.String(), Digest: "sha256:" + strings.Repeat("ab", 32), Inputs: "sha256:aa"})
	}
	records = append(records, Record{Program: "gh", Version: gh.Version, Platform: "linux/amd64", Digest: "sha256:" + strings.Repeat("cd", 32), Inputs: "sha256:dd"})
	entries := []Entry{
		{Program: shfmt, Inputs: "sha256:aa", Build: true},
		{Program: dlv, Inputs: "sha256:bb", Build: true}, // its ci:build jobs failed
		{Program: helm, Inputs: "sha256:cc"},             // up to date
		{Program: gh, Inputs: "sha256:dd", Err: errors.New("plan gh: read r:gh: 500")},
	}
	targets := MergeTargets(entries, records)
	if len(targets) != 2 || targets[0].Program.Name != "shfmt" || targets[1].Program.Name != "dlv" {
		t.Fatalf("targets %v; want shfmt and dlv", targets)
	}
	if targets[0].Err != nil || len(targets[0].Built) != len(shfmt.Platforms) || !targets[0].Publish {
		t.Errorf("shfmt: %+v", targets[0])
	}
	if err := targets[1].Err; err == nil || !strings.Contains(err.Error(), "dlv "+dlv.Version+": no record for linux/amd64") {
		t.Errorf("dlv: %v; want the missing records", err)
	}
}
