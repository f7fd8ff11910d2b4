package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/durations"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/patch"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/readme"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/render"
	"github.com/crossbin/crossbin/internal/sandbox"
	"github.com/crossbin/crossbin/internal/sign"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/stack"
	"github.com/crossbin/crossbin/internal/verify"
)

// Catalog loads the programs under dockerfiles/.
func (a *App) Catalog() (catalog.Catalog, error) {
	return catalog.Load(filepath.Join(a.Root, "dockerfiles"))
}

// Program returns one program of the catalog.
func (a *App) Program(name string) (catalog.Program, error) {
	c, err := a.Catalog()
	if err != nil {
		return catalog.Program{}, err
	}
	return c.Get(name)
}

// catalogAndPatches loads the catalog and the patches for it.
func (a *App) catalogAndPatches() (catalog.Catalog, []patch.Patch, error) {
	c, err := a.Catalog()
	if err != nil {
		return c, nil, err
	}
	patches, err := a.Patches(c)
	return c, patches, err
}

// Patches loads patches/ and checks each names a catalog program.
func (a *App) Patches(c catalog.Catalog) ([]patch.Patch, error) {
	patches, err := patch.Load(filepath.Join(a.Root, "patches"))
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		if _, err := c.Get(p.Program); err != nil {
			return nil, fmt.Errorf("%s: program: %w", p.File, err)
		}
	}
	return patches, nil
}

// Pipeline returns the pipeline options for a builder: sources prepared
// with patches, and progs' inputs recorded on what they publish, as `mage
// ci` computes them, so ci recognizes what other targets published. progs
// are the programs the run may build: when they include a C program, the
// Debian builder image is asked for here (when it cannot be had, the
// options carry why, and the pipeline fails only the C programs with it).
func (a *App) Pipeline(ctx context.Context, b Builder, patches []patch.Patch, progs []catalog.Program) (pipeline.Options, error) {
	bx := buildx.Builder{Client: b.Buildx}
	if a.Config.Verbose {
		bx.Output = os.Stderr
	}
	debianImage, debianErr := b.debianFor(ctx, progs)
	if debianErr != nil {
		if err := context.Cause(ctx); err != nil {
			return pipeline.Options{}, err
		}
		a.Log.Warn("no Debian builder image: the C programs and Go programs with cgo of this run fail, the others build", "err", debianErr)
		// Their inputs are not needed: they are not built.
		progs = slices.DeleteFunc(slices.Clone(progs), catalog.Program.BuildsC)
	}
	in, err := a.inputs(patches, b.GoImage, debianImage).Map(progs)
	if err != nil {
		return pipeline.Options{}, err
	}
	signer, err := a.Signer()
	if err != nil {
		return pipeline.Options{}, err
	}
	return pipeline.Options{
		Signer:        signer,
		Sources:       a.sources(patches),
		Builder:       bx,
		Batch:         b.Bounded,
		Registry:      a.registry(),
		Runner:        a.runner(),
		GoImage:       b.GoImage,
		DebianImage:   debianImage,
		DebianErr:     debianErr,
		Repository:    a.Config.Image,
		Jobs:          a.Config.Jobs,
		SourceTimeout: a.Config.Timeouts.Source,
		BuildTimeout:  a.Config.Timeouts.Build,
		GoEnv:         a.Config.GoEnv,
		Root:          a.Root,
		Log:           a.Log,
		Inputs:        in,
		Durations:     a.durations(),
	}, nil
}

// sources prepares module sources with patches, and C programs' release
// tarballs (their own URL and mirrors, then CROSSBIN_TARBALL_MIRRORS), in
// the cache directory. The whole preparation is bounded by
// CROSSBIN_TIMEOUT_SOURCE (the pipeline's source step); the client's own
// bound is on a server that stops answering before its headers.
func (a *App) sources(patches []patch.Patch) source.Preparer {
	return source.Preparer{
		CacheDir: a.Config.CacheDir, Env: a.Config.Environ(), Patches: patches, Log: a.Log,
		Mirrors: a.Config.TarballMirrors,
		HTTP:    &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}},
	}
}

