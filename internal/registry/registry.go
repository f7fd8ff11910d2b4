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
	"context"
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
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

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

// Repository is the repository the index was read from.
func (i Index) Repository() string { return i.repo.Name() }

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
