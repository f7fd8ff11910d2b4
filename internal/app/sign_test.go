package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/sign"
)

// TestBadSigningKeyFailsBeforeBuilding: a signing key that cannot be used
// (wrong password, unreadable) fails build:program with one error naming
// the file and the fix, before any builder is looked for (the builder
// named here does not exist: reaching it would fail differently) — and the
// password appears nowhere in the error.
func TestBadSigningKeyFailsBeforeBuilding(t *testing.T) {
	priv, _, err := sign.GenerateKeyPair([]byte("right password"))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "cosign.key")
	if err := os.WriteFile(key, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope.key")
	for _, c := range []struct {
		name, file, password string
		want                 []string
	}{
		{"wrong password", key, "hunter2-wrong", []string{key, "COSIGN_PASSWORD"}},
		{"unreadable key", missing, "right password", []string{missing, "CROSSBIN_SIGNING_KEY"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			cfg := config.Config{Builder: "crossbin-no-such-builder", GoImage: "golang:1.26.8-alpine", Image: "127.0.0.1:1/crossbin",
				Signing: config.Signing{Key: c.file, Password: config.Secret(c.password)}}
			a := &App{Config: cfg, Log: slog.New(slog.DiscardHandler), Root: "../.."}
			_, err := a.BuildProgram(context.Background(), "shfmt", "")
			if err == nil {
				t.Fatal("build:program went on with an unusable signing key")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "buildx") || strings.Contains(err.Error(), c.password) {
				t.Errorf("error %q: want the key's error alone, without the password", err)
			}
		})
	}
}
