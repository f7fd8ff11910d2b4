package baseimage

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/crossbin/crossbin/internal/registry"
)

// GoVersion is the Go release builds use: the local builder image is made
// from golang.org/toolchain at this version, and builders that can reach
// Docker Hub use golang:<GoVersion>-alpine.
const GoVersion = "1.26.8"

// Upstream is the official Go builder image for a Go release.
func Upstream(goVersion string) string { return "golang:" + goVersion + "-alpine" }

// Choice is what decides the Go builder image.
type Choice struct {
	// Override, when set, is the image, used as is.
	Override string
	// GoVersion is the Go release of the upstream or assembled image; empty
	// means GoVersion.
	GoVersion string
	// Local assembles the image here when Docker Hub does not answer. Nil
	// means the builder is not crossbin's own: it gets the upstream image,
	// which it pulls itself, and Docker Hub is not asked.
	Local Assembler
	// DockerHubReachable reports whether golang images can be pulled from
	// Docker Hub; nil means probing registry-1.docker.io. It is asked only
	// when Local is set.
	DockerHubReachable func(context.Context) bool
}

// Image returns the Go builder image: the override; else the upstream image
// when there is no Local or Docker Hub answers; else the one Local
// assembles.
func (c Choice) Image(ctx context.Context) (string, error) {
	goVersion := c.GoVersion
	if goVersion == "" {
		goVersion = GoVersion
	}
	var assemble func(context.Context) (string, error)
	if c.Local != nil {
		assemble = func(ctx context.Context) (string, error) { return c.Local.Assemble(ctx, goVersion) }
	}
	return choose(ctx, c.Override, Upstream(goVersion), assemble, c.DockerHubReachable)
}

// choose is the rule both builder images follow: the override; else the
// upstream image when nothing can be assembled here or Docker Hub answers;
// else the assembled one.
func choose(ctx context.Context, override, upstream string, assemble func(context.Context) (string, error), reachable func(context.Context) bool) (string, error) {
	if override != "" {
		return override, nil
	}
	if assemble == nil {
		return upstream, nil
	}
	if reachable == nil {
		reachable = probeDockerHub
	}
	if reachable(ctx) {
		return upstream, nil
	}
	return assemble(ctx)
}

// Assembler makes the Go builder image for a Go release where builds can
// pull it, and returns its reference.
type Assembler interface {
	Assemble(ctx context.Context, goVersion string) (string, error)
}

// Local assembles the image on this machine (Gather, then Ensure) and
// pushes it to Repo.
type Local struct {
	Repo     string   // repository without tag, e.g. 127.0.0.1:5000/crossbin/golang
	Env      []string // environment for the go tool
	GOARCH   string   // architecture of the image and its toolchain
	CABundle string   // the host's PEM bundle
	// LookPath finds the host's static busybox, as exec.LookPath does.
	LookPath func(string) (string, error)
	// Record is the file that remembers the digest last pushed.
	Record string
	Log    *slog.Logger
}

// Assemble makes sure Repo holds the image for goVersion and returns its
// reference.
func (l Local) Assemble(ctx context.Context, goVersion string) (string, error) {
	busybox, err := l.LookPath("busybox")
	if err != nil {
		return "", fmt.Errorf("builder image: busybox: %w", err)
	}
	in, err := Gather(ctx, l.Env, goVersion, l.GOARCH, busybox, l.CABundle)
	if err != nil {
		return "", err
	}
	return Ensure(ctx, l.Log, registry.Client{}, l.Repo, in, l.Record)
}

func probeDockerHub(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://registry-1.docker.io/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	// The registry answers 401 without credentials: that is reachable.
	return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
}
