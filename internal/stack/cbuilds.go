// What runs with C programs need of the embedded stack: the Debian builder
// image, and a QEMU that runs GCC's loong64 and mips64el code.

package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/crossbin/crossbin/internal/baseimage"
	"github.com/crossbin/crossbin/internal/lines"
)

// NewerQEMU is the QEMU that runs what GCC compiles for two platforms,
// from Debian trixie's qemu-user (static-pie binaries that run on
// bookworm), fetched with apt (its signature checked with the host's
// Debian keyring) and registered in binfmt_misc in place of the host's
// entries for them:
//   - loong64: bookworm's qemu-user-static 7.2 kills the LSX vector
//     instructions trixie's static glibc uses (SIGILL); Go's loong64 code
//     has none.
//   - mips64le: glibc marks its static mips64el executables with ELF ABI
//     version 5, and Debian's entry accepts only 0 and 1, so the kernel
//     refuses them ("exec format error"); Go writes 0. This entry ignores
//     the ABI version byte.
var NewerQEMU = qemuPackage{Suite: "trixie", Package: "qemu-user", Entries: []binfmtEntry{
	{Name: "qemu-loongarch64", Binary: "qemu-loongarch64",
		Magic: "7f454c4602010100000000000000000002000201",
		Mask:  "fffffffffffffffc00fffffffffffffffeffffff"},
	{Name: "qemu-mips64el", Binary: "qemu-mips64el",
		Magic: "7f454c4602010100000000000000000002000800",
		Mask:  "ffffffffffffff0000fffffffffffffffeffffff"},
}}

type qemuPackage struct {
	Suite, Package string
	Entries        []binfmtEntry
}

// binfmtEntry is a binfmt_misc entry recognising Magic under Mask (hex,
// from the ELF header's first 20 bytes) and run by Binary, an interpreter
// in the package's /usr/bin.
type binfmtEntry struct {
	Name, Binary, Magic, Mask string
}

// BinfmtRegistration is the line written to binfmt_misc's register file
// for an entry name recognising magic under mask (hex) by interpreter,
// opened once at registration (F: it works inside the sandbox's chroot)
// and keeping the binary's own argv[0] (P), as Debian registers QEMU.
func BinfmtRegistration(name, magic, mask, interpreter string) string {
	return fmt.Sprintf(":%s:M::%s:%s:%s:PF", name, hexEscape(magic), hexEscape(mask), interpreter)
}

// hexEscape writes hex digits as binfmt_misc's \xNN escapes.
func hexEscape(hex string) string {
	var b strings.Builder
	for i := 0; i+1 < len(hex); i += 2 {
		b.WriteString(`\x` + hex[i:i+2])
	}
	return b.String()
}

