package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/golden"
)

func TestBuildkitdConfig(t *testing.T) {
	golden.Check(t, "buildkitd.toml", []byte(BuildkitdConfig("/cache/buildkit", "/cache/run/buildkitd.sock", 5000, 2, GCFor(92<<30, 0))))
	if unbounded := BuildkitdConfig("/cache/buildkit", "/cache/run/buildkitd.sock", 5000, 0, GCFor(92<<30, 0)); strings.Contains(unbounded, "max-parallelism") {
		t.Errorf("no bound asked for, but:\n%s", unbounded)
	}
}

func TestRegistryConfig(t *testing.T) {
	golden.Check(t, "registry.yml", []byte(RegistryConfig("/cache/registry", 5123)))
}

func TestArgv(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"buildkitd", BuildkitdArgs("/c/run/buildkitd.toml"), "--config /c/run/buildkitd.toml"},
		{"registry", RegistryArgs("/c/run/registry.yml"), "serve /c/run/registry.yml"},
		{"create", CreateBuilderArgs("/c/run/buildkitd.sock"), "create --name crossbin --driver remote unix:///c/run/buildkitd.sock"},
		{"apt", AptInstallArgs([]string{"runc", "qemu-user-static"}), "install -y -q --no-install-recommends runc qemu-user-static"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("%s: %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestPins(t *testing.T) {
	seen := map[string]bool{}
	for _, tool := range Tools() {
		if tool.Name == "" || tool.Module == "" || !strings.HasPrefix(tool.Version, "v") || len(tool.Packages) == 0 || tool.VersionVar == "" {
			t.Errorf("incomplete pin: %+v", tool)
		}
		if seen[tool.Name] {
			t.Errorf("tool %s pinned twice", tool.Name)
		}
		seen[tool.Name] = true
	}
	// The versions known to build from the proxy here (shared/STACK.md).
	for _, tc := range []struct {
		tool Tool
		want string
	}{{BuildKit, "v0.33.1"}, {Buildx, "v0.37.2"}, {Registry, "v3.1.2"}} {
		if tool, want := tc.tool, tc.want; tool.Version != want {
			t.Errorf("%s pinned at %s; the stack is known to build at %s", tool.Name, tool.Version, want)
		}
	}
}

func TestCheckRegistry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string // "" for healthy
	}{
		{"registry", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			fmt.Fprint(w, "{}")
		}, ""},
		{"other server", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") }, "not a registry"},
		{"auth required", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			w.WriteHeader(http.StatusUnauthorized)
		}, "401"},
		{"failing", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, "503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			err := checkRegistry(context.Background(), srv.Client(), srv.URL)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		if err := checkRegistry(context.Background(), http.DefaultClient, url); err == nil {
			t.Fatal("a closed port reported healthy")
		}
	})
}

func TestCheckPortFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	err = checkPortFree(port)
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "CROSSBIN_REGISTRY_PORT") {
		t.Fatalf("err = %v; want ErrPortInUse naming the setting", err)
	}
	l.Close()
	if err := checkPortFree(port); err != nil {
		t.Fatalf("free port: %v", err)
	}
}

func TestWaitPortFree(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := waitPortFree(ctx, port, 300*time.Millisecond); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("held port: %v", err)
	}
	time.AfterFunc(200*time.Millisecond, func() { l.Close() })
	if err := waitPortFree(ctx, port, 5*time.Second); err != nil {
		t.Fatalf("a port released while waiting: %v", err)
	}
}

func TestWaitReady(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := waitReady(ctx, 5*time.Second, func() bool { return true }, func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls; want success on the third", err, calls)
	}
	err = waitReady(ctx, 5*time.Second, func() bool { return false }, func(context.Context) error { return errors.New("refused") })
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("dead process: err = %v", err)
	}
	err = waitReady(ctx, 300*time.Millisecond, func() bool { return true }, func(context.Context) error { return errors.New("refused") })
	if err == nil || !strings.Contains(err.Error(), "not ready after 300ms") {
		t.Fatalf("timeout: err = %v", err)
	}
}

// fakeHost is a machine where only the listed commands exist.
func fakeHost(root bool, commands ...string) (Host, *[]string) {
	var ran []string
	have := map[string]string{}
	for _, c := range commands {
		have[c] = "/nonexistent/bin/" + c
	}
	return Host{
		Root: root,
		LookPath: func(name string) (string, error) {
			if p, ok := have[name]; ok {
				return p, nil
			}
			return "", fmt.Errorf("%s: not found", name)
		},
		Run: func(_ context.Context, _ []string, name string, args ...string) ([]byte, error) {
			ran = append(ran, name+" "+strings.Join(args, " "))
			return nil, errors.New("apt is not reachable in this test")
		},
	}, &ran
}

