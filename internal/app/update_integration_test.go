package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/stacktest"
	"github.com/crossbin/crossbin/internal/update"
)

// updateErr is what `mage update` returns: the error that stopped it, or the
// rows' errors.
func updateErr(rows []update.Row, err error) error {
	if err != nil {
		return err
	}
	return update.Errors(rows)
}

// TestUpdateBumpsAndBuilds pins shfmt to an old release in a scratch copy
// of the repository, runs the update against the real module proxy with
// verification, and checks the pin, the README row and the build.
func TestUpdateBumpsAndBuilds(t *testing.T) {
	ctx := context.Background()
	root := scratchRepo(t, "shfmt")
	dir := filepath.Join(root, "dockerfiles", "shfmt")
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	cur, _ := catalog.LoadProgram(dir)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(strings.Replace(string(df), "ARG VERSION="+cur.Version, "ARG VERSION=v3.12.0", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte("description: test\nhomepage: https://github.com/mvdan/sh\nupdate:\n  constraint: \"~> 3.13.0\"\n"), 0o644)
	a := testApp(t, root, freshRepo("crossbin-update"))
	if err := updateErr(a.Update(ctx, UpdateOptions{Verify: true})); err != nil {
		t.Fatal(err)
	}
	p, err := catalog.LoadProgram(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "v3.13.1" {
		t.Fatalf("pinned %s; want v3.13.1, the newest release allowed by ~> 3.13.0", p.Version)
	}
	md, _ := os.ReadFile(filepath.Join(root, "README.md"))
	if !strings.Contains(string(md), "| v3.13.1 |") || !strings.Contains(string(md), "crossbin:shfmt-v3.13.1") {
		t.Fatalf("README row not updated:\n%s", md)
	}
	// A second run has nothing to do.
	if err := updateErr(a.Update(ctx, UpdateOptions{DryRun: true})); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateBadInput: unknown program, unparsable constraint, proxy down.
func TestUpdateBadInput(t *testing.T) {
	cfg := stacktest.Config(t)
	ctx := context.Background()
	root := scratchRepo(t, "shfmt")
	dir := filepath.Join(root, "dockerfiles", "shfmt")
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	a := newTestApp(t, cfg, root, "crossbin-update-bad")

	if err := updateErr(a.Update(ctx, UpdateOptions{Program: "nope"})); err == nil || !strings.Contains(err.Error(), `unknown program "nope"`) {
		t.Errorf("unknown program: %v", err)
	}
	a.Config.GoEnv = map[string]string{"GOPROXY": "http://127.0.0.1:1"}
	err := updateErr(a.Update(ctx, UpdateOptions{}))
	if err == nil || !strings.Contains(err.Error(), "is the module proxy reachable") {
		t.Errorf("proxy down: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if string(after) != string(df) {
		t.Error("a failed update changed the Dockerfile")
	}
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte("update:\n  constraint: \"about 3\"\n"), 0o644)
	if err := updateErr(a.Update(ctx, UpdateOptions{})); err == nil || !strings.Contains(err.Error(), `constraint "about 3"`) {
		t.Errorf("bad constraint: %v", err)
	}
}
