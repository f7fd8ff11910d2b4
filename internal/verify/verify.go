// Package verify checks published images the way a user would meet them:
// it pulls each platform's image from the registry, takes /bin/<name> out of
// it, checks the ELF header against the platform (machine, class, byte
// order, statically linked) and runs the binary, natively or under QEMU via
// binfmt_misc. A freshly built binary is untrusted code: it runs only
// through the Runner the caller hands over (internal/sandbox), never on the
// host. A real build must print its pinned version for the program's smoke
// command; an unavailable platform must print its line and exit 1. Where this machine cannot execute a platform's binaries at all
// (linux/386 on a kernel without IA-32 emulation), the ELF check stands
// alone and the result says so.
package verify

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Result is what verification found for one platform.
type Result struct {
	Platform    platform.Platform
	Unavailable bool
	Size        int64  // bytes of /bin/<name>
	ELF         string // machine, class, byte order
	Ran         bool   // the binary was executed
	Output      string // first line of what it printed
	Note        string // e.g. why it was not run
	// SBOM and Provenance report that those attestations were checked.
	SBOM, Provenance bool
	Err              error
}

// Runner executes a binary for its smoke command, isolated from the host:
// sandbox.Sandbox is the real one. It returns the binary's combined output
// and exit code; its error wraps syscall.ENOEXEC when the kernel cannot
// execute the binary's format, and ctx's error when ctx stopped it.
type Runner interface {
	Run(ctx context.Context, bin string, args ...string) (output string, exit int, err error)
}

// RunTimeout bounds one execution of a binary (QEMU is slow to start).
const RunTimeout = 2 * time.Minute

// ErrCannotRun reports that this machine cannot execute a binary.
var ErrCannotRun = errors.New("this machine cannot execute it")

// Image verifies the image of prog for pl, running its binary with run,
// and its attestations stmts (see Attestations); digest names the image.
func Image(ctx context.Context, run Runner, img v1.Image, digest v1.Hash, stmts []registry.Statement, prog catalog.Program, pl platform.Platform) Result {
	r := Result{Platform: pl, Unavailable: !prog.Available(pl)}
	dir, err := os.MkdirTemp("", "crossbin-verify-")
	if err != nil {
		r.Err = err
		return r
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, prog.Name)
	if r.Size, err = registry.ExtractFile(img, "bin/"+prog.Name, bin); err != nil {
		r.Err = fmt.Errorf("%s %s: %w", prog.Name, pl, err)
		return r
	}
	if r = Binary(ctx, run, bin, prog, pl, r); r.Err != nil {
		return r
	}
	if r.SBOM, r.Provenance, err = Attestations(stmts, digest, bin, prog, pl); err != nil {
		r.Err = fmt.Errorf("%s %s: %w", prog.Name, pl, err)
	}
	return r
}

