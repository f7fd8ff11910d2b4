// Command pid1 is the first process of a sandbox (package sandbox builds
// it, keeps it in its directory and starts it in the sandbox's new
// namespaces as `pid1 ROOT BIN [ARG...]`). It does in the namespaces what
// only a process inside them can, then becomes the untrusted binary:
//
//  1. it makes every mount private, so nothing it mounts reaches the host;
//  2. it mounts a procfs of the sandbox's own PID namespace on ROOT/proc
//     (the binary sees itself and its children, /proc/self/exe resolves,
//     no process of the host is there);
//  3. it chroots into ROOT and changes to its /;
//  4. as root, it drops to uid and gid 65534 with no supplementary groups
//     (which clears every capability); in a user namespace it already is
//     65534, holding CAP_SYS_ADMIN and CAP_SYS_CHROOT only as ambient
//     capabilities, which it clears: exec then gives the binary none;
//  5. it sets no_new_privs and executes BIN (a path inside ROOT) with ARGs
//     and its own environment.
//
// The binary is then PID 1 of its namespace, as it would be without this
// step. Until then, file descriptor 3 is the status pipe: a failed step
// writes one JSON line (the step, the errno, the message) there and exits
// 125; just before the exec it writes "exec", and a successful exec closes
// it (close-on-exec). Nothing at all means pid1 died before the exec.
// Besides, it closes descriptors it inherited, limits each file the binary
// writes to 64 MiB, and has the binary killed when crossbin dies.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// nobody is the uid and gid the binary runs as (sandbox.Nobody).
const nobody = 65534

// failure is what the status pipe carries when a step fails.
type failure struct {
	Step  string `json:"step"`
	Errno int    `json:"errno,omitempty"`
	Error string `json:"error"`
}

func main() {
	// Ambient capabilities and no_new_privs belong to a thread: the one
	// that clears and sets them is the one that executes the binary.
	runtime.LockOSThread()
	status := os.NewFile(3, "status")
	syscall.CloseOnExec(3)
	f := run(os.Args[1:])
	if err := json.NewEncoder(status).Encode(f); err != nil {
		fmt.Fprintln(os.Stderr, "crossbin sandbox:", f.Step+":", f.Error)
	}
	os.Exit(125)
}

// run returns only when a step failed: on success it has become the binary.
func run(args []string) failure {
	if len(args) < 2 {
		return failure{Step: "usage", Error: "pid1 ROOT BIN [ARG...]"}
	}
	root, bin := args[0], args[1]
	steps := []struct {
		name string
		do   func() error
	}{
		{"make mounts private", func() error {
			return syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, "")
		}},
		{"mount /proc", func() error { return mountProc(filepath.Join(root, "proc")) }},
		// Descriptors crossbin inherited without close-on-exec (from a
		// CI runner, a shell's `exec 3<`, systemd) would reach the
		// binary: a directory outside the chroot, a socket.
		{"close inherited descriptors", closeInherited},
		{"chroot", func() error { return syscall.Chroot(root) }},
		{"chdir /", func() error { return syscall.Chdir("/") }},
		{"become nobody", becomeNobody},
		{"clear ambient capabilities", func() error { return prctl(prCapAmbient, prCapAmbientClearAll) }},
		{"clear inheritable capabilities", clearInheritable},
		{"set no_new_privs", func() error { return prctl(prSetNoNewPrivs, 1) }},
		// Set after becoming nobody, which clears it: crossbin killed
		// outright takes the sandbox along.
		{"set the parent-death signal", func() error { return prctl(prSetPdeathsig, uintptr(syscall.SIGKILL)) }},
		{"limit file sizes", func() error {
			return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: maxFileSize, Max: maxFileSize})
		}},
		{"exec " + bin, func() error {
			// "exec" on the status pipe: whatever follows is the
			// binary's doing, not pid1's.
			if _, err := os.NewFile(3, "status").WriteString("exec\n"); err != nil {
				return err
			}
			return syscall.Exec(bin, args[1:], os.Environ())
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			f := failure{Step: s.name, Error: err.Error()}
			var errno syscall.Errno
			if errors.As(err, &errno) {
				f.Errno = int(errno)
			}
			return f
		}
	}
	return failure{Step: "exec " + bin, Error: "returned without an error"}
}

// maxFileSize bounds each file the binary writes (RLIMIT_FSIZE): a
// smoke command writes nothing near it, a hostile one cannot fill the
// disk with one file.
const maxFileSize = 64 << 20

// mountProc mounts a procfs of this PID namespace on dir: only the
// processes (subset=pid: no /proc/sys, no kernel tables) where the kernel
// knows the option (Linux 5.8), else all of it.
func mountProc(dir string) error {
	const flags = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC
	if syscall.Mount("proc", dir, "proc", flags, "subset=pid") == nil {
		return nil
	}
	return syscall.Mount("proc", dir, "proc", flags, "")
}

// closeInherited marks every descriptor from 3 up close-on-exec (3 is the
// status pipe, already so).
func closeInherited() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}

// clearInheritable empties this thread's inheritable capability set
// (what a user namespace's ambient capabilities left there), so the
// binary holds no capability in any set but the bounding one, which
// no_new_privs and file-capability-free binaries keep inert.
func clearInheritable() error {
	hdr := struct {
		version uint32
		pid     int32
	}{version: 0x20080522} // _LINUX_CAPABILITY_VERSION_3
	var data [2]struct{ effective, permitted, inheritable uint32 }
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		return errno
	}
	data[0].inheritable, data[1].inheritable = 0, 0
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		return errno
	}
	return nil
}

// prctl(2) options (golang.org/x/sys/unix has them; pid1 keeps to the
// standard library).
const (
	prSetPdeathsig       = 1
	prSetNoNewPrivs      = 38
	prCapAmbient         = 47
	prCapAmbientClearAll = 4
)

func prctl(option, arg uintptr) error {
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, option, arg, 0, 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// becomeNobody switches root to uid and gid 65534 (all threads: Go's
// syscall.Setuid does) and checks that the process is nobody afterwards.
func becomeNobody() error {
	if os.Geteuid() == 0 {
		if err := syscall.Setgroups(nil); err != nil {
			return err
		}
		if err := syscall.Setresgid(nobody, nobody, nobody); err != nil {
			return err
		}
		if err := syscall.Setresuid(nobody, nobody, nobody); err != nil {
			return err
		}
	}
	if os.Getuid() != nobody || os.Geteuid() != nobody || os.Getgid() != nobody || os.Getegid() != nobody {
		return fmt.Errorf("still uid %d gid %d, not %d", os.Geteuid(), os.Getegid(), nobody)
	}
	return nil
}
