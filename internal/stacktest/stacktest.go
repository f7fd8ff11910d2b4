// Package stacktest gives integration tests the real embedded stack: the
// same one `go tool mage stack:up` brings up, from the user's cache, so
// tools built once are reused. Tests calling it are skipped under -short.
package stacktest

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/sandbox"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/stack"
)

// Config loads crossbin's configuration, skipping the test under -short.
func Config(t testing.TB) config.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the embedded stack (skipped with -short)")
	}
	if os.Geteuid() != 0 {
		t.Skip("integration test: the embedded stack runs as root")
	}
	cfg, err := config.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Up brings the shared embedded stack up (or finds it up) and returns it.
func Up(t testing.TB) (config.Config, stack.Endpoint) {
	t.Helper()
	cfg := Config(t)
	s := stack.New(stack.Options{CacheDir: cfg.CacheDir, RegistryPort: cfg.RegistryPort, GoImage: cfg.GoImage, MinFree: cfg.MinFree, Parallel: cfg.Jobs, Log: Logger(t)})
	ep, err := s.Up(context.Background())
	if err != nil {
		t.Fatalf("stack up: %v", err)
	}
	return cfg, ep
}

// Logger logs to the test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(writer{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type writer struct{ t testing.TB }

func (w writer) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// Private brings up a second stack of the test's own: a fresh cache
// directory (empty build cache, empty registry) on a free port, sharing only
// the built tools with the user's stack. It is stopped when the test ends.
func Private(t testing.TB) (*stack.Stack, stack.Endpoint, int) {
	t.Helper()
	cfg, _ := Up(t) // builds the tools, under the shared stack's lock
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(cfg.CacheDir, "tools"), filepath.Join(dir, "tools")); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	s := stack.New(stack.Options{CacheDir: dir, RegistryPort: port, Parallel: cfg.Jobs, Log: Logger(t)})
	t.Cleanup(func() { _ = s.Down(context.Background()) })
	ep, err := s.Up(context.Background())
	if err != nil {
		t.Fatalf("private stack up: %v", err)
	}
	return s, ep, port
}

// FreePort returns a TCP port nothing listens on right now, below Linux's
// ephemeral range (32768 and up): a port the kernel hands out for outgoing
// connections could be taken again while a test has its registry down.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// Pipeline is pipeline options that build on ep into its registry's
// repository repo, with module sources cached in cacheDir and patches
// applied, from this repository's root. A program's platforms build in
// one bake: the embedded stack bounds its steps.
func Pipeline(t testing.TB, cfg config.Config, ep stack.Endpoint, repo, cacheDir string, patches []patch.Patch) pipeline.Options {
	t.Helper()
	bx := buildx.Builder{Client: ep.Buildx}
	return pipeline.Options{
		Builder: bx, Batch: true, Runner: sandbox.Sandbox{Dir: filepath.Join(cfg.CacheDir, "sandbox")}, GoImage: ep.GoImage, Repository: ep.Registry + "/" + repo,
		Jobs: cfg.Jobs, GoEnv: cfg.GoEnv, Root: filepath.Join("..", ".."), Log: Logger(t),
		Sources: source.Preparer{CacheDir: cacheDir, Env: cfg.Environ(), Patches: patches, Log: Logger(t)},
	}
}
