// Package stacktest gives integration tests the real embedded stack: the
// same one `go tool mage stack:up` brings up, from the user's cache, so
// tools built once are reused. Tests calling it are skipped under -short.
package stacktest

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/crossbin/crossbin/internal/config"
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
	s := stack.New(stack.Options{CacheDir: cfg.CacheDir, RegistryPort: cfg.RegistryPort, GoImage: cfg.GoImage, Log: Logger(t)})
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
