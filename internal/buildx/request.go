package buildx

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/crossbin/crossbin/internal/platform"
)

// BuildRequest is one single-platform image build.
type BuildRequest struct {
	// Context is the build context directory; Dockerfile defaults to
	// Context/Dockerfile.
	Context    string
	Dockerfile string
	Platform   platform.Platform
	// Args are build arguments; they are passed sorted by name.
	Args map[string]string
	// Secrets are BuildKit secrets by id (e.g. "netrc" → its content). The
	// values never reach the command line: buildx reads each from its
	// environment (SecretEnv).
	Secrets map[string]string
	// Contexts are named build contexts, e.g. "source" → a directory.
	Contexts map[string]string
	// Repository receives the image, pushed by digest (no tag). Empty means
	// the image is built but not exported anywhere.
	Repository string
	// MetadataFile is where buildx writes the pushed digest.
	MetadataFile string
	// SourceDateEpoch, when not zero, fixes every timestamp in the image.
	SourceDateEpoch int64
	// Progress is buildx's --progress mode ("plain", "quiet", ...).
	Progress string
	// Provenance is BuildKit's provenance attestation setting, e.g.
	// "mode=max"; empty turns it off. The image is then pushed as an index
	// of the image and its attestation manifest.
	Provenance string
	// Label names the request in logs and prefixed output (not in argv).
	Label string
	// Target is the Dockerfile stage to build; empty: the last one.
	Target string
	// LocalOutput, when set, is the directory the target's file system is
	// written to instead of an image pushed to Repository (C programs'
	// build record, the sbom stage).
	LocalOutput string
}

// BuildArgv is the buildx command line (after the client's prefix) for r.
// BuildKit's own SBOM stays off: it needs a scanner image, and crossbin
// writes the SBOM from the binary's Go build info itself.
func BuildArgv(r BuildRequest) []string {
	argv := []string{"build", "--platform", r.Platform.String()}
	if r.Progress != "" {
		argv = append(argv, "--progress", r.Progress)
	}
	if r.Dockerfile != "" {
		argv = append(argv, "--file", r.Dockerfile)
	}
	args := map[string]string{}
	for k, v := range r.Args {
		args[k] = v
	}
	if r.SourceDateEpoch != 0 {
		args["SOURCE_DATE_EPOCH"] = strconv.FormatInt(r.SourceDateEpoch, 10)
	}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		argv = append(argv, "--build-arg", k+"="+args[k])
	}
	for _, id := range slices.Sorted(maps.Keys(r.Secrets)) {
		argv = append(argv, "--secret", "id="+id+",env="+SecretEnv(id))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Contexts)) {
		argv = append(argv, "--build-context", k+"="+r.Contexts[k])
	}
	provenance := "false"
	if r.Provenance != "" {
		provenance = r.Provenance
	}
	argv = append(argv, "--provenance="+provenance, "--sbom=false")
	if r.Target != "" {
		argv = append(argv, "--target", r.Target)
	}
	argv = append(argv, "--output", strings.Join(outputAttrs(r), ","))
	if r.MetadataFile != "" {
		argv = append(argv, "--metadata-file", r.MetadataFile)
	}
	return append(argv, r.Context)
}

// SecretEnv is the environment variable that hands buildx the secret id.
func SecretEnv(id string) string {
	return "CROSSBIN_SECRET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))
}

// outputAttrs is a request's --output, as BuildArgv passes it.
func outputAttrs(r BuildRequest) []string {
	switch {
	case r.LocalOutput != "":
		return []string{"type=local", "dest=" + r.LocalOutput}
	case r.Repository == "":
		return []string{"type=cacheonly"}
	}
	out := []string{"type=image", "name=" + r.Repository, "push-by-digest=true", "name-canonical=true", "push=true"}
	if r.SourceDateEpoch != 0 {
		out = append(out, "rewrite-timestamp=true")
	}
	return out
}
