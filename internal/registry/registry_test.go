package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registrytest"
)

func TestTagsOf(t *testing.T) {
	prog := catalog.Program{Name: "docker", Version: "v29.9.1+incompatible"}
	got := TagsOf("localhost:5000/crossbin", prog)
	want := Tags{Name: "localhost:5000/crossbin:docker", Version: "localhost:5000/crossbin:docker-v29.9.1"}
	if got != want || !slices.Equal(got.All(), []string{want.Name, want.Version}) {
		t.Errorf("TagsOf = %+v, All = %v", got, got.All())
	}
}

// fileImage is an image whose one layer holds path with content.
func fileImage(t *testing.T, path, content string, typ byte) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: path, Typeflag: typ, Size: int64(len(content)), Mode: 0o755})
	tw.Write([]byte(content))
	tw.Close()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestIndex pushes an index holding two platform images and one
// attestation manifest to an in-process registry and reads it back.
func TestIndex(t *testing.T) {
	repo := registrytest.Serve(t)
	ctx := context.Background()
	c := Client{}

	amd64 := fileImage(t, "bin/hello", "amd64 binary", tar.TypeReg)
	arm64 := fileImage(t, "bin/hello", "arm64 binary", tar.TypeReg)
	att, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(repo + ":hello")
	idx := registrytest.PushIndex(t, []registrytest.Manifest{
		{Image: amd64, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Image: arm64, Platform: v1.Platform{OS: "linux", Architecture: "arm64"}},
		{Image: att, Platform: v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{AttestationRefKey: AttestationRefType, "vnd.docker.reference.digest": "sha256:00"}},
	}, map[string]string{"dev.crossbin.inputs": "sha256:aa"}, tag.String())

	got, err := c.Index(ctx, tag.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Platforms) != 2 || len(got.Attestations) != 1 {
		t.Fatalf("platforms %d, attestations %d; want 2 and 1", len(got.Platforms), len(got.Attestations))
	}
	ad, _ := amd64.Digest()
	rd, _ := arm64.Digest()
	if !slices.Equal(got.Digests(), []v1.Hash{ad, rd}) {
		t.Errorf("Digests = %v", got.Digests())
	}
	if got.Annotations["dev.crossbin.inputs"] != "sha256:aa" {
		t.Errorf("annotations = %v", got.Annotations)
	}
	if want, _ := idx.Digest(); got.Digest != want {
		t.Errorf("Digest = %s, want %s", got.Digest, want)
	}

	// The platform image comes out of the index, by digest and by platform.
	dir := t.TempDir()
	img, err := got.Image(ctx, got.Platforms[1])
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ExtractFile(img, "bin/hello", filepath.Join(dir, "a")); err != nil || n != int64(len("arm64 binary")) {
		t.Errorf("ExtractFile from the index = %d, %v", n, err)
	}
	byDigest, err := c.ImageByDigest(ctx, repo, ad)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := byDigest.Digest(); d != ad {
		t.Errorf("ImageByDigest = %s", d)
	}
	arm, _ := platform.Parse("linux/arm64")
	byPlatform, err := c.PlatformImage(ctx, tag.String(), arm)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := byPlatform.Digest(); d != rd {
		t.Errorf("PlatformImage = %s, want %s", d, rd)
	}

	if _, err := c.Index(ctx, repo+":missing"); !errors.Is(err, ErrNotPublished) {
		t.Errorf("missing tag: %v, want ErrNotPublished", err)
	}
	missing, _ := name.NewTag(repo + ":missing")
	pushed, _ := name.NewTag(repo + ":pushed")
	if c.Exists(ctx, missing) || !c.Exists(ctx, tag) {
		t.Error("Exists is wrong")
	}
	if err := c.Push(ctx, pushed, amd64); err != nil || !c.Exists(ctx, pushed) {
		t.Errorf("Push: %v", err)
	}
}

func TestExtractFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path string
		typ        byte
		want       string // error text; empty: extracted
	}{
		{"regular", "bin/x", tar.TypeReg, ""},
		{"leading slash", "/bin/x", tar.TypeReg, ""},
		{"dot slash", "./bin/x", tar.TypeReg, ""},
		{"missing", "bin/y", tar.TypeReg, "the image has no /bin/x"},
		{"directory", "bin/x", tar.TypeDir, "/bin/x in the image is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := "#!binary"
			if tc.typ == tar.TypeDir {
				content = ""
			}
			dst := filepath.Join(dir, tc.name)
			n, err := ExtractFile(fileImage(t, tc.path, content, tc.typ), "bin/x", dst)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			data, rerr := os.ReadFile(dst)
			st, _ := os.Stat(dst)
			if err != nil || rerr != nil || string(data) != content || n != int64(len(content)) || st.Mode().Perm()&0o100 == 0 {
				t.Errorf("extract = %d, %v; file %q, %v", n, err, data, rerr)
			}
		})
	}
}

