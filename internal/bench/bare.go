package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/proc"
	"github.com/crossbin/crossbin/internal/source"
)

// Command is one go command of the bare loop: what the Dockerfile's build
// step runs for one platform, without BuildKit around it.
type Command struct {
	Platform platform.Platform
	// Dir is the working directory: the platform's prepared source for a
	// source build; Out for `go install pkg@version`, which needs no
	// module around it.
	Dir string
	// Out is the directory the binary goes to; the loop creates it.
	Out string
	// Args is the command line, "go" first.
	Args []string
	// Env is set on top of the go tool's environment.
	Env []string
}

// Commands is prog's bare loop over its real platforms, as its Dockerfile
// builds each one: `go install pkg@version` for an install build, `go
// build` in the platform's prepared source (sources) for a module or git
// build; CGO_ENABLED=0, the platform's GoEnv, -trimpath, -ldflags="-s -w"
// plus program.yaml's ldflags with the build arguments expanded, and its
// build tags, goflags and args. Binaries go under out.
func Commands(prog catalog.Program, sources map[platform.Platform]string, out string) ([]Command, error) {
	var cmds []Command
	for _, pl := range prog.Real() {
		c, err := command(prog, pl, sources[pl], filepath.Join(out, strings.ReplaceAll(pl.String(), "/", "-")))
		if err != nil {
			return nil, fmt.Errorf("%s for %s: %w", prog.Name, pl, err)
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

func command(prog catalog.Program, pl platform.Platform, src, out string) (Command, error) {
	goEnv, err := pl.GoEnv()
	if err != nil {
		return Command{}, err
	}
	// The builder image sets GOTOOLCHAIN=local: its own Go, never another
	// one downloaded behind its back.
	c := Command{Platform: pl, Out: out, Env: []string{"CGO_ENABLED=0", "GOTOOLCHAIN=local"}}
	vars := map[string]string{"MODULE": prog.Module, "VERSION": prog.Version, "PACKAGE": prog.Package}
	for _, v := range goEnv {
		c.Env = append(c.Env, v.String())
		vars[v.Name] = v.Value
	}
	// The build stage's extra ARGs reach its RUN as variables, each one
	// seeing those before it.
	for _, arg := range prog.Build.Args {
		name, value, _ := strings.Cut(arg, "=")
		value, err := expand(value, vars)
		if err != nil {
			return Command{}, fmt.Errorf("build: args: %s: %w", name, err)
		}
		vars[name] = value
		c.Env = append(c.Env, name+"="+value)
	}
	ldflags, err := expand(strings.TrimSpace("-s -w "+prog.Build.LDFlags), vars)
	if err != nil {
		return Command{}, fmt.Errorf("build: ldflags: %w", err)
	}
	flags := []string{"-trimpath"}
	if tags := prog.BuildTags[pl]; len(tags) > 0 {
		flags = append(flags, "-tags="+strings.Join(tags, ","))
	}
	flags = append(flags, "-ldflags="+ldflags)
	if !prog.SourceStage {
		// GOBIN cannot take cross-compiled binaries: they go to
		// $GOPATH/bin/<goos>_<goarch>. The module cache is set apart
		// (Caches), so GOPATH holds nothing else.
		c.Dir = out
		c.Env = append(c.Env, "GOPATH="+out, "GOBIN=")
		c.Args = slices.Concat([]string{"go", "install"}, flags, []string{prog.Package + "@" + prog.Version})
		return c, nil
	}
	if src == "" {
		return Command{}, errors.New("no prepared source")
	}
	c.Dir = src
	c.Env = append(c.Env, "GOWORK=off")
	c.Args = slices.Concat([]string{"go", "build"}, strings.Fields(prog.Build.GoFlags), flags,
		[]string{"-o", filepath.Join(out, prog.Name), prog.Package})
	return c, nil
}

// expand replaces $NAME, ${NAME}, ${NAME#prefix} and ${NAME%suffix} in s
// as the Dockerfile's shell does, for the literal prefixes and suffixes
// program.yaml uses. A name that is not one of vars, or a pattern, fails
// rather than building something else than the Dockerfile would.
func expand(s string, vars map[string]string) (string, error) {
	var errs []error
	out := os.Expand(s, func(ref string) string {
		name, op, word := ref, byte(0), ""
		if i := strings.IndexAny(ref, "#%"); i > 0 {
			name, op, word = ref[:i], ref[i], ref[i+1:]
		}
		v, ok := vars[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("${%s}: %s is not a build argument of the build step", ref, name))
		case strings.ContainsAny(word, "*?[#%"):
			errs = append(errs, fmt.Errorf("${%s}: only a literal prefix or suffix can be removed", ref))
		case op == '#':
			return strings.TrimPrefix(v, word)
		case op == '%':
			return strings.TrimSuffix(v, word)
		}
		return v
	})
	return out, errors.Join(errs...)
}

// Bare runs the bare loop: a program's Commands one platform after
// another, the way a shell loop over GOOS/GOARCH would.
type Bare struct {
	// Env is the go tool's environment: the host's with crossbin's Go
	// settings (GOPROXY, ...); nil is this process's.
	Env []string
	// Caches are the go tool's caches; the zero Caches is the host's own.
	Caches Caches
	// Sources prepares the source of a program built from source, as the
	// pipeline's source step does (patches included).
	Sources pipeline.Sources
}

func (b *Bare) String() string { return "bare loop" }

// Cold empties the caches; the host's own are never emptied.
func (b *Bare) Cold(ctx context.Context) error { return b.Caches.Reset(ctx) }

// Warm has nothing to drop: every build writes its binaries anew.
func (b *Bare) Warm(context.Context) error { return nil }

// Build runs prog's bare loop, its source prepared first where it builds
// from source.
func (b *Bare) Build(ctx context.Context, prog catalog.Program) error {
	out, err := os.MkdirTemp("", "crossbin-bare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	sources := map[platform.Platform]string{}
	if prog.SourceStage {
		p, err := b.Sources.Prepare(ctx, prog, prog.Real())
		if err != nil {
			return fmt.Errorf("bare loop: %w", err)
		}
		for pl, s := range p.ByPlatform {
			sources[pl] = s.Dir
		}
	}
	cmds, err := Commands(prog, sources, out)
	if err != nil {
		return err
	}
	env, err := b.Caches.environ(ctx, b.Env)
	if err != nil {
		return err
	}
	for _, c := range cmds {
		if err := os.MkdirAll(c.Out, 0o755); err != nil {
			return err
		}
		cmd := proc.Command(ctx, c.Args[0], c.Args[1:]...)
		cmd.Dir, cmd.Env = c.Dir, slices.Concat(env, c.Env)
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("bare go %s of %s for %s: %w\n%s", c.Args[1], prog.Name, c.Platform, err, lines.Last(string(output), 15))
		}
	}
	return nil
}

// Caches are, under one directory, the go tool's build and module caches
// and the source step's prepared sources (patched copies, clones), so a
// cold run can start them empty. The zero Caches is the host's own.
type Caches struct {
	Dir string
}

// Vars are the go tool's settings that use the caches.
func (c Caches) Vars() []string {
	if c.Dir == "" {
		return nil
	}
	return []string{"GOCACHE=" + filepath.Join(c.Dir, "gocache"), "GOMODCACHE=" + filepath.Join(c.Dir, "gomod")}
}

// Preparer is p preparing sources in the caches.
func (c Caches) Preparer(p source.Preparer) source.Preparer {
	p.CacheDir = filepath.Join(c.Dir, "source")
	p.Env = slices.Concat(p.Env, c.Vars())
	return p
}

// environ is env (nil: this process's) with the caches set. The host's
// module cache is named too: an install build moves GOPATH, and with it
// the default module cache.
func (c Caches) environ(ctx context.Context, env []string) ([]string, error) {
	if env == nil {
		env = os.Environ()
	}
	if c.Dir != "" {
		return slices.Concat(env, c.Vars()), nil
	}
	cmd := proc.Command(ctx, "go", "env", "GOMODCACHE")
	cmd.Env = env
	modcache, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	return slices.Concat(env, []string{"GOMODCACHE=" + strings.TrimSpace(string(modcache))}), nil
}

// Reset empties the caches, leaving their directory.
func (c Caches) Reset(ctx context.Context) error {
	if err := c.Remove(ctx); err != nil {
		return err
	}
	return os.MkdirAll(c.Dir, 0o755)
}

// Remove deletes the caches. The module cache is read-only, so the go
// tool that wrote it cleans it.
func (c Caches) Remove(ctx context.Context) error {
	if c.Dir == "" {
		return errors.New("bench caches: no directory (the host's own caches are never emptied)")
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "gomod")); err == nil {
		cmd := proc.Command(ctx, "go", "clean", "-modcache")
		cmd.Dir, cmd.Env = os.TempDir(), slices.Concat(os.Environ(), []string{"GOWORK=off"}, c.Vars())
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go clean -modcache in %s: %w\n%s", c.Dir, err, lines.Last(string(out), 5))
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove bench caches: %w", err)
	}
	return nil
}
