package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
	"github.com/crossbin/crossbin/internal/sign"
	"github.com/crossbin/crossbin/internal/signtest"
)

// publisher is a real sign.Publisher over repo whose key pair was made
// here; check is the public key it checks with (nil: the signing key's).
func publisher(t *testing.T, repo string, check *sign.Verifier) sign.Publisher {
	t.Helper()
	k := signtest.KeyPair(t, "cosign")
	v := k.Verifier
	if check != nil {
		v = *check
	}
	return sign.Publisher{Key: k.Signer, Check: v, Repository: repo}
}

// TestRunSignsBeforeTagging: with a Signer, the index the tags point at
// carries a signature the key's public half verifies; an unchanged index
// published before a key existed is signed on the next run, once.
func TestRunSignsBeforeTagging(t *testing.T) {
	ctx := context.Background()
	f := &fakes{repo: registrytest.Serve(t)}
	target := Target{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}
	// First published unsigned.
	if _, _, err := runIn(f, f.repo, map[string]string{"good": "sha256:in"}, target); err != nil {
		t.Fatal(err)
	}
	idx := published(t, f.repo+":good")
	p := publisher(t, f.repo, nil)
	if err := p.Check.Check(ctx, registry.Client{}, f.repo, idx.Digest); !errors.Is(err, sign.ErrNoSignature) {
		t.Fatalf("unsigned run: Check = %v, want ErrNoSignature", err)
	}
	for range 2 {
		opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 1, Inputs: map[string]string{"good": "sha256:in"}, Signer: p}
		res, err := Run(ctx, opt, []Target{target})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res.Reports[0].Unmoved, ErrUnchanged) {
			t.Errorf("unmoved = %v, want unchanged", res.Reports[0].Unmoved)
		}
	}
	if err := p.Check.Check(ctx, registry.Client{}, f.repo, idx.Digest); err != nil {
		t.Fatalf("after signed runs: %v", err)
	}
	if refs, _ := (registry.Client{}).Referrers(ctx, f.repo, idx.Digest, sign.BundleMediaType); len(refs) != 1 {
		t.Errorf("%d signatures after two runs, want 1", len(refs))
	}

	// A new release: signed before its tags move.
	f2 := &fakes{repo: registrytest.Serve(t)}
	p2 := publisher(t, f2.repo, nil)
	opt := Options{Builder: f2, Sources: f2, Checker: f2, Attester: f2, Repository: f2.repo, Jobs: 1, Signer: p2}
	res, err := Run(ctx, opt, []Target{target})
	if err != nil || !res.Reports[0].TagsMoved() {
		t.Fatalf("signed run: %v, moved %v", err, res.Reports[0].TagsMoved())
	}
	if err := p2.Check.Check(ctx, registry.Client{}, f2.repo, published(t, f2.repo+":good").Digest); err != nil {
		t.Fatal(err)
	}
}

// TestRunSignatureFailureMovesNoTag: a signature that does not verify with
// the configured public key (here: another key pair's) fails the program
// and moves neither tag.
func TestRunSignatureFailureMovesNoTag(t *testing.T) {
	f := &fakes{repo: registrytest.Serve(t)}
	other := publisher(t, f.repo, nil).Check
	opt := Options{Builder: f, Sources: f, Checker: f, Attester: f, Repository: f.repo, Jobs: 1, Signer: publisher(t, f.repo, &other)}
	res, err := Run(context.Background(), opt, []Target{{Program: fakeProgram(t, "good", "linux/amd64"), Publish: true}})
	if err == nil || !strings.Contains(err.Error(), "sign good") || !strings.Contains(err.Error(), "signature") || !strings.Contains(err.Error(), "no tag moved") {
		t.Errorf("err = %v", err)
	}
	if !errors.Is(res.Reports[0].Unmoved, ErrSignFailed) || published(t, f.repo+":good") != nil || published(t, f.repo+":good-v1.0.0") != nil {
		t.Errorf("unmoved %v; tags must not exist", res.Reports[0].Unmoved)
	}
}

var _ Signer = sign.Publisher{}
