package sign_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/registry"
)

// cosignBinary is the real cosign CLI (v3) on PATH; the test is skipped,
// saying so, without one. Build it with
// `GOBIN=... go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3`.
func cosignBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: runs the cosign CLI")
	}
	path, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("SKIPPED: no cosign on PATH: install cosign v3 (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3) to check signatures with it")
	}
	out, err := exec.Command(path, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v3.") {
		t.Skipf("SKIPPED: %s is not cosign v3: %s", path, out)
	}
	return path
}

// cosignVerify runs `cosign verify` as a consumer would against the
// registry (plain HTTP on 127.0.0.1, no referrers API), offline: no
// transparency log, no TUF.
func cosignVerify(t *testing.T, cosign, pub, ref string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, "verify", "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", ref)
	// No credentials or TUF cache of this machine's user.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The signature crossbin stores verifies with the real `cosign verify
// --key` (v3.1.3), and one made with another key does not.
func TestCosignVerifies(t *testing.T) {
	cosign := cosignBinary(t)
	ctx := context.Background()
	repo, digest := publishIndex(t)
	private, public := keyPair(t, password)
	_, otherPub := keyPair(t, password)
	ref := repo + "@" + digest.String()

	if out, err := cosignVerify(t, cosign, public, ref); err == nil {
		t.Fatalf("cosign verified an unsigned index:\n%s", out)
	}
	s, err := newSignerFrom(private)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(ctx, registry.Client{}, repo, digest); err != nil {
		t.Fatal(err)
	}
	out, err := cosignVerify(t, cosign, public, ref)
	if err != nil {
		t.Fatalf("cosign verify --key: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"docker-manifest-digest":"`+digest.String()+`"`) {
		t.Errorf("cosign verify printed no statement about %s:\n%s", digest, out)
	}
	out, err = cosignVerify(t, cosign, otherPub, ref)
	if err == nil {
		t.Fatalf("cosign verified the index with another key:\n%s", out)
	}
	t.Logf("cosign verify with another key fails as it should:\n%s", out)
}
