// Package sandbox runs an untrusted binary — a program crossbin has just
// built from upstream source — for one smoke command, with nothing to read,
// nobody to talk to and nothing to keep:
//
//   - its own root: a throwaway directory holding only /bin/<name> (a copy of
//     the binary), /tmp, /dev/null and /proc, chrooted into and removed
//     afterwards; HOME is "/", the working directory "/";
//   - a /proc of its own: procfs of its own PID namespace, so it sees only
//     itself and what it starts, and /proc/self/exe resolves (Go's
//     os.Executable reads it: gopls's `version` fails without it);
//   - an unprivileged user: uid and gid 65534 (nobody), no supplementary
//     groups, no capabilities, so it cannot chroot back out;
//   - an empty environment: HOME=/ and PATH=/nonexistent, nothing else;
//   - new network, PID, IPC, UTS and mount namespaces: the network
//     namespace holds only a loopback interface that is down (127.0.0.1 is
//     unreachable), and when the binary (PID 1 of its namespace) exits or is
//     killed, every process it started dies with it.
//
// As root (the embedded stack's case) the process switches to uid 65534
// itself, and the directory is owned by that uid. As any other user it gets
// a new user namespace in which uid 65534 maps to the caller: the caller's
// own files are then out of reach only through the chroot, which it cannot
// leave without capabilities. A caller that is neither root nor allowed to
// create user namespaces, or a kernel that refuses the namespaces (a
// container without CAP_SYS_ADMIN, some gVisor set-ups), gets
// ErrUnsupported and what to do, never a run on the host. Measured on the
// build machine (Linux 6.18, not gVisor): every namespace above as root, and
// the same with a user namespace as uid 1000.
//
// Only a process inside the new PID namespace can mount its procfs, and Go
// forks and execs in one step, so the namespaces' first process is a
// helper of our own (pid1/main.go, built once into Sandbox.Dir): it makes
// its mounts private, mounts /proc, chroots, drops to nobody and executes
// the binary, which becomes PID 1 in its turn.
//
// Why not runc, which the embedded stack installs for BuildKit: measured on
// the same machine, runc adds ~100 ms per run against a few ms here, it is
// missing where a user brings their own buildx builder, and it runs
// rootless only with another configuration (and cgroups). It would add
// /dev; a smoke command (`version`, `-h`) needs none, but Go's os/exec
// opens /dev/null for a child's standard streams, so /dev/null is here as
// an empty file anyone may read and write (not a device node: an
// unprivileged caller cannot make one, and /tmp may be mounted nodev).
// Both hide the host's files, so both need the same from emulation:
//
// Foreign binaries run under QEMU through binfmt_misc. The kernel opens the
// interpreter of an entry registered with the F (fix-binary) flag once, at
// registration; without F it opens it by path at each exec, inside the
// chroot, where it is missing. Debian's qemu-user-static registers its
// entries with F; an entry without it gets an error saying so.
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Nobody is the uid and gid the binary runs as: by convention it owns no
// file, and inside the chroot there is no file it could own but its own.
const Nobody = 65534

// ErrUnsupported reports that the caller cannot create the sandbox here:
// not root, and not allowed to create user namespaces; or root where the
// kernel (or a container around it) refuses new namespaces.
var ErrUnsupported = errors.New("cannot create the sandbox's namespaces")

// namespaces are created for every run; a user namespace is added when the
// caller is not root.
const namespaces = syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

// Sandbox runs binaries as described in the package doc; it implements
// verify.Runner.
type Sandbox struct {
	// Dir keeps the sandbox's first process, built once from source
	// (pid1/main.go) with the go tool; crossbin keeps it in its cache.
	Dir string
}

