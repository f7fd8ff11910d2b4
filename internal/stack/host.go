package stack

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/platform"
)

// Host is what the stack needs to know about, and do to, the machine. The
// real one is in System; tests replace parts of it.
type Host struct {
	// LookPath finds a command, as exec.LookPath does.
	LookPath func(string) (string, error)
	// Root reports whether this process runs as root.
	Root bool
	// Run runs a command with the given extra environment, returning its
	// combined output.
	Run func(ctx context.Context, env []string, name string, args ...string) ([]byte, error)
	// BinfmtDir is where binfmt_misc is mounted.
	BinfmtDir string
}

// System is the host this process runs on.
func System() Host {
	return Host{
		LookPath: exec.LookPath,
		Root:     os.Geteuid() == 0,
		Run: func(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
			cmd := exec.CommandContext(ctx, name, args...)
			cmd.Env = append(os.Environ(), env...)
			return cmd.CombinedOutput()
		},
		BinfmtDir: "/proc/sys/fs/binfmt_misc",
	}
}

// missingPackages lists the Debian packages of pkgs whose commands are
// missing. A busybox that is not statically linked does not count: the
// builder image has no C library for it.
func (h Host) missingPackages(pkgs []AptPackage) []string {
	var missing []string
	for _, p := range pkgs {
		path, err := h.LookPath(p.Command)
		if err == nil && p.Package == "busybox-static" && !staticELF(path) {
			err = errors.New("not static")
		}
		if err != nil && !slices.Contains(missing, p.Package) {
			missing = append(missing, p.Package)
		}
	}
	return missing
}

// AptInstallArgs is the apt-get command line that installs packages.
func AptInstallArgs(packages []string) []string {
	return append([]string{"install", "-y", "-q", "--no-install-recommends"}, packages...)
}

// ensurePackages installs those of pkgs that are missing with apt when
// running as root, and otherwise says exactly what to install.
func (h Host) ensurePackages(ctx context.Context, log *slog.Logger, pkgs []AptPackage) error {
	missing := h.missingPackages(pkgs)
	if len(missing) == 0 {
		return nil
	}
	install := "apt-get " + strings.Join(AptInstallArgs(missing), " ")
	if !h.Root {
		return fmt.Errorf("the embedded stack needs %s: install them as root (`sudo %s`), or set CROSSBIN_BUILDER to a buildx builder of your own", strings.Join(missing, ", "), install)
	}
	if _, err := h.LookPath("apt-get"); err != nil {
		return fmt.Errorf("the embedded stack needs %s, and this machine has no apt-get: install them with your package manager, or set CROSSBIN_BUILDER to a buildx builder of your own", strings.Join(missing, ", "))
	}
	log.Info("installing host packages with apt", "packages", missing)
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	if out, err := h.Run(ctx, env, "apt-get", "update", "-q"); err != nil {
		return fmt.Errorf("apt-get update (to install %s): %w\n%s", strings.Join(missing, ", "), err, lines.Last(string(out), 15))
	}
	if out, err := h.Run(ctx, env, "apt-get", AptInstallArgs(missing)...); err != nil {
		return fmt.Errorf("%s: %w\n%s", install, err, lines.Last(string(out), 15))
	}
	if still := h.missingPackages(pkgs); len(still) > 0 {
		return fmt.Errorf("%s succeeded but %s still missing", install, strings.Join(still, ", "))
	}
	return nil
}

// enableBinfmt mounts binfmt_misc if needed and enables the registered
// interpreters, so that foreign-architecture binaries run under QEMU.
func (h Host) enableBinfmt(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(h.BinfmtDir, "status")); err != nil {
		if !h.Root {
			return fmt.Errorf("binfmt_misc is not mounted at %s; as root run `mount -t binfmt_misc binfmt_misc %s`", h.BinfmtDir, h.BinfmtDir)
		}
		if err := syscall.Mount("binfmt_misc", h.BinfmtDir, "binfmt_misc", 0, ""); err != nil {
			return fmt.Errorf("mount binfmt_misc at %s: %w", h.BinfmtDir, err)
		}
	}
	if slices.Contains(h.binfmtEnabled(), "qemu-aarch64") {
		return nil
	}
	if !h.Root {
		return errors.New("QEMU interpreters are not enabled in binfmt_misc; as root run `update-binfmts --enable`")
	}
	if out, err := h.Run(ctx, nil, "update-binfmts", "--enable"); err != nil {
		return fmt.Errorf("update-binfmts --enable: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if !slices.Contains(h.binfmtEnabled(), "qemu-aarch64") {
		return fmt.Errorf("update-binfmts --enable ran, but %s/qemu-aarch64 is not enabled; is qemu-user-static installed?", h.BinfmtDir)
	}
	return nil
}

// binfmtEnabled lists the enabled QEMU interpreters.
func (h Host) binfmtEnabled() []string {
	entries, err := os.ReadDir(h.BinfmtDir)
	if err != nil {
		return nil
	}
	var enabled []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "qemu-") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(h.BinfmtDir, e.Name()))
		if err == nil && strings.HasPrefix(string(data), "enabled") {
			enabled = append(enabled, e.Name())
		}
	}
	return enabled
}

// staticELF reports whether path is an ELF executable without a program
// interpreter, i.e. statically linked.
func staticELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return platform.StaticELF(f)
}
