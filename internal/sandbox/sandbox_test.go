package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/sandbox"
	"github.com/crossbin/crossbin/internal/verify"
)

var _ verify.Runner = sandbox.Sandbox{}

// helperDir keeps the sandbox's helper for every test of the package (it is
// built once, on first use).
var helperDir string

// TestUnprivilegedCaller runs this binary again as an unprivileged user,
// with these set to where the root run keeps the helper and the fixtures.
const (
	envHelperDir = "CROSSBIN_SANDBOX_TEST_HELPER_DIR"
	envFixtures  = "CROSSBIN_SANDBOX_TEST_FIXTURES"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envHelperDir); dir != "" {
		helperDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "crossbin-sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helperDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sb is the sandbox under test.
func sb() sandbox.Sandbox { return sandbox.Sandbox{Dir: helperDir} }

// needSandbox skips under -short (the sandbox creates namespaces: root, or
// a user allowed to create user namespaces) and gives the sandbox a
// directory of its own to make its roots in, checked empty at the end.
func needSandbox(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs binaries in new namespaces (skipped with -short)")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("the sandbox left %s behind in %s", left[0].Name(), tmp)
		}
	})
}

// fixture builds testdata/fixture for goarch with the host's go tool
// (it has no dependencies: no network).
func fixture(t *testing.T, goarch string) string {
	t.Helper()
	if dir := os.Getenv(envFixtures); dir != "" {
		return filepath.Join(dir, goarch, "fixture")
	}
	out := filepath.Join(t.TempDir(), "fixture")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "-ldflags", "-X main.version=v1.2.3", "./testdata/fixture")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOPROXY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the fixture for %s: %v\n%s", goarch, err, b)
	}
	return out
}

// run runs bin in the sandbox, skipping the test when this machine cannot
// sandbox at all (and saying why).
func run(t *testing.T, bin string, args ...string) (string, int, error) {
	t.Helper()
	out, code, err := sb().Run(context.Background(), bin, args...)
	if errors.Is(err, sandbox.ErrUnsupported) {
		t.Skip(err)
	}
	return out, code, err
}

// probed is what the fixture's probe printed, by key.
func probed(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if ok {
			m[k] = v
		}
	}
	for _, k := range []string{"uid", "gid", "env", "wd", "read", "dial", "chroot", "proc", "exe", "caps", "pids", "pgrp", "inherited", "home"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("the probe printed no %q line:\n%s", k, out)
		}
	}
	return m
}

// listen starts a TCP listener on 127.0.0.1 that counts the connections
// it accepts.
func listen(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), &accepted
}

