// Package install puts a published program's binary for this machine into
// a directory, the way a user would otherwise do by hand: through a Docker
// Engine when one answers (pull, create a container, copy the file out,
// remove the container), or straight from the registry otherwise.
package install

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fetcher copies the file at path in the image ref for pl to dst.
type Fetcher interface {
	Fetch(ctx context.Context, ref string, pl platform.Platform, path, dst string) error
	String() string
}

// Host is this machine's platform.
func Host() (platform.Platform, error) {
	return platform.Parse(runtime.GOOS + "/" + runtime.GOARCH)
}

// Binary installs /bin/<name> of ref for pl into dir with the first
// fetcher that works, and returns its path and the fetcher used.
func Binary(ctx context.Context, fetchers []Fetcher, ref, name string, pl platform.Platform, dir string) (string, Fetcher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	dst := filepath.Join(dir, name)
	var errs []error
	for _, f := range fetchers {
		tmp := dst + ".tmp"
		err := f.Fetch(ctx, ref, pl, "/bin/"+name, tmp)
		if err == nil {
			if err := os.Rename(tmp, dst); err != nil {
				return "", nil, err
			}
			return dst, f, nil
		}
		os.Remove(tmp)
		errs = append(errs, fmt.Errorf("%s: %w", f, err))
	}
	return "", nil, fmt.Errorf("install %s from %s: %w", name, ref, errors.Join(errs...))
}

// Registry reads the image from its registry with go-containerregistry.
type Registry struct{ Client registry.Client }

func (Registry) String() string { return "registry" }

// Fetch pulls the platform's image and extracts path.
func (r Registry) Fetch(ctx context.Context, ref string, pl platform.Platform, path, dst string) error {
	img, err := r.Client.PlatformImage(ctx, ref, pl)
	if err != nil {
		return err
	}
	_, err = registry.ExtractFile(img, strings.TrimPrefix(path, "/"), dst)
	return err
}

// Engine goes through a Docker Engine with the Engine API client.
type Engine struct {
	Client *client.Client
}

// NewEngine connects to the Docker Engine the environment names
// (DOCKER_HOST, or the default socket) and checks that it answers.
func NewEngine(ctx context.Context, host string) (*Engine, error) {
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("no Docker Engine at %s: %w", c.DaemonHost(), err)
	}
	return &Engine{Client: c}, nil
}

func (e *Engine) String() string { return "docker engine at " + e.Client.DaemonHost() }

// Fetch pulls ref for pl, creates (but never starts) a container from it,
// copies path out and removes the container.
func (e *Engine) Fetch(ctx context.Context, ref string, pl platform.Platform, path, dst string) error {
	ocipl := ocispec.Platform{OS: pl.OS, Architecture: pl.Arch, Variant: pl.Variant}
	pull, err := e.Client.ImagePull(ctx, ref, client.ImagePullOptions{Platforms: []ocispec.Platform{ocipl}})
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	err = pull.Wait(ctx)
	pull.Close()
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	created, err := e.Client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Image: ref, Platform: &ocipl,
	})
	if err != nil {
		return fmt.Errorf("create a container from %s: %w", ref, err)
	}
	defer func() {
		_, _ = e.Client.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
	}()
	cp, err := e.Client.CopyFromContainer(ctx, created.ID, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return fmt.Errorf("copy %s out of the container: %w", path, err)
	}
	defer cp.Content.Close()
	return untarFile(cp.Content, filepath.Base(path), dst)
}

// untarFile writes the regular file called base from a tar stream to dst.
func untarFile(r io.Reader, base, dst string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s not in the copied archive", base)
		}
		if err != nil {
			return err
		}
		if filepath.Base(h.Name) != base || h.Typeflag != tar.TypeReg {
			continue
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		return errors.Join(err, f.Close())
	}
}
