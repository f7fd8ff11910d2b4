package add

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/platform"
)

// fakeRunner answers smoke runs from a table, recording the binary's name.
type fakeRunner struct {
	names   []string
	answers map[string]func() (string, int, error)
}

func (f *fakeRunner) Run(_ context.Context, bin string, args ...string) (string, int, error) {
	f.names = append(f.names, filepath.Base(bin))
	if a, ok := f.answers[strings.Join(args, " ")]; ok {
		return a()
	}
	return "usage: hello", 2, nil
}

// TestFindSmokeSkipsHangs builds testdata/hello with the host's go (no
// network) and checks the smoke search names the binary as verify runs it,
// moves past a command that hangs, and finds the -X stamp.
func TestFindSmokeSkipsHangs(t *testing.T) {
	src := t.TempDir()
	if err := gotool.CopyTree(filepath.Join("testdata", "hello"), src); err != nil {
		t.Fatal(err)
	}
	h := host{env: append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod"), src: src, mod: "crossbin.test/hello", version: "v1.0.0", main: "."}
	run := &fakeRunner{answers: map[string]func() (string, int, error){
		// Hangs: the sandbox returns its context's deadline.
		"--version": func() (string, int, error) {
			return "", -1, fmt.Errorf("hello was stopped: %w", context.DeadlineExceeded)
		},
		"version": func() (string, int, error) { return "hello 1.0.0\n", 0, nil },
	}}
	s, err := FindSmoke(context.Background(), h, run, "custom", []string{"main.version"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Args, []string{"version"}) || s.Output != "hello 1.0.0" {
		t.Errorf("found %+v; want `version`", s)
	}
	for _, n := range run.names {
		if n != "custom" {
			t.Fatalf("ran the binary as %q; want custom, the name verify runs it as", n)
		}
	}
}

// TestProbeKeepsOutOfGOCACHE checks the probes compile into a build cache
// of their own, removed afterwards, not the user's, and find the platform
// that does not build.
func TestProbeKeepsOutOfGOCACHE(t *testing.T) {
	src, userCache := t.TempDir(), t.TempDir()
	if err := gotool.CopyTree(filepath.Join("testdata", "hello"), src); err != nil {
		t.Fatal(err)
	}
	h := host{env: append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOCACHE="+userCache), src: src,
		mod: "crossbin.test/hello", version: "v1.0.0", main: ".", log: slog.New(slog.DiscardHandler)}
	s390x := platform.Platform{OS: "linux", Arch: "s390x"}
	failed, err := h.Probe(context.Background(), []platform.Platform{smokePlatform, s390x}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[s390x] != "crossbin.test/hello: undefined: undefinedOnS390x" {
		t.Errorf("failed = %v; want s390x only, in the compiler's words", failed)
	}
	if left, _ := os.ReadDir(userCache); len(left) > 0 {
		t.Errorf("the probes wrote %d entries into the user's GOCACHE", len(left))
	}
}
