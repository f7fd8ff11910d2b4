package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// BuildkitdConfig renders buildkitd.toml: a rootful runc worker with host
// networking (RUN steps reach the Go module proxy the way the host does),
// at most parallel steps running at once (0: BuildKit's default, no
// bound), garbage collection within gc, and the local registry marked as
// plain-HTTP and insecure under both of the names builds use for it.
//
// The bound matters because one bake builds all of a program's platforms
// at once: without it, eleven Go compiles of a large program run side by
// side, where crossbin's jobs setting means to allow that many.
func BuildkitdConfig(root, socket string, registryPort, parallel int, gc GC) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by crossbin; rewritten on every stack:up.\n")
	fmt.Fprintf(&b, "root = %s\n\n", strconv.Quote(root))
	fmt.Fprintf(&b, "[grpc]\n  address = [%s]\n\n", strconv.Quote("unix://"+socket))
	fmt.Fprintf(&b, "[worker.oci]\n  enabled = true\n  binary = \"runc\"\n  networkMode = \"host\"\n  gc = true\n")
	if parallel > 0 {
		fmt.Fprintf(&b, "  # Steps at once: crossbin's jobs setting when stack:up started buildkitd.\n")
		fmt.Fprintf(&b, "  max-parallelism = %d\n", parallel)
	}
	fmt.Fprintf(&b, "  # Bounds from the disk's usable space when stack:up ran (see stack.GCFor).\n")
	fmt.Fprintf(&b, "  reservedSpace = %d\n  maxUsedSpace = %d\n  minFreeSpace = %d\n\n", gc.Reserved, gc.MaxUsed, gc.MinFree)
	fmt.Fprintf(&b, "[worker.containerd]\n  enabled = false\n")
	for _, host := range registryHosts(registryPort) {
		fmt.Fprintf(&b, "\n[registry.%s]\n  http = true\n  insecure = true\n", strconv.Quote(host))
	}
	return b.String()
}

func registryHosts(port int) []string {
	return []string{fmt.Sprintf("localhost:%d", port), fmt.Sprintf("127.0.0.1:%d", port)}
}

// BuildkitdArgs is buildkitd's command line.
func BuildkitdArgs(configFile string) []string {
	return []string{"--config", configFile}
}

// RegistryConfig renders the distribution registry's config.yml: filesystem
// storage, deletes enabled (so tests and `mage ci` can clean up), listening
// on loopback only.
func RegistryConfig(storage string, port int) string {
	return fmt.Sprintf(`# Written by crossbin; rewritten on every stack:up.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
`, strconv.Quote(storage), port)
}

// RegistryArgs is the registry's command line.
func RegistryArgs(configFile string) []string {
	return []string{"serve", configFile}
}

// checkRegistry reports whether a distribution registry answers the v2 API
// at baseURL: status 200 on /v2/ and the API version header, which tells it
// apart from any other server that might hold the port.
func checkRegistry(ctx context.Context, client *http.Client, baseURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v2/: status %s", resp.Status)
	}
	if v := resp.Header.Get("Docker-Distribution-Api-Version"); v != "registry/2.0" {
		return fmt.Errorf("GET /v2/: not a registry (Docker-Distribution-Api-Version %q)", v)
	}
	return nil
}

// checkBuildkitd asks buildkitd for its workers through buildctl.
func checkBuildkitd(ctx context.Context, buildctl, socket string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, buildctl, "--addr", "unix://"+socket, "debug", "workers").CombinedOutput()
	if err != nil {
		return fmt.Errorf("buildctl debug workers: %w: %s", err, strings.TrimSpace(string(out)))
	}
	// A header line, then one line per worker.
	if len(strings.Split(strings.TrimSpace(string(out)), "\n")) < 2 {
		return fmt.Errorf("buildctl debug workers: buildkitd has no worker: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// waitReady polls check until it succeeds, the timeout passes, or alive
// reports that the process died.
func waitReady(ctx context.Context, timeout time.Duration, alive func() bool, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		if !alive() {
			return fmt.Errorf("it exited: %w", last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ErrPortInUse reports that the registry port is held by another program.
var ErrPortInUse = errors.New("port in use")

// waitPortFree is checkPortFree, retried for up to timeout: a registry that
// has just stopped can hold its port for a moment after its process ends.
func waitPortFree(ctx context.Context, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := checkPortFree(port)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// statusClient checks the registry without keeping connections open, so
// crossbin holds none of its registry's sockets when it stops it.
func statusClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// checkPortFree fails if something already listens on 127.0.0.1:port.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%w: 127.0.0.1:%d is taken by another program (%w); stop it, or choose another port with CROSSBIN_REGISTRY_PORT", ErrPortInUse, port, err)
	}
	return l.Close()
}
