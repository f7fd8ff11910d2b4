package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crossbin/crossbin/internal/buildx"
)

// prune drops the builder's layer cache (and with all, its cache mounts:
// the Go module and build caches too), then unpacks the Go builder image
// in it again. The bare loop it is compared with runs a Go that is already
// installed, as a rebuild after a version bump finds the builder image in
// place: unpacking the image (about 2 s here) is neither's work.
func prune(ctx context.Context, bx buildx.Client, goImage string, all bool) error {
	argv := buildx.PruneLayersArgv()
	if all {
		argv = buildx.PruneAllArgv()
	}
	if _, err := bx.Run(ctx, argv...); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crossbin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(builderImageDockerfile), 0o644); err != nil {
		return err
	}
	if _, err := bx.Run(ctx, UnpackArgv(goImage, dir)...); err != nil {
		return fmt.Errorf("unpack the Go builder image %s: %w", goImage, err)
	}
	return nil
}

// builderImageDockerfile runs one step on the image, so the builder
// unpacks it.
const builderImageDockerfile = "ARG IMAGE\nFROM ${IMAGE}\nRUN true\n"

// UnpackArgv is the buildx command line that unpacks image in the builder
// (a build of builderImageDockerfile in dir), exporting nothing.
func UnpackArgv(image, dir string) []string {
	return []string{"build", "--progress", "quiet", "--build-arg", "IMAGE=" + image, "--output", "type=cacheonly", dir}
}
