package stack

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBinfmtRegistration(t *testing.T) {
	e := NewerQEMU.Entries[0]
	got := BinfmtRegistration(e.Name, e.Magic, e.Mask, "/cache/qemu/trixie/qemu-loongarch64")
	want := `:qemu-loongarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\x01:` +
		`\xff\xff\xff\xff\xff\xff\xff\xfc\x00\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/cache/qemu/trixie/qemu-loongarch64:PF`
	if got != want {
		t.Errorf("registration\n %s\nwant\n %s", got, want)
	}
}

// TestNewerQEMUMasks checks each entry against the ELF headers it must
// and must not take, as the kernel compares them: the header's first 20
// bytes under the mask against the magic under the mask.
func TestNewerQEMUMasks(t *testing.T) {
	headers := []struct {
		name, header string
		entry        string // the entry that takes it; "" for none
	}{
		// crossbin's lz4 for mips64le: glibc's ABI version 5, which
		// Debian's own entry refuses.
		{"GCC static mips64el", "7f454c4602010100050000000000000002000800", "qemu-mips64el"},
		{"Go mips64le", "7f454c4602010100000000000000000002000800", "qemu-mips64el"},
		{"GCC static-pie mips64el", "7f454c4602010100050000000000000003000800", "qemu-mips64el"},
		{"big-endian mips64", "7f454c4602020100000000000000000000020008", ""},
		{"32-bit mipsel", "7f454c4601010100000000000000000002000800", ""},
		{"GCC static loong64", "7f454c4602010100000000000000000002000201", "qemu-loongarch64"},
		{"x86-64", "7f454c4602010100000000000000000002003e00", ""},
		{"a core file", "7f454c4602010100000000000000000004000800", ""},
	}
	for _, h := range headers {
		var took []string
		for _, e := range NewerQEMU.Entries {
			if binfmtMatch(t, e, h.header) {
				took = append(took, e.Name)
			}
		}
		want := []string{h.entry}
		if h.entry == "" {
			want = nil
		}
		if !slices.Equal(took, want) {
			t.Errorf("%s (%s): taken by %v, want %v", h.name, h.header, took, want)
		}
	}
}

func binfmtMatch(t *testing.T, e binfmtEntry, header string) bool {
	t.Helper()
	magic, err1 := hex.DecodeString(e.Magic)
	mask, err2 := hex.DecodeString(e.Mask)
	head, err3 := hex.DecodeString(header)
	if err := errors.Join(err1, err2, err3); err != nil || len(magic) != len(mask) || len(head) < len(mask) {
		t.Fatalf("%s: magic %q, mask %q, header %q: %v", e.Name, e.Magic, e.Mask, header, err)
	}
	for i := range mask {
		if head[i]&mask[i] != magic[i]&mask[i] {
			return false
		}
	}
	return true
}

