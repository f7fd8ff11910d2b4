package pipeline_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/sign"
	"github.com/crossbin/crossbin/internal/signtest"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/crossbin/crossbin/internal/verify"
)

// TestSignedIndex publishes shfmt (two platforms) signed into the embedded
// distribution registry, which has no referrers API: the signature is
// found through the referrers tag, verifies with the key's public half,
// fails with another key, and — where the cosign CLI is installed —
// `cosign verify --key` accepts it.
func TestSignedIndex(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	repo := "crossbin-sign-test-" + strings.ToLower(time.Now().Format("150405.000000"))
	repo = strings.ReplaceAll(repo, ".", "")
	opt := stacktest.Pipeline(t, cfg, ep, repo, cfg.CacheDir, nil)
	mine, theirs := signtest.KeyPair(t, "crossbin"), signtest.KeyPair(t, "other")
	check, other, pubFile, otherFile := mine.Verifier, theirs.Verifier, mine.Public, theirs.Public
	opt.Signer = sign.Publisher{Key: mine.Signer, Check: check, Registry: opt.Registry, Repository: opt.Repository}
	ctx := context.Background()
	shfmt := load(t, filepath.Join("..", "..", "dockerfiles", "shfmt"))
	amd64, _ := platform.Parse("linux/amd64")
	arm64, _ := platform.Parse("linux/arm64")
	shfmt.Platforms = []platform.Platform{amd64, arm64}
	rep, err := pipeline.Build(ctx, opt, shfmt, nil)
	if err != nil || !rep.TagsMoved() {
		t.Fatalf("signed build: moved %v, %v", rep.TagsMoved(), err)
	}
	tag := rep.Tags[1]
	if err := verify.Signature(ctx, opt.Registry, tag, check); err != nil {
		t.Errorf("the right key: %v", err)
	}
	err = verify.Signature(ctx, opt.Registry, tag, other)
	if err == nil || !strings.Contains(err.Error(), "signature") || !strings.Contains(err.Error(), otherFile) {
		t.Errorf("another key: %v", err)
	}
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Logf("no cosign on PATH: the cosign CLI check is left out (internal/sign's TestCosignVerifies says how to install it)")
		return
	}
	for _, tc := range []struct {
		pub string
		ok  bool
	}{{pubFile, true}, {otherFile, false}} {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		out, err := exec.CommandContext(cctx, cosign, "verify", "--key", tc.pub, "--insecure-ignore-tlog=true", tag).CombinedOutput()
		cancel()
		if (err == nil) != tc.ok {
			t.Errorf("cosign verify --key %s %s: err %v, want ok=%v\n%s", filepath.Base(tc.pub), tag, err, tc.ok, out)
		}
	}
}
