package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/crossbin/crossbin/internal/verify"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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

// TestShfmtEveryPlatform builds shfmt for all 8 platforms, verifies the
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
	if len(rep.Outcomes) != 8 || len(rep.Tags) != 2 {
		t.Fatalf("%d outcomes, tags %v; want 8 platforms and 2 tags", len(rep.Outcomes), rep.Tags)
	}
	for _, tag := range rep.Tags {
		results, err := verify.Published(ctx, opt.Runner, opt.Registry, tag, shfmt)
		if err != nil {
			t.Fatalf("verify %s: %v", tag, err)
		}
		if len(results) != 8 {
			t.Fatalf("%s holds %d platforms", tag, len(results))
		}
		for _, r := range results {
			if r.Ran && r.Output != shfmt.Version {
				t.Errorf("%s %s printed %q; want %s", tag, r.Platform, r.Output, shfmt.Version)
			}
			if r.Platform.Arch != "386" && !r.Ran {
				t.Errorf("%s %s was not run (%s)", tag, r.Platform, r.Note)
			}
		}
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

// TestDlvAvailability checks delve's split: real builds where it has a
// backend (riscv64 only with its experimental build tag), the unavailable
// binary elsewhere.
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
	for _, r := range results {
		switch r.Platform.String() {
		case "linux/amd64", "linux/386", "linux/arm64", "linux/ppc64le", "linux/riscv64":
			// linux/386 is checked by its ELF header alone on kernels that
			// cannot run it.
			elfOnly := !r.Ran && r.Platform.String() == "linux/386" && r.ELF == "EM_386 ELFCLASS32 ELFDATA2LSB"
			if r.Unavailable || r.Size < 5<<20 || (r.Output != version && !elfOnly) {
				t.Errorf("%s: want a real delve, got %+v", r.Platform, r)
			}
		case "linux/s390x", "linux/arm/v6", "linux/arm/v7":
			want := "dlv " + dlv.Version + " is unavailable on " + r.Platform.String()
			if !r.Unavailable || !r.Ran || r.Output != want {
				t.Errorf("%s: want %q, got %+v", r.Platform, want, r)
			}
		default:
			t.Errorf("unexpected platform %s", r.Platform)
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
	for _, tag := range registry.TagsOf(opt.Repository, prog).All() {
		ref, _ := name.NewTag(tag)
		_, err := remote.Head(ref)
		var terr *transport.Error
		if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
			t.Errorf("%s exists after a failed build (err %v)", tag, err)
		}
	}
	// A platform subset that leaves the broken platform out builds, and
	// still moves no tag.
	amd64, _ := platform.Parse("linux/amd64")
	rep, err = pipeline.Build(ctx, opt, prog, []platform.Platform{amd64})
	if err != nil || rep.TagsMoved() || !slices.ContainsFunc(rep.Outcomes, func(o pipeline.Outcome) bool { return o.Digest.Hex != "" }) {
		t.Fatalf("subset build: moved=%v err=%v", rep.TagsMoved(), err)
	}
}

// TestDockerfilesCheck lints every Dockerfile with BuildKit's checks.
func TestDockerfilesCheck(t *testing.T) {
	opt := options(t)
	ctx := context.Background()
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join("..", "..", "unavailable")}
	for _, p := range c.Programs {
		dirs = append(dirs, p.Dir)
	}
	for _, dir := range dirs {
		out, err := opt.Builder.(buildx.Builder).Client.Run(ctx, "build", "--check", "--build-arg", "GO_IMAGE="+opt.GoImage, dir)
		if err != nil || !strings.Contains(string(out), "Check complete, no warnings found.") {
			t.Errorf("%s: %v\n%s", dir, err, out)
		}
	}
}
