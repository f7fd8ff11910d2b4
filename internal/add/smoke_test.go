package add

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/gotool"
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
