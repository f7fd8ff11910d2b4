package pipeline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// TestHelmRiscv64NeedsItsPatch builds helm v3.6.2 for linux/riscv64 with
// testdata/patches/helm-procfs-riscv64.yaml (it builds, is a RISC-V binary and
// prints v3.6.2 under QEMU) and without it (procfs v0.2.0 does not compile).
func TestHelmRiscv64NeedsItsPatch(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	ctx := context.Background()
	helm := load(t, filepath.Join("..", "..", "dockerfiles", "helm"))
	helm.Version = "v3.6.2" // the release the patch is for, whatever the catalog pins
	patches, err := patch.Load(filepath.Join("testdata", "patches"))
	if err != nil {
		t.Fatal(err)
	}
	riscv, _ := platform.Parse("linux/riscv64")
	amd64, _ := platform.Parse("linux/amd64")
	subset := []platform.Platform{riscv}

	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, patches)
	rep, err := pipeline.Build(ctx, opt, helm, []platform.Platform{riscv, amd64})
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatalf("with the patch: %v", err)
	}
	// Each platform's SBOM says what was compiled there: the patch raised
	// procfs for riscv64 only.
	for i, want := range []string{"v0.6.0", "v0.2.0"} {
		if got := sbomModules(t, opt, rep.Outcomes[i])["github.com/prometheus/procfs"]; got != want {
			t.Errorf("%s SBOM: procfs %s, want %s", rep.Outcomes[i].Platform, got, want)
		}
	}
	o := rep.Outcomes[0]
	if strings.Join(o.Patches, ",") != "helm-procfs-riscv64" {
		t.Errorf("patches applied: %v", o.Patches)
	}
	if o.Verify.ELF != "EM_RISCV ELFCLASS64 ELFDATA2LSB" || !o.Verify.Ran || o.Verify.Output != "v3.6.2" {
		t.Errorf("verify: %+v", o.Verify)
	}

	opt = stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
	rep, err = pipeline.Build(ctx, opt, helm, subset)
	if err == nil {
		t.Fatal("helm v3.6.2 built for riscv64 without its patch: the patch is not needed any more")
	}
	if !strings.Contains(err.Error(), "undefined: parseCPUInfo") {
		t.Errorf("without the patch it failed for another reason: %v", err)
	}
}

// TestReproducibleDigest builds shfmt twice on a private stack, pruning
// every cache in between, and gets the same image digests.
func TestReproducibleDigest(t *testing.T) {
	cfg := stacktest.Config(t)
	_, ep, _ := stacktest.Private(t)
	ctx := context.Background()
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", t.TempDir(), nil)
	shfmt := load(t, filepath.Join("..", "..", "dockerfiles", "shfmt"))
	var subset []platform.Platform
	for _, s := range []string{"linux/amd64", "linux/arm64"} {
		p, _ := platform.Parse(s)
		subset = append(subset, p)
	}
	var digests [2][]string
	for i := range digests {
		if _, err := ep.Buildx.Run(ctx, "prune", "--all", "--force"); err != nil {
			t.Fatal(err)
		}
		rep, err := pipeline.Build(ctx, opt, shfmt, subset)
		t.Logf("\n%s", rep.Table())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range rep.Outcomes {
			digests[i] = append(digests[i], o.Platform.String()+"@"+o.Digest.String())
		}
	}
	if strings.Join(digests[0], " ") != strings.Join(digests[1], " ") {
		t.Errorf("two clean builds differ:\n%v\n%v", digests[0], digests[1])
	}
}