// TestProbe runs the fixture, natively and under QEMU, where an untrusted
// binary would look for secrets and a way out.
func TestProbe(t *testing.T) {
	needSandbox(t)
	t.Setenv("CROSSBIN_SECRET", "canary-4d1f")
	// A file only its owner (root, or the user running the test) may read,
	// in directories everyone may traverse.
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(base, "token")
	if err := os.WriteFile(secret, []byte("token-of-the-caller\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	// A descriptor without close-on-exec, as a CI runner or a shell may
	// leave one to crossbin.
	leaked, err := syscall.Open(base, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(leaked) })
	fd := strconv.Itoa(leaked)

	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			if arch != "amd64" {
				needBinfmt(t, "aarch64")
			}
			bin := fixture(t, arch)
			// Unsandboxed, the same probe reaches the file, the listener,
			// the environment and /proc: the checks below tell a host run.
			if arch == "amd64" {
				addr, accepted := listen(t)
				host := exec.Command(bin, "probe", secret, addr, pid, fd)
				host.Env = append(os.Environ(), "HOME="+t.TempDir())
				b, err := host.Output()
				if err != nil {
					t.Fatal(err)
				}
				p := probed(t, string(b))
				if p["read"] != "ok token-of-the-caller" || p["dial"] != "ok" || !strings.Contains(p["env"], "canary-4d1f") || p["proc"] != "ok" ||
					p["exe"] != bin+" ok" || p["pids"] == "1 ok" || p["inherited"] != "ok" {
					t.Fatalf("the probe cannot tell a host run:\n%s", b)
				}
				for start := time.Now(); accepted.Load() == 0; time.Sleep(10 * time.Millisecond) {
					if time.Since(start) > 5*time.Second {
						t.Fatal("the listener did not count the host run's connection")
					}
				}
			}

			addr, accepted := listen(t)
			out, code, err := run(t, bin, "probe", secret, addr, pid, fd)
			if err != nil || code != 0 {
				t.Fatalf("probe: exit %d, %v\n%s", code, err, out)
			}
			t.Logf("the probe printed:\n%s", out)
			p := probed(t, out)
			if p["uid"] == "0" || p["gid"] == "0" {
				t.Errorf("ran as uid %s gid %s", p["uid"], p["gid"])
			}
			if p["uid"] != strconv.Itoa(sandbox.Nobody) {
				t.Errorf("ran as uid %s; want %d", p["uid"], sandbox.Nobody)
			}
			if !strings.HasPrefix(p["read"], "error ") || strings.Contains(out, "token-of-the-caller") {
				t.Errorf("read the caller's file: %s", p["read"])
			}
			if !strings.HasPrefix(p["dial"], "error ") {
				t.Errorf("connected to the test's listener: %s", p["dial"])
			}
			if n := accepted.Load(); n != 0 {
				t.Errorf("the test's listener accepted %d connections", n)
			}
			env := strings.Fields(p["env"])
			slices.Sort(env) // QEMU reverses it
			if !slices.Equal(env, []string{"HOME=/", "PATH=/nonexistent"}) || strings.Contains(out, "canary-4d1f") {
				t.Errorf("environment %q; want HOME=/ PATH=/nonexistent only", p["env"])
			}
			if !strings.HasPrefix(p["chroot"], "error ") || !strings.Contains(p["chroot"], "operation not permitted") {
				t.Errorf("could chroot (and so leave its root): %s", p["chroot"])
			}
			if !strings.HasPrefix(p["proc"], "error ") {
				t.Errorf("read the test process's command line: %s", p["proc"])
			}
			// Its own /proc: Go finds its executable; no other process.
			if p["exe"] != "/bin/fixture ok" {
				t.Errorf("os.Executable: %s; want /bin/fixture", p["exe"])
			}
			if want := "CapInh=0000000000000000,CapPrm=0000000000000000,CapEff=0000000000000000,CapAmb=0000000000000000 ok"; p["caps"] != want {
				t.Errorf("capabilities %s; want none in any set", p["caps"])
			}
			if p["pgrp"] != "1" {
				t.Errorf("process group %s; want its own (1): kill(0, …) would reach the caller's", p["pgrp"])
			}
			if p["inherited"] == "ok" {
				t.Errorf("descriptor %s, open in the caller without close-on-exec, is open in the sandbox", fd)
			}
			if p["pids"] != "1 ok" {
				t.Errorf("sees processes %s; want only itself, PID 1", p["pids"])
			}
			if p["wd"] != "/ ok" || p["home"] != "/ ok" {
				t.Errorf("working directory %q, home %q; want / in its own root, writable", p["wd"], p["home"])
			}
		})
	}
}

// needBinfmt skips unless binfmt_misc runs arch's binaries, enabling
// Debian's entries first if they are registered but off.
func needBinfmt(t *testing.T, arch string) {
	t.Helper()
	entry := "/proc/sys/fs/binfmt_misc/qemu-" + arch
	if b, err := os.ReadFile(entry); err == nil && strings.HasPrefix(string(b), "enabled") {
		return
	}
	if ub, err := exec.LookPath("update-binfmts"); err == nil && os.Geteuid() == 0 {
		if b, err := exec.Command(ub, "--enable", "qemu-"+arch).CombinedOutput(); err != nil {
			t.Logf("update-binfmts --enable qemu-%s: %v\n%s", arch, err, b)
		}
	}
	if b, err := os.ReadFile(entry); err != nil || !strings.HasPrefix(string(b), "enabled") {
		t.Skipf("binfmt_misc does not run %s binaries here (%s: %v): install qemu-user-static and run `update-binfmts --enable`", arch, entry, err)
	}
}

// TestExit checks the exit code and output come back as they were.
func TestExit(t *testing.T) {
	needSandbox(t)
	bin := fixture(t, "amd64")
	if out, code, err := run(t, bin, "exit", "3"); err != nil || code != 3 || out != "exiting 3\n" {
		t.Fatalf("got %q, exit %d, %v; want exiting 3, exit 3", out, code, err)
	}
	if out, code, err := run(t, bin, "version"); err != nil || code != 0 || out != "fixture v1.2.3\n" {
		t.Fatalf("got %q, exit %d, %v", out, code, err)
	}
}

