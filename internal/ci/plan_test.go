package ci

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/registrytest"
)

// failingRegistry serves an in-process registry that answers 500 for every
// request of a path in fail, and returns its repository.
func failingRegistry(t *testing.T, fail ...string) string {
	t.Helper()
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range fail {
			if r.URL.Path == p {
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://") + "/crossbin"
}

// noRetry keeps the client from retrying a 500 with seconds of backoff.
var noRetry = registry.Client{Options: []remote.Option{remote.WithRetryBackoff(remote.Backoff{Steps: 1})}}

// publish pushes a one-platform index for prog under both its tags, with
// inputs as its annotation.
func publish(t *testing.T, repo string, prog catalog.Program, in string) v1.ImageIndex {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	return registrytest.PushIndex(t, []registrytest.Manifest{{Image: img, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}},
		map[string]string{inputs.Annotation: in}, registry.TagsOf(repo, prog).All()...)
}

// TestPlanOneRegistryError: a 500 for one program's tag marks that program
// failed, naming the tag and the cause; the others are planned as usual.
func TestPlanOneRegistryError(t *testing.T) {
	shfmt, dlv, helm := program(t, "shfmt"), program(t, "dlv"), program(t, "helm")
	repo := failingRegistry(t, "/v2/crossbin/manifests/dlv")
	set := inputs.Set{Root: filepath.Join("..", "..")}
	in, err := set.Of(shfmt)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, repo, shfmt, in)

	entries, err := Plan(context.Background(), noRetry, repo, set, []catalog.Program{shfmt, dlv, helm})
	if err != nil {
		t.Fatalf("one program's registry error failed the plan: %v", err)
	}
	if e := entries[0]; e.Err != nil || e.Build || e.Reason != "up to date" {
		t.Errorf("shfmt: %+v; want up to date", e)
	}
	if e := entries[2]; e.Err != nil || !e.Build || !strings.HasPrefix(e.Reason, "not published: ") {
		t.Errorf("helm: %+v; want built because not published", e)
	}
	e := entries[1]
	if e.Err == nil || e.Build {
		t.Fatalf("dlv: %+v; want failed, not built", e)
	}
	for _, want := range []string{"plan dlv: ", "read " + repo + ":dlv: ", "500"} {
		if !strings.Contains(e.Err.Error(), want) {
			t.Errorf("dlv's error %q lacks %q", e.Err, want)
		}
	}

	m := NewMatrix(entries)
	if len(m.Include) != len(helm.Platforms) || m.Include[0].Program != "helm" {
		t.Errorf("matrix %+v; want helm's jobs only", m)
	}
	if err := PlanErrors(entries); err == nil || !strings.Contains(err.Error(), "plan dlv: ") {
		t.Errorf("PlanErrors = %v; want dlv's error", err)
	}
	if _, ok := InputsMap(entries)["dlv"]; ok {
		t.Error("InputsMap holds the program that could not be planned")
	}
}

// TestPlanCancelled: a cancelled context fails the plan as a whole.
func TestPlanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Plan(ctx, noRetry, registrytest.Serve(t), inputs.Set{Root: filepath.Join("..", "..")}, []catalog.Program{program(t, "shfmt")})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v; want the cancellation", err)
	}
}
