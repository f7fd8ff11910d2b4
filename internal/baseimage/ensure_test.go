package baseimage

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
)

// TestEnsureByDigest: the assembled image counts as present only when the
// registry holds the digest recorded when it was pushed.
func TestEnsureByDigest(t *testing.T) {
	ctx := context.Background()
	reg := registry.Client{}
	record := filepath.Join(t.TempDir(), "baseimage", "golang.digest")
	log := slog.New(slog.DiscardHandler)
	builds := 0
	var built v1.Image
	build := func() (v1.Image, func(), error) {
		builds++
		img, err := random.Image(64, 1)
		built = img
		return img, nil, err
	}
	run := func(repo string) string {
		t.Helper()
		ref, _ := name.NewTag(repo + "/golang:1.26.8-crossbin-0123456789ab")
		got, err := ensure(ctx, log, reg, ref, record, "Go builder image", build)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	repo := registrytest.Serve(t)
	first := run(repo)
	d, _ := built.Digest()
	if want := repo + "/golang:1.26.8-crossbin-0123456789ab@" + d.String(); first != want || builds != 1 {
		t.Fatalf("first: %s (%d builds); want %s", first, builds, want)
	}
	if data, _ := os.ReadFile(record); strings.TrimSpace(string(data)) != d.String() {
		t.Errorf("record holds %q", data)
	}
	if again := run(repo); again != first || builds != 1 {
		t.Errorf("present: %s after %d builds; want %s without a build", again, builds, first)
	}

	// Something else under the tag: the recorded digest is still there,
	// so the tag is put back on it and nothing is built.
	other, _ := random.Image(64, 1)
	tag, _ := name.NewTag(repo + "/golang:1.26.8-crossbin-0123456789ab")
	if err := reg.Push(ctx, tag, other); err != nil {
		t.Fatal(err)
	}
	if again := run(repo); again != first || builds != 1 {
		t.Errorf("tag overwritten: %s after %d builds", again, builds)
	}
	if now, _ := reg.Digest(ctx, tag.String()); now != d {
		t.Errorf("the tag was not put back: %s", now)
	}

	// A registry that lost it (a fresh one) gets it again.
	fresh := registrytest.Serve(t)
	if got := run(fresh); builds != 2 || !strings.HasPrefix(got, fresh+"/golang:") {
		t.Errorf("lost image: %s after %d builds", got, builds)
	}
}

func TestPin(t *testing.T) {
	ctx := context.Background()
	reg := registry.Client{}
	repo := registrytest.Serve(t)
	img, _ := random.Image(32, 1)
	tag, _ := name.NewTag(repo + "/golang:1.26.8-alpine")
	if err := reg.Push(ctx, tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	got, err := Pin(ctx, reg, tag.String())
	if err != nil || got != tag.String()+"@"+d.String() {
		t.Fatalf("Pin = %s, %v", got, err)
	}
	// The same tag with new content pins differently: inputs change.
	next, _ := random.Image(32, 1)
	reg.Push(ctx, tag, next)
	if again, _ := Pin(ctx, reg, tag.String()); again == got {
		t.Error("a changed image pinned to the old digest")
	}
	if same, err := Pin(ctx, reg, got); same != got || err != nil {
		t.Errorf("a pinned reference changed: %s, %v", same, err)
	}
	_, err = Pin(ctx, reg, repo+"/golang:missing")
	if err == nil || !strings.Contains(err.Error(), "resolve the Go builder image "+repo+"/golang:missing to a digest") || !strings.Contains(err.Error(), "CROSSBIN_GO_IMAGE") {
		t.Errorf("missing image: %v", err)
	}
}
