package buildx_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// TestCheckBuilder runs the real buildx against a builder that does not
// exist and one whose node is down: each fails with one error naming the
// builder and what to do; the stack's own builder passes.
func TestCheckBuilder(t *testing.T) {
	_, ep := stacktest.Up(t)
	ctx := context.Background()
	if err := ep.Buildx.Check(ctx); err != nil {
		t.Fatalf("the stack's builder: %v", err)
	}
	// A private DOCKER_CONFIG, so the user's builders stay untouched.
	private := ep.Buildx
	private.Env = append(append([]string{}, ep.Buildx.Env...), "DOCKER_CONFIG="+t.TempDir())
	private.Builder = ""
	dead := filepath.Join(t.TempDir(), "none.sock")
	if _, err := private.Run(ctx, "create", "--name", "dead", "--driver", "remote", "unix://"+dead); err != nil {
		t.Fatal(err)
	}
	for builder, want := range map[string]string{
		"nope": `CROSSBIN_BUILDER=nope: ERROR: no builder "nope" found (list the builders with ` + "`docker buildx ls`",
		"dead": "CROSSBIN_BUILDER=dead is not running (dead0 is inactive): start it with `docker buildx inspect --bootstrap dead`",
	} {
		c := private
		c.Builder = builder
		err := c.Check(ctx)
		if !errors.Is(err, buildx.ErrBuilder) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\nwant %q", builder, err, want)
		}
	}
}