// Run executes bin with args in a fresh sandbox and returns its combined
// output and exit code. Stopping ctx kills it; the error then wraps
// ctx.Err(). An error wrapping syscall.ENOEXEC means the kernel does not
// know how to execute the binary's format (no binfmt_misc entry for it).
func (s Sandbox) Run(ctx context.Context, bin string, args ...string) (output string, exit int, err error) {
	name := filepath.Base(bin)
	if name == "." || name == ".." || name == "/" {
		return "", -1, fmt.Errorf("sandbox: %q names no file", bin)
	}
	pid1, err := s.helper(ctx)
	if err != nil {
		return "", -1, err
	}
	root, err := os.MkdirTemp("", "crossbin-sandbox-")
	if err != nil {
		return "", -1, fmt.Errorf("sandbox for %s: %w", name, err)
	}
	defer func() {
		if rerr := removeAll(root); rerr != nil && err == nil {
			err = fmt.Errorf("remove the sandbox of %s: %w", name, rerr)
		}
	}()
	userns := os.Geteuid() != 0 // see command
	if err := populate(root, bin, name, userns); err != nil {
		return "", -1, fmt.Errorf("sandbox for %s: %w", name, err)
	}

	var out bytes.Buffer
	// A binary just written can be busy for a moment: another goroutine's
	// fork may still hold its write descriptor (golang/go#22315).
	for attempt := 0; ; attempt++ {
		out.Reset()
		err = start(ctx, command(ctx, pid1, root, name, args, userns), &out)
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var exited *exec.ExitError
	switch {
	case errors.As(err, &exited):
		if ctx.Err() != nil {
			return out.String(), -1, fmt.Errorf("%s was stopped: %w", name, context.Cause(ctx))
		}
		return out.String(), exited.ExitCode(), nil
	case err != nil:
		return out.String(), -1, startError(name, userns, err)
	}
	return out.String(), 0, nil
}

// maxOutput bounds what is kept of the binary's output: a smoke command
// prints a line; one that prints forever must not exhaust crossbin's
// memory.
const maxOutput = 1 << 20

// limited keeps the first n bytes written to it and discards the rest.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		keep := p[:min(len(p), l.n)]
		l.n -= len(keep)
		if _, err := l.w.Write(keep); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// failure is what pid1 reports on its status pipe when a step before the
// binary failed.
type failure struct {
	Step  string `json:"step"`
	Errno int    `json:"errno,omitempty"`
	Error string `json:"error"`
}

func (f failure) err() error {
	if f.Errno != 0 {
		return fmt.Errorf("%s: %w", f.Step, syscall.Errno(f.Errno))
	}
	return fmt.Errorf("%s: %s", f.Step, f.Error)
}

// start runs cmd (pid1, then the binary) with its output going to out. It
// returns what the binary's exit makes of cmd.Wait, or pid1's failure.
func start(ctx context.Context, cmd *exec.Cmd, out *bytes.Buffer) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	capped := &limited{w: out, n: maxOutput}
	cmd.Stdout, cmd.Stderr = capped, capped
	cmd.ExtraFiles = []*os.File{w} // pid1's status pipe, descriptor 3
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	// pid1 writes "exec" just before its exec, which closes the pipe; a
	// failed step writes its failure instead (or after it).
	report, rerr := io.ReadAll(r)
	werr := cmd.Wait()
	if rerr != nil || ctx.Err() != nil {
		return errors.Join(werr, rerr)
	}
	rest, execed := bytes.CutPrefix(report, []byte("exec\n"))
	if len(bytes.TrimSpace(rest)) > 0 {
		var f failure
		if err := json.Unmarshal(rest, &f); err != nil {
			return fmt.Errorf("the sandbox's first process reported %q", rest)
		}
		return f.err()
	}
	if !execed {
		return fmt.Errorf("the sandbox's first process died before it ran the binary (%w)", werr)
	}
	return werr
}

// Capabilities pid1 needs in a user namespace (linux/capability.h).
const (
	capSysChroot = 18
	capSysAdmin  = 21
)