// TestEnsureNewerQEMU fetches trixie's qemu-user through a stand-in apt
// into the cache, swaps the loong64 and mips64el entries of a stand-in
// binfmt_misc for its interpreters, and does nothing the second time.
func TestEnsureNewerQEMU(t *testing.T) {
	h, ran := fakeHost(true, "apt-get")
	binfmt := t.TempDir()
	h.BinfmtDir = binfmt
	debian := map[string]string{
		"qemu-loongarch64": "enabled\ninterpreter /usr/libexec/qemu-binfmt/loongarch64-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c4602010100000000000000000002000201\nmask fffffffffffffffc00fffffffffffffffeffffff\n",
		"qemu-mips64el":    "enabled\ninterpreter /usr/libexec/qemu-binfmt/mips64el-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c4602010100000000000000000002000800\nmask ffffffffffffff00fefffffffffffffffeffffff\n",
	}
	for name, text := range debian {
		os.WriteFile(filepath.Join(binfmt, name), []byte(text), 0o644)
	}
	os.WriteFile(filepath.Join(binfmt, "register"), nil, 0o200)
	h.Run = func(_ context.Context, _ []string, name string, args ...string) ([]byte, error) {
		*ran = append(*ran, name+" "+strings.Join(args, " "))
		switch {
		case name == "apt-get" && args[len(args)-1] == "update":
			return []byte("Reading package lists..."), nil
		case name == "sh" && args[len(args)-1] == "qemu-user": // download, in the directory after the script
			return nil, os.WriteFile(filepath.Join(args[2], "qemu-user_1%3a10.0.13+ds-0+deb13u1_amd64.deb"), []byte("deb"), 0o644)
		case name == "dpkg-deb":
			bin := filepath.Join(args[2], "usr", "bin")
			os.MkdirAll(bin, 0o755)
			for _, b := range []string{"qemu-loongarch64", "qemu-mips64el", "qemu-aarch64"} {
				os.WriteFile(filepath.Join(bin, b), []byte("qemu 10 "+b), 0o755)
			}
			return nil, nil
		}
		return nil, errors.New("unexpected command")
	}
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, "run"), 0o755)
	s := New(Options{CacheDir: cache, Host: h, Log: slog.New(slog.DiscardHandler)})
	if err := s.EnsureNewerQEMU(context.Background()); err != nil {
		t.Fatal(err)
	}
	var want string
	for _, e := range NewerQEMU.Entries {
		bin := filepath.Join(cache, "qemu", "trixie", e.Binary)
		if data, err := os.ReadFile(bin); err != nil || string(data) != "qemu 10 "+e.Binary {
			t.Fatalf("interpreter in the cache: %q, %v", data, err)
		}
		if data, _ := os.ReadFile(filepath.Join(binfmt, e.Name)); string(data) != "-1" {
			t.Errorf("the old entry %s was not removed: %q", e.Name, data)
		}
		want += BinfmtRegistration(e.Name, e.Magic, e.Mask, bin)
	}
	if data, _ := os.ReadFile(filepath.Join(binfmt, "register")); string(data) != want {
		t.Errorf("registered\n %q\nwant\n %q", data, want)
	}
	if _, err := os.Stat(filepath.Join(cache, "qemu", "trixie", "qemu-aarch64")); err == nil {
		t.Error("an interpreter no entry uses was kept")
	}
	for _, c := range *ran {
		if strings.HasPrefix(c, "apt-get") && !strings.Contains(c, "Dir::State::Lists="+filepath.Join(cache, "run")) {
			t.Errorf("apt-get touched the host's lists: %s", c)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "run", ".qemu-*")); len(left) != 0 {
		t.Errorf("work directories left: %v", left)
	}

	// Registered already (the kernel's entries name the cached binaries
	// and masks): nothing is fetched or written.
	for _, e := range NewerQEMU.Entries {
		bin := filepath.Join(cache, "qemu", "trixie", e.Binary)
		os.WriteFile(filepath.Join(binfmt, e.Name), []byte("enabled\ninterpreter "+bin+"\nflags: PF\noffset 0\nmagic "+e.Magic+"\nmask "+e.Mask+"\n"), 0o644)
	}
	os.WriteFile(filepath.Join(binfmt, "register"), nil, 0o200)
	*ran = nil
	if err := s.EnsureNewerQEMU(context.Background()); err != nil || len(*ran) != 0 {
		t.Errorf("second call: %v, ran %v", err, *ran)
	}
	if data, _ := os.ReadFile(filepath.Join(binfmt, "register")); len(data) != 0 {
		t.Errorf("registered again: %q", data)
	}

	// An entry with the right interpreter but Debian's narrower mask (as
	// crossbin registered loong64 before mips64el joined) is replaced.
	mips := NewerQEMU.Entries[1]
	bin := filepath.Join(cache, "qemu", "trixie", mips.Binary)
	os.WriteFile(filepath.Join(binfmt, mips.Name), []byte("enabled\ninterpreter "+bin+"\nflags: PF\noffset 0\nmagic "+mips.Magic+"\nmask ffffffffffffff00fefffffffffffffffeffffff\n"), 0o644)
	if err := s.EnsureNewerQEMU(context.Background()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(binfmt, "register")); string(data) != BinfmtRegistration(mips.Name, mips.Magic, mips.Mask, bin) {
		t.Errorf("registered %q", data)
	}
}