// TestFlood checks a binary that prints without end costs crossbin no more
// than the first MiB.
func TestFlood(t *testing.T) {
	needSandbox(t)
	bin := fixture(t, "amd64")
	out, code, err := run(t, bin, "flood")
	if err != nil || code != 0 || len(out) != 1<<20 || !strings.HasPrefix(out, "xxx") {
		t.Fatalf("kept %d bytes, exit %d, %v; want the first MiB, exit 0", len(out), code, err)
	}
}

// TestStop checks that stopping the context kills the binary and what it
// started (its PID namespace goes with it) without waiting for them.
func TestStop(t *testing.T) {
	needSandbox(t)
	bin := fixture(t, "amd64")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	var out string
	go func() {
		var err error
		out, _, err = sb().Run(ctx, bin, "sleep")
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 9 s after its deadline")
	}
	if errors.Is(err, sandbox.ErrUnsupported) {
		t.Skip(err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || out != "child: ok\n" {
		t.Fatalf("printed %q, %v; want the child started, and the deadline", out, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("took %s: the sleeping child outlived its parent", d)
	}
}

// TestUnknownFormat checks a file the kernel cannot execute is reported as
// such (verify turns it into an ELF-only check).
func TestUnknownFormat(t *testing.T) {
	needSandbox(t)
	bin := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(bin, []byte("\x00\x01\x02 no format starts like this\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, bin); !errors.Is(err, syscall.ENOEXEC) {
		t.Fatalf("got %v; want ENOEXEC", err)
	}
}

// TestInterpreterWithoutFixBinary registers a binfmt_misc entry without the
// F flag: its interpreter is opened by path at exec time, inside the
// sandbox, where it does not exist; the error says so.
func TestInterpreterWithoutFixBinary(t *testing.T) {
	needSandbox(t)
	if os.Geteuid() != 0 {
		t.Skip("registering a binfmt_misc entry needs root")
	}
	const name = "crossbin-sandbox-test"
	entry := "/proc/sys/fs/binfmt_misc/" + name
	remove := func() { _ = os.WriteFile(entry, []byte("-1"), 0) }
	remove() // from an interrupted run
	if err := os.WriteFile("/proc/sys/fs/binfmt_misc/register", []byte(":"+name+":M::CROSSBINSBX::/bin/true:"), 0); err != nil {
		t.Skipf("cannot register a binfmt_misc entry: %v", err)
	}
	t.Cleanup(remove)
	bin := filepath.Join(t.TempDir(), "foreign")
	if err := os.WriteFile(bin, []byte("CROSSBINSBX\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(bin).Run(); err != nil {
		t.Fatalf("the entry does not work on the host: %v", err)
	}
	if _, _, err := run(t, bin); err == nil || !strings.Contains(err.Error(), "F (fix-binary) flag") {
		t.Fatalf("got %v; want an error naming the F flag", err)
	}
}

// TestUnprivilegedCaller runs TestProbe, TestExit and TestStop again as a
// user who is not root: the sandbox then takes its other path, a user
// namespace in which that user is Nobody and pid1 holds its capabilities
// as ambient ones until it clears them.
func TestUnprivilegedCaller(t *testing.T) {
	needSandbox(t)
	if os.Geteuid() != 0 {
		t.Skip("not root: the other tests already run the sandbox as an unprivileged user")
	}
	const uid = 40000 // no user of this machine: nothing of it to read
	// Everything the other user needs, readable by it: this test binary,
	// the helper (built here, as root) and the fixtures; TMPDIR its own.
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, uid, uid); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if err := os.MkdirAll(filepath.Join(dir, arch), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(fixture(t, arch), filepath.Join(dir, arch, "fixture")); err != nil {
			t.Fatal(err)
		}
	}
	self := filepath.Join(dir, "sandbox.test")
	b, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(self, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, filepath.Join(dir, "amd64", "fixture"), "version"); err != nil {
		t.Fatal(err) // builds the helper
	}
	for _, d := range []string{filepath.Dir(dir), dir, helperDir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(self, "-test.v", "-test.count=1", "-test.run=^(TestProbe|TestExit|TestStop)$")
	cmd.Dir = tmp
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + tmp, envHelperDir + "=" + helperDir, envFixtures + "=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	t.Logf("as uid %d:\n%s", uid, out)
	if err != nil {
		t.Fatalf("as uid %d: %v", uid, err)
	}
	if strings.Contains(string(out), sandbox.ErrUnsupported.Error()) {
		t.Skipf("uid %d cannot create the sandbox here (see the log)", uid)
	}
	for _, name := range []string{"TestProbe", "TestExit", "TestStop"} {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("as uid %d, %s did not pass", uid, name)
		}
	}
}
