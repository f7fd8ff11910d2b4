// Package stack brings up crossbin's embedded build stack on a machine that
// has Go and nothing else: BuildKit (buildkitd + buildctl), docker buildx as
// a CLI plugin in a private DOCKER_CONFIG, and a distribution registry on
// 127.0.0.1, all built from the Go module proxy and cached per version;
// runc, QEMU and binfmt from Debian's packages; and, when Docker Hub cannot
// be reached, a Go builder image assembled locally. The Debian builder image
// for C programs (and mmdebstrap, which assembles it) is had only when a
// run asks for it (DebianImage), not at Up.
//
// Up is idempotent: it builds only what is not cached, starts only what is
// not running, recovers from stale PID files and sockets left by a crash,
// and when it fails it stops whatever it started itself. Down stops only the
// processes the stack started (by recorded PID) and keeps every cache.
// Concurrent Up and Down calls, from this or other processes, are
// serialized by a lock file.
//
// Layout under the cache directory:
//
//	tools/<tool>-<version>/   built binaries
//	docker/                   private DOCKER_CONFIG (cli-plugins/docker-buildx, builder store)
//	buildkit/                 buildkitd state (build cache)
//	registry/                 registry storage
//	run/                      sockets, PID files, logs, generated configs
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/docker/go-units"

	"github.com/crossbin/crossbin/internal/baseimage"
	"github.com/crossbin/crossbin/internal/buildx"
)

// BuilderName is the buildx builder the stack creates.
const BuilderName = "crossbin"

// Options configure a Stack.
type Options struct {
	CacheDir     string
	RegistryPort int
	// GoImage, when set, is used as the Go builder image as is.
	GoImage string
	// DebianImage, when set, is used as the Debian builder image (C
	// programs) as is.
	DebianImage string
	// Env is the environment for the go tool and the daemons.
	Env []string
	Log *slog.Logger
	// Host is the machine; zero means System().
	Host Host
	// ReadyTimeout bounds the wait for each daemon to answer.
	ReadyTimeout time.Duration
	// DockerHubReachable reports whether golang images can be pulled from
	// Docker Hub; nil means probing registry-1.docker.io.
	DockerHubReachable func(context.Context) bool
	// CABundle is copied into the locally built builder image.
	CABundle string
	// Parallel bounds how many build steps buildkitd runs at once (0: no
	// bound); it applies when Up starts buildkitd.
	Parallel int
	// MinFree is the free space Up requires on CacheDir's filesystem
	// (0: DefaultMinFree).
	MinFree uint64
}

// Stack is the embedded build stack of one cache directory.
type Stack struct {
	opt Options
}

// Endpoint is what builds need from a running stack.
type Endpoint struct {
	Buildx   buildx.Client
	Registry string // host:port of the local registry
	GoImage  string // Go builder base image
	// DebianImage returns the Debian builder image C programs build on,
	// and makes their loong64 and mips64le binaries runnable (EnsureNewerQEMU): Up
	// does neither, since a Go-only run never needs them; the first run
	// with a C program asks (see Stack.DebianImage).
	DebianImage func(context.Context) (string, error)
}

// New returns the stack for the options, filling in defaults.
func New(opt Options) *Stack {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Host.LookPath == nil {
		opt.Host = System()
	}
	if opt.ReadyTimeout == 0 {
		opt.ReadyTimeout = 60 * time.Second
	}
	if opt.RegistryPort == 0 {
		opt.RegistryPort = 5000
	}
	if opt.Env == nil {
		opt.Env = os.Environ()
	}
	if opt.CABundle == "" {
		opt.CABundle = "/etc/ssl/certs/ca-certificates.crt"
	}
	return &Stack{opt: opt}
}

func (s *Stack) path(elem ...string) string {
	return filepath.Join(append([]string{s.opt.CacheDir}, elem...)...)
}

func (s *Stack) socket() string       { return s.path("run", "buildkitd.sock") }
func (s *Stack) dockerConfig() string { return s.path("docker") }

// CacheDir is the directory the stack lives in.
func (s *Stack) CacheDir() string { return s.opt.CacheDir }

// RegistryAddr is the registry's host:port as builds name it.
func (s *Stack) RegistryAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.opt.RegistryPort) }

