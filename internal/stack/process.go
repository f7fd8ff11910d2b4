package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crossbin/crossbin/internal/lines"
)

// daemon is a long-running process the stack starts and owns: it is known
// by the PID recorded in its PID file, and only a process whose executable
// is the daemon's binary counts as ours, so a recycled PID is never killed.
type daemon struct {
	name    string   // "buildkitd", "registry"
	bin     string   // absolute path of the executable
	args    []string // arguments after the executable
	pidFile string
	logFile string
	env     []string
}

// pid returns the recorded PID if that process is alive and runs d.bin.
func (d daemon) pid() (int, bool) {
	data, err := os.ReadFile(d.pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, runs(pid, d.bin)
}

// runs reports whether process pid is alive (not a zombie) and executes bin.
func runs(pid int, bin string) bool {
	reap(pid)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	want, err := filepath.EvalSymlinks(bin)
	if err != nil {
		want = bin
	}
	if exe != want && exe != bin {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// reap collects pid if it is an exited child of ours, so that a daemon this
// process started and stopped does not linger as a zombie.
func reap(pid int) {
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
}

// start launches the daemon in its own session, detached from this process,
// with output appended to its log file, and records its PID.
func (d daemon) start() (int, error) {
	if err := os.MkdirAll(filepath.Dir(d.logFile), 0o755); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(d.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open %s log: %w", d.name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n--- crossbin starts %s at %s: %s %s\n", d.name, time.Now().Format(time.RFC3339), d.bin, strings.Join(d.args, " "))
	cmd := exec.Command(d.bin, d.args...) //nolint:gosec,noctx // a daemon outlives the context that starts it
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = d.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", d.name, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if err := os.WriteFile(d.pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return 0, fmt.Errorf("record %s PID: %w", d.name, err)
	}
	return pid, nil
}

// stop terminates the daemon if it runs: SIGTERM, then SIGKILL after the
// grace period. It removes the PID file. Stopping a daemon that is not
// running is not an error.
func (d daemon) stop(ctx context.Context, grace time.Duration) error {
	pid, alive := d.pid()
	if alive {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop %s (pid %d): %w", d.name, pid, err)
		}
		if !waitGone(ctx, pid, d.bin, grace) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			if !waitGone(ctx, pid, d.bin, 5*time.Second) {
				return fmt.Errorf("stop %s (pid %d): still running after SIGKILL", d.name, pid)
			}
		}
	}
	if err := os.Remove(d.pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func waitGone(ctx context.Context, pid int, bin string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for runs(pid, bin) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// logTail returns the last lines of the daemon's log, for error messages.
func (d daemon) logTail(n int) string {
	data, err := os.ReadFile(d.logFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return lines.Last(string(data), n)
}
