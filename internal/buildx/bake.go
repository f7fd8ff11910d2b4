package buildx

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A bake builds several requests through one buildx process and one
// BuildKit session: the steps they share (the base image, the module
// download) run once, and BuildKit schedules the rest together, where
// one buildx process per request pays its start, session and solve setup
// for each. Builder.BuildBatch runs one; callers keep one Build per
// request for a failed batch, which is what names each failure.

// bakeFile is buildx's bake definition in its JSON form.
type bakeFile struct {
	Group  map[string]bakeGroup  `json:"group"`
	Target map[string]bakeTarget `json:"target"`
}

type bakeGroup struct {
	Targets []string `json:"targets"`
}

type bakeTarget struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile,omitempty"`
	Contexts   map[string]string `json:"contexts,omitempty"`
	Platforms  []string          `json:"platforms"`
	Args       map[string]string `json:"args,omitempty"`
	Secret     []string          `json:"secret,omitempty"`
	Attest     []string          `json:"attest"`
	Output     []string          `json:"output"`
}

// BakeTargets names reqs' bake targets, in order: their position and
// platform, e.g. "t3-linux-arm-v7" (bake accepts letters, digits, '-'
// and '_').
func BakeTargets(reqs []BuildRequest) []string {
	out := make([]string, len(reqs))
	for k, r := range reqs {
		out[k] = "t" + strconv.Itoa(k) + "-" + unsafeName.ReplaceAllString(r.Platform.String(), "-")
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// BakeDefinition is the bake file (JSON) that builds reqs as the targets
// BakeTargets names, each exactly as BuildArgv would build it alone. Each
// secret reaches bake from its environment variable (SecretEnv), which
// one process has once: requests that give one secret id different
// values cannot share a bake.
func BakeDefinition(reqs []BuildRequest) ([]byte, error) {
	names := BakeTargets(reqs)
	f := bakeFile{Group: map[string]bakeGroup{"default": {Targets: names}}, Target: map[string]bakeTarget{}}
	secrets := map[string]string{}
	for k, r := range reqs {
		t := bakeTarget{
			Context:    r.Context,
			Dockerfile: r.Dockerfile,
			Contexts:   r.Contexts,
			Platforms:  []string{r.Platform.String()},
			Args:       maps.Clone(r.Args),
			Attest:     []string{"type=provenance,disabled=true", "type=sbom,disabled=true"},
			Output:     []string{strings.Join(outputAttrs(r), ",")},
		}
		if t.Args == nil {
			t.Args = map[string]string{}
		}
		if r.SourceDateEpoch != 0 {
			t.Args["SOURCE_DATE_EPOCH"] = strconv.FormatInt(r.SourceDateEpoch, 10)
		}
		if r.Provenance != "" {
			t.Attest[0] = "type=provenance," + r.Provenance
		}
		for _, id := range slices.Sorted(maps.Keys(r.Secrets)) {
			if v, ok := secrets[id]; ok && v != r.Secrets[id] {
				return nil, fmt.Errorf("bake %s: secret %q differs between its requests", r.Label, id)
			}
			secrets[id] = r.Secrets[id]
			t.Secret = append(t.Secret, "id="+id+",env="+SecretEnv(id))
		}
		f.Target[names[k]] = t
	}
	return json.MarshalIndent(f, "", "  ")
}

// outputAttrs is a request's --output, as BuildArgv passes it.
func outputAttrs(r BuildRequest) []string {
	if r.Repository == "" {
		return []string{"type=cacheonly"}
	}
	out := []string{"type=image", "name=" + r.Repository, "push-by-digest=true", "name-canonical=true", "push=true"}
	if r.SourceDateEpoch != 0 {
		out = append(out, "rewrite-timestamp=true")
	}
	return out
}

// BakeArgv is the buildx command line (after the client's prefix) that
// builds the bake file at file and writes every target's result to
// metadataFile.
func BakeArgv(file, metadataFile, progress string) []string {
	argv := []string{"bake", "--file", file}
	if progress != "" {
		argv = append(argv, "--progress", progress)
	}
	return append(argv, "--metadata-file", metadataFile)
}

// bakeEnv turns off bake's check that the definition may read its
// contexts' directories: it guards against a bake file from elsewhere,
// and crossbin writes its own from requests that name those directories.
// buildx versions without the check ignore it.
const bakeEnv = "BUILDX_BAKE_ENTITLEMENTS_FS=0"

// BuildBatch builds reqs in one bake and returns the digest each pushed,
// in order. dir holds the bake and metadata files; label prefixes its
// output. Any failure fails the whole batch (bake writes no results then),
// its error as Build's.
func (b Builder) BuildBatch(ctx context.Context, dir, label string, reqs []BuildRequest) ([]v1.Hash, error) {
	def, err := BakeDefinition(reqs)
	if err != nil {
		return nil, err
	}
	file, meta := filepath.Join(dir, "bake.json"), filepath.Join(dir, "bake-metadata.json")
	if err := os.WriteFile(file, def, 0o600); err != nil {
		return nil, fmt.Errorf("write bake file: %w", err)
	}
	progress := ""
	if len(reqs) > 0 {
		progress = reqs[0].Progress
	}
	cmd := b.Client.Command(ctx, BakeArgv(file, meta, progress)...)
	cmd.Env = append(cmd.Env, bakeEnv)
	for _, r := range reqs {
		for id, v := range r.Secrets {
			cmd.Env = append(cmd.Env, SecretEnv(id)+"="+v)
		}
	}
	if err := b.run(cmd, label, "bake"); err != nil {
		return nil, err
	}
	return readBakeDigests(meta, BakeTargets(reqs))
}

// readBakeDigests reads each target's pushed digest from bake's metadata
// file, in the order of targets.
func readBakeDigests(path string, targets []string) ([]v1.Hash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bake metadata: %w", err)
	}
	var md map[string]json.RawMessage
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("parse bake metadata %s: %w", path, err)
	}
	out := make([]v1.Hash, len(targets))
	for k, t := range targets {
		var one struct {
			Digest string `json:"containerimage.digest"`
		}
		if raw, ok := md[t]; ok {
			if err := json.Unmarshal(raw, &one); err != nil {
				return nil, fmt.Errorf("parse bake metadata %s, target %s: %w", path, t, err)
			}
		}
		h, err := v1.NewHash(one.Digest)
		if err != nil {
			return nil, fmt.Errorf("bake metadata %s has no image digest for %s: %w", path, t, err)
		}
		out[k] = h
	}
	return out, nil
}
