package install_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/install"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// publishShfmt builds shfmt into a test repository and returns its tag.
func publishShfmt(t *testing.T) (string, catalog.Program) {
	t.Helper()
	cfg, ep := stacktest.Up(t)
	prog, err := catalog.LoadProgram(filepath.Join("..", "..", "dockerfiles", "shfmt"))
	if err != nil {
		t.Fatal(err)
	}
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-install-test", cfg.CacheDir, nil)
	if _, err := pipeline.Build(context.Background(), opt, prog, nil); err != nil {
		t.Fatal(err)
	}
	return registry.TagsOf(opt.Repository, prog).Version, prog
}

// startDockerd installs Debian's docker.io when dockerd is missing and
// starts a private Engine; it is stopped when the test ends.
func startDockerd(t *testing.T) (host string, stop func()) {
	t.Helper()
	if _, err := exec.LookPath("dockerd"); err != nil {
		out, err := exec.Command("apt-get", "install", "-y", "-q", "--no-install-recommends", "docker.io").CombinedOutput()
		if err != nil {
			t.Fatalf("install docker.io: %v\n%s", err, out)
		}
	}
	dir, err := os.MkdirTemp("", "dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	host = "unix://" + filepath.Join(dir, "docker.sock")
	cmd := exec.Command("dockerd", "--host", host, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--iptables=false", "--bridge=none")
	logf, _ := os.Create(filepath.Join(dir, "dockerd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		e, err := install.NewEngine(context.Background(), host)
		if err == nil {
			e.Client.Close()
			return host, stop
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd did not come up: %v\n%s", err, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func checkBinary(t *testing.T, path, version string) {
	t.Helper()
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != version {
		t.Fatalf("%s --version: %q, %v", path, out, err)
	}
}

func TestInstall(t *testing.T) {
	ref, prog := publishShfmt(t)
	ctx := context.Background()
	pl, err := install.Host()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("registry", func(t *testing.T) {
		path, used, err := install.Binary(ctx, []install.Fetcher{install.Registry{Client: registry.Client{}}}, ref, prog.Name, pl, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if used.String() != "registry" {
			t.Errorf("used %s", used)
		}
		checkBinary(t, path, prog.Version)
	})

	host, stop := startDockerd(t)
	t.Run("docker engine", func(t *testing.T) {
		engine, err := install.NewEngine(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		defer engine.Client.Close()
		// The engine alone: a fallback to the registry must not hide it.
		path, used, err := install.Binary(ctx, []install.Fetcher{engine}, ref, prog.Name, pl, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(used.String(), "docker engine") {
			t.Errorf("used %s", used)
		}
		checkBinary(t, path, prog.Version)
	})

	t.Run("neither", func(t *testing.T) {
		engine, err := install.NewEngine(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		defer engine.Client.Close()
		stop()
		bad := strings.Replace(ref, "127.0.0.1:", "127.0.0.1:1", 1) // a port nothing listens on
		_, _, err = install.Binary(ctx, []install.Fetcher{engine, install.Registry{Client: registry.Client{}}}, bad, prog.Name, pl, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "docker engine at") || !strings.Contains(err.Error(), "registry: pull") {
			t.Fatalf("err = %v; want both ways named", err)
		}
		if _, err := install.NewEngine(ctx, host); err == nil || !strings.Contains(err.Error(), "no Docker Engine at") {
			t.Fatalf("stopped engine: %v", err)
		}
	})
}
