package buildx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crossbin/crossbin/internal/lines"
)

// Node is one node of a builder as `buildx inspect` reports it.
type Node struct {
	Name, Status string
}

// ParseInspect reads the nodes out of `buildx inspect` output.
func ParseInspect(out string) []Node {
	var nodes []Node
	inNodes := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "Nodes:" {
			inNodes = true
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !inNodes || !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "Name":
			nodes = append(nodes, Node{Name: value})
		case "Status":
			if len(nodes) > 0 {
				nodes[len(nodes)-1].Status = value
			}
		}
	}
	return nodes
}

// ErrBuilder reports a configured builder that cannot build.
var ErrBuilder = errors.New("buildx builder unusable")

// Check makes sure the client's builder exists and has a running node, so a
// run fails before its first job instead of once per job.
func (c Client) Check(ctx context.Context) error {
	if c.Builder == "" {
		return nil
	}
	probe := c
	probe.Builder = "" // name it as inspect's argument, not as --builder
	out, err := probe.Command(ctx, "inspect", c.Builder).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: CROSSBIN_BUILDER=%s: %s (list the builders with `docker buildx ls`; unset CROSSBIN_BUILDER to use the embedded stack)",
			ErrBuilder, c.Builder, firstLine(string(out), err))
	}
	nodes := ParseInspect(string(out))
	var states []string
	for _, n := range nodes {
		if n.Status == "running" {
			return nil
		}
		states = append(states, n.Name+" is "+n.Status)
	}
	if len(states) == 0 {
		states = []string{"it has no nodes"}
	}
	return fmt.Errorf("%w: CROSSBIN_BUILDER=%s is not running (%s): start it with `docker buildx inspect --bootstrap %s`, or list the builders with `docker buildx ls`",
		ErrBuilder, c.Builder, strings.Join(states, ", "), c.Builder)
}

func firstLine(out string, err error) string {
	if l := lines.First(strings.TrimSpace(out)); l != "" {
		return l
	}
	return err.Error()
}
