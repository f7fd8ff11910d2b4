package durations

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/golden"
)

func TestCombine(t *testing.T) {
	for _, tc := range []struct {
		name          string
		prev, d, want time.Duration
	}{
		{"first observation", 0, 40 * time.Second, 40 * time.Second},
		{"same again", 40 * time.Second, 40 * time.Second, 40 * time.Second},
		{"a warm rebuild moves it halfway", 40 * time.Second, 2 * time.Second, 21 * time.Second},
		{"a cold build moves it halfway", 2 * time.Second, 40 * time.Second, 21 * time.Second},
	} {
		if got := Combine(tc.prev, tc.d); got != tc.want {
			t.Errorf("%s: Combine(%s, %s) = %s; want %s", tc.name, tc.prev, tc.d, got, tc.want)
		}
	}
}

// TestCombineFollowsALastingChange: three runs at the new duration bring
// the average within an eighth of the old gap.
func TestCombineFollowsALastingChange(t *testing.T) {
	tb := Table{}
	k := Key{Program: "helm", Platform: "linux/amd64"}
	tb.Observe(k, 80*time.Second)
	for range 3 {
		tb.Observe(k, 16*time.Second)
	}
	if got := tb[k]; got != 24*time.Second {
		t.Errorf("after 80s then 3×16s: %s; want 24s", got)
	}
}

func TestEstimate(t *testing.T) {
	helm := func(pl string) Key { return Key{Program: "helm", Platform: pl} }
	stub := func(prog, pl string) Key { return Key{Program: prog, Platform: pl, Unavailable: true} }
	tb := Table{
		helm("linux/amd64"):                         60 * time.Second,
		helm("linux/arm64"):                         90 * time.Second,
		{Program: "shfmt", Platform: "linux/amd64"}: 10 * time.Second,
		{Program: "gh", Platform: "linux/amd64"}:    40 * time.Second,
		{Program: "gopls", Platform: "linux/amd64"}: 600 * time.Second,
		stub("dlv", "linux/s390x"):                  3 * time.Second,
	}
	for _, tc := range []struct {
		name string
		tb   Table
		k    Key
		want time.Duration
		ok   bool
	}{
		{"recorded", tb, helm("linux/arm64"), 90 * time.Second, true},
		{"the program's other platforms", tb, helm("linux/riscv64"), 75 * time.Second, true},
		// 10 40 60 90 600: gopls does not pull it up.
		{"a new program: the median of its kind", tb, Key{Program: "new", Platform: "linux/amd64"}, 60 * time.Second, true},
		{"the stand-in is not estimated from real builds", tb, stub("helm", "linux/s390x"), 3 * time.Second, true},
		{"even count: between the middle two", Table{helm("linux/amd64"): 10 * time.Second, {Program: "gh", Platform: "linux/amd64"}: 20 * time.Second}, Key{Program: "new", Platform: "linux/386"}, 15 * time.Second, true},
		{"no stand-in ever seen", Table{helm("linux/amd64"): 10 * time.Second}, stub("helm", "linux/s390x"), 0, false},
		{"empty table", Table{}, helm("linux/amd64"), 0, false},
	} {
		got, ok := tc.tb.Estimate(tc.k)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Estimate(%s) = %s, %v; want %s, %v", tc.name, tc.k, got, ok, tc.want, tc.ok)
		}
	}
}

// TestEncode: the file is sorted, durations to the millisecond, and reads
// back as the same table.
func TestEncode(t *testing.T) {
	tb := Table{
		{Program: "shfmt", Platform: "linux/arm/v7"}:                  12345678901 * time.Nanosecond,
		{Program: "helm", Platform: "linux/s390x", Unavailable: true}: 2500 * time.Millisecond,
		{Program: "helm", Platform: "linux/amd64"}:                    time.Minute + 2500*time.Millisecond,
		{Program: "helm", Platform: "linux/s390x"}:                    90 * time.Second,
		{Program: "golangci-lint", Platform: "linux/loong64"}:         4 * time.Minute,
	}
	data := tb.Encode()
	golden.Check(t, "durations.json", data)
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for k, d := range tb {
		if back[k] != d.Round(time.Millisecond) {
			t.Errorf("%s: read back %s; want %s", k, back[k], d.Round(time.Millisecond))
		}
	}
	if len(back) != len(tb) {
		t.Errorf("read back %d jobs; want %d", len(back), len(tb))
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, data := range []string{
		``,
		`{"jobs": [`,
		`[1, 2]`,
		`{"jobs": [{"program": "helm", "platform": "linux/amd64", "duration": "soon"}]}`,
		`{"jobs": [{"program": "helm", "platform": "linux/amd64", "duration": "-3s"}]}`,
		`{"jobs": [{"program": "", "platform": "linux/amd64", "duration": "3s"}]}`,
		`{"jobs": [{"program": "helm", "duration": "3s"}]}`,
	} {
		if _, err := Decode([]byte(data)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%q) err = %v; want ErrCorrupt", data, err)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	k := Key{Program: "helm", Platform: "linux/amd64"}

	// Missing: an empty table, no error; the first Record creates the
	// file, and its directory.
	path := filepath.Join(dir, "cache", "durations.json")
	s, err := Open(path)
	if err != nil || len(s.Table()) != 0 {
		t.Fatalf("missing file: %v, %v", s.Table(), err)
	}
	if err := s.Record(k, 40*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(k, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(k, 0); err != nil { // no observation
		t.Fatal(err)
	}
	again, err := Open(path)
	if d, _ := again.Estimate(k); err != nil || d != 30*time.Second {
		t.Errorf("read back: %s, %v; want 30s", d, err)
	}

	// Corrupt: an error to report, an empty table, and the file rebuilt
	// by the next Record.
	if err := os.WriteFile(path, []byte("{\"jobs\": [trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if !errors.Is(err, ErrCorrupt) || s == nil || len(s.Table()) != 0 {
		t.Fatalf("corrupt file: %v, %v", s, err)
	}
	if err := s.Record(k, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if again, err := Open(path); err != nil || again.Table()[k] != 5*time.Second {
		t.Errorf("rebuilt: %v, %v", again.Table(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left %v beside the file", entries)
	}
}

// TestRecordConcurrently: the pool's workers record at once; every
// observation lands and the file stays whole.
func TestRecordConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "durations.json")
	s, _ := Open(path)
	var wg sync.WaitGroup
	for _, pl := range []string{"linux/amd64", "linux/arm64", "linux/386", "linux/riscv64", "linux/s390x", "linux/ppc64le"} {
		wg.Go(func() {
			if err := s.Record(Key{Program: "gh", Platform: pl}, time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	back, err := Open(path)
	if err != nil || len(back.Table()) != 6 {
		t.Errorf("read back %v, %v; want 6 jobs", back.Table(), err)
	}
}
