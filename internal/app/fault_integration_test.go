package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestCIRegistryStopsMidRun kills the registry while `mage ci` builds: the
// run fails with a clear error, no tag appears, and the next run (registry
// back) converges. The builder is used as a user's own builder (through the
// docker CLI), so nothing restarts the registry behind the test's back.
func TestCIRegistryStopsMidRun(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs the docker CLI to drive the builder as a user's own")
	}
	cfg := stacktest.Config(t)
	s, ep, port := stacktest.Private(t)
	t.Setenv("DOCKER_CONFIG", filepath.Join(s.CacheDir(), "docker"))
	root := scratchRepo(t, "shfmt")
	os.WriteFile(filepath.Join(root, "dockerfiles", "shfmt", "program.yaml"), []byte("description: test\nplatforms: [linux/amd64, linux/arm64]\n"), 0o644)
	cfg.Builder, cfg.GoImage, cfg.CacheDir, cfg.RegistryPort = "crossbin", ep.GoImage, s.CacheDir(), port
	a := newTestApp(t, cfg, root, "crossbin")
	ctx := context.Background()

	done := make(chan error, 1)
	go func() { _, err := a.CI(ctx); done <- err }()
	time.Sleep(3 * time.Second) // the plan is done; the builds run
	st := s.Status(ctx)
	if err := syscall.Kill(st.Registry.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-done
	t.Logf("run with the registry gone: %v", err)
	if err == nil {
		t.Fatal("the run succeeded without a registry")
	}
	if _, err := s.Up(ctx); err != nil { // the registry comes back with its storage
		t.Fatal(err)
	}
	for _, want := range []string{"shfmt v3.14.1", "no tag was created or moved"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	for _, tag := range []string{a.Config.Image + ":shfmt", a.Config.Image + ":shfmt-v3.14.1"} {
		if _, err := (registry.Client{}).Index(ctx, tag); !errors.Is(err, registry.ErrNotPublished) {
			t.Fatalf("after the failed run %s exists or cannot be read: %v", tag, err)
		}
	}
	repo, _ := name.NewRepository(a.Config.Image)
	if tags, err := remote.List(repo); err == nil && len(tags) > 0 {
		t.Errorf("after the failed run the repository holds tags %v", tags)
	}
	if _, err := a.CI(ctx); err != nil {
		t.Fatalf("the next run does not converge: %v", err)
	}
	if idx := published(t, a, "shfmt"); len(idx.Platforms) != 2 {
		t.Fatalf("published %+v", idx)
	}
	if p := plan(t, a); p["shfmt"] {
		t.Fatal("a third run would build again")
	}
}
