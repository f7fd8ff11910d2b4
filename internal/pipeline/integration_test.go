package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/attest"
	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/crossbin/crossbin/internal/verify"
)

// options builds into a repository of its own on the embedded stack's
// registry, so tests never move the tags a user built.
func options(t *testing.T) pipeline.Options {
	t.Helper()
	cfg, ep := stacktest.Up(t)
	return stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
}

func load(t *testing.T, dir string) catalog.Program {
	t.Helper()
	p, err := catalog.LoadProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShfmtEveryPlatform builds shfmt for all 11 platforms, verifies the
// published index, and checks a second build moves nothing.
func TestShfmtEveryPlatform(t *testing.T) {
	opt := options(t)
	ctx := context.Background()
	shfmt := load(t, filepath.Join("..", "..", "dockerfiles", "shfmt"))
	rep, err := pipeline.Build(ctx, opt, shfmt, nil)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != len(platform.Defaults()) || len(rep.Tags) != 2 {
		t.Fatalf("%d outcomes, tags %v; want %d platforms and 2 tags", len(rep.Outcomes), rep.Tags, len(platform.Defaults()))
	}
	for _, tag := range rep.Tags {
		results, err := verify.Published(ctx, opt.Runner, opt.Registry, tag, shfmt)
		if err != nil {
			t.Fatalf("verify %s: %v", tag, err)
		}
		if len(results) != len(platform.Defaults()) {
			t.Fatalf("%s holds %d platforms", tag, len(results))
		}
		for _, r := range results {
			if r.Ran && r.Output != shfmt.Version {
				t.Errorf("%s %s printed %q; want %s", tag, r.Platform, r.Output, shfmt.Version)
			}
			if r.Platform.Arch != "386" && !r.Ran {
				t.Errorf("%s %s was not run (%s)", tag, r.Platform, r.Note)
			}
			if !r.SBOM || !r.Provenance {
				t.Errorf("%s %s: SBOM checked %v, provenance checked %v", tag, r.Platform, r.SBOM, r.Provenance)
			}
		}
	}
	if mods := sbomModules(t, opt, rep.Outcomes[0]); mods["mvdan.cc/sh/v3"] != shfmt.Version || mods["golang.org/x/sys"] == "" {
		t.Errorf("the amd64 SBOM lists %v; want mvdan.cc/sh/v3 at the pin and its dependencies", mods)
	}

	// The same images without their attestations fail verification.
	var bare []registry.Platform
	for _, o := range rep.Outcomes {
		bare = append(bare, registry.Platform{Image: o.Digest})
	}
	d, err := opt.Registry.PushIndex(ctx, opt.Repository, bare, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.Registry.Tag(ctx, opt.Repository+":shfmt-no-sbom", d); err != nil {
		t.Fatal(err)
	}
	if _, err := verify.Published(ctx, opt.Runner, opt.Registry, opt.Repository+":shfmt-no-sbom", shfmt); err == nil || !strings.Contains(err.Error(), "no SBOM attestation") {
		t.Errorf("an index without SBOMs verified: %v", err)
	}

	again, err := pipeline.Build(ctx, opt, shfmt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.TagsMoved() {
		t.Error("a rebuild with nothing changed moved the tags")
	}
	for i, o := range again.Outcomes {
		if o.Digest != rep.Outcomes[i].Digest {
			t.Errorf("%s: digest changed on rebuild: %s -> %s", o.Platform, rep.Outcomes[i].Digest, o.Digest)
		}
	}
}

// TestDlvAvailability checks delve's split as its spec states it: real
// builds where it has a backend (riscv64 and loong64 only with their
// experimental build tags), the unavailable binary elsewhere.
func TestDlvAvailability(t *testing.T) {
	opt := options(t)
	ctx := context.Background()
	dlv := load(t, filepath.Join("..", "..", "dockerfiles", "dlv"))
	rep, err := pipeline.Build(ctx, opt, dlv, nil)
	t.Logf("\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	results, err := verify.Published(ctx, opt.Runner, opt.Registry, rep.Tags[1], dlv)
	if err != nil {
		t.Fatal(err)
	}
	version := "Version: " + strings.TrimPrefix(dlv.Version, "v")
	if len(results) != len(dlv.Platforms) || len(dlv.Real()) < 6 {
		t.Fatalf("%d results for %d platforms; real %v", len(results), len(dlv.Platforms), dlv.Real())
	}
	for _, r := range results {
		if dlv.Available(r.Platform) {
			// linux/386 is checked by its ELF header alone on kernels that
			// cannot run it.
			elfOnly := !r.Ran && r.Platform.String() == "linux/386" && r.ELF == "EM_386 ELFCLASS32 ELFDATA2LSB"
			if r.Unavailable || r.Size < 5<<20 || (r.Output != version && !elfOnly) {
				t.Errorf("%s: want a real delve, got %+v", r.Platform, r)
			}
			continue
		}
		want := "dlv " + dlv.Version + " is unavailable on " + r.Platform.String()
		if !r.Unavailable || !r.Ran || r.Output != want {
			t.Errorf("%s: want %q, got %+v", r.Platform, want, r)
		}
	}
}

// TestFailingPlatformMovesNoTag builds a program whose Dockerfile fails on
// one platform: the error names the platform and its cause, and no tag
// appears.
func TestFailingPlatformMovesNoTag(t *testing.T) {
	opt := options(t)
	ctx := context.Background()
	prog := load(t, filepath.Join("testdata", "dockerfiles", "brokenfmt"))
	rep, err := pipeline.Build(ctx, opt, prog, nil)
	t.Logf("\n%s", rep.Table())
	if err == nil {
		t.Fatal("a failing platform built")
	}
	for _, want := range []string{"linux/s390x", "brokenfmt: no s390x build", "no tag was created or moved"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if failed := rep.Failed(); len(failed) != 1 || failed[0].Platform.String() != "linux/s390x" {
		t.Errorf("failed jobs: %v", failed)
	}
	noTags := func(when string) {
		t.Helper()
		for _, tag := range registry.TagsOf(opt.Repository, prog).All() {
			if _, err := opt.Registry.Index(ctx, tag); !errors.Is(err, registry.ErrNotPublished) {
				t.Errorf("%s: %s exists or cannot be read (err %v)", when, tag, err)
			}
		}
	}
	noTags("after a failed build")
	if !errors.Is(rep.Unmoved, pipeline.ErrBuildFailed) {
		t.Errorf("unmoved = %v, want ErrBuildFailed", rep.Unmoved)
	}
	// A platform subset that leaves the broken platform out builds, pushes
	// its image by digest, and moves no tag because it is a subset.
	amd64, _ := platform.Parse("linux/amd64")
	rep, err = pipeline.Build(ctx, opt, prog, []platform.Platform{amd64})
	if err != nil || !errors.Is(rep.Unmoved, pipeline.ErrSubset) || len(rep.Outcomes) != 1 {
		t.Fatalf("subset build: unmoved=%v err=%v", rep.Unmoved, err)
	}
	if _, err := opt.Registry.ImageByDigest(ctx, opt.Repository, rep.Outcomes[0].Digest); err != nil {
		t.Errorf("the subset's image was not pushed by digest: %v", err)
	}
	noTags("after a subset build")
}

// TestDockerfilesCheck lints every Dockerfile with BuildKit's checks.
func TestDockerfilesCheck(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-test", cfg.CacheDir, nil)
	ctx := context.Background()
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join("..", "..", "unavailable")}
	debian := ""
	for _, p := range c.Programs {
		dirs = append(dirs, p.Dir)
		if p.BuildsC() && debian == "" {
			// The C programs' base image, as a build gets it (Docker
			// Hub's debian:trixie is not reachable everywhere).
			if debian, err = ep.DebianImage(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, dir := range dirs {
		args := []string{"build", "--check", "--build-arg", "GO_IMAGE=" + opt.GoImage}
		if debian != "" {
			args = append(args, "--build-arg", "DEBIAN_IMAGE="+debian)
		}
		out, err := opt.Builder.(buildx.Builder).Client.Run(ctx, append(args, dir)...)
		if err != nil || !strings.Contains(string(out), "Check complete, no warnings found.") {
			t.Errorf("%s: %v\n%s", dir, err, out)
		}
	}
}

// TestNoSecretInProvenance builds shfmt with credentials inside its
// GOPROXY URL: the build works (the go tool gets them from the netrc
// secret), and they appear in no build argument, no attestation (the
// provenance records every build argument), no log line and no buildx
// output.
func TestNoSecretInProvenance(t *testing.T) {
	cfg, ep := stacktest.Up(t)
	opt := stacktest.Pipeline(t, cfg, ep, "crossbin-secret-test", cfg.CacheDir, nil)
	var logs, output bytes.Buffer
	opt.Log = slog.New(slog.NewTextHandler(&logs, nil))
	bx := opt.Builder.(buildx.Builder)
	bx.Output = &output
	opt.Builder = bx
	const secret = "s3cret-t0ken-crossbin"
	proxy := cfg.GoEnv["GOPROXY"]
	first, rest, _ := strings.Cut(proxy, ",")
	if !strings.HasPrefix(first, "https://") {
		t.Skipf("GOPROXY %q does not start with an https proxy", proxy)
	}
	opt.GoEnv = maps.Clone(cfg.GoEnv)
	opt.GoEnv["GOPROXY"] = "https://robot:" + secret + "@" + strings.TrimPrefix(first, "https://") + "," + rest
	// A setting no earlier build had, so the module download runs again
	// (through the credentialed proxy) instead of coming from the cache.
	opt.GoEnv["GONOSUMDB"] = "crossbin-secret-test-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".invalid"
	shfmt := load(t, filepath.Join("..", "..", "dockerfiles", "shfmt"))
	amd64, _ := platform.Parse("linux/amd64")
	ctx := context.Background()
	rep, err := pipeline.Build(ctx, opt, shfmt, []platform.Platform{amd64})
	if err != nil {
		t.Fatalf("build with a credentialed GOPROXY: %v", err)
	}
	o := rep.Outcomes[0]
	if len(o.Attestations) == 0 {
		t.Fatal("no provenance attestation")
	}
	stmts, err := opt.Registry.Statements(ctx, opt.Repository, o.Attestations)
	if err != nil {
		t.Fatal(err)
	}
	recorded := false
	for _, st := range stmts {
		if strings.HasPrefix(st.PredicateType, "https://slsa.dev/provenance/") {
			_, _, predicate, err := attest.ParseStatement(st.Data)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := attest.ProvenanceArg(predicate, "GOPROXY")
			recorded = ok && strings.Contains(v, strings.TrimPrefix(first, "https://"))
		}
		if strings.Contains(string(st.Data), secret) || strings.Contains(string(st.Data), "robot") {
			t.Errorf("the secret is in the %s statement", st.PredicateType)
		}
	}
	if !recorded {
		t.Error("the provenance does not record GOPROXY (without its credentials)")
	}
	for what, text := range map[string]string{"logs": logs.String(), "buildx output": output.String(), "table": rep.Table()} {
		if strings.Contains(text, secret) {
			t.Errorf("the secret is in the %s", what)
		}
	}
}

// sbomModules reads the SBOM attached to o's image: module path → version.
func sbomModules(t *testing.T, opt pipeline.Options, o pipeline.Outcome) map[string]string {
	t.Helper()
	stmts, err := opt.Registry.Statements(context.Background(), opt.Repository, o.Attestations)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stmts {
		if st.PredicateType != attest.PredicateSPDX {
			continue
		}
		_, _, predicate, err := attest.ParseStatement(st.Data)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := attest.ReadSPDX(predicate)
		if err != nil {
			t.Fatal(err)
		}
		mods := map[string]string{}
		for _, p := range doc.Packages {
			mods[p.PackageName] = p.PackageVersion
		}
		return mods
	}
	t.Fatalf("%s has no SBOM", o.Platform)
	return nil
}
