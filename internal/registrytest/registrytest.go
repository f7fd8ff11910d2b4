// Package registrytest gives unit tests an in-process OCI registry
// (go-containerregistry's, over httptest) and a way to publish an index in
// it the way crossbin does: platform images, optional attestation
// manifests, index annotations, under one or more tags.
package registrytest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Serve starts a registry for the test and returns a repository in it,
// e.g. 127.0.0.1:34567/crossbin.
func Serve(t testing.TB) string {
	t.Helper()
	return ServeWith(t, nil)
}

// ServeWith is Serve with the registry's handler wrapped, e.g. to fail
// some requests.
func ServeWith(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://") + "/crossbin"
}

// Manifest is one entry of an index.
type Manifest struct {
	Image       v1.Image
	Platform    v1.Platform
	Annotations map[string]string
}

// PushIndex pushes an index of manifests with annotations under each tag
// and returns it.
func PushIndex(t testing.TB, manifests []Manifest, annotations map[string]string, tags ...string) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, m := range manifests {
		adds = append(adds, mutate.IndexAddendum{Add: m.Image, Descriptor: v1.Descriptor{Platform: &m.Platform, Annotations: m.Annotations}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	if annotations != nil {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	for _, tag := range tags {
		ref, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}
