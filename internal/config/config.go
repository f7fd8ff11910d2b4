// Package config holds crossbin's settings. They are read once, at the edge
// (the mage targets), from the environment and the go tool's own settings,
// and passed down explicitly; no other package reads the environment.
//
// Settings:
//
//	CROSSBIN_BUILDER        name of an existing buildx builder to use instead of
//	                        the embedded stack (e.g. a Docker Desktop builder)
//	CROSSBIN_IMAGE          image repository to push to
//	                        (default 127.0.0.1:<registry port>/crossbin)
//	CROSSBIN_PLAN_IMAGE     repository `mage ci` compares inputs with to decide what
//	                        to build (default CROSSBIN_IMAGE); a pull request's
//	                        run builds what differs from the published catalog
//	CROSSBIN_REGISTRY_PORT  port of the embedded registry on 127.0.0.1 (default 5000)
//	CROSSBIN_PLATFORMS      comma-separated platform subset, e.g. linux/arm64,linux/riscv64
//	CROSSBIN_JOBS           how many platform builds run at once
//	CROSSBIN_CACHE_DIR      where tools, BuildKit state and the registry live
//	                        (default <user cache dir>/crossbin)
//	GITHUB_TOKEN            token for GitHub API calls (release discovery)
//	CI                      on CI runners, `mage update` always verifies bumps
//	CROSSBIN_ROOT           the repository to work on (default: the current directory)
//	CROSSBIN_GO_IMAGE       Go builder base image for the Dockerfiles' GO_IMAGE
//	                        build argument (default: golang:<go>-alpine, or an image
//	                        built locally when Docker Hub is unreachable)
//	CROSSBIN_DEBIAN_IMAGE   Debian builder base image for C programs' DEBIAN_IMAGE
//	                        build argument (default: debian:trixie, or an image
//	                        assembled locally when Docker Hub is unreachable)
//	CROSSBIN_TIMEOUT_SOURCE   bound on fetching and patching one program's source
//	                          (module download, git), e.g. 15m (default)
//	CROSSBIN_TIMEOUT_BUILD    bound on one platform's buildx build (default 60m)
//	CROSSBIN_TIMEOUT_REGISTRY bound on one registry call (default 2m)
//	CROSSBIN_MIN_FREE       free space the embedded stack wants before it
//	                        builds, e.g. 10GiB (default)
//	CROSSBIN_SIGNING_KEY    cosign private key file: every published index is
//	                        signed with it before its tags move (default: none,
//	                        nothing is signed)
//	COSIGN_PASSWORD         the signing key's password (cosign's own name); a
//	                        secret: never logged or shown
//	CROSSBIN_VERIFY_KEY     cosign public key file: `mage verify` checks the index
//	                        signature with it, and publishing checks its own
//	                        signature with it (default: the signing key's public half)
//	CROSSBIN_TARBALL_MIRRORS comma-separated URL templates tried for every C
//	                        program's release tarball after its own URL and
//	                        mirrors: {sha256} is the pinned digest, {file}
//	                        the upstream file name, e.g.
//	                        https://mirror.example/tarballs/{sha256}
//	CROSSBIN_TLOG           transparency log for signatures: off (default; none
//	                        here, verify with --insecure-ignore-tlog=true), on
//	                        (https://rekor.sigstore.dev) or a Rekor URL
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"

	"github.com/crossbin/crossbin/internal/platform"
	"github.com/google/go-containerregistry/pkg/name"
)