// AptOptions are apt-get's options for a private copy of suite's lists
// under dir (its own sources file, lists and archives), leaving the
// host's apt state alone.
func AptOptions(dir string) []string {
	return []string{
		"-o", "Dir::Etc::SourceList=/dev/null",
		"-o", "Dir::Etc::SourceParts=" + filepath.Join(dir, "sources.list.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "APT::Sandbox::User=root",
	}
}

// aptSources is the deb822 sources file for suite from Debian's mirror,
// signed by the host's Debian archive keyring.
func aptSources(suite string) string {
	return "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: " + suite +
		"\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
}

// EnsureNewerQEMU makes NewerQEMU's platforms run under it: its package
// fetched into the cache once, then each entry registered in binfmt_misc
// unless the kernel's entry already names its interpreter and mask. Only
// C programs need it; Go's code runs on either QEMU.
func (s *Stack) EnsureNewerQEMU(ctx context.Context) error {
	q := NewerQEMU
	dir := s.path("qemu", q.Suite)
	for _, e := range q.Entries {
		if _, err := os.Stat(filepath.Join(dir, e.Binary)); err != nil {
			if err := s.fetchQEMU(ctx, q, dir); err != nil {
				return fmt.Errorf("fetch %s's %s: %w", q.Suite, q.Package, err)
			}
			break
		}
	}
	for _, e := range q.Entries {
		if err := s.register(e, filepath.Join(dir, e.Binary)); err != nil {
			return err
		}
	}
	return nil
}

// register puts e in binfmt_misc with interpreter bin, replacing an entry
// of the same name that differs.
func (s *Stack) register(e binfmtEntry, bin string) error {
	h := s.opt.Host
	entry := filepath.Join(h.BinfmtDir, e.Name)
	if data, err := os.ReadFile(entry); err == nil && registered(string(data), bin, e.Mask) {
		return nil
	}
	if !h.Root {
		return fmt.Errorf("the C programs' binaries need %s's %s in binfmt_misc as %s; as root run `go tool mage stack:up`", NewerQEMU.Suite, e.Binary, e.Name)
	}
	if _, err := os.Stat(entry); err == nil {
		if err := os.WriteFile(entry, []byte("-1"), 0); err != nil {
			return fmt.Errorf("remove the binfmt_misc entry %s: %w", e.Name, err)
		}
	}
	if err := writeRegister(h.BinfmtDir, BinfmtRegistration(e.Name, e.Magic, e.Mask, bin)); err != nil {
		return fmt.Errorf("register %s in binfmt_misc: %w", bin, err)
	}
	s.opt.Log.Info("binaries run under a newer QEMU", "entry", e.Name, "interpreter", bin)
	return nil
}

// writeRegister writes one registration to binfmt_misc's register file,
// which takes each write as one entry.
func writeRegister(dir, reg string) error {
	f, err := os.OpenFile(filepath.Join(dir, "register"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(reg)
	return errors.Join(err, f.Close())
}

// registered reports whether a binfmt_misc entry's text names interpreter
// bin and mask.
func registered(entry, bin, mask string) bool {
	return strings.Contains(entry, "\ninterpreter "+bin+"\n") && strings.Contains(entry, "\nmask "+mask+"\n")
}

// fetchQEMU downloads q's package with apt from its suite and moves each
// entry's interpreter into dir, each in one rename.
func (s *Stack) fetchQEMU(ctx context.Context, q qemuPackage, dir string) error {
	h := s.opt.Host
	if _, err := h.LookPath("apt-get"); err != nil {
		return errors.New("apt-get is missing: the embedded stack fetches QEMU from Debian's archive")
	}
	work, err := os.MkdirTemp(s.path("run"), ".qemu-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, d := range []string{"sources.list.d", "lists/partial", "cache/archives/partial", "x"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(work, "sources.list.d", q.Suite+".sources"), []byte(aptSources(q.Suite)), 0o644); err != nil {
		return err
	}
	opts := AptOptions(work)
	if out, err := h.Run(ctx, nil, "apt-get", append(opts, "update")...); err != nil {
		return fmt.Errorf("apt-get update (%s): %w: %s", q.Suite, err, lastLine(out))
	}
	if err := runIn(ctx, h, work, "apt-get", append(opts, "download", q.Package)...); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(work, q.Package+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s left %d packages", q.Package, len(debs))
	}
	if out, err := h.Run(ctx, nil, "dpkg-deb", "-x", debs[0], filepath.Join(work, "x")); err != nil {
		return fmt.Errorf("dpkg-deb -x %s: %w: %s", filepath.Base(debs[0]), err, lastLine(out))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s.opt.Log.Info("fetched a newer QEMU", "package", filepath.Base(debs[0]))
	for _, e := range q.Entries {
		if err := os.Rename(filepath.Join(work, "x", "usr", "bin", e.Binary), filepath.Join(dir, e.Binary)); err != nil {
			return fmt.Errorf("%s has no %s: %w", filepath.Base(debs[0]), e.Binary, err)
		}
	}
	return nil
}

// runIn runs name in dir: apt-get download writes where it runs, and
// Host.Run has no working directory.
func runIn(ctx context.Context, h Host, dir, name string, args ...string) error {
	out, err := h.Run(ctx, nil, "sh", append([]string{"-c", `cd "$0" && exec "$@"`, dir, name}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args[len(args)-2:], " "), err, lastLine(out))
	}
	return nil
}

func lastLine(out []byte) string { return lines.Last(string(out), 1) }

// DebianImage picks the Debian builder image the way goImage picks the Go
// one (DebianChoice): the configured one, debian:trixie when Docker Hub
// answers, or one assembled with mmdebstrap and pushed to the local
// registry, mmdebstrap installed first when missing. Call it after Up, and
// only for a run that builds a C program: that run pays for the assembly
// (~30 s, once per cache directory), not every stack:up.
func (s *Stack) DebianImage(ctx context.Context) (string, error) {
	s.opt.Log.Debug("the Debian builder image is needed: a C program is built")
	return baseimage.DebianChoice{
		Override:           s.opt.DebianImage,
		DockerHubReachable: s.opt.DockerHubReachable,
		Local: &baseimage.LocalDebian{
			Repo:     s.RegistryAddr() + "/crossbin/debian",
			GOARCH:   runtime.GOARCH,
			CABundle: s.opt.CABundle,
			Record:   s.path("baseimage", "debian.digest"),
			Log:      s.opt.Log,
			Prepare: func(ctx context.Context) error {
				return s.opt.Host.ensurePackages(ctx, s.opt.Log, DebianAptPackages)
			},
		},
	}.Image(ctx)
}

// cBuilds is what a run with a C program needs of the stack: the Debian
// builder image, and a QEMU that runs GCC's loong64 and mips64el code to
// verify it.
func (s *Stack) cBuilds(ctx context.Context) (string, error) {
	ref, err := s.DebianImage(ctx)
	if err != nil {
		return "", err
	}
	if err := s.EnsureNewerQEMU(ctx); err != nil {
		return "", err
	}
	return ref, nil
}
