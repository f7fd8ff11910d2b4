package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/ci"
	"github.com/crossbin/crossbin/internal/dockerfile"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// published reads the index a's repository holds for program at the
// version a's catalog pins.
func published(t *testing.T, a *App, program string) registry.Index {
	t.Helper()
	c, err := a.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := c.Get(program)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := (registry.Client{}).Index(context.Background(), registry.TagsOf(a.Config.Image, prog).Version)
	if err != nil {
		t.Fatalf("%s %s: %v", program, prog.Version, err)
	}
	return idx
}

func plan(t *testing.T, a *App) map[string]bool {
	t.Helper()
	run, err := a.ciPlan(context.Background(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	build := map[string]bool{}
	for _, e := range run.entries {
		build[e.Program.Name] = e.Build
	}
	return build
}

// TestCI: the first run publishes everything, the second builds and pushes
// nothing, a changed pin rebuilds exactly that program.
func TestCI(t *testing.T) {
	ctx := context.Background()
	root := scratchRepo(t, "shfmt", "dlv")
	a := testApp(t, root, freshRepo("crossbin-ci"))

	if _, err := a.CI(ctx); err != nil {
		t.Fatal(err)
	}
	shfmt, dlv := published(t, a, "shfmt"), published(t, a, "dlv")
	if len(shfmt.Platforms) != len(platform.Defaults()) || len(dlv.Platforms) != len(platform.Defaults()) || shfmt.Annotations[inputs.Annotation] == "" {
		t.Fatalf("first run published %+v and %+v", shfmt, dlv)
	}

	if p := plan(t, a); p["shfmt"] || p["dlv"] {
		t.Fatalf("second plan builds %v", p)
	}
	// A pull request's run plans against the published repository
	// (CROSSBIN_PLAN_IMAGE) and pushes to its own.
	pr := newTestApp(t, a.Config, root, freshRepo("crossbin-ci-pr"))
	pr.Config.PlanImage = a.Config.Image
	if p := plan(t, pr); p["shfmt"] || p["dlv"] {
		t.Fatalf("planned against the published catalog, the run builds %v", p)
	}
	if _, err := a.CI(ctx); err != nil {
		t.Fatal(err)
	}
	if again := published(t, a, "shfmt"); again.Digest != shfmt.Digest {
		t.Fatal("a run with nothing to do moved shfmt's tag")
	}

	df := filepath.Join(root, "dockerfiles", "shfmt", "Dockerfile")
	data, _ := os.ReadFile(df)
	f, err := dockerfile.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if data, err = f.SetArg("VERSION", "v3.13.1"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(df, data, 0o644)
	if p := plan(t, a); !p["shfmt"] || p["dlv"] {
		t.Fatalf("after a pin change the plan builds %v; want shfmt only", p)
	}
	if p := plan(t, pr); !p["shfmt"] || p["dlv"] {
		t.Fatalf("after a pin change the pull request's plan builds %v; want shfmt only", p)
	}
	if _, err := a.CI(ctx); err != nil {
		t.Fatal(err)
	}
	if got := published(t, a, "shfmt"); len(got.Platforms) != len(platform.Defaults()) { // the catalog now pins v3.13.1
		t.Fatalf("shfmt v3.13.1: %+v", got)
	}
	if got := published(t, a, "dlv"); got.Digest != dlv.Digest {
		t.Fatal("dlv was republished although nothing of it changed")
	}
}

// TestCIFailingProgram: one program fails on one platform; its tags do not
// appear, the other program publishes, and the error names the failure.
func TestCIFailingProgram(t *testing.T) {
	ctx := context.Background()
	root := scratchRepo(t, "shfmt", filepath.Join("..", "pipeline", "testdata", "dockerfiles", "brokenfmt"))
	a := testApp(t, root, freshRepo("crossbin-ci-fail"))
	_, err := a.CI(ctx)
	if err == nil || !strings.Contains(err.Error(), "brokenfmt") || !strings.Contains(err.Error(), "linux/s390x") {
		t.Fatalf("err = %v; want brokenfmt's s390x failure", err)
	}
	if got := published(t, a, "shfmt"); len(got.Platforms) != len(platform.Defaults()) {
		t.Fatalf("shfmt was not published: %+v", got)
	}
	if _, err := (registry.Client{}).Index(ctx, a.Config.Image+":brokenfmt"); err == nil {
		t.Fatal("brokenfmt was tagged")
	}
}

// TestCIDistributed runs ci:plan, ci:build per job and ci:merge as separate
// mage processes and gets what one `mage ci` publishes.
func TestCIDistributed(t *testing.T) {
	ctx := context.Background()
	root := scratchRepo(t, "shfmt", "dlv")
	one := testApp(t, root, freshRepo("crossbin-ci-one"))
	if _, err := one.CI(ctx); err != nil {
		t.Fatal(err)
	}
	repo := freshRepo("crossbin-ci-split")
	split := testApp(t, root, repo)
	records := t.TempDir()
	mage := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "mage"}, args...)...)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CROSSBIN_ROOT="+root, "CROSSBIN_IMAGE="+split.Config.Image)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("mage %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	var matrix ci.Matrix
	if err := jsonUnmarshal(mage("ci:plan"), &matrix); err != nil {
		t.Fatal(err)
	}
	if len(matrix.Include) != 2*len(platform.Defaults()) {
		t.Fatalf("matrix has %d jobs; want %d", len(matrix.Include), 2*len(platform.Defaults()))
	}
	for _, j := range matrix.Include {
		mage("ci:build", j.Program, j.Platform, "-out="+records)
	}
	mage("ci:merge", "-in="+records)
	for _, p := range []string{"shfmt", "dlv"} {
		a, b := published(t, one, p), published(t, split, p)
		if !slices.Equal(a.Digests(), b.Digests()) || a.Annotations[inputs.Annotation] != b.Annotations[inputs.Annotation] {
			t.Errorf("%s: one process published %v (%s), distributed %v (%s)", p, a.Digests(), a.Annotations[inputs.Annotation], b.Digests(), b.Annotations[inputs.Annotation])
		}
	}
	if m := mage("ci:plan"); !strings.Contains(m, `"include":[]`) {
		t.Errorf("after the merge the plan still has jobs: %s", m)
	}
}
