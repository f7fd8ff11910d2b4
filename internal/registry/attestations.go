package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

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
