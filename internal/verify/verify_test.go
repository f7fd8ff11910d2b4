package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/sandbox"
)

// buildUnavailable builds our unavailable program for pl (no network: it has
// no dependencies).
func buildUnavailable(t *testing.T, pl platform.Platform, name, version string) string {
	t.Helper()
	return goBuild(t, "../../unavailable", pl, name, "-s -w -X main.name="+name+" -X main.version="+version+" -X main.platform="+pl.String())
}

// buildFixture builds the sandbox's test fixture for pl; `fixture
// version` prints "fixture v1.2.3".
func buildFixture(t *testing.T, pl platform.Platform) string {
	t.Helper()
	return goBuild(t, "../sandbox/testdata/fixture", pl, "fixture", "-X main.version=v1.2.3")
}

// goBuild builds the main package in dir for pl as name, with the host's
// go tool and no network.
func goBuild(t *testing.T, dir string, pl platform.Platform, name, ldflags string) string {
	t.Helper()
	env, err := pl.GoEnv()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-C", dir, "-trimpath", "-o", out, "-ldflags", ldflags, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off")
	for _, v := range env {
		cmd.Env = append(cmd.Env, v.String())
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s for %s: %v\n%s", dir, pl, err, b)
	}
	return out
}

// sandboxed is the runner of tests that execute binaries: the real
// sandbox, which needs root (or user namespaces) but no Docker.
func sandboxed(t *testing.T) Runner {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs binaries in the sandbox (skipped with -short)")
	}
	return sandbox.Sandbox{Dir: t.TempDir()}
}

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	i386  = platform.Platform{OS: "linux", Arch: "386"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
)

func dlv() catalog.Program {
	return catalog.Program{
		Name: "dlv", Version: "v1.6.1", Smoke: []string{"version"},
		Platforms:   []platform.Platform{amd64, i386, arm64},
		Unavailable: map[platform.Platform]string{amd64: "test", i386: "test"},
	}
}

func TestUnavailableBinary(t *testing.T) {
	run := sandboxed(t)
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	r := Binary(context.Background(), run, bin, dlv(), amd64, Result{Unavailable: true})
	if r.Err != nil || !r.Ran || r.Output != "dlv v1.6.1 is unavailable on linux/amd64" {
		t.Fatalf("got %+v", r)
	}
	// The wrong platform in its message is caught.
	wrong := buildUnavailable(t, amd64, "dlv", "v1.5.0")
	if r := Binary(context.Background(), run, wrong, dlv(), amd64, Result{Unavailable: true}); r.Err == nil || !strings.Contains(r.Err.Error(), "want exit 1 and") {
		t.Fatalf("wrong version accepted: %+v", r)
	}
	// As a real build, it fails its smoke test.
	if r := Binary(context.Background(), run, bin, dlv(), amd64, Result{}); r.Err == nil || !strings.Contains(r.Err.Error(), "exited 1") {
		t.Fatalf("a failing smoke test passed: %+v", r)
	}
}

func TestELFMismatch(t *testing.T) {
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	if _, err := CheckELF(bin, arm64); err == nil || !strings.Contains(err.Error(), "EM_AARCH64") {
		t.Fatalf("amd64 binary accepted as arm64: %v", err)
	}
	if _, err := CheckELF("verify.go", amd64); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Fatalf("source file accepted: %v", err)
	}
	if ls, err := exec.LookPath("ls"); err == nil {
		if _, err := CheckELF(ls, amd64); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Fatalf("dynamic %s accepted: %v", ls, err)
		}
	}
}

func Test386IsCheckedByELF(t *testing.T) {
	run := sandboxed(t)
	bin := buildUnavailable(t, i386, "dlv", "v1.6.1")
	r := Binary(context.Background(), run, bin, dlv(), i386, Result{Unavailable: true})
	if r.Err != nil || r.ELF != "EM_386 ELFCLASS32 ELFDATA2LSB" {
		t.Fatalf("got %+v", r)
	}
	// Either this kernel runs 386 binaries and the message was checked, or
	// it cannot and the result says so.
	if !r.Ran && !strings.Contains(r.Note, "cannot execute linux/386") {
		t.Fatalf("not run, and no note saying why: %+v", r)
	}
}

func TestExpect(t *testing.T) {
	run := sandboxed(t)
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	prog := dlv()
	prog.Unavailable = nil
	prog.Smoke = nil
	// The unavailable binary exits 1, so as a "real" program it fails even
	// when its output has what is expected.
	prog.Expect = "is unavailable on"
	if r := Binary(context.Background(), run, bin, prog, amd64, Result{}); r.Err == nil || !strings.Contains(r.Err.Error(), "exited 1") {
		t.Fatalf("got %+v", r)
	}
}

// TestSandboxedFixture judges a binary run in the sandbox, natively and
// under QEMU: its ELF header, its printed version, and a version it does
// not print.
func TestSandboxedFixture(t *testing.T) {
	run := sandboxed(t)
	for _, pl := range []platform.Platform{amd64, arm64} {
		prog := catalog.Program{Name: "fixture", Version: "v1.2.3", Smoke: []string{"version"}, Platforms: []platform.Platform{pl}}
		bin := buildFixture(t, pl)
		r := Binary(context.Background(), run, bin, prog, pl, Result{Platform: pl})
		if r.Err != nil || !r.Ran || r.Output != "fixture v1.2.3" || r.ELF == "" {
			t.Fatalf("%s: got %+v", pl, r)
		}
		prog.Version = "v1.2.4"
		if r := Binary(context.Background(), run, bin, prog, pl, Result{Platform: pl}); r.Err == nil || !strings.Contains(r.Err.Error(), "does not name version v1.2.4") {
			t.Fatalf("%s: a wrong version passed: %+v", pl, r)
		}
	}
}

