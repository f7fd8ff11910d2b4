// Package sign signs published image indexes by digest and checks those
// signatures, in the form `cosign verify` reads.
//
// A signature is a Sigstore bundle (v0.3): a DSSE envelope around an in-toto
// statement whose subject is the index digest and whose predicate type is
// cosign's own (https://sigstore.dev/cosign/sign/v1), signed with a cosign
// key pair and carrying the public key's hint as verification material. The
// bundle is stored the way `cosign sign` (v3, new bundle format) stores it:
// an OCI artifact manifest whose subject is the index, one blob of media
// type application/vnd.dev.sigstore.bundle.v0.3+json. A registry without the
// referrers API (the embedded distribution registry) finds it through the
// referrers tag `sha256-<index hex>` (registry.PushReferrer). `cosign
// verify --key` (v3.1.3) lists the index's referrers the same way, verifies
// each bundle with sigstore-go, and only falls back to the older
// `sha256-<hex>.sig` tags when it finds no bundle.
//
// Keys are cosign's: the private key an "ENCRYPTED SIGSTORE PRIVATE KEY"
// (or "ENCRYPTED COSIGN PRIVATE KEY") PEM block, PKCS #8 encrypted with
// scrypt and secretbox (go-securesystemslib), as `cosign generate-key-pair`
// writes it; the public key a PKIX PEM block. The password is handed in by
// the caller (config reads COSIGN_PASSWORD once) and never appears in an
// error or a log line.
//
// Transparency log: there is none on this machine, so signing records
// nothing in one unless a Rekor URL is given (TLog); a signature without a
// log entry verifies with `cosign verify --insecure-ignore-tlog=true`.
// Keyless signing (OIDC, Fulcio, Rekor) is left to `cosign sign` in the
// publishing workflow.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigopts "github.com/sigstore/sigstore/pkg/signature/options"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossbin/crossbin/internal/registry"
)

// The names cosign gives what it stores (cosign pkg/types, pkg/cosign).
const (
	// PredicateType is the predicate of the statement `cosign sign` signs.
	PredicateType = "https://sigstore.dev/cosign/sign/v1"
	// BundleMediaType is the artifact type of a signature referrer and the
	// media type of its one blob.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PredicateTypeKey and ContentKey annotate the referrer as cosign does.
	PredicateTypeKey = "dev.sigstore.bundle.predicateType"
	ContentKey       = "dev.sigstore.bundle.content"
	// Private key PEM block types cosign reads; it writes the first.
	SigstorePrivateKeyType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	CosignPrivateKeyType   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// ErrNoSignature is returned by Check when the index has no signature at
// all.
var ErrNoSignature = errors.New("no signature")

// loadOptions are cosign's: Ed25519 keys sign pre-hashed (Ed25519ph).
var loadOptions = []signature.LoadOption{sigopts.WithED25519ph()}

// Signer signs with a cosign private key.
type Signer struct {
	file   string
	sv     signature.SignerVerifier
	alg    signature.AlgorithmDetails
	keyAlg string
	hint   []byte
	// TLog is the Rekor URL signatures are recorded in; empty records
	// none.
	TLog string
}

// LoadKey reads the cosign private key in file, decrypted with password.
// Its errors name the file and the fix, never the password.
func LoadKey(file string, password []byte) (*Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the signing key (CROSSBIN_SIGNING_KEY): %w", err)
	}
	p, _ := pem.Decode(data)
	if p == nil || (p.Type != SigstorePrivateKeyType && p.Type != CosignPrivateKeyType) {
		return nil, fmt.Errorf("the signing key %s (CROSSBIN_SIGNING_KEY) is not a cosign private key: want a PEM block %q, as `cosign generate-key-pair` writes", file, SigstorePrivateKeyType)
	}
	der, err := encrypted.Decrypt(p.Bytes, password)
	if err != nil {
		return nil, fmt.Errorf("decrypt the signing key %s (CROSSBIN_SIGNING_KEY): wrong password? set COSIGN_PASSWORD to the password it was created with", file)
	}
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("the signing key %s (CROSSBIN_SIGNING_KEY): %w", file, err)
	}
	sv, err := signature.LoadDefaultSignerVerifier(pk, loadOptions...)
	if err != nil {
		return nil, fmt.Errorf("the signing key %s (CROSSBIN_SIGNING_KEY): %w", file, err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	alg, err := signature.GetDefaultAlgorithmDetails(pub, loadOptions...)
	if err != nil {
		return nil, fmt.Errorf("the signing key %s (CROSSBIN_SIGNING_KEY): %w", file, err)
	}
	der, err = x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	s := &Signer{file: file, sv: sv, alg: alg, hint: []byte(base64.StdEncoding.EncodeToString(sum[:]))}
	switch pub.(type) {
	case *ecdsa.PublicKey:
		s.keyAlg = "ECDSA"
	case *rsa.PublicKey:
		s.keyAlg = "RSA"
	case ed25519.PublicKey:
		s.keyAlg = "ED25519"
	}
	return s, nil
}

// File is the key file the signer was loaded from.
func (s *Signer) File() string { return s.file }

// Verifier checks signatures made by s.
func (s *Signer) Verifier() (Verifier, error) {
	pub, err := s.sv.PublicKey()
	if err != nil {
		return Verifier{}, err
	}
	return newVerifier(pub, s.file)
}

// Statement is the in-toto statement signed for the index digest, as
// `cosign sign` writes it.
func Statement(digest v1.Hash) ([]byte, error) {
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{digest.Algorithm: digest.Hex}}},
		PredicateType: PredicateType,
		Predicate:     &structpb.Struct{},
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return protojson.Marshal(st)
}

