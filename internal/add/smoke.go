package add

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/verify"
)

// smokePlatform is where the smoke command is found: this machine's, so
// the binary runs natively, in the sandbox verify uses (linux/amd64 on
// the build machine).
var smokePlatform = platform.Platform{OS: "linux", Arch: runtime.GOARCH}

// smokeTimeout bounds one smoke run: a program that takes `version` or
// `-v` for something else (input, a server) must not hold `mage add`.
const smokeTimeout = 30 * time.Second

// smokeArgs are tried in this order for a command that prints the version.
var smokeArgs = [][]string{{"--version"}, {"version"}, {"-version"}, {"-v"}}

// Smoke is how verify will check the program, and what stamps its version.
type Smoke struct {
	Args   []string // the smoke command's arguments
	Expect string   // for a program that cannot print its version: what --help prints
	Exit   int      // --help's exit status, with Expect
	// LDFlags stamps the version (-X importpath.name=${VERSION}); empty
	// when the build info or the source already carries it.
	LDFlags string
	// Stamp says where the version comes from, for the note.
	Stamp string
	// Output is the line that named the version (or --help's first line).
	Output string
}

// FindSmoke builds the program for linux/amd64 and runs it in the sandbox
// with each smoke command, first as it builds, then with each -X target
// set to the version, until one prints the version. A program that prints
// it nowhere gets `--help` and the first line it prints as expect.
func FindSmoke(ctx context.Context, h host, run verify.Runner, name string, targets []string) (Smoke, error) {
	dir, err := os.MkdirTemp("", "crossbin-smoke-")
	if err != nil {
		return Smoke{}, err
	}
	defer os.RemoveAll(dir)
	// Named as verify will run it (/bin/<name>): usage lines print it.
	bin := filepath.Join(dir, name)
	runOne := func(args ...string) (string, int, error) {
		rctx, cancel := context.WithTimeout(ctx, smokeTimeout)
		defer cancel()
		return run.Run(rctx, bin, args...)
	}

	try := func(ldflags string) (Smoke, bool, error) {
		if out, err := h.compile(ctx, smokePlatform, ldflags, bin); err != nil {
			return Smoke{}, false, fmt.Errorf("build %s for %s: %s", h.pkg(), smokePlatform, FirstError(out, h.src))
		}
		for _, args := range smokeArgs {
			out, code, err := runOne(args...)
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				continue // not a version command for this program
			}
			if err != nil {
				return Smoke{}, false, fmt.Errorf("run %s %s in the sandbox: %w", name, strings.Join(args, " "), err)
			}
			if code == 0 && verify.MentionsVersion(out, h.version) {
				return Smoke{Args: args, LDFlags: ldflags, Output: verify.VersionLine(out, h.version)}, true, nil
			}
		}
		return Smoke{}, false, nil
	}

	s, ok, err := try("")
	if err != nil {
		return Smoke{}, err
	}
	if ok {
		s.Stamp = "none needed"
		return s, nil
	}
	for _, target := range targets {
		// Without the v first, as release tooling (GoReleaser's
		// {{.Version}}) stamps it; with it where the program wants it.
		for _, value := range []string{strings.TrimPrefix(h.version, "v"), h.version} {
			s, ok, err := try("-X " + target + "=" + value)
			if err != nil {
				return Smoke{}, err
			}
			if !ok || (value == h.version && strings.Contains(s.Output, "v"+h.version)) {
				continue // not this one; or it adds a v of its own
			}
			// The Dockerfile's ARG VERSION, as the program wants it.
			arg := "${VERSION}"
			if value != h.version {
				arg = "${VERSION#v}"
			}
			s.LDFlags = "-X " + target + "=" + arg
			s.Stamp = "-ldflags -X " + target
			return s, nil
		}
	}
	// No version anywhere: --help must at least run.
	if _, err := h.compile(ctx, smokePlatform, "", bin); err != nil {
		return Smoke{}, err
	}
	out, code, err := runOne("--help")
	if err != nil {
		return Smoke{}, fmt.Errorf("run %s --help in the sandbox: %w", name, err)
	}
	first := firstLine(out)
	if first == "" {
		return Smoke{}, fmt.Errorf("%s prints its version with none of %s (nor with -X on %s), and `--help` prints nothing (exit %d): write program.yaml by hand",
			h.pkg(), describe(smokeArgs), orNone(targets), code)
	}
	return Smoke{Args: []string{"--help"}, Expect: first, Exit: code, Stamp: "", Output: first}, nil
}

// firstLine is out's first non-empty line, trimmed, at most 60 bytes (cut
// at a word).
func firstLine(out string) string {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) > 60 {
			if i := strings.LastIndexByte(line[:60], ' '); i > 0 {
				line = line[:i]
			} else {
				line = strings.ToValidUTF8(line[:60], "")
			}
		}
		return line
	}
	return ""
}

func describe(args [][]string) string {
	var out []string
	for _, a := range args {
		out = append(out, strings.Join(a, " "))
	}
	return strings.Join(out, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "no variable found"
	}
	return strings.Join(s, ", ")
}
