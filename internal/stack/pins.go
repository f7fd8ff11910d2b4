package stack

// This file is the one place the embedded stack's versions are written down
// (the Go release of the builder image is baseimage.GoVersion).

// Tool is a program the stack builds from the Go module proxy.
type Tool struct {
	Name     string   // directory name in the cache, e.g. "buildkit"
	Module   string   // module path
	Version  string   // module version
	Packages []string // main packages, relative to the module root
	// VersionVar is the variable stamped with Version via -ldflags -X, so the
	// tool reports its real version.
	VersionVar string
}

// The tools, at the versions known to build from the proxy here
// (shared/STACK.md: newer BuildKit and buildx releases do not).
var (
	BuildKit = Tool{
		Name: "buildkit", Module: "github.com/moby/buildkit", Version: "v0.33.1",
		Packages:   []string{"./cmd/buildkitd", "./cmd/buildctl"},
		VersionVar: "github.com/moby/buildkit/version.Version",
	}
	Buildx = Tool{
		Name: "buildx", Module: "github.com/docker/buildx", Version: "v0.37.2",
		Packages:   []string{"./cmd/buildx"},
		VersionVar: "github.com/docker/buildx/version.Version",
	}
	Registry = Tool{
		Name: "registry", Module: "github.com/distribution/distribution/v3", Version: "v3.1.2",
		Packages:   []string{"./cmd/registry"},
		VersionVar: "github.com/distribution/distribution/v3/version.version",
	}
)

// Tools lists every tool the stack builds.
func Tools() []Tool { return []Tool{BuildKit, Buildx, Registry} }

// AptPackage is a host command and the Debian package that provides it.
type AptPackage struct{ Command, Package string }

// AptPackages are the host packages every stack:up needs.
var AptPackages = []AptPackage{
	{"runc", "runc"},
	{"qemu-aarch64-static", "qemu-user-static"},
	{"update-binfmts", "binfmt-support"},
	{"busybox", "busybox-static"},
}

// DebianAptPackages are needed only to assemble the Debian builder image
// for C programs where Docker Hub is unreachable, so they are installed the
// first time a run builds a C program, not at stack:up.
var DebianAptPackages = []AptPackage{
	{"mmdebstrap", "mmdebstrap"},
}