// Binary verifies an extracted binary, running it with run; r carries what
// is known so far.
func Binary(ctx context.Context, run Runner, bin string, prog catalog.Program, pl platform.Platform, r Result) Result {
	fail := func(err error) Result {
		r.Err = fmt.Errorf("%s %s: %w", prog.Name, pl, err)
		return r
	}
	got, err := CheckELF(bin, pl)
	r.ELF = got
	if err != nil {
		return fail(err)
	}
	args := prog.Smoke
	if r.Unavailable {
		args = nil
	}
	out, code, err := smoke(ctx, run, bin, args...)
	if errors.Is(err, ErrCannotRun) {
		r.Note = fmt.Sprintf("ELF checked only: this machine cannot execute %s binaries", pl)
		if n, ok := pl.Names(); ok && n.QEMU != "" {
			r.Note += fmt.Sprintf(" (is %s enabled in binfmt_misc?)", n.QEMU)
		}
		return r
	}
	if err != nil {
		return fail(err)
	}
	r.Ran = true
	r.Output = VersionLine(out, prog.Version)
	if r.Unavailable {
		want := fmt.Sprintf("%s %s is unavailable on %s", prog.Name, prog.Version, pl)
		if code != 1 || strings.TrimSpace(out) != want {
			return fail(fmt.Errorf("the unavailable binary exited %d printing %q; want exit 1 and %q", code, strings.TrimSpace(out), want))
		}
		return r
	}
	if code != prog.Exit {
		return fail(fmt.Errorf("`%s %s` exited %d (want %d): %s", prog.Name, strings.Join(args, " "), code, prog.Exit, strings.TrimSpace(out)))
	}
	if prog.Expect != "" {
		if !strings.Contains(out, prog.Expect) {
			return fail(fmt.Errorf("`%s %s` printed %q, without %q", prog.Name, strings.Join(args, " "), strings.TrimSpace(out), prog.Expect))
		}
		r.Output = lines.First(out)
		return r
	}
	if !MentionsVersion(out, prog.Version) {
		return fail(fmt.Errorf("`%s %s` printed %q, which does not name version %s", prog.Name, strings.Join(args, " "), strings.TrimSpace(out), prog.Version))
	}
	return r
}

// MentionsVersion reports whether out names version, with or without its
// leading "v" (dlv prints "Version: 1.6.1") and without the module
// system's +incompatible (the Docker CLI prints "Docker version 29.9.1").
// A C program's version is its release tag, which may carry a prefix
// before the number (jq's tag jq-1.7.1, curl's curl-8.10.1); the number
// alone counts too when it has a dot, so "jq-1.7" does not match on "1".
func MentionsVersion(out, version string) bool {
	release := catalog.Release(version)
	if strings.Contains(out, release) || strings.Contains(out, strings.TrimPrefix(release, "v")) {
		return true
	}
	i := strings.IndexAny(release, "0123456789")
	number := release[max(i, 0):]
	return i > 0 && strings.Contains(number, ".") && strings.Contains(out, number)
}

// CheckELF checks that path is a static ELF executable for pl and describes
// its header.
func CheckELF(path string, pl platform.Platform) (string, error) {
	want, err := pl.ELF()
	if err != nil {
		return "", err
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	got := platform.ELF{Machine: f.Machine, Class: f.Class, Order: f.Data}
	if got != want {
		return got.String(), fmt.Errorf("ELF header is %s; %s needs %s", got, pl, want)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return got.String(), fmt.Errorf("ELF type %s is not an executable", f.Type)
	}
	if !platform.StaticELF(f) {
		return got.String(), errors.New("dynamically linked (has a program interpreter); crossbin images need static binaries")
	}
	return got.String(), nil
}

// smoke runs bin with args through run, within RunTimeout. ErrCannotRun
// means the kernel refused the binary's format.
func smoke(ctx context.Context, run Runner, bin string, args ...string) (string, int, error) {
	if run == nil {
		return "", -1, errors.New("no sandbox to run it in (verify.Runner is nil)")
	}
	ctx, cancel := context.WithTimeout(ctx, RunTimeout)
	defer cancel()
	out, code, err := run.Run(ctx, bin, args...)
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		return "", 0, fmt.Errorf("%w (exec format error)", ErrCannotRun)
	case errors.Is(err, context.DeadlineExceeded):
		return out, -1, fmt.Errorf("timed out after %s", RunTimeout)
	}
	return out, code, err
}

// ansi matches terminal escape sequences (CSI: colours, cursor moves).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// VersionLine is the first line of out that names version (programs may
// log warnings first, e.g. helm under QEMU), or else its first line.
func VersionLine(out, version string) string {
	// Terminal colours (k9s prints "\x1b[36mVersion:\x1b[0m") would reach
	// tables and logs as raw escapes.
	out = ansi.ReplaceAllString(out, "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if MentionsVersion(l, version) {
			return strings.TrimSpace(l)
		}
	}
	return lines[0]
}
