package app

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// TestSignalsStopTheRun sends SIGINT (to the process group, as Ctrl-C
// does) and SIGTERM (to the process alone, as a CI runner does) to
// `mage build:program` while its build runs: the run ends within seconds
// with the shell's exit status for the signal, no process of the run is
// left, its temporary directories are gone, and no tag exists.
func TestSignalsStopTheRun(t *testing.T) {
	cfg, _ := stacktest.Up(t)
	bin := filepath.Join(t.TempDir(), "crossbin-mage")
	compile := exec.Command("go", "tool", "mage", "-compile", bin)
	compile.Dir = filepath.Join("..", "..")
	if out, err := compile.CombinedOutput(); err != nil {
		t.Fatalf("compile the mage targets: %v\n%s", err, out)
	}
	root := scratchRepo(t, "shfmt")
	os.WriteFile(filepath.Join(root, "dockerfiles", "shfmt", "program.yaml"), []byte("description: test\nplatforms: [linux/amd64, linux/arm64]\n"), 0o644)
	dockerfile := filepath.Join(root, "dockerfiles", "shfmt", "Dockerfile")
	data, _ := os.ReadFile(dockerfile)
	slow := strings.Replace(string(data), "ARG TARGETOS TARGETARCH TARGETVARIANT\n", "ARG TARGETOS TARGETARCH TARGETVARIANT\nRUN sleep 600\n", 1)
	os.WriteFile(dockerfile, []byte(slow), 0o644)

	for _, tc := range []struct {
		sig   syscall.Signal
		group bool
		name  string
	}{{syscall.SIGINT, true, "SIGINT"}, {syscall.SIGTERM, false, "SIGTERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			repo := freshRepo("crossbin-signal")
			image := "127.0.0.1:" + itoa(cfg.RegistryPort) + "/" + repo
			tmp := t.TempDir()
			cmd := exec.Command(bin, "build:program", "shfmt")
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(os.Environ(), "CROSSBIN_ROOT="+root, "CROSSBIN_IMAGE="+image, "TMPDIR="+tmp)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// A failed check must not leave the run (and its `sleep 600`
			// holding builder steps other tests wait for) behind.
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			started := make(chan struct{})
			var log strings.Builder
			go func() {
				sc := bufio.NewScanner(stderr)
				once := false
				for sc.Scan() {
					log.WriteString(sc.Text() + "\n")
					if !once && strings.Contains(sc.Text(), "platform started") {
						once = true
						close(started)
					}
				}
			}()
			select {
			case <-started:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("no build started:\n%s", log.String())
			}
			time.Sleep(3 * time.Second) // inside `RUN sleep 600`
			if !processesOf(tmp) {
				t.Fatal("no process of the run is building")
			}
			target := cmd.Process.Pid
			if tc.group {
				target = -target
			}
			sent := time.Now()
			syscall.Kill(target, tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("still running 20s after %s:\n%s", tc.name, log.String())
			}
			t.Logf("stopped %s after %s", tc.name, time.Since(sent).Round(time.Millisecond))
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(tc.sig) {
				t.Errorf("exit: %v; want status %d\n%s", err, 128+int(tc.sig), log.String())
			}
			if !strings.Contains(log.String(), "interrupted by "+tc.name) {
				t.Errorf("the error does not say it was interrupted:\n%s", log.String())
			}
			deadline := time.Now().Add(5 * time.Second)
			for processesOf(tmp) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if processesOf(tmp) {
				t.Errorf("processes of the run are left after %s", tc.name)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "crossbin-*")); len(left) > 0 {
				t.Errorf("temporary directories left: %v", left)
			}
			for _, tag := range []string{image + ":shfmt", image + ":shfmt-v3.14.1"} {
				if _, err := (registry.Client{}).Index(context.Background(), tag); !errors.Is(err, registry.ErrNotPublished) {
					t.Errorf("%s after %s: %v", tag, tc.name, err)
				}
			}
		})
	}
}

// processesOf reports whether a process whose command line names the
// run's temporary directory (every buildx of the run does: its bake file
// or metadata file is there) still runs.
func processesOf(tmp string) bool {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(data), tmp) {
			stat, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "stat"))
			if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
				continue
			}
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
