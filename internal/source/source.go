// Package source prepares a program's source for a build: the module at
// its pinned version, fetched and verified by the go tool (or, for a
// program with ARG GIT, the repository cloned at the tag; for a C program,
// its release tarball, verified by sha256 before anything reads it and
// unpacked safely, see Download and Unpack), and, where
// patches apply, a patched copy of it with a complete go.sum. Patched
// copies live in a content-addressed cache: the key covers the module's
// checksum and every patch's content, so a changed patch is a new copy and
// an unchanged one is reused.
package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/proc"
)

// Preparer fetches and patches module sources.
type Preparer struct {
	// CacheDir holds the patched copies (under source/).
	CacheDir string
	// Env is the go tool's environment (GOPROXY, GOSUMDB, GOFLAGS, ...).
	Env []string
	// Patches are the patches/ files; Prepare applies those that select a
	// program's version and platform.
	Patches []patch.Patch
	// Mirrors are URL templates tried for every release tarball after the
	// program's own URLs (config.TarballMirrors).
	Mirrors []string
	// HTTP fetches release tarballs; nil: http.DefaultClient.
	HTTP *http.Client
	Log  *slog.Logger
}

// Source is a prepared module source.
type Source struct {
	Module   gotool.Module
	Released time.Time     // the version's release time (SOURCE_DATE_EPOCH)
	Dir      string        // the source tree to build
	Patches  []string      // names of the patches applied; empty for pristine
	Applied  []patch.Patch // the patches themselves, in order
	URL      string        // where a release tarball came from ("cache" when it was there)
	// Deps maps a C program's deps (catalog.Dep) to their unpacked trees.
	Deps map[string]string
}

// Fetch obtains the program's pristine source: its module at the pinned
// version from the module proxy, or, for a program with a git source, the
// repository at the tag. A module without a go.mod (released before
// modules) gets the one the go tool synthesizes, `module <path>`, so
// patches can add the requirements it needs; see normalize.
func (p Preparer) Fetch(ctx context.Context, prog catalog.Program) (Source, error) {
	if prog.Git != "" {
		return p.fetchGit(ctx, prog)
	}
	if prog.Tarball != nil {
		return p.fetchTarball(ctx, prog)
	}
	mod, err := gotool.Download(ctx, p.Env, prog.Module, prog.Version)
	if err != nil {
		return Source{}, fmt.Errorf("%s: %w", prog.Name, err)
	}
	released, err := mod.Time()
	if err != nil {
		return Source{}, err
	}
	src := Source{Module: mod, Released: released, Dir: mod.Dir}
	if !prog.SourceStage {
		return src, nil // built by `go install`: only the release time is used
	}
	_, noGoMod := os.Stat(filepath.Join(mod.Dir, "go.mod"))
	_, ignore := os.Stat(filepath.Join(mod.Dir, ".dockerignore"))
	if errors.Is(noGoMod, os.ErrNotExist) || ignore == nil {
		return p.normalize(prog, src)
	}
	return src, nil
}

// normalize returns a copy of src (cached by its checksum) that builds as
// the source stage expects: with the go.mod the go tool synthesized for
// it when it has none, and without a top-level .dockerignore, which
// BuildKit would apply to the build context (the Docker CLI's leaves out
// go.mod).
func (p Preparer) normalize(prog catalog.Program, src Source) (Source, error) {
	key, err := Key(src.Module.Sum, nil)
	if err != nil {
		return Source{}, err
	}
	dir := filepath.Join(p.CacheDir, "source", "module", prog.Name+"-"+prog.Version+"-"+key)
	out := src
	out.Dir = dir
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return out, nil
	}
	err = fillDir(dir, func(work string) error {
		if err := gotool.CopyTree(src.Dir, work); err != nil {
			return err
		}
		if err := dropDockerignore(work); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(work, "go.mod")); !errors.Is(err, os.ErrNotExist) {
			return err
		}
		gomod, err := os.ReadFile(src.Module.GoMod)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(work, "go.mod"), gomod, 0o644)
	})
	if err != nil {
		return Source{}, fmt.Errorf("%s %s: prepare the module source: %w", prog.Name, prog.Version, err)
	}
	return out, nil
}

