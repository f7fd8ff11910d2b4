package ci

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/pipeline"
)

func program(t *testing.T, name string) catalog.Program {
	t.Helper()
	p, err := catalog.LoadProgram(filepath.Join("..", "..", "dockerfiles", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMatrixAndRecords(t *testing.T) {
	shfmt := program(t, "shfmt")
	dlv := program(t, "dlv")
	entries := []Entry{{Program: shfmt, Inputs: "sha256:aa", Build: true}, {Program: dlv, Inputs: "sha256:bb"}}
	m := NewMatrix(entries)
	if len(m.Include) != len(shfmt.Platforms) || m.Include[0] != (MatrixJob{Program: "shfmt", Platform: "linux/amd64"}) {
		t.Fatalf("matrix %+v", m)
	}
	if empty := NewMatrix(entries[1:]); empty.Include == nil || len(empty.Include) != 0 {
		t.Fatalf("an empty matrix must encode as [] for GitHub: %+v", empty)
	}
	dir := t.TempDir()
	digest := "sha256:" + strings.Repeat("ab", 32)
	last := m.Include[len(m.Include)-1].Platform
	for _, j := range m.Include[:len(m.Include)-1] {
		if err := WriteRecord(dir, Record{Program: j.Program, Version: shfmt.Version, Platform: j.Platform, Digest: digest, Inputs: "sha256:aa"}); err != nil {
			t.Fatal(err)
		}
	}
	records, err := ReadRecords(dir)
	if err != nil || len(records) != len(m.Include)-1 {
		t.Fatalf("records: %d, %v", len(records), err)
	}
	if _, err := Outcomes(shfmt, "sha256:aa", records); err == nil || !strings.Contains(err.Error(), "no record for "+last) {
		t.Fatalf("missing platform: %v", err)
	}
	WriteRecord(dir, Record{Program: "shfmt", Version: shfmt.Version, Platform: last, Digest: digest, Inputs: "sha256:aa"})
	records, _ = ReadRecords(dir)
	outcomes, err := Outcomes(shfmt, "sha256:aa", records)
	if err != nil || len(outcomes) != len(shfmt.Platforms) || outcomes[len(outcomes)-1].Digest.String() != digest {
		t.Fatalf("outcomes %v, %v", len(outcomes), err)
	}
	if _, err := Outcomes(shfmt, "sha256:cc", records); err == nil || !strings.Contains(err.Error(), "built from other inputs") {
		t.Fatalf("stale records: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"program":"shfmt","extra":1}`), 0o644)
	if _, err := ReadRecords(dir); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("malformed record: %v", err)
	}
	if _, err := ReadRecords(t.TempDir()); err == nil || !strings.Contains(err.Error(), "run ci:build first") {
		t.Fatalf("no records: %v", err)
	}
}

func TestSummary(t *testing.T) {
	shfmt := program(t, "shfmt")
	dlv := program(t, "dlv")
	helm := program(t, "helm")
	gh := program(t, "gh")
	shfmt.Version, dlv.Version, helm.Version, gh.Version = "v3.14.1", "v1.6.1", "v3.6.2", "v2.100.0" // stable across updates
	entries := []Entry{
		{Program: shfmt, Inputs: "sha256:0123456789abcdef0123", Build: false},
		{Program: dlv, Inputs: "sha256:ff", Build: true, Reason: "inputs changed"},
		{Program: helm, Inputs: "sha256:ee", Build: true, Reason: "not published: r:helm-v3.6.2"},
		// The registry failed for one of gh's tags while planning: not
		// built, and not up to date either.
		{Program: gh, Inputs: "sha256:dd", Err: errors.New("plan gh: read r:gh: GET https://r/v2/crossbin/manifests/gh: unexpected status code 500 Internal Server Error: boom (is the registry reachable?)")},
	}
	reports := []pipeline.Report{{
		Program: dlv, Duration: 9 * time.Minute, Err: errors.New("dlv v1.6.1: 1 platform(s) failed\nmore"),
		Outcomes: []pipeline.Outcome{{Job: pipeline.Job{Program: dlv}, Duration: time.Minute}, {Job: pipeline.Job{Program: dlv}, Duration: 30 * time.Second, Err: errors.New("x")}},
	}, {
		Program: helm, Err: errors.New("helm v3.6.2: source unreachable"),
	}}
	rows := Summarize(entries, reports)
	golden.Check(t, "summary.txt", []byte(Text(rows)))
	golden.Check(t, "summary.md", []byte(Markdown(rows)))
}