// Config is every setting crossbin reads.
type Config struct {
	// Builder names an existing buildx builder. Empty means the embedded stack.
	Builder string
	// Image is the repository programs are pushed to, e.g. 127.0.0.1:5000/crossbin.
	Image string
	// PlanImage is the repository `mage ci` plans against: a program is
	// built when this repository lacks its tags or holds other inputs.
	// Empty means Image (see PlanRepository).
	PlanImage string
	// RegistryPort is the embedded registry's port on 127.0.0.1.
	RegistryPort int
	// Platforms restricts builds to a subset; nil means each program's own list.
	Platforms []platform.Platform
	// Jobs bounds how many platform builds run at once.
	Jobs int
	// Timeouts bound the steps that wait on the network or a builder.
	Timeouts Timeouts
	// MinFree is the free space (bytes) the embedded stack wants on its
	// cache directory's filesystem before it builds; 0: the stack's default.
	MinFree uint64
	// CacheDir holds built tools, BuildKit state, registry storage and run files.
	CacheDir string
	// GoImage overrides the Go builder base image. Empty means automatic.
	GoImage string
	// DebianImage overrides the Debian builder base image C programs
	// build on (CROSSBIN_DEBIAN_IMAGE). Empty means automatic.
	DebianImage string
	// Root is the crossbin repository worked on (dockerfiles/, patches/,
	// unavailable/, README.md); default: the current directory.
	Root string
	// Verbose streams buildx's own output.
	Verbose bool
	// GitHubToken authenticates GitHub API calls (GITHUB_TOKEN).
	GitHubToken string
	// StepSummary is where GitHub Actions takes a job's Markdown summary
	// (GITHUB_STEP_SUMMARY); empty elsewhere.
	StepSummary string
	// CI is set on CI runners (CI=true): updates are always verified by a
	// build there.
	CI bool
	// GoEnv holds the go tool settings builds must honour (GOPROXY, GOSUMDB,
	// GOFLAGS, GONOSUMDB, GOPRIVATE, GONOPROXY, GOINSECURE), as the go tool
	// reports them, including `go env -w` settings.
	GoEnv map[string]string
	// Signing is how published indexes are signed and checked.
	Signing Signing
	// TarballMirrors are URL templates tried for every release tarball
	// after the program's own URLs (CROSSBIN_TARBALL_MIRRORS): {sha256} is
	// the pinned digest, {file} the upstream URL's file name. Whatever
	// they serve is checked against the pinned digest.
	TarballMirrors []string
}

// Signing is where signing keys are and whether signatures go to a
// transparency log.
type Signing struct {
	// Key is the cosign private key file (CROSSBIN_SIGNING_KEY); empty
	// signs nothing.
	Key string
	// Password decrypts Key (COSIGN_PASSWORD).
	Password Secret
	// VerifyKey is the cosign public key file (CROSSBIN_VERIFY_KEY).
	VerifyKey string
	// TLog is the Rekor URL signatures are recorded in (CROSSBIN_TLOG);
	// empty records none.
	TLog string
}

// DefaultRekor is the public Rekor instance CROSSBIN_TLOG=on means.
const DefaultRekor = "https://rekor.sigstore.dev"

// Secret is a setting that must not be shown: printed with %v or %s it
// reads as a placeholder.
type Secret string

func (Secret) String() string   { return "[secret]" }
func (Secret) GoString() string { return "[secret]" }

// Bytes is the secret's value, for the one call that needs it.
func (s Secret) Bytes() []byte { return []byte(s) }