// durations is how long each job took in earlier runs, kept in the cache
// directory; nil (no ordering, nothing recorded) without one. A file that
// cannot be read is reported, and rebuilt as this run's jobs finish.
func (a *App) durations() pipeline.Durations {
	if a.Config.CacheDir == "" {
		return nil
	}
	s, err := durations.Open(filepath.Join(a.Config.CacheDir, "durations.json"))
	if err != nil {
		a.Log.Warn("build durations of earlier runs not read: this run starts its jobs in catalog order and rebuilds the file", "err", err)
	}
	return s
}

// inputs is what every program's inputs digest shares, with the run's
// builder images (debianImage is "" for a run without C programs).
func (a *App) inputs(patches []patch.Patch, goImage, debianImage string) inputs.Set {
	set := inputs.Set{Root: a.Root, Patches: patches, GoImage: goImage, DebianImage: debianImage}
	for _, t := range stack.Tools() {
		set.Tools = append(set.Tools, inputs.Tool{Module: t.Module, Version: t.Version})
	}
	return set
}

// Signer is what signs published indexes: nil without CROSSBIN_SIGNING_KEY;
// otherwise the key, decrypted now so that a wrong password or an
// unreadable file fails the run before anything is built, and checked
// after each signature with CROSSBIN_VERIFY_KEY (default: its public half).
func (a *App) Signer() (pipeline.Signer, error) {
	s := a.Config.Signing
	if s.Key == "" {
		return nil, nil
	}
	key, err := sign.LoadKey(s.Key, s.Password.Bytes())
	if err != nil {
		return nil, err
	}
	key.TLog = s.TLog
	check, err := key.Verifier()
	if err != nil {
		return nil, err
	}
	if s.VerifyKey != "" {
		if check, err = sign.LoadPublicKey(s.VerifyKey); err != nil {
			return nil, err
		}
	}
	if s.TLog == "" {
		a.Log.Warn("signatures are not recorded in a transparency log (CROSSBIN_TLOG=off): verify them with cosign verify --insecure-ignore-tlog=true", "key", s.Key)
	}
	return sign.Publisher{Key: key, Check: check, Registry: a.registry(), Repository: a.Config.Image}, nil
}

// registry is the client for the configured registries.
func (a *App) registry() registry.Client {
	return registry.Client{Timeout: a.Config.Timeouts.Registry}
}

// runner runs the binaries that verification executes: sandboxed, as
// untrusted code.
func (a *App) runner() verify.Runner {
	return sandbox.Sandbox{Dir: filepath.Join(a.Config.CacheDir, "sandbox")}
}

// BuildProgram builds, verifies and publishes one program. platforms
// overrides CROSSBIN_PLATFORMS when not empty.
func (a *App) BuildProgram(ctx context.Context, name, platforms string) (pipeline.Report, error) {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return pipeline.Report{}, err
	}
	prog, err := c.Get(name)
	if err != nil {
		return pipeline.Report{}, err
	}
	subset := a.Config.Platforms
	if platforms != "" {
		if subset, err = platform.ParseList(platforms); err != nil {
			return pipeline.Report{}, err
		}
	}
	if _, err := pipeline.Plan(prog, subset); err != nil {
		return pipeline.Report{}, err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return pipeline.Report{}, err
	}
	opt, err := a.Pipeline(ctx, b, patches, []catalog.Program{prog})
	if err != nil {
		return pipeline.Report{}, err
	}
	return pipeline.Build(ctx, opt, prog, subset)
}

// Verified is what `mage verify` found for a published program.
type Verified struct {
	Tag     string
	Results []verify.Result
	// Signature says whether the index signature was checked, and how.
	Signature string
	OK        bool
}

