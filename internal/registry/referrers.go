package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

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
