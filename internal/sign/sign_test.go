package sign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
	"github.com/crossbin/crossbin/internal/sign"
)

const password = "correct horse battery staple"

// keyPair writes a cosign key pair made with password into a temporary
// directory and returns the files.
func keyPair(t *testing.T, password string) (private, public string) {
	t.Helper()
	priv, pub, err := sign.GenerateKeyPair([]byte(password))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	private, public = filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(private, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return private, public
}

// publishIndex pushes a two-platform index to a fresh in-process registry
// (no referrers API, like the embedded distribution registry).
func publishIndex(t *testing.T) (repo string, digest v1.Hash) {
	t.Helper()
	repo = registrytest.Serve(t)
	var ms []registrytest.Manifest
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, registrytest.Manifest{Image: img, Platform: v1.Platform{OS: "linux", Architecture: arch}})
	}
	idx := registrytest.PushIndex(t, ms, nil, repo+":shfmt")
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return repo, d
}

// newSigner makes a key pair and loads both halves.
func newSigner(t *testing.T) (*sign.Signer, sign.Verifier) {
	t.Helper()
	private, public := keyPair(t, password)
	s, err := sign.LoadKey(private, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	v, err := sign.LoadPublicKey(public)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestSignVerifies(t *testing.T) {
	ctx := context.Background()
	repo, digest := publishIndex(t)
	s, v := newSigner(t)
	reg := registry.Client{}
	if err := v.Check(ctx, reg, repo, digest); !errors.Is(err, sign.ErrNoSignature) {
		t.Fatalf("before signing: Check = %v, want ErrNoSignature", err)
	}
	if err := s.Sign(ctx, reg, repo, digest); err != nil {
		t.Fatal(err)
	}
	if err := v.Check(ctx, reg, repo, digest); err != nil {
		t.Fatalf("the signer's own public key: %v", err)
	}
	// The signature is for this digest only.
	other, err := v1.NewHash("sha256:" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := reg.Referrers(ctx, repo, digest, sign.BundleMediaType)
	if err != nil || len(refs) != 1 {
		t.Fatalf("referrers = %d, %v; want 1", len(refs), err)
	}
	if err := v.VerifyBundle(refs[0].Data, other); err == nil {
		t.Fatal("the bundle verified for another digest")
	}
}

func TestAnotherKeyFails(t *testing.T) {
	ctx := context.Background()
	repo, digest := publishIndex(t)
	s, _ := newSigner(t)
	_, otherPub := keyPair(t, password)
	other, err := sign.LoadPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sign(ctx, registry.Client{}, repo, digest); err != nil {
		t.Fatal(err)
	}
	err = other.Check(ctx, registry.Client{}, repo, digest)
	if err == nil {
		t.Fatal("an index signed with another key verified")
	}
	for _, want := range []string{"signature", "verifies with the key " + otherPub, digest.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestTamperedSignatureFails(t *testing.T) {
	ctx := context.Background()
	repo, digest := publishIndex(t)
	s, v := newSigner(t)
	b, err := s.Bundle(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	// Flip the statement inside the envelope: the signature no longer
	// covers it.
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	env := doc["dsseEnvelope"].(map[string]any)
	st, _ := sign.Statement(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)})
	env["payload"] = st
	tampered, _ := json.Marshal(doc)
	if err := v.VerifyBundle(tampered, digest); err == nil {
		t.Fatal("a tampered bundle verified")
	}
	if _, err := (registry.Client{}).PushReferrer(ctx, repo, digest, registry.Referrer{ArtifactType: sign.BundleMediaType, MediaType: sign.BundleMediaType, Data: tampered}); err != nil {
		t.Fatal(err)
	}
	err = v.Check(ctx, registry.Client{}, repo, digest)
	if err == nil || errors.Is(err, sign.ErrNoSignature) {
		t.Fatalf("Check with only a tampered signature = %v, want a verification failure", err)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	private, _ := keyPair(t, password)
	notKey := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(notKey, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.key")
	for _, c := range []struct {
		name, file, password string
		want                 []string
	}{
		{"wrong password", private, "not the password", []string{private, "COSIGN_PASSWORD", "wrong password"}},
		{"empty password", private, "", []string{private, "COSIGN_PASSWORD"}},
		{"unreadable", missing, password, []string{missing, "CROSSBIN_SIGNING_KEY"}},
		{"not a private key", notKey, password, []string{notKey, "ENCRYPTED SIGSTORE PRIVATE KEY", "cosign generate-key-pair"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sign.LoadKey(c.file, []byte(c.password))
			if err == nil {
				t.Fatal("LoadKey succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{password, "not the password"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals the password", err)
				}
			}
		})
	}
}

// The stored layout is what `cosign verify` (v3.1.3) reads from a
// registry without the referrers API: the referrers tag sha256-<hex> holds
// an OCI index listing a manifest whose subject is the index and whose one
// layer is the bundle.
func TestReferrersTagLayout(t *testing.T) {
	ctx := context.Background()
	repo, digest := publishIndex(t)
	s, _ := newSigner(t)
	if err := s.Sign(ctx, registry.Client{}, repo, digest); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(repo + ":sha256-" + digest.Hex)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatalf("no referrers tag %s: %v", tag, err)
	}
	if desc.MediaType != types.OCIImageIndex {
		t.Fatalf("referrers tag holds %s, want an OCI index", desc.MediaType)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != sign.BundleMediaType || idx.Manifests[0].MediaType != types.OCIManifestSchema1 {
		t.Fatalf("referrers index lists %+v, want one %s manifest", idx.Manifests, sign.BundleMediaType)
	}
	if got := idx.Manifests[0].Annotations[sign.PredicateTypeKey]; got != sign.PredicateType {
		t.Errorf("referrer annotation %s = %q, want %q", sign.PredicateTypeKey, got, sign.PredicateType)
	}
	m, err := remote.Get(tag.Context().Digest(idx.Manifests[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	var mf v1.Manifest
	if err := json.Unmarshal(m.Manifest, &mf); err != nil {
		t.Fatal(err)
	}
	switch {
	case mf.Subject == nil || mf.Subject.Digest != digest || mf.Subject.MediaType != types.OCIImageIndex:
		t.Errorf("subject = %+v, want the index %s", mf.Subject, digest)
	case mf.ArtifactType != sign.BundleMediaType:
		t.Errorf("artifactType = %q", mf.ArtifactType)
	case mf.Config.MediaType != "application/vnd.oci.empty.v1+json" || mf.Config.Size != 2:
		t.Errorf("config = %+v, want the OCI empty descriptor", mf.Config)
	case len(mf.Layers) != 1 || mf.Layers[0].MediaType != sign.BundleMediaType:
		t.Errorf("layers = %+v, want one bundle", mf.Layers)
	}
	// The bundle is a v0.3 Sigstore bundle: public key hint, DSSE envelope
	// over cosign's statement about the index, no transparency log entry.
	refs, err := (registry.Client{}).Referrers(ctx, repo, digest, sign.BundleMediaType)
	if err != nil || len(refs) != 1 {
		t.Fatalf("referrers = %v, %v", refs, err)
	}
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
			TlogEntries []any `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(refs[0].Data, &b); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(b.DSSEEnvelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	switch {
	case b.MediaType != sign.BundleMediaType:
		t.Errorf("bundle mediaType = %q", b.MediaType)
	case b.VerificationMaterial.PublicKey.Hint == "":
		t.Error("bundle has no public key hint")
	case len(b.VerificationMaterial.TlogEntries) != 0:
		t.Error("bundle has transparency log entries although none was asked for")
	case b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json":
		t.Errorf("payloadType = %q", b.DSSEEnvelope.PayloadType)
	case st.PredicateType != sign.PredicateType || len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != digest.Hex:
		t.Errorf("statement = %+v, want cosign's about %s", st, digest)
	}
}

func TestPublisherSignsOnce(t *testing.T) {
	ctx := context.Background()
	repo, digest := publishIndex(t)
	s, v := newSigner(t)
	p := sign.Publisher{Key: s, Check: v, Repository: repo}
	for range 2 {
		if err := p.Sign(ctx, digest); err != nil {
			t.Fatal(err)
		}
	}
	refs, err := (registry.Client{}).Referrers(ctx, repo, digest, sign.BundleMediaType)
	if err != nil || len(refs) != 1 {
		t.Fatalf("after signing twice: %d signatures, %v; want 1", len(refs), err)
	}
}

// A verification key that is not the signing key's other half fails the
// publisher after signing, so no tag moves.
func TestPublisherMismatchedKeys(t *testing.T) {
	repo, digest := publishIndex(t)
	s, _ := newSigner(t)
	_, other := newSigner(t)
	err := sign.Publisher{Key: s, Check: other, Repository: repo}.Sign(context.Background(), digest)
	if err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("Sign with a mismatched verification key = %v, want a signature error", err)
	}
}

func newSignerFrom(private string) (*sign.Signer, error) {
	return sign.LoadKey(private, []byte(password))
}