// GoEnvNames are the go tool settings passed through to builds.
var GoEnvNames = []string{"GOPROXY", "GOSUMDB", "GOFLAGS", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE"}

// Environ is this process's environment with the Go settings applied: the
// environment for the host's go tool.
func (c Config) Environ() []string {
	env := os.Environ()
	for _, name := range GoEnvNames {
		if v, ok := c.GoEnv[name]; ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// Embedded reports whether builds use the embedded stack.
func (c Config) Embedded() bool { return c.Builder == "" }

// Timeouts bound what waits on others: a program's source, one platform's
// build, one registry call.
type Timeouts struct {
	Source, Build, Registry time.Duration
}

// DefaultTimeouts are generous: a cold build of a large program under
// QEMU-free cross compilation takes minutes, not an hour.
var DefaultTimeouts = Timeouts{Source: 15 * time.Minute, Build: 60 * time.Minute, Registry: 2 * time.Minute}

// Env is the environment seen by FromEnv.
type Env func(name string) (string, bool)

// Load reads the configuration from the process environment and the go tool.
func Load(ctx context.Context) (Config, error) {
	goEnv, err := readGoEnv(ctx)
	if err != nil {
		return Config{}, err
	}
	cacheBase, err := os.UserCacheDir()
	if err != nil {
		cacheBase = os.TempDir()
	}
	return FromEnv(os.LookupEnv, goEnv, Defaults{
		CacheDir: filepath.Join(cacheBase, "crossbin"),
		CPUs:     runtime.NumCPU(),
		MemBytes: totalMemory(),
	})
}

// Defaults are the machine facts defaults derive from.
type Defaults struct {
	CacheDir string
	CPUs     int
	MemBytes uint64
}

// FromEnv builds a Config from an environment, the go tool's settings and the
// machine's defaults. It is pure, for tests.
func FromEnv(env Env, goEnv map[string]string, d Defaults) (Config, error) {
	get := func(name string) string {
		v, _ := env(name)
		return strings.TrimSpace(v)
	}
	var errs []error
	c := Config{
		Builder:      get("CROSSBIN_BUILDER"),
		RegistryPort: 5000,
		Jobs:         DefaultJobs(d.CPUs, d.MemBytes),
		CacheDir:     d.CacheDir,
		GoImage:      get("CROSSBIN_GO_IMAGE"),
		DebianImage:  get("CROSSBIN_DEBIAN_IMAGE"),
		GoEnv:        map[string]string{},
	}
	c.Root = get("CROSSBIN_ROOT")
	if c.Root == "" {
		c.Root = "."
	}
	if abs, err := filepath.Abs(c.Root); err == nil {
		c.Root = abs
	}
	c.GitHubToken = get("GITHUB_TOKEN")
	c.CI, _ = strconv.ParseBool(get("CI"))
	c.StepSummary = get("GITHUB_STEP_SUMMARY")
	if v, _ := env("MAGEFILE_VERBOSE"); v != "" {
		c.Verbose, _ = strconv.ParseBool(v)
	}
	if v := get("CROSSBIN_REGISTRY_PORT"); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("CROSSBIN_REGISTRY_PORT=%q: want a port number 1-65535", v))
		} else {
			c.RegistryPort = port
		}
	}
	if v := get("CROSSBIN_JOBS"); v != "" {
		jobs, err := strconv.Atoi(v)
		if err != nil || jobs < 1 {
			errs = append(errs, fmt.Errorf("CROSSBIN_JOBS=%q: want a positive number", v))
		} else {
			c.Jobs = jobs
		}
	}
	// Set but blank (" ", ",") is a mistake, not "every platform"; only an
	// empty or unset variable means each program's own list.
	if v, _ := env("CROSSBIN_PLATFORMS"); v != "" {
		ps, err := platform.ParseList(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("CROSSBIN_PLATFORMS: %w", err))
		}
		c.Platforms = ps
	}
	c.Timeouts = DefaultTimeouts
	for _, t := range []struct {
		name string
		d    *time.Duration
	}{{"CROSSBIN_TIMEOUT_SOURCE", &c.Timeouts.Source}, {"CROSSBIN_TIMEOUT_BUILD", &c.Timeouts.Build}, {"CROSSBIN_TIMEOUT_REGISTRY", &c.Timeouts.Registry}} {
		if v := get(t.name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 90s or 30m", t.name, v))
				continue
			}
			*t.d = d
		}
	}
	if v := get("CROSSBIN_MIN_FREE"); v != "" {
		n, err := units.RAMInBytes(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("CROSSBIN_MIN_FREE=%q: want a size such as 10GiB or 500MiB", v))
		} else {
			c.MinFree = uint64(n)
		}
	}
	if v := get("CROSSBIN_CACHE_DIR"); v != "" {
		c.CacheDir = v
	}
	if abs, err := filepath.Abs(c.CacheDir); err == nil {
		c.CacheDir = abs
	}
	c.Image = get("CROSSBIN_IMAGE")
	if c.Image == "" {
		// 127.0.0.1, not localhost: localhost may resolve to ::1, where
		// another program may listen.
		c.Image = fmt.Sprintf("127.0.0.1:%d/crossbin", c.RegistryPort)
	}
	if err := checkRepository(c.Image); err != nil {
		errs = append(errs, fmt.Errorf("CROSSBIN_IMAGE=%q: %w", c.Image, err))
	}
	c.PlanImage = get("CROSSBIN_PLAN_IMAGE")
	if c.PlanImage != "" {
		if err := checkRepository(c.PlanImage); err != nil {
			errs = append(errs, fmt.Errorf("CROSSBIN_PLAN_IMAGE=%q: %w", c.PlanImage, err))
		}
	}
	c.Signing = Signing{Key: get("CROSSBIN_SIGNING_KEY"), VerifyKey: get("CROSSBIN_VERIFY_KEY")}
	// The password as given: spaces may be part of it.
	if v, ok := env("COSIGN_PASSWORD"); ok {
		c.Signing.Password = Secret(v)
	}
	switch v := get("CROSSBIN_TLOG"); {
	case v == "" || v == "off":
	case v == "on":
		c.Signing.TLog = DefaultRekor
	case strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://"):
		c.Signing.TLog = v
	default:
		errs = append(errs, fmt.Errorf("CROSSBIN_TLOG=%q: want off, on (%s) or a Rekor URL", v, DefaultRekor))
	}
	for field := range strings.SplitSeq(get("CROSSBIN_TARBALL_MIRRORS"), ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		if err := checkMirror(field); err != nil {
			errs = append(errs, fmt.Errorf("CROSSBIN_TARBALL_MIRRORS: %q: %w", field, err))
			continue
		}
		c.TarballMirrors = append(c.TarballMirrors, field)
	}
	for _, name := range GoEnvNames {
		if v := goEnv[name]; v != "" {
			c.GoEnv[name] = v
		}
	}
	return c, errors.Join(errs...)
}

