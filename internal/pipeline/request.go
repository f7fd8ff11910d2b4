package pipeline

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/inputs"
)

// Request is the build request for one job. sourceDir is the program's
// prepared source for the job's platform; released is its release time.
func Request(opt Options, job Job, sourceDir string, released time.Time, metadataFile string) buildx.BuildRequest {
	prog := job.Program
	// VERSION is passed even though it is the Dockerfile's default, so
	// the program's pin (or a caller's override of it) is what gets built.
	args, netrc := buildEnv(opt.GoEnv)
	args["GO_IMAGE"], args["VERSION"], args["CREATED"] = opt.GoImage, prog.Version, released.Format(time.RFC3339)
	goEnv, _ := job.Platform.GoEnv() // the catalog only holds valid platforms
	for _, v := range goEnv {
		args[v.Name] = v.Value
	}
	req := buildx.BuildRequest{
		Context:         prog.Dir,
		Platform:        job.Platform,
		Args:            args,
		Repository:      opt.Repository,
		MetadataFile:    metadataFile,
		SourceDateEpoch: released.Unix(),
		Progress:        "plain",
		Provenance:      "mode=max",
		Label:           job.String(),
	}
	if netrc != "" {
		req.Secrets = map[string]string{"netrc": netrc}
	}
	if job.Unavailable {
		dir := inputs.UnavailableDir(opt.Root)
		req.Context, req.Dockerfile = dir, filepath.Join(dir, "Dockerfile")
		args["NAME"], args["PLATFORM"] = prog.Name, job.Platform.String()
		return req
	}
	if tags := prog.BuildTags[job.Platform]; len(tags) > 0 {
		args["TAGS"] = strings.Join(tags, ",")
	}
	if prog.SourceStage {
		req.Contexts = map[string]string{"source": sourceDir}
	}
	return req
}