func (s *Stack) buildkitd() daemon {
	return daemon{
		name:    "buildkitd",
		bin:     BuildKit.Bin(s.opt.CacheDir, "buildkitd"),
		args:    BuildkitdArgs(s.path("run", "buildkitd.toml")),
		pidFile: s.path("run", "buildkitd.pid"),
		logFile: s.path("run", "buildkitd.log"),
		env:     s.opt.Env,
	}
}

func (s *Stack) registry() daemon {
	return daemon{
		name:    "registry",
		bin:     Registry.Bin(s.opt.CacheDir, "registry"),
		args:    RegistryArgs(s.path("run", "registry.yml")),
		pidFile: s.path("run", "registry.pid"),
		logFile: s.path("run", "registry.log"),
		env:     s.opt.Env,
	}
}

// Buildx is the client for the stack's builder.
func (s *Stack) Buildx() buildx.Client {
	return buildx.Client{
		Path:    Buildx.Bin(s.opt.CacheDir, "buildx"),
		Env:     []string{"DOCKER_CONFIG=" + s.dockerConfig()},
		Builder: BuilderName,
	}
}

// Up brings the stack up and returns its endpoint.
func (s *Stack) Up(ctx context.Context) (ep Endpoint, err error) {
	start := time.Now()
	unlock, err := s.lock(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	defer unlock()
	if err := s.checkPaths(); err != nil {
		return Endpoint{}, err
	}
	if err := s.checkSpace(); err != nil {
		return Endpoint{}, err
	}
	if !s.opt.Host.Root {
		return Endpoint{}, errors.New("the embedded stack runs buildkitd as root (rootful runc worker): run as root, or set CROSSBIN_BUILDER to a buildx builder of your own")
	}
	if err := s.opt.Host.ensurePackages(ctx, s.opt.Log, AptPackages); err != nil {
		return Endpoint{}, err
	}
	if err := s.opt.Host.enableBinfmt(ctx); err != nil {
		// Builds cross-compile and do not need emulation; only running
		// foreign binaries (verification) does, and it says so itself.
		s.opt.Log.Warn("foreign-architecture binaries will not run here", "reason", err)
	}
	if err := ensureTools(ctx, s.opt.Log, s.opt.CacheDir, s.opt.Env, Tools()); err != nil {
		return Endpoint{}, err
	}

	// Whatever this call starts, it stops again if a later step fails.
	var started []daemon
	defer func() {
		if err == nil {
			return
		}
		for _, d := range started {
			if stopErr := d.stop(context.WithoutCancel(ctx), 10*time.Second); stopErr != nil {
				s.opt.Log.Error("could not stop after failed stack:up", "daemon", d.name, "err", stopErr)
			}
		}
	}()
	if err := s.writeConfigs(); err != nil {
		return Endpoint{}, err
	}
	if d, ok, err := s.ensureRegistry(ctx); err != nil {
		return Endpoint{}, err
	} else if ok {
		started = append(started, d)
	}
	if d, ok, err := s.ensureBuildkitd(ctx); err != nil {
		return Endpoint{}, err
	} else if ok {
		started = append(started, d)
	}
	if err := s.ensureBuilder(ctx); err != nil {
		return Endpoint{}, err
	}
	goImage, err := s.goImage(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	s.opt.Log.Info("stack is up", "builder", BuilderName, "registry", s.RegistryAddr(), "go_image", goImage, "duration", time.Since(start).Round(10*time.Millisecond))
	return Endpoint{Buildx: s.Buildx(), Registry: s.RegistryAddr(), GoImage: goImage, DebianImage: s.cBuilds}, nil
}

// Prune drops BuildKit's whole build cache (layers, the Go module and
// build cache mounts, the pulled base image), starting buildkitd if it is
// not running; it needs no free space, unlike Up. The registry's images
// stay.
func (s *Stack) Prune(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.checkPaths(); err != nil {
		return err
	}
	if err := s.writeConfigs(); err != nil {
		return err
	}
	if _, _, err := s.ensureBuildkitd(ctx); err != nil {
		return err
	}
	if err := s.ensureBuilder(ctx); err != nil {
		return err
	}
	before, _ := available(s.opt.CacheDir)
	if _, err := s.Buildx().Run(ctx, buildx.PruneAllArgv()...); err != nil {
		return fmt.Errorf("prune BuildKit's cache: %w", err)
	}
	after, _ := available(s.opt.CacheDir)
	s.opt.Log.Info("BuildKit's build cache dropped", "freed", units.BytesSize(float64(after)-float64(before)), "free", units.BytesSize(float64(after)))
	return nil
}

// checkSpace is checkSpace for the stack's cache directory.
func (s *Stack) checkSpace() error {
	minFree := s.opt.MinFree
	if minFree == 0 {
		minFree = DefaultMinFree
	}
	avail, err := available(s.opt.CacheDir)
	if err != nil {
		return err
	}
	return checkSpace(s.opt.CacheDir, avail, minFree)
}

// checkPaths fails early on a cache directory whose socket path would not
// fit in a unix socket address.
func (s *Stack) checkPaths() error {
	const maxSocketPath = 107
	if n := len(s.socket()); n > maxSocketPath {
		return fmt.Errorf("buildkitd socket path %s is %d bytes, over the %d a unix socket allows: set CROSSBIN_CACHE_DIR to a shorter directory", s.socket(), n, maxSocketPath)
	}
	for _, dir := range []string{"run", "tools", "docker/cli-plugins", "buildkit", "registry"} {
		if err := os.MkdirAll(s.path(dir), 0o755); err != nil {
			return fmt.Errorf("create stack directory: %w", err)
		}
	}
	return nil
}

func (s *Stack) writeConfigs() error {
	size, err := usable(s.opt.CacheDir)
	if err != nil {
		return err
	}
	files := map[string]string{
		s.path("run", "buildkitd.toml"): BuildkitdConfig(s.path("buildkit"), s.socket(), s.opt.RegistryPort, s.opt.Parallel, GCFor(size, s.opt.MinFree)),
		s.path("run", "registry.yml"):   RegistryConfig(s.path("registry"), s.opt.RegistryPort),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func (s *Stack) registryURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.opt.RegistryPort)
}

// ensureRegistry starts the registry unless it runs; started reports
// whether this call started it.
func (s *Stack) ensureRegistry(ctx context.Context) (d daemon, started bool, err error) {
	d = s.registry()
	client := statusClient()
	check := func(ctx context.Context) error { return checkRegistry(ctx, client, s.registryURL()) }
	if _, alive := d.pid(); alive {
		if err := check(ctx); err == nil {
			return d, false, nil
		}
		// Running but not answering (or answering on another port after a
		// config change): restart it.
		if err := d.stop(ctx, 10*time.Second); err != nil {
			return d, false, err
		}
	}
	if err := waitPortFree(ctx, s.opt.RegistryPort, 5*time.Second); err != nil {
		return d, false, fmt.Errorf("start registry: %w", err)
	}
	return d, true, s.startAndWait(ctx, d, check)
}

// ensureBuildkitd starts buildkitd unless it runs, removing a stale socket
// left by a crash first.
func (s *Stack) ensureBuildkitd(ctx context.Context) (d daemon, started bool, err error) {
	d = s.buildkitd()
	buildctl := BuildKit.Bin(s.opt.CacheDir, "buildctl")
	check := func(ctx context.Context) error { return checkBuildkitd(ctx, buildctl, s.socket()) }
	record := s.path("run", "buildkitd.parallel")
	if _, alive := d.pid(); alive {
		started, _ := os.ReadFile(record)
		restart, why := parallelChanged(string(started), s.opt.Parallel)
		if err := check(ctx); err == nil && !restart {
			return d, false, nil
		} else if err == nil {
			// buildkitd reads its bound on steps at once only when it
			// starts; a bake relies on it.
			s.opt.Log.Info("restarting buildkitd", "reason", why)
		}
		if err := d.stop(ctx, 10*time.Second); err != nil {
			return d, false, err
		}
	}
	if err := os.Remove(s.socket()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return d, false, fmt.Errorf("remove stale buildkitd socket: %w", err)
	}
	if err := os.WriteFile(record, []byte(strconv.Itoa(s.opt.Parallel)), 0o644); err != nil {
		return d, false, fmt.Errorf("record buildkitd's bound on steps: %w", err)
	}
	return d, true, s.startAndWait(ctx, d, check)
}

// parallelChanged reports whether a buildkitd started with the bound on
// steps at once recorded as started ("" when not recorded: an older
// crossbin started it) must restart to run at most want, and why.
func parallelChanged(started string, want int) (bool, string) {
	switch {
	case started == "":
		return true, fmt.Sprintf("it was started without a recorded bound on steps at once; it runs at most %d now", want)
	case started != strconv.Itoa(want):
		return true, fmt.Sprintf("its bound on steps at once changes from %s to %d (CROSSBIN_JOBS)", started, want)
	}
	return false, ""
}

// startAndWait starts d and waits until check passes; on failure it stops d
// and returns an error with the tail of d's log.
func (s *Stack) startAndWait(ctx context.Context, d daemon, check func(context.Context) error) error {
	s.opt.Log.Info("starting", "daemon", d.name, "log", d.logFile)
	pid, err := d.start()
	if err != nil {
		return err
	}
	alive := func() bool { return runs(pid, d.bin) }
	if err := waitReady(ctx, s.opt.ReadyTimeout, alive, check); err != nil {
		_ = d.stop(context.WithoutCancel(ctx), 5*time.Second)
		return fmt.Errorf("%s (pid %d) did not come up: %w\n--- last lines of %s:\n%s", d.name, pid, err, d.logFile, d.logTail(20))
	}
	return nil
}

// ensureBuilder installs buildx as a CLI plugin in the private DOCKER_CONFIG
// and creates the remote-driver builder pointing at buildkitd.
func (s *Stack) ensureBuilder(ctx context.Context) error {
	plugin := filepath.Join(s.dockerConfig(), "cli-plugins", "docker-buildx")
	target := Buildx.Bin(s.opt.CacheDir, "buildx")
	if current, err := os.Readlink(plugin); err != nil || current != target {
		_ = os.Remove(plugin)
		if err := os.Symlink(target, plugin); err != nil {
			return fmt.Errorf("install buildx CLI plugin: %w", err)
		}
	}
	bx := s.Buildx()
	if _, err := bx.Run(ctx, "inspect"); err != nil {
		create := buildx.Client{Path: bx.Path, Env: bx.Env}
		if _, err := create.Run(ctx, CreateBuilderArgs(s.socket())...); err != nil {
			return fmt.Errorf("create buildx builder %s: %w", BuilderName, err)
		}
	}
	if _, err := bx.Run(ctx, "inspect", "--bootstrap"); err != nil {
		return fmt.Errorf("buildx builder %s does not answer: %w", BuilderName, err)
	}
	return nil
}

// CreateBuilderArgs creates the stack's builder with buildx's remote driver.
func CreateBuilderArgs(socket string) []string {
	return []string{"create", "--name", BuilderName, "--driver", "remote", "unix://" + socket}
}

// goImage picks the Go builder image (baseimage.Choice): the configured one,
// the upstream one when Docker Hub answers, or one assembled locally and
// pushed to the local registry.
func (s *Stack) goImage(ctx context.Context) (string, error) {
	return baseimage.Choice{
		Override:           s.opt.GoImage,
		DockerHubReachable: s.opt.DockerHubReachable,
		Local: baseimage.Local{
			Repo:     s.RegistryAddr() + "/crossbin/golang",
			Env:      s.opt.Env,
			GOARCH:   runtime.GOARCH,
			CABundle: s.opt.CABundle,
			LookPath: s.opt.Host.LookPath,
			Record:   s.path("baseimage", "golang.digest"),
			Log:      s.opt.Log,
		},
	}.Image(ctx)
}

// Down stops the daemons the stack started. Caches stay.
func (s *Stack) Down(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	_, registryRan := s.registry().pid()
	for _, d := range []daemon{s.buildkitd(), s.registry()} {
		if pid, alive := d.pid(); alive {
			s.opt.Log.Info("stopping", "daemon", d.name, "pid", pid)
		}
		errs = append(errs, d.stop(ctx, 20*time.Second))
	}
	// Return once the stopped registry's port can be taken again, so a
	// following up (or another program) finds it free.
	if registryRan {
		if err := waitPortFree(ctx, s.opt.RegistryPort, 5*time.Second); err != nil {
			s.opt.Log.Warn("the registry stopped, but its port is still taken", "err", err)
		}
	}
	if err := os.Remove(s.socket()); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lock takes the stack's lock file, waiting for other processes.
func (s *Stack) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(s.opt.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache directory: %w", err)
	}
	f, err := os.OpenFile(s.path("stack.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stack lock: %w", err)
	}
	logged := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !logged {
			s.opt.Log.Info("waiting for another crossbin process working on the stack", "lock", f.Name())
			logged = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