// command is pid1 in new namespaces, about to chroot into root and become
// Nobody running /bin/<name>. As root it switches to Nobody itself; with
// userns (a caller that is not root) Nobody is the caller mapped in a user
// namespace of its own, where pid1 has the capabilities to mount /proc
// and chroot until its exec clears them.
func command(ctx context.Context, pid1, root, name string, args []string, userns bool) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pid1, append([]string{root, "/bin/" + name}, args...)...)
	cmd.Env = []string{"HOME=/", "PATH=/nonexistent"}
	cmd.Dir = "/"
	cmd.WaitDelay = 5 * time.Second
	// A session of its own: kill(0, …) from inside must not reach
	// crossbin's process group (the kernel does not stop it at the PID
	// namespace), and no controlling terminal.
	attr := &syscall.SysProcAttr{Cloneflags: namespaces, Setsid: true}
	if userns {
		// pid1 runs as Nobody: without ambient capabilities its exec
		// would drop what the new namespace gave it before it could
		// mount /proc and chroot.
		attr.AmbientCaps = []uintptr{capSysChroot, capSysAdmin}
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: Nobody, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: Nobody, HostID: os.Getegid(), Size: 1}}
		// An unprivileged user namespace denies setgroups.
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	return cmd
}

// populate lays out the sandbox's root: / and /tmp belong to the sandboxed
// user, /bin/<name> is a read-only copy of bin, /dev/null an empty file.
// Modes are set explicitly: the caller's umask must not lock the sandboxed
// user out.
func populate(root, bin, name string, userns bool) error {
	for _, dir := range []string{"bin", "tmp", "dev", "proc"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "dev", "null"), nil, 0o600); err != nil {
		return err
	}
	if err := copyFile(bin, filepath.Join(root, "bin", name)); err != nil {
		return err
	}
	for _, f := range []struct {
		path  string
		mode  fs.FileMode
		owned bool // by the sandboxed user
	}{
		{root, 0o700, true},
		{filepath.Join(root, "tmp"), 0o700, true},
		{filepath.Join(root, "bin"), 0o755, false},
		{filepath.Join(root, "bin", name), 0o555, false},
		{filepath.Join(root, "dev"), 0o755, false},
		{filepath.Join(root, "dev", "null"), 0o666, false},
		{filepath.Join(root, "proc"), 0o555, false},
	} {
		if err := os.Chmod(f.path, f.mode); err != nil {
			return err
		}
		// With userns, the caller is Nobody inside its user namespace.
		if f.owned && !userns {
			if err := os.Chown(f.path, Nobody, Nobody); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o555)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// startError explains why the sandboxed process did not start.
func startError(name string, userns bool, err error) error {
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		return fmt.Errorf("run %s in the sandbox: %w", name, err)
	case errors.Is(err, syscall.ENOENT):
		// The binary is there: what the kernel did not find is an
		// interpreter, opened by path inside the chroot.
		return fmt.Errorf("run %s in the sandbox: %w: its interpreter is not inside the sandbox — a dynamically linked binary, "+
			"or a foreign one whose binfmt_misc entry lacks the F (fix-binary) flag (see /proc/sys/fs/binfmt_misc; "+
			"Debian's qemu-user-static sets it)", name, err)
	case userns && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL)):
		return fmt.Errorf("run %s: %w: uid %d may not create a user namespace (%w): run as root, "+
			"or allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, "+
			"kernel.apparmor_restrict_unprivileged_userns)", name, ErrUnsupported, os.Geteuid(), err)
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("run %s: %w: the kernel refused them (%w): run crossbin as root with CAP_SYS_ADMIN "+
			"(not in a container that drops it) on a kernel with network, PID and mount namespaces", name, ErrUnsupported, err)
	}
	return fmt.Errorf("run %s in the sandbox: %w", name, err)
}

// removeAll removes the sandbox's root. What the sandboxed process created
// belongs to it; a directory it left without write permission is opened up
// first (directories only: a symbolic link is never followed).
func removeAll(root string) error {
	if os.RemoveAll(root) == nil {
		return nil
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			return os.Chmod(path, 0o700)
		}
		return nil
	})
	return errors.Join(err, os.RemoveAll(root))
}
