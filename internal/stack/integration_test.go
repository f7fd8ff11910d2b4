package stack_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/stack"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestStackLifecycle brings up a second, private stack (own cache directory
// and registry port; the tools are shared with the user's cache so they are
// not rebuilt), builds a multi-platform image with it, and takes it through
// down, a repeated up and a crash.
func TestStackLifecycle(t *testing.T) {
	ctx := context.Background()
	s, ep, port := stacktest.Private(t)
	dir := s.CacheDir()

	if st := s.Status(ctx); !st.Healthy() {
		t.Fatalf("status after up is not healthy:\n%s", st)
	}

	t.Run("multi-platform build pushes to the local registry", func(t *testing.T) {
		ctxDir := t.TempDir()
		dockerfile := "ARG GO_IMAGE\nFROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build\nARG TARGETPLATFORM\nRUN go version > /version && echo \"$TARGETPLATFORM\" > /platform\nFROM scratch\nCOPY --from=build /version /platform /\n"
		if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
			t.Fatal(err)
		}
		ref := ep.Registry + "/stacktest:trivial"
		if out, err := ep.Buildx.Run(ctx, "build", "--platform", "linux/amd64,linux/arm64,linux/riscv64",
			"--build-arg", "GO_IMAGE="+ep.GoImage, "--provenance=false", "--output", "type=image,name="+ref+",push=true", ctxDir); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(r)
		if err != nil {
			t.Fatalf("read the pushed index: %v", err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range m.Manifests {
			got = append(got, d.Platform.String())
		}
		if strings.Join(got, ",") != "linux/amd64,linux/arm64,linux/riscv64" {
			t.Fatalf("index platforms = %v", got)
		}
	})

	t.Run("up twice", func(t *testing.T) {
		start := time.Now()
		if _, err := s.Up(ctx); err != nil {
			t.Fatalf("second up: %v", err)
		}
		t.Logf("warm up took %s", time.Since(start))
	})

	t.Run("down", func(t *testing.T) {
		if err := s.Down(ctx); err != nil {
			t.Fatal(err)
		}
		st := s.Status(ctx)
		if st.Registry.Running || st.Buildkitd.Running || st.Healthy() {
			t.Fatalf("still running after down:\n%s", st)
		}
		if _, err := os.Stat(filepath.Join(dir, "buildkit")); err != nil {
			t.Fatalf("down removed the build cache: %v", err)
		}
	})

	t.Run("up after a crash", func(t *testing.T) {
		if _, err := s.Up(ctx); err != nil {
			t.Fatal(err)
		}
		st := s.Status(ctx)
		for _, d := range []stack.DaemonStatus{st.Registry, st.Buildkitd} {
			if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
				t.Fatalf("kill %s: %v", d.Name, err)
			}
		}
		// PID files and buildkitd's socket stay behind, as after a crash.
		waitGone(t, st.Registry.PID, st.Buildkitd.PID)
		if _, err := os.Stat(filepath.Join(dir, "run", "buildkitd.sock")); err != nil {
			t.Fatalf("expected a stale socket: %v", err)
		}
		if _, err := s.Up(ctx); err != nil {
			t.Fatalf("up after crash: %v", err)
		}
		if st := s.Status(ctx); !st.Healthy() {
			t.Fatalf("not healthy after recovering:\n%s", st)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		if err := s.Down(ctx); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, err = s.Up(ctx)
		if err == nil || !strings.Contains(err.Error(), "CROSSBIN_REGISTRY_PORT") {
			t.Fatalf("err = %v; want a port-in-use error naming the setting", err)
		}
		if st := s.Status(ctx); st.Buildkitd.Running || st.Registry.Running {
			t.Fatalf("a failed up left processes running:\n%s", st)
		}
	})
}

func waitGone(t *testing.T, pids ...int) {
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		// The daemons are this process's children: reap them, as a crash
		// of the crossbin process that started them would have.
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still alive", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
