package pipeline

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/inputs"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/source"
)

// Request is the build request for one job. src is the program's prepared
// source for the job's platform (and a C program's deps); released is its
// release time.
//
// A Go program (and every unavailable platform, which builds the Go
// program in unavailable/) gets the Go builder image, the go tool's
// settings and the Go platform variables; a C program (a release tarball)
// gets the Debian builder image and the C target variables instead, and
// none of the go tool's settings, which it would not read. A Go program
// with cgo gets both: the Go settings, and the Debian image and C
// variables for its C toolchain.
func Request(opt Options, job Job, src source.Source, released time.Time, metadataFile string) buildx.BuildRequest {
	prog := job.Program
	req := buildx.BuildRequest{
		Context:         prog.Dir,
		Platform:        job.Platform,
		Repository:      opt.Repository,
		MetadataFile:    metadataFile,
		SourceDateEpoch: released.Unix(),
		Progress:        "plain",
		Provenance:      "mode=max",
		Label:           job.String(),
	}
	var args map[string]string
	var vars []platform.Var
	if prog.Tarball != nil && !job.Unavailable {
		args = map[string]string{"DEBIAN_IMAGE": opt.DebianImage}
		vars, _ = job.Platform.CEnv() // the catalog only holds platforms with a C toolchain
	} else {
		var netrc string
		args, netrc = buildEnv(opt.GoEnv)
		args["GO_IMAGE"] = opt.GoImage
		if netrc != "" {
			req.Secrets = map[string]string{"netrc": netrc}
		}
		vars, _ = job.Platform.GoEnv() // the catalog only holds valid platforms
		if prog.Build.CGO && !job.Unavailable {
			args["DEBIAN_IMAGE"] = opt.DebianImage
			cvars, _ := job.Platform.CEnv() // the catalog holds cgo platforms with a C toolchain
			vars = append(vars, cvars...)
		}
	}
	// VERSION is passed even though it is the Dockerfile's default, so
	// the program's pin (or a caller's override of it) is what gets built.
	args["VERSION"], args["CREATED"] = prog.Version, released.Format(time.RFC3339)
	for _, v := range vars {
		args[v.Name] = v.Value
	}
	req.Args = args
	if job.Unavailable {
		dir := inputs.UnavailableDir(opt.Root)
		req.Context, req.Dockerfile = dir, filepath.Join(dir, "Dockerfile")
		args["NAME"], args["PLATFORM"] = prog.Name, job.Platform.String()
		return req
	}
	if tags := prog.BuildTags[job.Platform]; len(tags) > 0 {
		args["TAGS"] = strings.Join(tags, ",")
	}
	req.Contexts = map[string]string{}
	if prog.SourceStage {
		req.Contexts["source"] = src.Dir
	}
	for _, d := range prog.Deps {
		// The source step fetched every dep, or failed the program.
		req.Contexts[DepContext(d.Name)] = src.Deps[d.Name]
	}
	return req
}

// DepContext is the build context, and the Dockerfile's stage, that holds
// dep name's unpacked tarball.
func DepContext(name string) string { return "dep-" + name }

// RecordStage is the C Dockerfiles' stage that holds the build record.
const RecordStage = "sbom"

// RecordRequest is req (a C program's image build) again, for its build
// record: the sbom stage written to dir. Its arguments and contexts are
// req's, so BuildKit takes the build stage from the image build's cache;
// the record's sha256 of the binary shows that it did (attest.CSBOMFromFile
// refuses a record of another binary).
func RecordRequest(req buildx.BuildRequest, dir string) buildx.BuildRequest {
	req.Target, req.LocalOutput = RecordStage, dir
	req.Provenance, req.MetadataFile = "", ""
	req.Label += " sbom"
	return req
}