// fillDir makes the cached tree dir: fill writes it into a temporary
// directory beside dir, which then takes dir's place in one rename, so no
// reader sees a half-made tree. When another process made dir meanwhile,
// its tree stays.
func fillDir(dir string, fill func(work string) error) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".prepare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	work := filepath.Join(tmp, "src")
	if err := fill(work); err != nil {
		return err
	}
	if err := os.Rename(work, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(dir); statErr != nil {
			return err
		}
	}
	return nil
}

// dropDockerignore removes a source tree's top-level .dockerignore: the
// tree is a build context for crossbin's Dockerfile, not upstream's.
func dropDockerignore(dir string) error {
	if err := os.Remove(filepath.Join(dir, ".dockerignore")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Key is the cache key of pristine source patched with patches.
func Key(sum string, patches []patch.Patch) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "crossbin source v1\n%s\n", sum)
	for _, pt := range patches {
		data, err := os.ReadFile(pt.File)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", pt.Name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// Patch returns src patched with patches, completing go.sum for the
// program's main package on each of platforms. Without patches it returns
// src unchanged.
func (p Preparer) Patch(ctx context.Context, prog catalog.Program, src Source, patches []patch.Patch, platforms []platform.Platform) (Source, error) {
	if len(patches) == 0 {
		return src, nil
	}
	var names, files []string
	for _, pt := range patches {
		names = append(names, pt.Name)
		files = append(files, pt.File)
	}
	fail := func(err error) (Source, error) {
		return Source{}, fmt.Errorf("apply %s to %s %s: %w", strings.Join(files, ", "), prog.Name, prog.Version, err)
	}
	key, err := Key(src.Module.Sum, patches)
	if err != nil {
		return fail(err)
	}
	dir := filepath.Join(p.CacheDir, "source", prog.Name+"-"+prog.Version+"-"+key)
	out := src
	out.Dir, out.Patches, out.Applied = dir, names, patches
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return out, nil
	}
	start := time.Now()
	p.Log.Info("patching module source", "program", prog.Name, "version", prog.Version, "patches", strings.Join(names, ","))
	err = fillDir(dir, func(work string) error {
		if err := gotool.CopyTree(src.Dir, work); err != nil {
			return err
		}
		gomod, err := os.ReadFile(filepath.Join(work, "go.mod"))
		if err != nil {
			return fmt.Errorf("the module has no go.mod to patch: %w", err)
		}
		patched, err := patch.Apply(gomod, patches)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(work, "go.mod"), patched, 0o644); err != nil {
			return err
		}
		// Let the go tool complete go.mod and go.sum for what the build
		// loads on each platform; every new module is verified against the
		// checksum database as it is downloaded.
		for _, pl := range platforms {
			if err := p.complete(ctx, work, prog.Package, pl); err != nil {
				return fmt.Errorf("%s%w", blame(patches, err.Error()), err)
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	p.Log.Info("patched module source", "program", prog.Name, "dir", dir, "duration", time.Since(start).Round(100*time.Millisecond))
	return out, nil
}

// blame names the patch lines whose modules the go tool's error mentions.
func blame(patches []patch.Patch, msg string) string {
	var at []string
	for _, pt := range patches {
		for _, r := range pt.Require {
			if strings.Contains(msg, r.Module) {
				at = append(at, fmt.Sprintf("%s:%d (%s %s)", pt.File, r.Line, r.Module, r.Version))
			}
		}
		for _, r := range pt.Replace {
			if strings.Contains(msg, r.Module) || strings.Contains(msg, r.With) {
				at = append(at, fmt.Sprintf("%s:%d (%s => %s %s)", pt.File, r.Line, r.Module, r.With, r.Version))
			}
		}
	}
	if len(at) == 0 {
		return ""
	}
	return "at " + strings.Join(at, ", ") + ": "
}

func (p Preparer) complete(ctx context.Context, dir, pkg string, pl platform.Platform) error {
	goEnv, err := pl.GoEnv()
	if err != nil {
		return err
	}
	cmd := proc.Command(ctx, "go", "list", "-mod=mod", "-deps", pkg)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, p.Env...), "GOWORK=off", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	for _, v := range goEnv {
		cmd.Env = append(cmd.Env, v.String())
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("complete go.sum for %s: go list -mod=mod -deps %s: %w\n%s", pl, pkg, err, lines.Last(stderr.String(), 15))
	}
	return nil
}
