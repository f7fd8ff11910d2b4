package sandbox

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// pid1Source is the sandbox's first process (see pid1/main.go). It is
// built from source with the go tool that runs crossbin, once per version
// of this file, into the sandbox's directory: code that must run inside
// the namespaces before the binary cannot be a function of the calling
// process (Go forks and execs in one step).
//
//go:embed pid1/main.go
var pid1Source []byte

// helper returns the path of the built pid1, building it when Dir holds
// none for this source. Concurrent calls may build it twice; each renames
// a complete binary into place.
func (s Sandbox) helper(ctx context.Context) (string, error) {
	if s.Dir == "" {
		return "", errors.New("sandbox: no directory to keep its helper in (Sandbox.Dir is empty)")
	}
	// Keyed by what it is built from and for: a cache directory shared
	// between machines must not hand one a helper of another.
	h := sha256.New()
	h.Write(pid1Source)
	fmt.Fprintf(h, "\x00%s/%s %s", runtime.GOOS, runtime.GOARCH, runtime.Version())
	bin := filepath.Join(s.Dir, "pid1-"+hex.EncodeToString(h.Sum(nil)[:6]))
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	// Only its owner may put a binary there that crossbin runs as root.
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("sandbox helper: %w", err)
	}
	src, err := os.MkdirTemp(s.Dir, "build-")
	if err != nil {
		return "", fmt.Errorf("sandbox helper: %w", err)
	}
	defer os.RemoveAll(src)
	files := map[string][]byte{
		"main.go": pid1Source,
		"go.mod":  []byte("module crossbin.invalid/sandbox/pid1\n\ngo 1.22\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			return "", fmt.Errorf("sandbox helper: %w", err)
		}
	}
	tmp := filepath.Join(src, "pid1")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, ".")
	cmd.Dir = src
	// Only the standard library, for the machine crossbin runs on: no
	// module download, no toolchain switch, no cgo (setuid must reach
	// every thread, which Go does itself only without cgo).
	// GOENV=off: an empty GOOS would fall back to `go env -w` settings.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "GOFLAGS=",
		"GOENV=off", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("sandbox helper: go build: %w\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("sandbox helper: %w", err)
	}
	return bin, nil
}
