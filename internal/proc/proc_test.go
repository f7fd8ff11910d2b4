package proc

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid still runs (a zombie counts as gone).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}

// TestCancelStopsTheGroup: cancelling stops the child and the process it
// started itself, within seconds; a child that ignores SIGTERM is killed.
func TestCancelStopsTheGroup(t *testing.T) {
	for name, script := range map[string]string{
		"polite":   `sleep 60 & echo $!; wait`,
		"stubborn": `trap "" TERM; sh -c 'trap "" TERM; sleep 60' & echo $!; wait`,
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cmd := Command(ctx, "sh", "-c", script)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			grandchild, _ := strconv.Atoi(strings.TrimSpace(line))
			if !alive(grandchild) {
				t.Fatalf("the grandchild %d is not running", grandchild)
			}
			start := time.Now()
			cancel()
			err = cmd.Wait()
			if err == nil {
				t.Error("a cancelled command reported success")
			}
			deadline := time.Now().Add(WaitDelay + 3*time.Second)
			for alive(grandchild) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if alive(grandchild) {
				t.Errorf("the grandchild %d still runs %s after the cancel", grandchild, time.Since(start))
			}
			if time.Since(start) > WaitDelay+3*time.Second {
				t.Errorf("stopping took %s", time.Since(start))
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) && !errors.Is(err, context.Canceled) {
				t.Logf("wait: %v", err)
			}
		})
	}
}