// Verify checks the published image of a program.
func (a *App) Verify(ctx context.Context, name string) (Verified, error) {
	prog, err := a.Program(name)
	if err != nil {
		return Verified{}, err
	}
	v := Verified{Tag: registry.TagsOf(a.Config.Image, prog).Version}
	v.Results, err = verify.Published(ctx, a.runner(), a.registry(), v.Tag, prog)
	if err == nil {
		v.Signature, err = a.verifySignature(ctx, v.Tag)
	}
	v.OK = err == nil
	return v, err
}

// verifySignature checks the index signature with CROSSBIN_VERIFY_KEY and
// says what was checked.
func (a *App) verifySignature(ctx context.Context, tag string) (string, error) {
	file := a.Config.Signing.VerifyKey
	if file == "" {
		return "signature: not checked (set CROSSBIN_VERIFY_KEY to a cosign public key)", nil
	}
	key, err := sign.LoadPublicKey(file)
	if err != nil {
		return "", err
	}
	if err := verify.Signature(ctx, a.registry(), tag, key); err != nil {
		return "signature: FAILED", err
	}
	return "signature: ok (index signed, verified with " + file + ")", nil
}

// String renders the results, a line per platform.
func (v Verified) String() string {
	var b strings.Builder
	for _, r := range v.Results {
		status := "ok"
		if r.Err != nil {
			status = "FAILED: " + r.Err.Error()
		}
		detail := r.Output
		if r.Note != "" {
			detail = r.Note
		}
		fmt.Fprintf(&b, "%-15s %-11s %-36s %-24s %-8s %s\n", r.Platform, kind(r), r.ELF, checks(r), status, detail)
	}
	if v.Signature != "" {
		fmt.Fprintf(&b, "%s %s\n", v.Tag, v.Signature)
	}
	if v.OK {
		fmt.Fprintf(&b, "%s: %d platforms verified (ELF header, a sandboxed run, SBOM against the binary, provenance)\n", v.Tag, len(v.Results))
	}
	return b.String()
}

// checks names the checks that ran for a platform.
func checks(r verify.Result) string {
	c := []string{"elf"}
	if r.Ran {
		c = append(c, "run")
	}
	if r.SBOM {
		c = append(c, "sbom")
	}
	if r.Provenance {
		c = append(c, "provenance")
	}
	return strings.Join(c, "+")
}

func kind(r verify.Result) string {
	if r.Unavailable {
		return "unavailable"
	}
	return "real"
}

// PatchOverview lists every patch against the pinned versions.
func (a *App) PatchOverview() (string, error) {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return "", err
	}
	var rows []patch.Overview
	for _, p := range patches {
		prog, _ := c.Get(p.Program) // checked by Patches
		rows = append(rows, patch.Overview{Patch: p, Pinned: prog.Version, Applies: p.Matches(prog.Version)})
	}
	return patch.Table(rows), nil
}

// Readme regenerates README.md's catalog table.
func (a *App) Readme() (bool, error) {
	c, err := a.Catalog()
	if err != nil {
		return false, err
	}
	return readme.Write(filepath.Join(a.Root, "README.md"), c, readme.DefaultRepo)
}

// Dockerfiles renders every program's Dockerfile from its pins and
// program.yaml, returning the programs whose Dockerfile changed.
func (a *App) Dockerfiles() ([]string, error) {
	c, err := a.Catalog()
	if err != nil {
		return nil, err
	}
	return render.Write(c)
}

// BuildAll builds, verifies and publishes the whole catalog through one job
// pool, with a progress line per platform.
func (a *App) BuildAll(ctx context.Context) ([]pipeline.Report, error) {
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return nil, err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return nil, err
	}
	opt, err := a.Pipeline(ctx, b, patches, c.Programs)
	if err != nil {
		return nil, err
	}
	targets := make([]pipeline.Target, len(c.Programs))
	for i, p := range c.Programs {
		targets[i] = pipeline.Target{Program: p, Subset: a.Config.Platforms, Publish: len(a.Config.Platforms) == 0}
	}
	res, err := pipeline.Run(ctx, opt, targets)
	return res.Reports, err
}