// Bundle signs the index digest and returns the Sigstore bundle, as JSON.
func (s *Signer) Bundle(ctx context.Context, digest v1.Hash) ([]byte, error) {
	st, err := Statement(digest)
	if err != nil {
		return nil, err
	}
	opts := sgsign.BundleOptions{Context: ctx}
	if s.TLog != "" {
		opts.TransparencyLogs = []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: s.TLog, Timeout: 30 * time.Second, Retries: 2})}
	}
	b, err := sgsign.Bundle(&sgsign.DSSEData{Data: st, PayloadType: "application/vnd.in-toto+json"}, keypair{s}, opts)
	if err != nil {
		return nil, fmt.Errorf("sign %s with %s: %w", digest, s.file, err)
	}
	return protojson.Marshal(b)
}

// Sign signs the index repo@digest and pushes the bundle as its referrer.
func (s *Signer) Sign(ctx context.Context, reg registry.Client, repo string, digest v1.Hash) error {
	b, err := s.Bundle(ctx, digest)
	if err != nil {
		return err
	}
	_, err = reg.PushReferrer(ctx, repo, digest, registry.Referrer{
		ArtifactType: BundleMediaType,
		MediaType:    BundleMediaType,
		Data:         b,
		Annotations: map[string]string{
			ContentKey:                         "dsse-envelope",
			PredicateTypeKey:                   PredicateType,
			"org.opencontainers.image.created": time.Now().UTC().Format(time.RFC3339),
		},
	})
	if err != nil {
		return fmt.Errorf("store the signature of %s@%s: %w", repo, digest, err)
	}
	return nil
}

// keypair is sigstore-go's view of a cosign key, as cosign's own
// SignerVerifierKeypair presents it.
type keypair struct{ s *Signer }

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.s.alg.GetProtoHashType() }
func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.s.alg.GetSignatureAlgorithm()
}
func (k keypair) GetHint() []byte         { return k.s.hint }
func (k keypair) GetKeyAlgorithm() string { return k.s.keyAlg }
func (k keypair) GetPublicKey() crypto.PublicKey {
	pub, _ := k.s.sv.PublicKey()
	return pub
}

func (k keypair) GetPublicKeyPem() (string, error) {
	pub, err := k.s.sv.PublicKey()
	if err != nil {
		return "", err
	}
	p, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	return string(p), err
}

