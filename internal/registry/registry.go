// Package registry is crossbin's one door to an OCI registry: the names of
// a program's image tags, reads of the index a tag points at, images by
// digest or platform, pushes, and files taken out of an image.
//
// A program is published as one image index in a repository, tagged twice:
// `<name>` (moves with every release) and `<name>-<version>` (the pin; see
// catalog.Program.VersionTag). An index may hold attestation manifests
// beside the platform images (BuildKit marks them with the annotation
// vnd.docker.reference.type=attestation-manifest and the platform
// unknown/unknown); Index keeps the two apart, so code that walks platforms
// never mistakes an attestation for an image.
//
// Every read and write goes through go-containerregistry's remote package
// with the Client's options and the caller's context; no other package
// talks to a registry.
package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
)

// Tags are the two references a program's index is published under in a
// repository.
type Tags struct {
	Name    string // repo:<name>, moved by every release
	Version string // repo:<name>-<version>, the pinned release
}

// TagsOf names prog's tags in repo (e.g. 127.0.0.1:5000/crossbin).
func TagsOf(repo string, prog catalog.Program) Tags {
	return Tags{Name: repo + ":" + prog.Name, Version: repo + ":" + prog.VersionTag()}
}

// All lists both tags, the moving one first.
func (t Tags) All() []string { return []string{t.Name, t.Version} }

// AttestationRefType is the annotation value BuildKit gives attestation
// manifests in an index (key AttestationRefKey).
const (
	AttestationRefKey  = "vnd.docker.reference.type"
	AttestationRefType = "attestation-manifest"
)

// Client reads and writes registries with go-containerregistry.
type Client struct {
	// Keychain finds credentials for a registry; nil is the Docker CLI's
	// (DOCKER_CONFIG or ~/.docker/config.json and its credential helpers),
	// so a `docker login` is all pushing to a real registry needs.
	Keychain authn.Keychain
	// Options are passed to every remote call (transport, ...).
	Options []remote.Option
	// Timeout bounds each call that reads or writes manifests (0: none).
	// Image content is read lazily after a call returns and is bounded by
	// the caller's context only.
	Timeout time.Duration
}

// bound limits one manifest call to c.Timeout; done turns the call's
// error into one that says the timeout expired and which setting raises it.
func (c Client) bound(ctx context.Context) (context.Context, func(err error) error) {
	if c.Timeout <= 0 {
		return ctx, func(err error) error { return err }
	}
	bctx, cancel := context.WithTimeout(ctx, c.Timeout)
	return bctx, func(err error) error {
		expired := bctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err != nil && expired {
			return fmt.Errorf("the registry did not answer within %s (raise CROSSBIN_TIMEOUT_REGISTRY): %w", c.Timeout, err)
		}
		return err
	}
}

func (c Client) options(ctx context.Context, extra ...remote.Option) []remote.Option {
	kc := c.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := append([]remote.Option{remote.WithAuthFromKeychain(kc)}, c.Options...)
	return append(append(opts, remote.WithContext(ctx)), extra...)
}

// ErrNotPublished reports a tag the registry does not have.
var ErrNotPublished = errors.New("not published")

// Index is what a tag points at.
type Index struct {
	Ref    string
	Digest v1.Hash
	// Platforms are the platform images, in index order.
	Platforms []v1.Descriptor
	// Attestations are the attestation manifests, in index order.
	Attestations []v1.Descriptor
	Annotations  map[string]string
	repo         name.Repository
	client       Client
}

// Digests lists the platform images' digests, in index order.
func (i Index) Digests() []v1.Hash {
	out := make([]v1.Hash, len(i.Platforms))
	for n, d := range i.Platforms {
		out[n] = d.Digest
	}
	return out
}

// Image is the platform image d of the index, read with ctx (the image's
// content is read lazily, after Index returned).
func (i Index) Image(ctx context.Context, d v1.Descriptor) (v1.Image, error) {
	return i.client.ImageByDigest(ctx, i.repo.Name(), d.Digest)
}

// IsAttestation reports whether d is an attestation manifest.
func IsAttestation(d v1.Descriptor) bool {
	return d.Annotations[AttestationRefKey] == AttestationRefType
}