// fakeRunner answers every run the same way and records the arguments.
type fakeRunner struct {
	out  string
	exit int
	err  error
	args [][]string
}

func (f *fakeRunner) Run(ctx context.Context, _ string, args ...string) (string, int, error) {
	f.args = append(f.args, args)
	if errors.Is(f.err, context.DeadlineExceeded) {
		<-ctx.Done()
		return f.out, -1, ctx.Err()
	}
	return f.out, f.exit, f.err
}

// TestRunnerAnswers checks how Binary reads what its runner answers.
func TestRunnerAnswers(t *testing.T) {
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	prog := dlv()
	prog.Unavailable = nil
	for _, tc := range []struct {
		name   string
		runner Runner
		output string // when it ran
		note   string // when it did not, and that is fine
		err    string // when it failed
	}{
		{"version printed", &fakeRunner{out: "Delve Debugger\nVersion: 1.6.1\n"}, "Version: 1.6.1", "", ""},
		{"format unknown", &fakeRunner{err: fmt.Errorf("run dlv: %w", syscall.ENOEXEC)},
			"", "ELF checked only: this machine cannot execute linux/amd64 binaries (is qemu-x86_64 enabled in binfmt_misc?)", ""},
		{"timed out", &fakeRunner{out: "partial", err: context.DeadlineExceeded}, "", "", "timed out after " + RunTimeout.String()},
		{"sandbox refused", &fakeRunner{err: errors.New("cannot create the sandbox's namespaces")}, "", "", "sandbox's namespaces"},
		{"no runner", nil, "", "", "no sandbox to run it in"},
	} {
		// The deadline has passed: a run that waits for it ends at once,
		// and only a run that it stopped timed out.
		ctx, cancel := context.WithDeadline(context.Background(), time.Now())
		r := Binary(ctx, tc.runner, bin, prog, amd64, Result{})
		cancel()
		failed := r.Err != nil && tc.err != "" && strings.Contains(r.Err.Error(), tc.err)
		if r.Output != tc.output || r.Ran != (tc.output != "") || r.Note != tc.note || (r.Err != nil || tc.err != "") && !failed {
			t.Errorf("%s: got %+v", tc.name, r)
		}
	}
	// The smoke command for a real build, none for an unavailable one.
	f := &fakeRunner{out: "dlv v1.6.1 is unavailable on linux/amd64", exit: 1}
	Binary(context.Background(), f, bin, prog, amd64, Result{})
	Binary(context.Background(), f, bin, prog, amd64, Result{Unavailable: true})
	if len(f.args) != 2 || !slices.Equal(f.args[0], []string{"version"}) || len(f.args[1]) != 0 {
		t.Fatalf("ran with %q; want [version] then nothing", f.args)
	}
}

func TestMentionsVersion(t *testing.T) {
	for _, tc := range []struct {
		out, version string
		want         bool
	}{
		{"v3.14.1\n", "v3.14.1", true},
		{"Delve Debugger\nVersion: 1.6.1\n", "v1.6.1", true},
		{"(devel)\n", "v3.14.1", false},
		{"v3.6\n", "v3.6.2", false},
		{"Docker version 29.9.1, build unknown-commit", "v29.9.1+incompatible", true},
		{"Docker version 29.9.2", "v29.9.1+incompatible", false},
		{"tmux 3.5a\n", "3.5a", true},
		{"jq-1.7.1\n", "jq-1.7.1", true},
		{"curl 8.10.1 (x86_64-pc-linux-gnu)\n", "curl-8.10.1", true},
		{"curl 8.10.0\n", "curl-8.10.1", false},
		{"release 7\n", "release-7", false},
	} {
		if got := MentionsVersion(tc.out, tc.version); got != tc.want {
			t.Errorf("mentionsVersion(%q, %s) = %v", tc.out, tc.version, got)
		}
	}
}

func TestVersionLine(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"usage\nshfmt v3.14.1\n", "shfmt v3.14.1"},
		{" ____  __.________\n\x1b[36mVersion:\x1b[0m    v0.50.16\n\x1b[36mCommit:\x1b[0m     n/a\n", "Version:    v0.50.16"},
		{"no version here\n", "no version here"},
	} {
		if got := VersionLine(tc.out, "v3.14.1"); tc.want == "shfmt v3.14.1" && got != tc.want {
			t.Errorf("VersionLine(%q) = %q; want %q", tc.out, got, tc.want)
		}
		if got := VersionLine(tc.out, "v0.50.16"); tc.want == "Version:    v0.50.16" && got != tc.want {
			t.Errorf("VersionLine(%q) = %q; want %q", tc.out, got, tc.want)
		}
		if got := VersionLine(tc.out, "v9.9.9"); tc.want == "no version here" && got != tc.want {
			t.Errorf("VersionLine(%q) = %q; want %q", tc.out, got, tc.want)
		}
	}
}
