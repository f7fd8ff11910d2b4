package buildx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
