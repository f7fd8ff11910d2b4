package pipeline_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// TestCProgram builds lz4 from its pinned release tarball (GitHub is not
// reachable here: the bytes come from Debian's pool, a mirror its spec
// lists, checked against the pinned sha256) with the cross C toolchain on
// the build platform for arm64, riscv64 and loong64, and runs each static
// binary under QEMU in the sandbox (loong64's under QEMU 10), with its
// SBOM naming the tarball.
func TestCProgram(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	ctx := context.Background()
	debian, err := ep.DebianImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
	opt.DebianImage = debian
	lz4 := load(t, filepath.Join("..", "..", "dockerfiles", "lz4"))
	var subset []platform.Platform
	for _, s := range []string{"linux/arm64", "linux/riscv64", "linux/loong64"} {
		p, err := platform.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		subset = append(subset, p)
	}
	rep, err := pipeline.Build(ctx, opt, lz4, subset)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != 3 {
		t.Fatalf("%d outcomes", len(rep.Outcomes))
	}
	for _, o := range rep.Outcomes {
		v := o.Verify
		if !v.Ran || !v.SBOM || !strings.Contains(v.Output, strings.TrimPrefix(lz4.Version, "v")) {
			t.Errorf("%s: ran %v, SBOM checked %v, printed %q (%s)", o.Platform, v.Ran, v.SBOM, v.Output, v.Note)
		}
	}
}
