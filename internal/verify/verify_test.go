package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
)

// buildUnavailable builds our unavailable program for pl (no network: it has
// no dependencies).
func buildUnavailable(t *testing.T, pl platform.Platform, name, version string) string {
	t.Helper()
	env, err := pl.GoEnv()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-C", "../../unavailable", "-trimpath", "-o", out,
		"-ldflags", "-s -w -X main.name="+name+" -X main.version="+version+" -X main.platform="+pl.String(), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off")
	for _, v := range env {
		cmd.Env = append(cmd.Env, v.String())
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build unavailable for %s: %v\n%s", pl, err, b)
	}
	return out
}

var (
	amd64 = platform.Platform{OS: "linux", Arch: "amd64"}
	i386  = platform.Platform{OS: "linux", Arch: "386"}
	arm64 = platform.Platform{OS: "linux", Arch: "arm64"}
)

func dlv() catalog.Program {
	return catalog.Program{
		Name: "dlv", Version: "v1.6.1", Smoke: []string{"version"},
		Platforms:   []platform.Platform{amd64, i386, arm64},
		Unavailable: map[platform.Platform]string{amd64: "test", i386: "test"},
	}
}

func TestUnavailableBinary(t *testing.T) {
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	r := Binary(context.Background(), bin, dlv(), amd64, Result{Unavailable: true})
	if r.Err != nil || !r.Ran || r.Output != "dlv v1.6.1 is unavailable on linux/amd64" {
		t.Fatalf("got %+v", r)
	}
	// The wrong platform in its message is caught.
	wrong := buildUnavailable(t, amd64, "dlv", "v1.5.0")
	if r := Binary(context.Background(), wrong, dlv(), amd64, Result{Unavailable: true}); r.Err == nil || !strings.Contains(r.Err.Error(), "want exit 1 and") {
		t.Fatalf("wrong version accepted: %+v", r)
	}
	// As a real build, it fails its smoke test.
	if r := Binary(context.Background(), bin, dlv(), amd64, Result{}); r.Err == nil || !strings.Contains(r.Err.Error(), "exited 1") {
		t.Fatalf("a failing smoke test passed: %+v", r)
	}
}

func TestELFMismatch(t *testing.T) {
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	if _, err := CheckELF(bin, arm64); err == nil || !strings.Contains(err.Error(), "EM_AARCH64") {
		t.Fatalf("amd64 binary accepted as arm64: %v", err)
	}
	if _, err := CheckELF("verify.go", amd64); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Fatalf("source file accepted: %v", err)
	}
	if ls, err := exec.LookPath("ls"); err == nil {
		if _, err := CheckELF(ls, amd64); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Fatalf("dynamic %s accepted: %v", ls, err)
		}
	}
}

func Test386IsCheckedByELF(t *testing.T) {
	bin := buildUnavailable(t, i386, "dlv", "v1.6.1")
	r := Binary(context.Background(), bin, dlv(), i386, Result{Unavailable: true})
	if r.Err != nil || r.ELF != "EM_386 ELFCLASS32 ELFDATA2LSB" {
		t.Fatalf("got %+v", r)
	}
	// Either this kernel runs 386 binaries and the message was checked, or
	// it cannot and the result says so.
	if !r.Ran && !strings.Contains(r.Note, "cannot execute linux/386") {
		t.Fatalf("not run, and no note saying why: %+v", r)
	}
}

func TestExpect(t *testing.T) {
	bin := buildUnavailable(t, amd64, "dlv", "v1.6.1")
	prog := dlv()
	prog.Unavailable = nil
	prog.Smoke = nil
	// The unavailable binary exits 1, so as a "real" program it fails even
	// when its output has what is expected.
	prog.Expect = "is unavailable on"
	if r := Binary(context.Background(), bin, prog, amd64, Result{}); r.Err == nil || !strings.Contains(r.Err.Error(), "exited 1") {
		t.Fatalf("got %+v", r)
	}
}

func TestMentionsVersion(t *testing.T) {
	for _, tc := range []struct {
		out, version string
		want         bool
	}{
		{"v3.14.1\n", "v3.14.1", true},
		{"Delve Debugger\nVersion: 1.6.1\n", "v1.6.1", true},
		{"(devel)\n", "v3.14.1", false},
		{"v3.6\n", "v3.6.2", false},
		{"Docker version 29.9.1, build unknown-commit", "v29.9.1+incompatible", true},
		{"Docker version 29.9.2", "v29.9.1+incompatible", false},
	} {
		if got := mentionsVersion(tc.out, tc.version); got != tc.want {
			t.Errorf("mentionsVersion(%q, %s) = %v", tc.out, tc.version, got)
		}
	}
}
