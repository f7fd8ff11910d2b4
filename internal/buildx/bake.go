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
	"time"

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
	Target     string            `json:"target,omitempty"`
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
// BakeTargets names, each exactly as BuildArgv would build it alone. Bake
// reads a JSON file's strings as HCL templates, so "${" and "%{" in them
// are escaped; paths are made absolute from the working directory, as
// buildx build reads them (bake would resolve a relative Dockerfile against
// its context). Each secret reaches
// bake from its environment variable (SecretEnv), which one process has
// once: requests that give one secret id different values cannot share a
// bake.
func BakeDefinition(reqs []BuildRequest) ([]byte, error) {
	names := BakeTargets(reqs)
	f := bakeFile{Group: map[string]bakeGroup{"default": {Targets: names}}, Target: map[string]bakeTarget{}}
	secrets := map[string]string{}
	for k, r := range reqs {
		if r.LocalOutput != "" {
			return nil, fmt.Errorf("bake %s: a local output is built alone (Export)", r.Label)
		}
		r, err := absolute(r)
		if err != nil {
			return nil, fmt.Errorf("bake %s: %w", r.Label, err)
		}
		t := bakeTarget{
			Context:    literal(r.Context),
			Dockerfile: literal(r.Dockerfile),
			Target:     literal(r.Target),
			Platforms:  []string{r.Platform.String()},
			Args:       map[string]string{},
			Attest:     []string{provenanceAttest(r.Provenance), "type=sbom,disabled=true"},
			Output:     []string{literal(strings.Join(outputAttrs(r), ","))},
		}
		for name, v := range r.Args {
			t.Args[name] = literal(v)
		}
		if r.SourceDateEpoch != 0 {
			t.Args["SOURCE_DATE_EPOCH"] = strconv.FormatInt(r.SourceDateEpoch, 10)
		}
		for name, dir := range r.Contexts {
			if t.Contexts == nil {
				t.Contexts = map[string]string{}
			}
			t.Contexts[name] = literal(dir)
		}
		for _, id := range slices.Sorted(maps.Keys(r.Secrets)) {
			if v, ok := secrets[SecretEnv(id)]; ok && v != r.Secrets[id] {
				return nil, fmt.Errorf("bake %s: secret %q differs between its requests", r.Label, id)
			}
			secrets[SecretEnv(id)] = r.Secrets[id]
			t.Secret = append(t.Secret, "id="+id+",env="+SecretEnv(id))
		}
		f.Target[names[k]] = t
	}
	return json.MarshalIndent(f, "", "  ")
}

// literal escapes s for a bake file, whose strings are HCL templates.
func literal(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// provenanceAttest is the bake attest entry for a request's Provenance, as
// --provenance reads it: empty or "false" off, "true" on, else its
// attributes (e.g. "mode=max").
func provenanceAttest(p string) string {
	switch p {
	case "", "false":
		return "type=provenance,disabled=true"
	case "true":
		return "type=provenance"
	}
	return "type=provenance," + p
}

// absolute returns r with its context, Dockerfile and named contexts as
// absolute paths.
func absolute(r BuildRequest) (BuildRequest, error) {
	var err error
	abs := func(p string) string {
		if p == "" || err != nil {
			return p
		}
		var a string
		a, err = filepath.Abs(p)
		return a
	}
	r.Context, r.Dockerfile = abs(r.Context), abs(r.Dockerfile)
	if len(r.Contexts) > 0 {
		named := make(map[string]string, len(r.Contexts))
		for k, v := range r.Contexts {
			named[k] = abs(v)
		}
		r.Contexts = named
	}
	return r, err
}

// bakePaths are the directories and files a request makes bake read.
func bakePaths(r BuildRequest) []string {
	paths := []string{r.Context}
	if r.Dockerfile != "" {
		paths = append(paths, r.Dockerfile)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Contexts)) {
		paths = append(paths, r.Contexts[name])
	}
	return paths
}

// BakeAllow lists the directories reqs make bake read, for its --allow
// fs.read entitlements: each context, named context and Dockerfile's
// directory, sorted and without repeats.
func BakeAllow(reqs []BuildRequest) []string {
	var dirs []string
	for _, r := range reqs {
		r, _ = absolute(r) // BakeDefinition reports its error
		for _, p := range bakePaths(r) {
			if p == r.Dockerfile {
				p = filepath.Dir(p)
			}
			dirs = append(dirs, p)
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// BakeArgv is the buildx command line (after the client's prefix) that
// builds the bake file at file, may read the directories allow names, and
// writes every target's result to metadataFile.
func BakeArgv(file, metadataFile, progress string, allow []string) []string {
	argv := []string{"bake", "--file", file}
	for _, dir := range allow {
		argv = append(argv, "--allow", "fs.read="+dir)
	}
	if progress != "" {
		argv = append(argv, "--progress", progress)
	}
	return append(argv, "--metadata-file", metadataFile)
}

// Batch is what a bake built: per request, in order, the pushed digest and
// the time its own steps took (summed from the progress output; 0 when it
// printed none).
type Batch struct {
	Digests []v1.Hash
	Times   []time.Duration
}

// BatchError is a failed bake. Target is the index of the request whose
// step failed when bake's output names it, else -1; bake stops the other
// targets when one fails, and writes no results.
type BatchError struct {
	Target int
	Err    error
}

func (e *BatchError) Error() string { return e.Err.Error() }
func (e *BatchError) Unwrap() error { return e.Err }

// BuildBatch builds reqs in one bake. dir holds the bake and metadata
// files; label prefixes its output. A failure is a *BatchError; its
// message is as Build's.
func (b Builder) BuildBatch(ctx context.Context, dir, label string, reqs []BuildRequest) (Batch, error) {
	def, err := BakeDefinition(reqs)
	if err != nil {
		return Batch{}, err
	}
	file, meta := filepath.Join(dir, "bake.json"), filepath.Join(dir, "bake-metadata.json")
	if err := os.WriteFile(file, def, 0o600); err != nil {
		return Batch{}, fmt.Errorf("write bake file: %w", err)
	}
	progress := ""
	if len(reqs) > 0 {
		progress = reqs[0].Progress
	}
	cmd := b.Client.Command(ctx, BakeArgv(file, meta, progress, BakeAllow(reqs))...)
	for _, r := range reqs {
		for id, v := range r.Secrets {
			cmd.Env = append(cmd.Env, SecretEnv(id)+"="+v)
		}
	}
	names := BakeTargets(reqs)
	out, err := b.run(cmd, label, "bake")
	if err != nil {
		return Batch{}, &BatchError{Target: failedTarget(out, names), Err: err}
	}
	digests, err := readBakeDigests(meta, names)
	if err != nil {
		return Batch{}, err
	}
	times := TargetTimes(out)
	res := Batch{Digests: digests, Times: make([]time.Duration, len(reqs))}
	for k, n := range names {
		res.Times[k] = times[n]
	}
	return res, nil
}

// failedTarget is the index in names of the target bake's output says
// failed ("ERROR: target t3-linux-riscv64: …"), or -1.
func failedTarget(out string, names []string) int {
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "ERROR") {
			continue
		}
		for k, n := range names {
			if strings.Contains(l, "target "+n+":") || strings.Contains(l, "["+n+" ") {
				return k
			}
		}
	}
	return -1
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