// Index reads the index tag (or a digest reference) points at; a missing
// one is ErrNotPublished.
func (c Client) Index(ctx context.Context, tag string) (_ Index, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	ref, err := name.ParseReference(tag)
	if err != nil {
		return Index{}, err
	}
	idx, err := remote.Index(ref, c.options(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return Index{}, fmt.Errorf("%w: %s", ErrNotPublished, tag)
	}
	if err != nil {
		return Index{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return Index{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return Index{}, err
	}
	out := Index{Ref: tag, Digest: d, Annotations: m.Annotations, repo: ref.Context(), client: c}
	for _, desc := range m.Manifests {
		if IsAttestation(desc) {
			out.Attestations = append(out.Attestations, desc)
		} else {
			out.Platforms = append(out.Platforms, desc)
		}
	}
	return out, nil
}

// ImageByDigest reads the image repo@digest.
func (c Client) ImageByDigest(ctx context.Context, repo string, digest v1.Hash) (v1.Image, error) {
	ref, err := name.NewDigest(repo + "@" + digest.String())
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(ref, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return img, nil
}

// PlatformImage reads ref's image for pl (ref may name an index).
func (c Client) PlatformImage(ctx context.Context, ref string, pl platform.Platform) (v1.Image, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(parsed, c.options(ctx, remote.WithPlatform(v1.Platform{OS: pl.OS, Architecture: pl.Arch, Variant: pl.Variant}))...)
	if err != nil {
		return nil, fmt.Errorf("pull %s for %s: %w", ref, pl, err)
	}
	return img, nil
}

// Digest is the digest of the manifest ref names now.
func (c Client) Digest(ctx context.Context, ref string) (_ v1.Hash, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	desc, err := remote.Head(parsed, c.options(ctx)...)
	if err != nil {
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}

// Exists reports whether ref answers a HEAD request.
func (c Client) Exists(ctx context.Context, ref name.Reference) bool {
	ctx, done := c.bound(ctx)
	_, err := remote.Head(ref, c.options(ctx)...)
	return done(err) == nil
}

// Push writes img under ref.
func (c Client) Push(ctx context.Context, ref name.Reference, img v1.Image) error {
	if err := remote.Write(ref, img, c.options(ctx)...); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// Platform is one platform's image in an index and the attestation
// manifests (provenance, SBOM) that describe it.
type Platform struct {
	Image        v1.Hash
	Attestations []v1.Hash
}

// ReferenceDigestKey is the annotation naming the image an attestation
// manifest describes.
const ReferenceDigestKey = "vnd.docker.reference.digest"

// Split reads what a single-platform build pushed (repo@pushed): an image,
// or an index of one image and its attestation manifests, as buildx
// pushes a build with attestations.
func (c Client) Split(ctx context.Context, repo string, pushed v1.Hash) (_ Platform, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	ref, err := name.NewDigest(repo + "@" + pushed.String())
	if err != nil {
		return Platform{}, err
	}
	desc, err := remote.Get(ref, c.options(ctx)...)
	if err != nil {
		return Platform{}, fmt.Errorf("read %s: %w", ref, err)
	}
	if !desc.MediaType.IsIndex() {
		return Platform{Image: pushed}, nil
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return Platform{}, fmt.Errorf("read %s: %w", ref, err)
	}
	var out Platform
	var images []v1.Hash
	for _, d := range m.Manifests {
		if IsAttestation(d) {
			out.Attestations = append(out.Attestations, d.Digest)
		} else {
			images = append(images, d.Digest)
		}
	}
	if len(images) != 1 {
		return Platform{}, fmt.Errorf("%s holds %d images; a single-platform build pushes one", ref, len(images))
	}
	out.Image = images[0]
	return out, nil
}

// PushIndex joins the platforms' images (repo@digest) and their
// attestation manifests into one image index with annotations and pushes
// it by digest, moving no tag; each image's platform is read from its
// config, each attestation is marked as BuildKit marks them (platform
// unknown/unknown, the image's digest as its reference). It returns the
// index's digest.
func (c Client) PushIndex(ctx context.Context, repo string, platforms []Platform, annotations map[string]string) (_ v1.Hash, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		img, err := c.ImageByDigest(ctx, repo, p.Image)
		if err != nil {
			return v1.Hash{}, err
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return v1.Hash{}, fmt.Errorf("read the config of %s@%s: %w", repo, p.Image, err)
		}
		pl := cfg.Platform()
		if pl == nil {
			return v1.Hash{}, fmt.Errorf("%s@%s names no platform in its config", repo, p.Image)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: pl}})
	}
	for _, p := range platforms {
		for _, a := range p.Attestations {
			att, err := c.ImageByDigest(ctx, repo, a)
			if err != nil {
				return v1.Hash{}, err
			}
			adds = append(adds, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
				Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
				Annotations: map[string]string{AttestationRefKey: AttestationRefType, ReferenceDigestKey: p.Image.String()},
			}})
		}
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	if len(annotations) > 0 {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	digest, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	ref, err := name.NewDigest(repo + "@" + digest.String())
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, idx, c.options(ctx)...); err != nil {
		return v1.Hash{}, fmt.Errorf("push the index %s: %w", ref, err)
	}
	return digest, nil
}

// InTotoMediaType is the media type of an in-toto statement layer, and
// PredicateTypeKey the layer annotation naming its predicate type, as
// BuildKit writes attestation manifests.
const (
	InTotoMediaType  = "application/vnd.in-toto+json"
	PredicateTypeKey = "in-toto.io/predicate-type"
)

// Attach adds an in-toto statement to the attestations of the image
// repo@image: as one more layer of the first attestation manifest (where
// BuildKit put its provenance), or as a new attestation manifest when there
// is none. It pushes the result by digest and returns the attestation list
// with the first entry replaced.
func (c Client) Attach(ctx context.Context, repo string, image v1.Hash, attestations []v1.Hash, statement []byte, predicateType string) (_ []v1.Hash, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if len(attestations) > 0 {
		if base, err = c.ImageByDigest(ctx, repo, attestations[0]); err != nil {
			return nil, err
		}
	}
	att, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(statement, InTotoMediaType),
		MediaType:   InTotoMediaType,
		Annotations: map[string]string{PredicateTypeKey: predicateType},
	})
	if err != nil {
		return nil, err
	}
	d, err := att.Digest()
	if err != nil {
		return nil, err
	}
	ref, err := name.NewDigest(repo + "@" + d.String())
	if err != nil {
		return nil, err
	}
	if err := remote.Write(ref, att, c.options(ctx)...); err != nil {
		return nil, fmt.Errorf("push the attestation manifest of %s@%s: %w", repo, image, err)
	}
	if len(attestations) == 0 {
		return []v1.Hash{d}, nil
	}
	return append([]v1.Hash{d}, attestations[1:]...), nil
}

