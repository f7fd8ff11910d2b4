package verify_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
	"github.com/crossbin/crossbin/internal/sign"
	"github.com/crossbin/crossbin/internal/signtest"
	"github.com/crossbin/crossbin/internal/verify"
)

func keys(t *testing.T) (*sign.Signer, sign.Verifier) {
	t.Helper()
	k := signtest.KeyPair(t, "cosign")
	return k.Signer, k.Verifier
}

// TestSignature: the published index verifies with its signer's public
// key; with another key, or unsigned, it fails naming the tag, the index
// and the check.
func TestSignature(t *testing.T) {
	ctx := context.Background()
	repo := registrytest.Serve(t)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag := repo + ":shfmt-v3.14.1"
	idx := registrytest.PushIndex(t, []registrytest.Manifest{{Image: img, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}}, nil, tag)
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	signer, key := keys(t)
	_, other := keys(t)

	if err := verify.Signature(ctx, registry.Client{}, tag, key); err == nil || !strings.Contains(err.Error(), "no signature") {
		t.Errorf("unsigned: err = %v", err)
	}
	if err := signer.Sign(ctx, registry.Client{}, repo, digest); err != nil {
		t.Fatal(err)
	}
	if err := verify.Signature(ctx, registry.Client{}, tag, key); err != nil {
		t.Errorf("signed, right key: %v", err)
	}
	err = verify.Signature(ctx, registry.Client{}, tag, other)
	if err == nil {
		t.Fatal("an index signed with another key verified")
	}
	for _, want := range []string{tag, digest.String(), "signature"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
