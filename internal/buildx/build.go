package buildx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/crossbin/crossbin/internal/lines"
)

// Builder runs builds through a Client.
type Builder struct {
	Client Client
	// Output, when set, receives buildx's own output, each line prefixed
	// with its request's Label.
	Output io.Writer
}

// ErrNoSpace reports a build that ran out of disk space: the builder's
// state (BuildKit's caches) filled its filesystem.
var ErrNoSpace = errors.New("the builder ran out of disk space (no space left on device): free space where BuildKit keeps its state " +
	"(the embedded stack's: `go tool mage stack:prune` drops its build cache)")

// ErrMirrorGap reports a package apt could not fetch although its mirror's
// index lists it (HTTP 404): the mirror has not synced that file. Not the
// program's fault, nor crossbin's.
var ErrMirrorGap = errors.New("the Debian mirror lists a package it does not serve (HTTP 404; the mirror is behind its own index): " +
	"retry later, or build on a Debian image whose sources name another mirror (CROSSBIN_DEBIAN_IMAGE)")

// mirrorGap returns the first package apt's install failed to fetch with a
// 404 in a build's output ("E: Failed to fetch …deb  404"), or "". An
// index's 404 in apt-get update's warnings ("W:") is not one.
func mirrorGap(out string) string {
	for l := range strings.Lines(out) {
		_, rest, ok := strings.Cut(l, "E: Failed to fetch ")
		if !ok {
			continue
		}
		if f := strings.Fields(rest); len(f) >= 2 && f[1] == "404" && strings.HasSuffix(f[0], ".deb") {
			return f[0]
		}
	}
	return ""
}

// Build runs one build request and returns the digest of the image it
// pushed (from the request's metadata file). A failed build's error names
// the failed step's own last lines (StepError), then buildx's last lines.
func (b Builder) Build(ctx context.Context, req BuildRequest) (v1.Hash, error) {
	if _, err := b.run(b.buildCommand(ctx, req), req.Label, "build"); err != nil {
		return v1.Hash{}, err
	}
	return readDigest(req.MetadataFile)
}

// Export runs a build request whose output is a local directory
// (req.LocalOutput), such as a C program's build record.
func (b Builder) Export(ctx context.Context, req BuildRequest) error {
	if req.LocalOutput == "" {
		return fmt.Errorf("export %s: the request has no local output directory", req.Label)
	}
	_, err := b.run(b.buildCommand(ctx, req), req.Label, "build")
	return err
}

// buildCommand is the buildx build command for req, its secrets in its
// environment.
func (b Builder) buildCommand(ctx context.Context, req BuildRequest) *exec.Cmd {
	cmd := b.Client.Command(ctx, BuildArgv(req)...)
	for id, v := range req.Secrets {
		cmd.Env = append(cmd.Env, SecretEnv(id)+"="+v)
	}
	return cmd
}

// run runs a buildx command (what: its subcommand), its output prefixed
// with label on b.Output, and returns the output. A failure's error names
// the failed step's own last lines (StepError), then buildx's last lines.
func (b Builder) run(cmd *exec.Cmd, label, what string) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if b.Output != nil {
		both := io.MultiWriter(&out, &prefixWriter{prefix: "[" + label + "] ", w: b.Output})
		cmd.Stdout, cmd.Stderr = both, both
	}
	if err := cmd.Run(); err != nil {
		if strings.Contains(out.String(), "no space left on device") {
			// Not the program's fault: say so before the compiler's echo.
			err = fmt.Errorf("%w: %w", ErrNoSpace, err)
		}
		if url := mirrorGap(out.String()); url != "" {
			return out.String(), fmt.Errorf("buildx %s: %w: %s (%w)\n%s", what, ErrMirrorGap, url, err, lines.Last(out.String(), 25))
		}
		return out.String(), fmt.Errorf("buildx %s: %s (%w)\n%s", what, StepError(out.String()), err, lines.Last(out.String(), 25))
	}
	return out.String(), nil
}

// readDigest reads the pushed image's digest from buildx's metadata file.
func readDigest(path string) (v1.Hash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read buildx metadata: %w", err)
	}
	var md struct {
		Digest string `json:"containerimage.digest"`
	}
	if err := json.Unmarshal(data, &md); err != nil {
		return v1.Hash{}, fmt.Errorf("parse buildx metadata %s: %w", path, err)
	}
	h, err := v1.NewHash(md.Digest)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("buildx metadata %s has no image digest: %w", path, err)
	}
	return h, nil
}