// Statement is one in-toto statement found in an attestation manifest.
type Statement struct {
	PredicateType string
	Data          []byte
}

// Statements reads the in-toto statements of the attestation manifests
// repo@attestations, in order.
func (c Client) Statements(ctx context.Context, repo string, attestations []v1.Hash) ([]Statement, error) {
	var out []Statement
	for _, a := range attestations {
		img, err := c.ImageByDigest(ctx, repo, a)
		if err != nil {
			return nil, err
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, fmt.Errorf("read the attestation manifest %s: %w", a, err)
		}
		for _, l := range m.Layers {
			pt := l.Annotations[PredicateTypeKey]
			if pt == "" {
				continue
			}
			layer, err := img.LayerByDigest(l.Digest)
			if err != nil {
				return nil, err
			}
			rc, err := layer.Uncompressed()
			if err != nil {
				return nil, fmt.Errorf("read the %s statement of %s: %w", pt, a, err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("read the %s statement of %s: %w", pt, a, err)
			}
			out = append(out, Statement{PredicateType: pt, Data: data})
		}
	}
	return out, nil
}

// Repository is the repository the index was read from.
func (i Index) Repository() string { return i.repo.Name() }

// AttestationsOf lists the attestation manifests in the index that
// describe the image digest.
func (i Index) AttestationsOf(digest v1.Hash) []v1.Hash {
	var out []v1.Hash
	for _, a := range i.Attestations {
		if a.Annotations[ReferenceDigestKey] == digest.String() {
			out = append(out, a.Digest)
		}
	}
	return out
}

// IndexByDigest reads the index repo@digest.
func (c Client) IndexByDigest(ctx context.Context, repo string, digest v1.Hash) (Index, error) {
	return c.Index(ctx, repo+"@"+digest.String())
}

// Tag points tag (repo:name) at the manifest repo@digest already in the
// registry.
func (c Client) Tag(ctx context.Context, tag string, digest v1.Hash) (err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	t, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	desc, err := remote.Get(t.Context().Digest(digest.String()), c.options(ctx)...)
	if err != nil {
		return fmt.Errorf("tag %s: read %s: %w", tag, digest, err)
	}
	if err := remote.Tag(t, desc, c.options(ctx)...); err != nil {
		return fmt.Errorf("tag %s: %w", tag, err)
	}
	return nil
}

// ExtractFile writes the file at name (no leading slash) in img's flattened
// filesystem to dst, executable, and returns its size.
func ExtractFile(img v1.Image, name, dst string) (int64, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("the image has no /%s", name)
		}
		if err != nil {
			return 0, fmt.Errorf("read image layers: %w", err)
		}
		if strings.TrimPrefix(h.Name, "/") != name && strings.TrimPrefix(h.Name, "./") != name {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return 0, fmt.Errorf("/%s in the image is not a regular file", name)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return n, err
	}
}