// pushPlatformImage pushes a small image whose config names p.
func pushPlatformImage(t *testing.T, c Client, repo string, p v1.Platform) v1.Image {
	t.Helper()
	img := fileImage(t, "bin/x", p.String(), tar.TypeReg)
	cfg, _ := img.ConfigFile()
	cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	img, _ = mutate.ConfigFile(img, cfg)
	d, _ := img.Digest()
	ref, _ := name.NewDigest(repo + "@" + d.String())
	if err := c.Push(context.Background(), ref, img); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPushIndexAndTag: images pushed by digest become one index with each
// image's platform from its config and their attestation manifests marked
// as BuildKit marks them, pushed by digest without a tag; Tag then names
// it. Split reads back what a build with attestations pushed.
func TestPushIndexAndTag(t *testing.T) {
	repo := registrytest.Serve(t)
	ctx := context.Background()
	c := Client{}
	var platforms []Platform
	var digests []v1.Hash
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "arm", Variant: "v6"}, {OS: "linux", Architecture: "s390x"}} {
		img := pushPlatformImage(t, c, repo, p)
		d, _ := img.Digest()
		att, _ := random.Image(16, 1)
		ad, _ := att.Digest()
		aref, _ := name.NewDigest(repo + "@" + ad.String())
		if err := c.Push(ctx, aref, att); err != nil {
			t.Fatal(err)
		}
		// What buildx pushes for one platform with provenance on.
		single := mutate.AppendManifests(empty.Index,
			mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}},
			mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
				Annotations: map[string]string{AttestationRefKey: AttestationRefType, ReferenceDigestKey: d.String()}}})
		sd, _ := single.Digest()
		sref, _ := name.NewDigest(repo + "@" + sd.String())
		if err := remote.WriteIndex(sref, single); err != nil {
			t.Fatal(err)
		}
		split, err := c.Split(ctx, repo, sd)
		if err != nil || split.Image != d || !slices.Equal(split.Attestations, []v1.Hash{ad}) {
			t.Fatalf("Split = %+v, %v; want image %s, attestation %s", split, err, d, ad)
		}
		if alone, err := c.Split(ctx, repo, d); err != nil || alone.Image != d || alone.Attestations != nil {
			t.Errorf("Split of a plain image = %+v, %v", alone, err)
		}
		platforms = append(platforms, split)
		digests = append(digests, d)
	}
	d, err := c.PushIndex(ctx, repo, platforms, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Index(ctx, repo+":x"); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("PushIndex moved a tag: %v", err)
	}
	idx, err := c.IndexByDigest(ctx, repo, d)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idx.Digests(), digests) || idx.Platforms[0].Platform.String() != "linux/arm/v6" || idx.Platforms[1].Platform.String() != "linux/s390x" || idx.Annotations["k"] != "v" {
		t.Errorf("index %+v", idx)
	}
	if len(idx.Attestations) != 2 {
		t.Fatalf("attestations %v", idx.Attestations)
	}
	for i, a := range idx.Attestations {
		if a.Digest != platforms[i].Attestations[0] || a.Annotations[ReferenceDigestKey] != digests[i].String() || a.Platform.String() != "unknown/unknown" {
			t.Errorf("attestation %d: %+v", i, a)
		}
	}
	if err := c.Tag(ctx, repo+":x", d); err != nil {
		t.Fatal(err)
	}
	if tagged, err := c.Index(ctx, repo+":x"); err != nil || tagged.Digest != d {
		t.Errorf("tagged %s, %v; want %s", tagged.Digest, err, d)
	}
	if _, err := c.PushIndex(ctx, repo, []Platform{{Image: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}}}, nil); err == nil {
		t.Error("an index of a missing image was pushed")
	}
}

