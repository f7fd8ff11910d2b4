package stack

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/proc"
)

// Binaries lists the executables a tool build produces, named after their
// main packages.
func (t Tool) Binaries() []string {
	bins := make([]string, len(t.Packages))
	for i, p := range t.Packages {
		bins[i] = path.Base(p)
	}
	return bins
}

// Dir is where the tool's binaries are cached: one directory per version.
func (t Tool) Dir(cacheDir string) string {
	return filepath.Join(cacheDir, "tools", t.Name+"-"+t.Version)
}

// Bin is the path of one of the tool's binaries.
func (t Tool) Bin(cacheDir, binary string) string {
	return filepath.Join(t.Dir(cacheDir), binary)
}

// BuildArgs is the `go build` command line for the tool, run inside a
// writable copy of its module.
func (t Tool) BuildArgs(outDir string) []string {
	args := []string{
		"build", "-trimpath",
		"-ldflags", "-s -w -X " + t.VersionVar + "=" + t.Version,
		"-o", outDir + string(filepath.Separator),
	}
	return append(args, t.Packages...)
}

// installed reports whether every binary of t is in the cache.
func (t Tool) installed(cacheDir string) bool {
	for _, b := range t.Binaries() {
		if fi, err := os.Stat(t.Bin(cacheDir, b)); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// progressEvery is how often a first run says which tools it is still
// building, so nobody watches one silent line for minutes.
const progressEvery = 10 * time.Second

// ensureTools builds every tool that is not cached yet, concurrently.
func ensureTools(ctx context.Context, log *slog.Logger, cacheDir string, goEnv []string, tools []Tool) error {
	var missing []Tool
	for _, t := range tools {
		if !t.installed(cacheDir) {
			missing = append(missing, t)
		}
	}
	return buildAll(ctx, log, missing, progressEvery, func(ctx context.Context, t Tool) error {
		return buildTool(ctx, log, cacheDir, goEnv, t)
	})
}

// buildAll runs build for every tool at once and, every interval until
// they are done, logs which are still building and for how long.
func buildAll(ctx context.Context, log *slog.Logger, tools []Tool, every time.Duration, build func(context.Context, Tool) error) error {
	if len(tools) == 0 {
		return nil
	}
	start := time.Now()
	var mu sync.Mutex
	running := map[string]bool{}
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range tools {
		running[t.Name] = true
		g.Go(func() error {
			defer func() { mu.Lock(); delete(running, t.Name); mu.Unlock() }()
			return build(gctx, t)
		})
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				mu.Lock()
				names := slices.Sorted(maps.Keys(running))
				mu.Unlock()
				log.Info("still building tools (first run only)", "tools", strings.Join(names, ","), "elapsed", time.Since(start).Round(time.Second))
			}
		}
	}()
	err := g.Wait()
	close(done)
	return err
}

// buildTool downloads t's module through the Go module proxy (the go tool
// verifies it against go.sum and the checksum database), builds its main
// packages in a scratch copy (module cache directories are read-only) and
// moves the binaries into the cache in one rename, so an interrupted build
// never leaves a half-installed tool.
func buildTool(ctx context.Context, log *slog.Logger, cacheDir string, goEnv []string, t Tool) error {
	start := time.Now()
	log.Info("building tool from the Go module proxy (first run only)", "tool", t.Name, "module", t.Module, "version", t.Version)
	fail := func(err error) error {
		return fmt.Errorf("build %s %s (%s): %w", t.Name, t.Version, t.Module, err)
	}
	mod, err := gotool.Download(ctx, goEnv, t.Module, t.Version)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Join(cacheDir, "tools"), 0o755); err != nil {
		return fail(err)
	}
	work, err := os.MkdirTemp(filepath.Join(cacheDir, "tools"), ".build-"+t.Name+"-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "src")
	if err := gotool.CopyTree(mod.Dir, src); err != nil {
		return fail(fmt.Errorf("copy module source: %w", err))
	}
	out := filepath.Join(work, "out")
	cmd := proc.Command(ctx, "go", t.BuildArgs(out)...)
	cmd.Dir = src
	cmd.Env = slices.Concat(goEnv, []string{"GOWORK=off", "CGO_ENABLED=0"})
	if output, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, lines.Last(string(output), 30)))
	}
	final := t.Dir(cacheDir)
	if err := os.RemoveAll(final); err != nil {
		return fail(err)
	}
	if err := os.Rename(out, final); err != nil {
		return fail(err)
	}
	log.Info("built tool", "tool", t.Name, "version", t.Version, "duration", time.Since(start).Round(time.Second))
	return nil
}
