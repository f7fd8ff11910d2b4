// Package proc starts the child processes crossbin waits on (buildx, the go
// tool, git) so that cancelling the context stops all of each one's work:
// every child leads a process group of its own, cancellation sends SIGTERM
// to that whole group (a build's compilers and a clone's helpers too), and
// whatever still runs WaitDelay later is killed.
//
// A signal to crossbin (Ctrl-C, a CI runner's SIGTERM) cancels the run's
// context (see internal/app); this package turns that into stopped
// children within seconds, so no build keeps running behind a run that
// has ended.
package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// WaitDelay is how long a cancelled child's group has to exit after
// SIGTERM before the group is killed; inside the 5 seconds mage gives a
// cancelled target to return.
const WaitDelay = 3 * time.Second

// Command is exec.CommandContext whose cancellation stops the child's
// whole process group.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGTERM)
		go func() {
			time.Sleep(WaitDelay)
			_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH once the group is gone
		}()
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = WaitDelay + time.Second
	return cmd
}
