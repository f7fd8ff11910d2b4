// Package buildx drives docker buildx: a Client says how to invoke it, and
// pure functions turn typed build and merge requests into its command lines,
// so every argv crossbin runs is checked by golden files without Docker.
package buildx

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/crossbin/crossbin/internal/proc"
)

// Client says how to run buildx and which builder to use.
//
// With the embedded stack, Path is the buildx binary run directly
// (standalone mode, no docker CLI needed) and Env points DOCKER_CONFIG at a
// private directory. With a user's own builder, Path is "docker", Prefix is
// ["buildx"] and the user's environment is used as is.
type Client struct {
	Path    string
	Prefix  []string
	Env     []string
	Builder string
}

// Argv is the full command line for buildx arguments, with the builder
// selected explicitly.
func (c Client) Argv(args ...string) []string {
	argv := append([]string{c.Path}, c.Prefix...)
	if c.Builder != "" {
		argv = append(argv, "--builder", c.Builder)
	}
	return append(argv, args...)
}

// Command prepares a buildx command.
func (c Client) Command(ctx context.Context, args ...string) *exec.Cmd {
	argv := c.Argv(args...)
	cmd := proc.Command(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	return cmd
}

// Run runs buildx and returns its output, or an error carrying the output.
func (c Client) Run(ctx context.Context, args ...string) ([]byte, error) {
	out, err := c.Command(ctx, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s", strings.Join(c.Argv(args...), " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// String shows how a user would run the same buildx by hand.
func (c Client) String() string {
	var b strings.Builder
	for _, e := range c.Env {
		b.WriteString(e + " ")
	}
	b.WriteString(strings.Join(c.Argv(), " "))
	return b.String()
}

// PruneAllArgv removes the builder's whole cache: layers, cache mounts
// (the Go module and build caches) and pulled images.
func PruneAllArgv() []string {
	return []string{"prune", "--all", "--force"}
}

// PruneLayersArgv removes the builder's layer cache and keeps its cache
// mounts.
func PruneLayersArgv() []string {
	return []string{"prune", "--force", "--filter", "type=regular"}
}
