// Package durations remembers how long each build job took in earlier runs,
// so that a run can start its longest jobs first and tell how much is left.
//
// A job is keyed by program, platform and kind (the program itself or the
// unavailable/ stand-in), not by version: a version bump compiles much the
// same code, and the one thing a schedule needs is which jobs are long.
// Each observation is folded into an exponential moving average (Combine).
// A job never seen is estimated from its program's other platforms, then
// from the typical job of its kind (Table.Estimate).
//
// The table lives in one small JSON file in crossbin's cache directory,
// replaced atomically after each observation, so a run stopped halfway
// keeps what it measured. The file is a hint: a missing one is an empty
// table, and a corrupt one is reported (ErrCorrupt), then rebuilt from
// scratch by the next observation.
package durations

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/crossbin/crossbin/internal/atomicfile"
)

// Key names a job across versions.
type Key struct {
	Program  string
	Platform string // platform.Platform's String form, e.g. linux/arm/v7
	// Unavailable: the unavailable/ stand-in, which takes seconds where the
	// program may take minutes.
	Unavailable bool
}

func (k Key) String() string {
	s := k.Program + " " + k.Platform
	if k.Unavailable {
		s += " (unavailable)"
	}
	return s
}

// Table is the expected duration of each job seen so far.
type Table map[Key]time.Duration

// Combine folds the duration d just observed into prev, the average of the
// earlier runs (0: none). It is an exponential moving average with weight
// ½: keeping only the last run would reorder the queue each time the build
// cache flips between warm (a rebuild in seconds) and cold (minutes), and a
// plain mean would never forget a version built a year ago; ½ weighs the
// last run most, halves every older one's weight, and follows a lasting
// change within two or three runs.
func Combine(prev, d time.Duration) time.Duration {
	if prev <= 0 {
		return d
	}
	return prev + (d-prev)/2
}

// Observe folds d into k's entry.
func (t Table) Observe(k Key, d time.Duration) {
	t[k] = Combine(t[k], d)
}

// Estimate is how long k is expected to take, and false when nothing of its
// kind (program or stand-in) was ever seen. In order:
//   - k's own entry;
//   - the mean of its program's other platforms of the same kind: they
//     compile the same source, a new platform costs about what they cost;
//   - the median of every job of the same kind: the typical job, which one
//     huge program (gopls, golangci-lint) does not pull up as a mean would.
func (t Table) Estimate(k Key) (time.Duration, bool) {
	if d, ok := t[k]; ok {
		return d, true
	}
	var sum time.Duration
	var n int
	var kind []time.Duration
	for o, d := range t {
		if o.Unavailable != k.Unavailable {
			continue
		}
		kind = append(kind, d)
		if o.Program == k.Program {
			sum += d
			n++
		}
	}
	if n > 0 {
		return sum / time.Duration(n), true
	}
	if len(kind) == 0 {
		return 0, false
	}
	slices.Sort(kind)
	mid := len(kind) / 2
	if len(kind)%2 == 0 {
		return kind[mid-1] + (kind[mid]-kind[mid-1])/2, true
	}
	return kind[mid], true
}

// file is the JSON form: a list sorted by program, platform and kind, so
// the file diffs well and the same table always writes the same bytes.
type file struct {
	Jobs []entry `json:"jobs"`
}

type entry struct {
	Program     string `json:"program"`
	Platform    string `json:"platform"`
	Unavailable bool   `json:"unavailable,omitempty"`
	Duration    string `json:"duration"` // time.Duration's String form, e.g. 1m2.5s
}

// ErrCorrupt is wrapped by the error for a file that is not a table.
var ErrCorrupt = errors.New("not a durations file")

// Decode reads a table from its JSON form.
func Decode(data []byte) (Table, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	t := Table{}
	for i, e := range f.Jobs {
		d, err := time.ParseDuration(e.Duration)
		if err != nil || d <= 0 || e.Program == "" || e.Platform == "" {
			return nil, fmt.Errorf("%w: job %d (%q %q): duration %q", ErrCorrupt, i+1, e.Program, e.Platform, e.Duration)
		}
		t[Key{Program: e.Program, Platform: e.Platform, Unavailable: e.Unavailable}] = d
	}
	return t, nil
}

// Encode writes the table's JSON form, durations to the millisecond.
func (t Table) Encode() []byte {
	f := file{Jobs: make([]entry, 0, len(t))}
	for k, d := range t {
		f.Jobs = append(f.Jobs, entry{Program: k.Program, Platform: k.Platform, Unavailable: k.Unavailable, Duration: d.Round(time.Millisecond).String()})
	}
	slices.SortFunc(f.Jobs, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.Program, b.Program), cmp.Compare(a.Platform, b.Platform), cmp.Compare(rank(a.Unavailable), rank(b.Unavailable)))
	})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	_ = enc.Encode(f) // strings and bools only: cannot fail
	return b.Bytes()
}

// rank sorts the program before its stand-in.
func rank(unavailable bool) int {
	if unavailable {
		return 1
	}
	return 0
}

// Store is a table kept in a file, safe for concurrent use.
type Store struct {
	path  string
	mu    sync.Mutex
	table Table
}

// Open reads the table in path. The store is usable whatever the error: a
// missing file is an empty table and no error; a corrupt or unreadable one
// is an empty table and an error to report (ErrCorrupt for a corrupt one),
// and the next Record replaces the file.
func Open(path string) (*Store, error) {
	s := &Store{path: path, table: Table{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("durations of earlier runs: %w", err)
	}
	t, err := Decode(data)
	if err != nil {
		return s, fmt.Errorf("durations of earlier runs: %s: %w", path, err)
	}
	s.table = t
	return s, nil
}

// Estimate is Table.Estimate on the store's table.
func (s *Store) Estimate(k Key) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table.Estimate(k)
}

// Record folds d into k's entry and writes the file. A duration that is
// not positive is no observation and is ignored.
func (s *Store) Record(k Key, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table.Observe(k, d)
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("record the duration of %s: %w", k, err)
	}
	if err := atomicfile.Write(s.path, s.table.Encode()); err != nil {
		return fmt.Errorf("record the duration of %s: %w", k, err)
	}
	return nil
}

// Table returns a copy of the store's table.
func (s *Store) Table() Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.table)
}