// PlanRepository is the repository `mage ci` compares inputs with:
// PlanImage, or else the one it pushes to.
func (c Config) PlanRepository() string {
	if c.PlanImage != "" {
		return c.PlanImage
	}
	return c.Image
}

// checkRepository rejects references that are not a plain repository: the
// setting names a repository, tags are derived per program.
func checkRepository(repo string) error {
	if strings.ContainsAny(repo, "@") || strings.Contains(repo[strings.LastIndex(repo, "/")+1:], ":") {
		return errors.New("name a repository without tag or digest, e.g. ghcr.io/you/crossbin")
	}
	if _, err := name.NewRepository(repo); err != nil {
		return err
	}
	return nil
}

// checkMirror accepts an http(s) URL template that names the tarball by
// {sha256} or {file}: a mirror serves many programs' tarballs, so a
// template without either would give them all the same URL.
func checkMirror(template string) error {
	u, err := url.Parse(strings.NewReplacer("{sha256}", "x", "{file}", "x").Replace(template))
	switch {
	case err != nil:
		return err
	case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return errors.New("want an http(s) URL template such as https://mirror.example/tarballs/{sha256}")
	case !strings.Contains(template, "{sha256}") && !strings.Contains(template, "{file}"):
		return errors.New("name the tarball with {sha256} or {file} in it")
	}
	return nil
}

// DefaultJobs is the default parallelism: one build per core, but never more
// than one per 2 GiB of memory (a large Go program's compile peaks near that),
// and at least one.
func DefaultJobs(cpus int, memBytes uint64) int {
	jobs := max(cpus, 1)
	if memBytes > 0 {
		jobs = min(jobs, int(memBytes/(2<<30)))
	}
	return max(jobs, 1)
}

func readGoEnv(ctx context.Context) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"env", "-json"}, GoEnvNames...)...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read go settings with `go env`: %w (is Go installed and on PATH?)", err)
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		return nil, fmt.Errorf("parse `go env -json` output: %w", err)
	}
	return env, nil
}

func totalMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
