package add

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/proc"
)

// host builds the program with the host's go tool, the way its Dockerfile
// will: CGO_ENABLED=0, -trimpath, the platform's Go variables.
type host struct {
	env     []string // the whole environment of the go command
	src     string   // a writable copy of the module's source
	mod     string   // module path
	version string
	main    string // main package, relative to the module root ("." for the root)
	install bool   // build with `go install pkg@version` (stamps the version)
	log     *slog.Logger
}

// pkg is the main package's import path.
func (h host) pkg() string {
	if h.main == "." {
		return h.mod
	}
	return h.mod + "/" + h.main
}

// goEnv is the environment that builds for pl.
func (h host) goEnv(pl platform.Platform, extra ...string) ([]string, error) {
	vars, err := pl.GoEnv()
	if err != nil {
		return nil, err
	}
	env := slices.Clone(h.env)
	for _, v := range vars {
		env = append(env, v.Name+"="+v.Value)
	}
	// The host's Go as it is, never another one downloaded behind its
	// back.
	env = append(env, "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local")
	return append(env, extra...), nil
}

// withGoFlags adds flags to env's GOFLAGS, keeping the user's.
func withGoFlags(env []string, flags string) []string {
	current := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			current = v
		}
	}
	return append(env, "GOFLAGS="+strings.TrimSpace(current+" "+flags))
}

// compile builds the main package for pl into out with ldflags (added to
// -s -w) and returns the go command's output.
func (h host) compile(ctx context.Context, pl platform.Platform, ldflags, out string) (string, error) {
	flags := strings.TrimSpace("-s -w " + ldflags)
	var cmd = proc.Command(ctx, "go", "build", "-trimpath", "-ldflags="+flags, "-o", out, "./"+h.main)
	cmd.Dir = h.src
	env, err := h.goEnv(pl)
	if err != nil {
		return "", err
	}
	switch {
	case h.install && pl == smokePlatform && out != os.DevNull:
		// Native: `go install pkg@version` as the Dockerfile runs it, so
		// the build info carries the module's version.
		bin := filepath.Dir(out)
		cmd = proc.Command(ctx, "go", "install", "-trimpath", "-ldflags="+flags, h.pkg()+"@"+h.version)
		cmd.Dir = os.TempDir()
		env = withGoFlags(append(env, "GOBIN="+bin), "-mod=mod")
		defer func() {
			if name := DefaultName(h.pkg()); filepath.Join(bin, name) != out {
				_ = os.Rename(filepath.Join(bin, name), out)
			}
		}()
	case h.install:
		// What `go install pkg@version` does: the module's own go.mod,
		// never a vendor directory its zip may carry.
		env = withGoFlags(env, "-mod=mod")
	}
	cmd.Env = env
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err = cmd.Run()
	return b.String(), err
}

// Probe cross-compiles the main package for each platform, at most jobs at
// once, and returns why each one that fails does: the compiler's first
// error line.
func (h host) Probe(ctx context.Context, platforms []platform.Platform, jobs int) (map[platform.Platform]string, error) {
	// A build cache of their own, removed afterwards: no platform's
	// objects serve another, and the probes of sops, yq, k9s and task left
	// 26 GB in the user's GOCACHE, on the disk BuildKit also needs.
	cache, err := os.MkdirTemp("", "crossbin-probe-gocache-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(cache)
	h.env = append(slices.Clone(h.env), "GOCACHE="+cache)
	var mu sync.Mutex
	failed := map[platform.Platform]string{}
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(jobs, 1))
	for _, pl := range platforms {
		g.Go(func() error {
			start := time.Now()
			// Built and thrown away (the go tool links into /dev/null).
			out, err := h.compile(gctx, pl, "", os.DevNull)
			if err != nil && gctx.Err() != nil {
				return gctx.Err()
			}
			if err != nil && !compilerFailure(out) {
				// Not the program's fault (a proxy answering 5xx, no go
				// tool): no platform is marked unavailable for it.
				return fmt.Errorf("cross-compile %s for %s: %w: %s", h.pkg(), pl, err, lastLines(out))
			}
			mu.Lock()
			defer mu.Unlock()
			done++
			progress := fmt.Sprintf("%d/%d", done, len(platforms))
			if err != nil {
				failed[pl] = FirstError(out, h.src)
				h.log.Info("platform does not build", "platform", pl, "reason", failed[pl], "duration", time.Since(start).Round(100*time.Millisecond), "done", progress)
				return nil
			}
			h.log.Info("platform builds", "platform", pl, "duration", time.Since(start).Round(100*time.Millisecond), "done", progress)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return failed, nil
}

// position is a file position prefix of a compiler message.
var position = regexp.MustCompile(`^\S+\.(go|s):\d+(:\d+)?: `)

// compilerFailure reports whether the go command's output is the
// compiler's or the build constraints' verdict on the source (what makes a
// platform unavailable), not a download or tool failure.
func compilerFailure(out string) bool {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if position.MatchString(line) || strings.Contains(line, "build constraints exclude all Go files") ||
			strings.Contains(line, "undefined: ") {
			return true
		}
	}
	return false
}

// lastLines is the end of out, for an error.
func lastLines(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "; ")
}

// cachePath is an absolute path into a module cache or GOROOT.
var cachePath = regexp.MustCompile(`/\S*?/(pkg/mod|src)/`)

// FirstError is the first error line of the go command's output, in words
// that fit program.yaml's `unavailable:`: the package it is in, then the
// message without the file position or the build's directories.
func FirstError(out, src string) string {
	pkg := ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "go: downloading "):
			continue
		case strings.HasPrefix(line, "# "):
			pkg = strings.TrimPrefix(line, "# ")
			continue
		}
		line = strings.ReplaceAll(strings.ReplaceAll(line, src+"/", ""), src, ".")
		msg := cachePath.ReplaceAllString(position.ReplaceAllString(line, ""), "")
		if pkg != "" {
			return pkg + ": " + msg
		}
		return msg
	}
	return "the build failed without a message"
}
