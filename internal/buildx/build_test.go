package buildx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStepError(t *testing.T) {
	out, err := os.ReadFile("testdata/helm-riscv64.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := StepError(string(out))
	if !strings.Contains(got, "procfs@v0.2.0/cpuinfo.go:71:9: undefined: parseCPUInfo") {
		t.Errorf("StepError = %q", got)
	}
	if got := StepError("#1 loading\nERROR: failed to dial buildkitd\n"); got != "ERROR: failed to dial buildkitd" {
		t.Errorf("no failed step: %q", got)
	}
}

func TestReadDigest(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"containerimage.digest":"sha256:8ea5212d2032a9b090c588086f80e9096289271ff509e1997b6b710192c23146","image.name":"localhost:5000/crossbin"}`), 0o644)
	if h, err := readDigest(good); err != nil || h.Hex[:6] != "8ea521" {
		t.Errorf("readDigest = %v, %v", h, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"buildx.build.ref":"x"}`), 0o644)
	if _, err := readDigest(bad); err == nil || !strings.Contains(err.Error(), "no image digest") {
		t.Errorf("missing digest: %v", err)
	}
	if _, err := readDigest(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestBuildOutOfSpace: a build that fails because the disk is full says so
// (ErrNoSpace), not only what the compiler echoed.
func TestBuildOutOfSpace(t *testing.T) {
	for _, tc := range []struct {
		name, printed string
		full          bool
	}{
		{"full", "#12 11.59 github.com/blang/semver: mkdir /tmp/go-build1/b1020/: no space left on device", true},
		{"compile error", "#12 11.59 main.go:3:1: undefined: x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := "echo '" + tc.printed + "'; echo '#12 ERROR: process did not complete successfully: exit code: 1'; exit 1"
			b := Builder{Client: Client{Path: "/bin/sh", Prefix: []string{"-c", script, "buildx"}}}
			_, err := b.Build(context.Background(), BuildRequest{Label: "x", MetadataFile: filepath.Join(t.TempDir(), "m.json")})
			if err == nil {
				t.Fatal("the failed build returned no error")
			}
			if errors.Is(err, ErrNoSpace) != tc.full {
				t.Fatalf("errors.Is(err, ErrNoSpace) = %v; want %v: %v", !tc.full, tc.full, err)
			}
			if !strings.Contains(err.Error(), strings.SplitN(tc.printed, " ", 3)[2]) {
				t.Errorf("the error lost the step's line: %v", err)
			}
		})
	}
}

// TestStepTimes sums a real bake's steps (shfmt, eleven platforms, warm Go
// caches, the builder image already unpacked).
func TestStepTimes(t *testing.T) {
	out, err := os.ReadFile("testdata/bake-shfmt.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := StepTimes(string(out))
	want := map[string]time.Duration{KindCompile: 17900 * time.Millisecond, KindExport: 12200 * time.Millisecond, KindModules: 200 * time.Millisecond, KindOther: 400 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("StepTimes = %v; want %v (the FROM step was cached)", got, want)
	}
	// The same step numbers under another label are other steps.
	twice := StepTimes(string(out) + strings.ReplaceAll(string(out), "[shfmt] ", "[gh] "))
	if twice[KindCompile] != 2*got[KindCompile] {
		t.Errorf("two labels: %v, one: %v", twice, got)
	}
}

// TestBuildMirrorGap: apt's 404 for a package its mirror's index lists is
// reported as the mirror's gap, naming the file, ahead of apt's own lines;
// other fetch failures are not.
func TestBuildMirrorGap(t *testing.T) {
	const gap = "http://deb.debian.org/debian/pool/main/libe/libevent/libevent-core-2.1-7t64_2.1.13-stable-1%7edeb13u1_armel.deb"
	for _, tc := range []struct {
		name, printed, url string
	}{
		{"404", "#14 3.1 E: Failed to fetch " + gap + "  404  Not Found [IP: 203.0.113.80 80]", gap},
		{"unreachable", "#14 3.1 E: Failed to fetch " + gap + "  Could not connect to deb.debian.org:80", ""},
		{"compile error", "#14 3.1 main.c:3:1: error: expected ';'", ""},
		{"index warning, then a compile error", "#9 2.0 W: Failed to fetch http://deb.debian.org/debian/dists/trixie-backports/InRelease  404  Not Found\n#14 3.1 main.c:3:1: error: expected ';'", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := "printf '%b\\n' '" + tc.printed + "'; echo '#14 ERROR: process did not complete successfully: exit code: 100'; exit 1"
			b := Builder{Client: Client{Path: "/bin/sh", Prefix: []string{"-c", script, "buildx"}}}
			_, err := b.Build(context.Background(), BuildRequest{Label: "x", MetadataFile: filepath.Join(t.TempDir(), "m.json")})
			if err == nil {
				t.Fatal("the failed build returned no error")
			}
			if errors.Is(err, ErrMirrorGap) != (tc.url != "") {
				t.Fatalf("errors.Is(err, ErrMirrorGap) = %v: %v", tc.url == "", err)
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if tc.url != "" && !strings.Contains(first, tc.url) {
				t.Errorf("the error's first line does not name the file: %s", first)
			}
		})
	}
}