func (k keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	opts := []signature.SignOption{sigopts.WithContext(ctx)}
	var digest []byte
	if h := k.s.alg.GetHashType(); h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
		opts = append(opts, sigopts.WithDigest(digest))
	}
	sig, err := k.s.sv.SignMessage(bytes.NewReader(data), opts...)
	return sig, digest, err
}

// Verifier checks signatures against a cosign public key.
type Verifier struct {
	file string
	v    signature.Verifier
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(file string) (Verifier, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Verifier{}, fmt.Errorf("read the verification key (CROSSBIN_VERIFY_KEY): %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return Verifier{}, fmt.Errorf("the verification key %s (CROSSBIN_VERIFY_KEY) is not a PEM public key such as cosign.pub: %w", file, err)
	}
	return newVerifier(pub, file)
}

func newVerifier(pub crypto.PublicKey, file string) (Verifier, error) {
	v, err := signature.LoadDefaultVerifier(pub, loadOptions...)
	if err != nil {
		return Verifier{}, fmt.Errorf("the key %s: %w", file, err)
	}
	return Verifier{file: file, v: v}, nil
}

// File is the key file the verifier was loaded from.
func (v Verifier) File() string { return v.file }

// VerifyBundle checks that the bundle (JSON) signs the index digest with
// v's key, as `cosign verify --key --insecure-ignore-tlog=true` does: the
// DSSE signature, the statement's subject, no timestamps required.
func (v Verifier) VerifyBundle(data []byte, digest v1.Hash) error {
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("read the bundle: %w", err)
	}
	key := root.NewExpiringKey(v.v, time.Time{}, time.Time{})
	trusted := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	ver, err := verify.NewVerifier(trusted, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	want, err := hex.DecodeString(digest.Hex)
	if err != nil {
		return err
	}
	if _, err := ver.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest(digest.Algorithm, want), verify.WithKey())); err != nil {
		return err
	}
	return nil
}

// Check verifies that the index repo@digest carries at least one
// signature that v's key made for it. Without any it returns an error
// wrapping ErrNoSignature; with only bad ones, why each failed.
func (v Verifier) Check(ctx context.Context, reg registry.Client, repo string, digest v1.Hash) error {
	refs, err := reg.Referrers(ctx, repo, digest, BundleMediaType)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if len(refs) == 0 {
		return fmt.Errorf("signature: %w on %s@%s (sign it: set CROSSBIN_SIGNING_KEY and publish again)", ErrNoSignature, repo, digest)
	}
	var errs []error
	for _, r := range refs {
		err := v.VerifyBundle(r.Data, digest)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.Digest, err))
	}
	return fmt.Errorf("signature: none of the %d signature(s) on %s@%s verifies with the key %s: %w", len(refs), repo, digest, v.file, errors.Join(errs...))
}

// Publisher signs the indexes published in one repository with Key and
// checks each signature with Check (the public key a consumer verifies
// with) before the caller moves a tag.
type Publisher struct {
	Key        *Signer
	Check      Verifier
	Registry   registry.Client
	Repository string
}

// Sign signs the index digest unless it already carries a signature that
// Check accepts, then checks it: an unchanged index published twice gets
// one signature, and a key pair whose halves do not match fails here,
// before any tag moves.
func (p Publisher) Sign(ctx context.Context, digest v1.Hash) error {
	if p.Check.Check(ctx, p.Registry, p.Repository, digest) == nil {
		return nil
	}
	if err := p.Key.Sign(ctx, p.Registry, p.Repository, digest); err != nil {
		return err
	}
	return p.Check.Check(ctx, p.Registry, p.Repository, digest)
}

// GenerateKeyPair makes a cosign key pair (ECDSA P-256, the private key
// encrypted with password) as PEM: what `cosign generate-key-pair` writes
// to cosign.key and cosign.pub.
func GenerateKeyPair(password []byte) (private, public []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, nil, err
	}
	public, err = cryptoutils.MarshalPublicKeyToPEM(k.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyType, Bytes: enc}), public, nil
}