// Referrer is a small OCI artifact that refers to another manifest, its
// subject (OCI distribution spec 1.1): an artifact manifest with the empty
// config and one blob, such as a signature bundle.
type Referrer struct {
	// Digest is the artifact manifest's, set by Referrers.
	Digest       v1.Hash
	ArtifactType string
	// MediaType is the blob's.
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// emptyConfig is the OCI empty descriptor's media type and content, the
// config of an artifact manifest.
const emptyConfigType = "application/vnd.oci.empty.v1+json"

// PushReferrer pushes r as an artifact manifest whose subject is the
// manifest repo@subject, and returns its digest. A registry with the
// referrers API indexes it itself; for one without (the embedded
// distribution registry), go-containerregistry keeps the referrers tag
// schema: the tag sha256-<subject hex> holds an OCI index of the subject's
// referrers, and this push adds r to it.
func (c Client) PushReferrer(ctx context.Context, repo string, subject v1.Hash, r Referrer) (_ v1.Hash, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	sub, err := name.NewDigest(repo + "@" + subject.String())
	if err != nil {
		return v1.Hash{}, err
	}
	desc, err := remote.Head(sub, c.options(ctx)...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read the subject %s: %w", sub, err)
	}
	config := static.NewLayer([]byte("{}"), emptyConfigType)
	blob := static.NewLayer(r.Data, types.MediaType(r.MediaType))
	var descs []v1.Descriptor
	for _, l := range []v1.Layer{config, blob} {
		if err := remote.WriteLayer(sub.Context(), l, c.options(ctx)...); err != nil {
			return v1.Hash{}, fmt.Errorf("push a blob of the %s referrer of %s: %w", r.ArtifactType, sub, err)
		}
		d, err := partial.Descriptor(l)
		if err != nil {
			return v1.Hash{}, err
		}
		descs = append(descs, v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size})
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  r.ArtifactType,
		Config:        descs[0],
		Layers:        descs[1:],
		Subject:       &v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size},
		Annotations:   r.Annotations,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(sub.Context().Digest(d.String()), rawManifest{raw, types.OCIManifestSchema1}, c.options(ctx)...); err != nil {
		return v1.Hash{}, fmt.Errorf("push the %s referrer of %s: %w", r.ArtifactType, sub, err)
	}
	return d, nil
}

// rawManifest is a manifest remote.Put writes as it is.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// Referrers reads the artifacts of artifactType (every type when empty)
// that refer to repo@subject, from the referrers API or, where the registry
// has none, the referrers tag. Artifacts that are not one blob are left
// out: they are not Referrer values (e.g. a full image with a subject).
func (c Client) Referrers(ctx context.Context, repo string, subject v1.Hash, artifactType string) (_ []Referrer, err error) {
	ctx, done := c.bound(ctx)
	defer func() { err = done(err) }()
	sub, err := name.NewDigest(repo + "@" + subject.String())
	if err != nil {
		return nil, err
	}
	opts := c.options(ctx)
	if artifactType != "" {
		opts = append(opts, remote.WithFilter("artifactType", artifactType))
	}
	idx, err := remote.Referrers(sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("list the referrers of %s: %w", sub, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("list the referrers of %s: %w", sub, err)
	}
	var out []Referrer
	for _, d := range m.Manifests {
		if artifactType != "" && d.ArtifactType != artifactType {
			continue
		}
		img, err := c.ImageByDigest(ctx, repo, d.Digest)
		if err != nil {
			return nil, err
		}
		im, err := img.Manifest()
		if err != nil {
			return nil, fmt.Errorf("read the referrer %s of %s: %w", d.Digest, sub, err)
		}
		if len(im.Layers) != 1 {
			continue
		}
		data, err := readBlob(img, im.Layers[0].Digest)
		if err != nil {
			return nil, fmt.Errorf("read the referrer %s of %s: %w", d.Digest, sub, err)
		}
		out = append(out, Referrer{Digest: d.Digest, ArtifactType: im.ArtifactType, MediaType: string(im.Layers[0].MediaType), Data: data, Annotations: im.Annotations})
	}
	return out, nil
}

func readBlob(img v1.Image, digest v1.Hash) ([]byte, error) {
	l, err := img.LayerByDigest(digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