// TestClientUsesDockerLogin: a registry that wants credentials is read and
// written with those `docker login` stored, as buildx itself would.
func TestClientUsesDockerLogin(t *testing.T) {
	repo := registrytest.ServeWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "robot" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	host := strings.Split(repo, "/")[0]
	cfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("robot:s3cret"))
	os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600)
	ctx := context.Background()
	img := fileImage(t, "bin/x", "x", tar.TypeReg)
	tag, _ := name.NewTag(repo + ":x")

	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no login
	if err := (Client{}).Push(ctx, tag, img); err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Fatalf("push without a login: %v", err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	if err := (Client{}).Push(ctx, tag, img); err != nil {
		t.Fatalf("push with the login: %v", err)
	}
	if !(Client{}).Exists(ctx, tag) {
		t.Error("the pushed image is not there")
	}
}

// TestTimeout: a registry that does not answer in time fails the call with
// the bound and the setting that raises it.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	repo := registrytest.ServeWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/manifests/") {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	defer close(release)
	c := Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.Index(context.Background(), repo+":slow")
	if err == nil || !strings.Contains(err.Error(), "the registry did not answer within 100ms (raise CROSSBIN_TIMEOUT_REGISTRY)") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("the call took %s", time.Since(start))
	}
	if err := c.Tag(context.Background(), repo+":x", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}); err == nil || !strings.Contains(err.Error(), "CROSSBIN_TIMEOUT_REGISTRY") {
		t.Errorf("Tag: %v", err)
	}
	// A caller's own cancellation is not reported as the registry's timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Index(ctx, repo+":slow"); err == nil || strings.Contains(err.Error(), "CROSSBIN_TIMEOUT_REGISTRY") {
		t.Errorf("canceled: %v", err)
	}
}

// TestAttach: a statement becomes a layer of the image's first attestation
// manifest, or a new attestation manifest; Statements reads it back.
func TestAttach(t *testing.T) {
	repo := registrytest.Serve(t)
	ctx := context.Background()
	c := Client{}
	img := pushPlatformImage(t, c, repo, v1.Platform{OS: "linux", Architecture: "riscv64"})
	d, _ := img.Digest()

	fresh, err := c.Attach(ctx, repo, d, nil, []byte(`{"sbom":1}`), "https://spdx.dev/Document")
	if err != nil || len(fresh) != 1 {
		t.Fatalf("Attach to nothing = %v, %v", fresh, err)
	}
	provenance := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	provenance, _ = mutate.Append(provenance, mutate.Addendum{Layer: static.NewLayer([]byte(`{"slsa":1}`), InTotoMediaType), MediaType: InTotoMediaType,
		Annotations: map[string]string{PredicateTypeKey: "https://slsa.dev/provenance/v1"}})
	pd, _ := provenance.Digest()
	pref, _ := name.NewDigest(repo + "@" + pd.String())
	if err := c.Push(ctx, pref, provenance); err != nil {
		t.Fatal(err)
	}
	other := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("e", 64)}
	both, err := c.Attach(ctx, repo, d, []v1.Hash{pd, other}, []byte(`{"sbom":2}`), "https://spdx.dev/Document")
	if err != nil || len(both) != 2 || both[0] == pd || both[1] != other {
		t.Fatalf("Attach to BuildKit's = %v, %v", both, err)
	}
	got, err := c.Statements(ctx, repo, both[:1])
	if err != nil || len(got) != 2 || got[0].PredicateType != "https://slsa.dev/provenance/v1" || string(got[1].Data) != `{"sbom":2}` {
		t.Errorf("Statements = %+v, %v", got, err)
	}
	if got, _ := c.Statements(ctx, repo, fresh); len(got) != 1 || got[0].PredicateType != "https://spdx.dev/Document" {
		t.Errorf("the new manifest's statements: %+v", got)
	}
}

// TestIndexImageAfterTimeout: an index read under the call timeout still
// yields its images afterwards (their content is read lazily).
func TestIndexImageAfterTimeout(t *testing.T) {
	repo := registrytest.Serve(t)
	c := Client{Timeout: time.Second}
	img := pushPlatformImage(t, c, repo, v1.Platform{OS: "linux", Architecture: "amd64"})
	registrytest.PushIndex(t, []registrytest.Manifest{{Image: img, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}}, nil, repo+":x")
	idx, err := c.Index(context.Background(), repo+":x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := idx.Image(context.Background(), idx.Platforms[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractFile(got, "bin/x", filepath.Join(t.TempDir(), "x")); err != nil {
		t.Errorf("read the image after Index returned: %v", err)
	}
}
