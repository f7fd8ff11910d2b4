package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/buildx"
)

// TestPruneKeepsBuilderImage: after dropping the builder's cache, the Go
// builder image is unpacked again from a Dockerfile that uses it.
func TestPruneKeepsBuilderImage(t *testing.T) {
	for _, all := range []bool{false, true} {
		log := filepath.Join(t.TempDir(), "calls")
		// Each call logs its argv, and the build also its Dockerfile.
		script := `echo "$*" >> "$LOG"; if [ "$1" = build ]; then cat "${8}/Dockerfile" >> "$LOG"; fi`
		bx := buildx.Client{Path: "/bin/sh", Prefix: []string{"-c", script, "buildx"}, Env: []string{"LOG=" + log}}
		if err := prune(context.Background(), bx, "127.0.0.1:5000/crossbin/golang:1.26.8@sha256:abc", all); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		calls := strings.Split(strings.TrimSpace(string(data)), "\n")
		wantPrune := strings.Join(buildx.PruneLayersArgv(), " ")
		if all {
			wantPrune = strings.Join(buildx.PruneAllArgv(), " ")
		}
		if len(calls) != 5 || calls[0] != wantPrune ||
			!strings.HasPrefix(calls[1], "build --progress quiet --build-arg IMAGE=127.0.0.1:5000/crossbin/golang:1.26.8@sha256:abc --output type=cacheonly ") ||
			calls[3] != "FROM ${IMAGE}" || calls[4] != "RUN true" {
			t.Errorf("all=%v: calls\n%s", all, data)
		}
	}
}