func TestMissingPackages(t *testing.T) {
	// busybox in the fake host is no ELF file, so it is
	// not a static busybox.
	h, _ := fakeHost(true, "runc", "update-binfmts", "busybox")
	got := strings.Join(h.missingPackages(AptPackages), ",")
	if got != "qemu-user-static,busybox-static" {
		t.Fatalf("missing = %s", got)
	}
}

func TestEnsurePackages(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("not root", func(t *testing.T) {
		h, ran := fakeHost(false, "qemu-aarch64-static", "update-binfmts", "apt-get")
		err := h.ensurePackages(context.Background(), log, AptPackages)
		if err == nil || !strings.Contains(err.Error(), "runc") || !strings.Contains(err.Error(), "sudo apt-get install") || !strings.Contains(err.Error(), "CROSSBIN_BUILDER") {
			t.Fatalf("err = %v", err)
		}
		if len(*ran) != 0 {
			t.Fatalf("ran %v as non-root", *ran)
		}
	})
	t.Run("no apt", func(t *testing.T) {
		h, _ := fakeHost(true)
		if err := h.ensurePackages(context.Background(), log, AptPackages); err == nil || !strings.Contains(err.Error(), "no apt-get") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("apt fails", func(t *testing.T) {
		h, ran := fakeHost(true, "apt-get")
		err := h.ensurePackages(context.Background(), log, AptPackages)
		if err == nil || !strings.Contains(err.Error(), "apt-get update") {
			t.Fatalf("err = %v", err)
		}
		if len(*ran) != 1 {
			t.Fatalf("ran %v", *ran)
		}
	})
}

func TestUpRefusesNonRoot(t *testing.T) {
	h, _ := fakeHost(false)
	s := New(Options{CacheDir: t.TempDir(), Host: h, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	_, err := s.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "root") || !strings.Contains(err.Error(), "CROSSBIN_BUILDER") {
		t.Fatalf("err = %v", err)
	}
}

func TestUpRefusesLongSocketPath(t *testing.T) {
	h, _ := fakeHost(true)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	s := New(Options{CacheDir: dir, Host: h, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	_, err := s.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "CROSSBIN_CACHE_DIR") {
		t.Fatalf("err = %v", err)
	}
}

func TestDaemonLifecycle(t *testing.T) {
	sleep, err := filepath.EvalSymlinks("/bin/sleep")
	if err != nil {
		t.Skip("no /bin/sleep")
	}
	dir := t.TempDir()
	d := daemon{name: "sleeper", bin: sleep, args: []string{"300"}, pidFile: filepath.Join(dir, "s.pid"), logFile: filepath.Join(dir, "s.log")}
	if _, alive := d.pid(); alive {
		t.Fatal("alive before start")
	}
	pid, err := d.start()
	if err != nil {
		t.Fatal(err)
	}
	if got, alive := d.pid(); !alive || got != pid {
		t.Fatalf("pid() = %d, %v; want %d alive", got, alive, pid)
	}
	if err := d.stop(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, alive := d.pid(); alive {
		t.Fatal("alive after stop")
	}
	// A stale PID file naming a live process that is not ours (this test
	// binary) must not count as the daemon, and stop must not kill it.
	if err := os.WriteFile(d.pidFile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, alive := d.pid(); alive {
		t.Fatal("a recycled PID counted as the daemon")
	}
	if err := d.stop(context.Background(), time.Second); err != nil {
		t.Fatalf("stop with stale PID file: %v", err)
	}
}

func TestToolBuildFailures(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tool := Tool{Name: "ghost", Module: "example.com/crossbin/ghost", Version: "v1.0.0", Packages: []string{"./cmd/ghost"}, VersionVar: "main.version"}
	for _, tc := range []struct {
		name, proxy, want string
	}{
		{"proxy off", "off", "GOPROXY"},
		{"proxy unreachable", "http://127.0.0.1:1", "module proxy is reachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append(os.Environ(), "GOPROXY="+tc.proxy, "GONOSUMDB=example.com", "GOMODCACHE="+t.TempDir())
			dir := t.TempDir()
			err := ensureTools(context.Background(), log, dir, env, []Tool{tool})
			if err == nil || !strings.Contains(err.Error(), "build ghost v1.0.0 (example.com/crossbin/ghost)") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to name the tool and %q", err, tc.want)
			}
			if tool.installed(dir) {
				t.Fatal("a failed build left the tool installed")
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "tools"))
			if len(entries) != 0 {
				t.Fatalf("a failed build left %v behind", entries)
			}
		})
	}
}

// TestRegistryAddr: the embedded registry is addressed as 127.0.0.1, never
// localhost, which may resolve to ::1 where another program may listen.
func TestRegistryAddr(t *testing.T) {
	s := New(Options{CacheDir: t.TempDir(), RegistryPort: 5123, Log: slog.New(slog.DiscardHandler)})
	if got := s.RegistryAddr(); got != "127.0.0.1:5123" {
		t.Errorf("RegistryAddr = %q", got)
	}
	if got := s.registryURL(); got != "http://127.0.0.1:5123" {
		t.Errorf("registryURL = %q", got)
	}
}

// TestBuildAllShowsProgress: while tools build, a line names the ones still
// building and the time so far, at every interval.
func TestBuildAllShowsProgress(t *testing.T) {
	var out strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) }), nil))
	tools := []Tool{{Name: "buildkit"}, {Name: "registry"}}
	err := buildAll(context.Background(), log, tools, 20*time.Millisecond, func(ctx context.Context, tl Tool) error {
		if tl.Name == "registry" {
			time.Sleep(120 * time.Millisecond)
			return nil
		}
		time.Sleep(400 * time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	text := out.String()
	mu.Unlock()
	if strings.Count(text, "still building tools") < 3 || !strings.Contains(text, "tools=buildkit,registry") || !strings.Contains(text, "tools=buildkit elapsed=") {
		t.Errorf("progress lines:\n%s", text)
	}
	if err := buildAll(context.Background(), log, tools, time.Hour, func(context.Context, Tool) error { return errors.New("boom") }); err == nil {
		t.Error("a failed build was not reported")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestCheckSpace(t *testing.T) {
	if err := checkSpace("/cache", 20<<30, DefaultMinFree); err != nil {
		t.Errorf("20 GiB free: %v", err)
	}
	err := checkSpace("/cache", 109<<20, DefaultMinFree)
	want := "only 109MiB free on the filesystem holding /cache (BuildKit's state, the registry's storage); builds want at least 10GiB: " +
		"free space, or drop BuildKit's build cache with `go tool mage stack:prune` (CROSSBIN_MIN_FREE sets the floor)"
	if err == nil || err.Error() != want {
		t.Errorf("109 MiB free: %v\nwant %s", err, want)
	}
	if avail, err := available(t.TempDir()); err != nil || avail == 0 {
		t.Errorf("available(a temporary directory) = %d, %v", avail, err)
	}
}

func TestGCFor(t *testing.T) {
	for _, tc := range []struct {
		usable, minFree uint64
		want            GC
	}{
		{92 << 30, 0, GC{Reserved: 5 << 30, MaxUsed: 46 << 30, MinFree: 20 << 30}},
		{30 << 30, 2 << 30, GC{Reserved: 5 << 30, MaxUsed: 20 << 30, MinFree: 4 << 30}},
		{1 << 40, 10 << 30, GC{Reserved: 5 << 30, MaxUsed: 512 << 30, MinFree: 20 << 30}},
	} {
		if got := GCFor(tc.usable, tc.minFree); got != tc.want {
			t.Errorf("GCFor(%d, %d) = %+v; want %+v", tc.usable, tc.minFree, got, tc.want)
		}
	}
	if n, err := usable(t.TempDir()); err != nil || n == 0 {
		t.Errorf("usable(a temporary directory) = %d, %v", n, err)
	}
}

func TestParallelChanged(t *testing.T) {
	for _, tc := range []struct {
		started string
		want    int
		restart bool
		why     string
	}{
		{"2", 2, false, ""},
		{"0", 0, false, ""},
		{"4", 2, true, "from 4 to 2 (CROSSBIN_JOBS)"},
		{"", 2, true, "without a recorded bound"},
	} {
		restart, why := parallelChanged(tc.started, tc.want)
		if restart != tc.restart || !strings.Contains(why, tc.why) {
			t.Errorf("parallelChanged(%q, %d) = %v, %q", tc.started, tc.want, restart, why)
		}
	}
}

// TestDebianImageInstallsMmdebstrapOnlyToAssemble: the Debian builder image
// is not made by Up; asked for with Docker Hub unreachable, it needs
// mmdebstrap, which only then is installed (here: refused, not root), and
// the error says what to install.
func TestDebianImageInstallsMmdebstrapOnlyToAssemble(t *testing.T) {
	h, ran := fakeHost(false, "apt-get")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(Options{
		CacheDir: t.TempDir(), Host: h, CABundle: ca, Log: slog.New(slog.DiscardHandler),
		DockerHubReachable: func(context.Context) bool { return false },
	})
	_, err := s.DebianImage(context.Background())
	if err == nil || !strings.Contains(err.Error(), "assemble the Debian builder image: the embedded stack needs mmdebstrap") || !strings.Contains(err.Error(), "sudo apt-get install -y -q --no-install-recommends mmdebstrap") {
		t.Fatalf("err = %v", err)
	}
	if len(*ran) != 0 {
		t.Fatalf("ran %v as non-root", *ran)
	}
	// With the image configured nothing is assembled or installed.
	s = New(Options{CacheDir: t.TempDir(), Host: h, DebianImage: "mirror.example/debian:trixie", Log: slog.New(slog.DiscardHandler)})
	if ref, err := s.DebianImage(context.Background()); err != nil || ref != "mirror.example/debian:trixie" {
		t.Fatalf("configured: %q, %v", ref, err)
	}
}
