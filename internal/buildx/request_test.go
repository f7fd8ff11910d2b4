package buildx

import (
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

func TestBuildArgv(t *testing.T) {
	arm := platform.Platform{OS: "linux", Arch: "arm", Variant: "v6"}
	goenv, err := arm.GoEnv()
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"GO_IMAGE": "localhost:5000/crossbin/golang:1.26.8", "GOPROXY": "https://proxy.golang.org,direct"}
	for _, v := range goenv {
		args[v.Name] = v.Value
	}
	for _, tc := range []struct {
		name string
		req  BuildRequest
	}{
		{"program", BuildRequest{
			Context: "dockerfiles/helm", Platform: arm, Args: args,
			Contexts:   map[string]string{"source": "/cache/source/helm.sh/helm/v3@v3.6.2"},
			Repository: "localhost:5000/crossbin", MetadataFile: "/tmp/m.json", SourceDateEpoch: 1623332829, Progress: "plain",
		}},
		{"unavailable", BuildRequest{
			Context: "unavailable", Dockerfile: "unavailable/Dockerfile", Platform: platform.Platform{OS: "linux", Arch: "s390x"},
			Args:       map[string]string{"NAME": "dlv", "VERSION": "v1.6.1", "PLATFORM": "linux/s390x"},
			Repository: "ghcr.io/me/crossbin", MetadataFile: "/tmp/m.json",
		}},
		{"no-push", BuildRequest{Context: "dockerfiles/shfmt", Platform: platform.Platform{OS: "linux", Arch: "amd64"}}},
		{"local-target", BuildRequest{
			Context: "dockerfiles/tmux", Platform: platform.Platform{OS: "linux", Arch: "arm64"},
			Args: map[string]string{"DEBIAN_IMAGE": "debian:trixie", "TRIPLE": "aarch64-linux-gnu"}, Contexts: map[string]string{"source": "/cache/tarball/tmux"},
			Repository: "localhost:5000/crossbin", Target: "sbom", LocalOutput: "/tmp/record", SourceDateEpoch: 1728115200, Progress: "plain",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden.Check(t, "build-"+tc.name+".argv", []byte(strings.Join(BuildArgv(tc.req), "\n")+"\n"))
		})
	}
}

func TestClientArgv(t *testing.T) {
	embedded := Client{Path: "/cache/tools/buildx", Env: []string{"DOCKER_CONFIG=/cache/docker"}, Builder: "crossbin"}
	if got := strings.Join(embedded.Argv("inspect"), " "); got != "/cache/tools/buildx --builder crossbin inspect" {
		t.Errorf("embedded: %s", got)
	}
	user := Client{Path: "docker", Prefix: []string{"buildx"}, Builder: "desktop-linux"}
	if got := strings.Join(user.Argv("build", "."), " "); got != "docker buildx --builder desktop-linux build ." {
		t.Errorf("user: %s", got)
	}
	if got := embedded.String(); got != "DOCKER_CONFIG=/cache/docker /cache/tools/buildx --builder crossbin" {
		t.Errorf("String() = %s", got)
	}
}
