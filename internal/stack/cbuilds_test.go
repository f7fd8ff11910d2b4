package stack

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBinfmtRegistration(t *testing.T) {
	got := BinfmtRegistration("qemu-loongarch64", loong64Magic, loong64Mask, "/cache/qemu/trixie/qemu-loongarch64")
	want := `:qemu-loongarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\x01:` +
		`\xff\xff\xff\xff\xff\xff\xff\xfc\x00\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/cache/qemu/trixie/qemu-loongarch64:PF`
	if got != want {
		t.Errorf("registration\n %s\nwant\n %s", got, want)
	}
}

// TestEnsureLoong64QEMU fetches trixie's qemu-user through a stand-in apt
// into the cache, swaps the loong64 entry of a stand-in binfmt_misc for
// it, and does nothing the second time.
func TestEnsureLoong64QEMU(t *testing.T) {
	h, ran := fakeHost(true, "apt-get")
	binfmt := t.TempDir()
	h.BinfmtDir = binfmt
	entry := filepath.Join(binfmt, "qemu-loongarch64")
	os.WriteFile(entry, []byte("enabled\ninterpreter /usr/libexec/qemu-binfmt/loongarch64-binfmt-P\nflags: PF\n"), 0o644)
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
			return nil, os.WriteFile(filepath.Join(bin, "qemu-loongarch64"), []byte("qemu 10"), 0o755)
		}
		return nil, errors.New("unexpected command")
	}
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, "run"), 0o755)
	s := New(Options{CacheDir: cache, Host: h, Log: slog.New(slog.DiscardHandler)})
	if err := s.EnsureLoong64QEMU(context.Background()); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(cache, "qemu", "trixie", "qemu-loongarch64")
	if data, err := os.ReadFile(bin); err != nil || string(data) != "qemu 10" {
		t.Fatalf("interpreter in the cache: %q, %v", data, err)
	}
	if data, _ := os.ReadFile(entry); string(data) != "-1" {
		t.Errorf("the old entry was not removed: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(binfmt, "register")); !strings.HasSuffix(string(data), ":"+bin+":PF") {
		t.Errorf("registered %q", data)
	}
	for _, c := range *ran {
		if strings.HasPrefix(c, "apt-get") && !strings.Contains(c, "Dir::State::Lists="+filepath.Join(cache, "run")) {
			t.Errorf("apt-get touched the host's lists: %s", c)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "run", ".qemu-*")); len(left) != 0 {
		t.Errorf("work directories left: %v", left)
	}

	// Registered already (the kernel's entry names the cached binary):
	// nothing is fetched or written.
	os.WriteFile(entry, []byte("enabled\ninterpreter "+bin+"\nflags: PF\n"), 0o644)
	os.Remove(filepath.Join(binfmt, "register"))
	*ran = nil
	if err := s.EnsureLoong64QEMU(context.Background()); err != nil || len(*ran) != 0 {
		t.Errorf("second call: %v, ran %v", err, *ran)
	}
	if _, err := os.Stat(filepath.Join(binfmt, "register")); err == nil {
		t.Error("registered again")
	}
}
