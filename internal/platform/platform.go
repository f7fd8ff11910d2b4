// Package platform models Docker (OCI) platforms such as linux/arm/v7 and maps
// each to the Go toolchain environment that cross-compiles for it.
//
// A platform is written os/arch[/variant]. Tools disagree on the spelling of
// the same machine: uname says aarch64 and x86_64, Debian says armhf and
// armel, Docker says arm64 and amd64. Parse accepts all of them and
// normalizes with the rules containerd uses, so that every platform has one
// canonical String form:
//
//	aarch64, arm64/v8  → arm64
//	armhf              → arm/v7
//	armel              → arm/v6
//	arm                → arm/v7
//	x86_64, x86-64     → amd64 (amd64/v1 → amd64)
//	i386, i486..i686   → 386
//
// GoEnv turns a platform into GOOS, GOARCH and the one variable that selects
// the instruction-set level for that architecture (GOARM for arm/v5..v7,
// GOAMD64 for amd64/v1..v4, GOARM64 for arm64/v8.x and v9.x, GOPPC64 for
// ppc64le/power8..power10, GORISCV64 for riscv64/rva20u64.., GOMIPS and
// GOMIPS64 for the MIPS float ABI). This replaces the shell case statements
// that Dockerfiles traditionally carry (xcputranslate, tonistiigi/xx).
//
// CrossC and CEnv do the same for C and C++: the GNU triple, the Debian
// trixie packages of the cross compiler and C library, the float-ABI flags,
// and whether Debian has the architecture's libraries through multiarch.
// They are columns of the one table in names.go, beside the QEMU, Debian
// and Alpine names: a new platform is one row.
package platform

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Platform is a normalized target platform. The zero value is not valid;
// obtain one with Parse.
type Platform struct {
	OS      string
	Arch    string
	Variant string
}

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("invalid platform")

// Parse parses and normalizes os/arch[/variant]. The OS and architecture
// must be a pair the Go toolchain can target.
func Parse(s string) (Platform, error) {
	fail := func(format string, args ...any) (Platform, error) {
		return Platform{}, fmt.Errorf("%w %q: %s", ErrInvalid, s, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return fail("want os/arch or os/arch/variant")
	}
	for _, p := range parts {
		if p == "" {
			return fail("empty component")
		}
		if strings.ContainsFunc(p, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-' && r != '.'
		}) {
			return fail("component %q has characters outside [A-Za-z0-9_.-]", p)
		}
	}
	p := Platform{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	p = Normalize(p)
	if !goSupports(p.OS, p.Arch) {
		return fail("the Go toolchain cannot build for %s/%s (see `go tool dist list`)", p.OS, p.Arch)
	}
	if _, err := p.GoEnv(); err != nil {
		return fail("%v", err)
	}
	return p, nil
}

// ParseList parses a comma-separated list, dropping empty entries and
// duplicates. A list naming no platform at all ("", " ", ",") is an error:
// a subset that asks for nothing must not turn into "everything".
func ParseList(s string) ([]Platform, error) {
	var out []Platform
	for field := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(field) == "" {
			continue
		}
		p, err := Parse(field)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q names no platform (give at least one, e.g. linux/arm64,linux/riscv64)", ErrEmptyList, s)
	}
	return out, nil
}

// ErrEmptyList reports a platform list that names no platform.
var ErrEmptyList = errors.New("empty platform list")

// String formats the platform as os/arch[/variant].
func (p Platform) String() string {
	if p.Variant == "" {
		return p.OS + "/" + p.Arch
	}
	return p.OS + "/" + p.Arch + "/" + p.Variant
}

// Normalize applies containerd's normalization rules. It does not validate.
func Normalize(p Platform) Platform {
	p.OS = strings.ToLower(p.OS)
	if p.OS == "macos" {
		p.OS = "darwin"
	}
	p.Arch, p.Variant = normalizeArch(strings.ToLower(p.Arch), strings.ToLower(p.Variant))
	return p
}

func normalizeArch(arch, variant string) (string, string) {
	switch arch {
	case "i386", "i486", "i586", "i686", "x86", "386":
		return "386", variant
	case "x86_64", "x86-64", "amd64":
		if variant == "v1" {
			variant = ""
		}
		return "amd64", variant
	case "aarch64", "arm64":
		switch variant {
		case "8", "v8", "v8.0":
			variant = ""
		case "9", "9.0", "v9.0":
			variant = "v9"
		}
		return "arm64", variant
	case "armhf":
		return "arm", "v7"
	case "armel":
		return "arm", "v6"
	case "arm":
		switch variant {
		case "", "7":
			variant = "v7"
		case "5", "6", "8":
			variant = "v" + variant
		}
		return "arm", variant
	}
	return arch, variant
}

// Less orders platforms by their string form, for stable output.
func Less(a, b Platform) bool { return a.String() < b.String() }

// Defaults are the platforms crossbin builds for unless told otherwise:
// every Linux platform Docker publishes official images for (arm32v5 and
// mips64le among them) and loong64, which Debian and Alpine ship.
// GOMIPS64 stays Go's default for mips64le, hardfloat.
func Defaults() []Platform {
	return []Platform{
		{OS: "linux", Arch: "amd64"},
		{OS: "linux", Arch: "386"},
		{OS: "linux", Arch: "arm64"},
		{OS: "linux", Arch: "arm", Variant: "v5"},
		{OS: "linux", Arch: "arm", Variant: "v6"},
		{OS: "linux", Arch: "arm", Variant: "v7"},
		{OS: "linux", Arch: "s390x"},
		{OS: "linux", Arch: "ppc64le"},
		{OS: "linux", Arch: "riscv64"},
		{OS: "linux", Arch: "mips64le"},
		{OS: "linux", Arch: "loong64"},
	}
}

// goPairs is `go tool dist list` for Go 1.26.
var goPairs = []string{
	"aix/ppc64", "android/386", "android/amd64", "android/arm", "android/arm64",
	"darwin/amd64", "darwin/arm64", "dragonfly/amd64", "freebsd/386", "freebsd/amd64",
	"freebsd/arm", "freebsd/arm64", "illumos/amd64", "ios/amd64", "ios/arm64", "js/wasm",
	"linux/386", "linux/amd64", "linux/arm", "linux/arm64", "linux/loong64", "linux/mips",
	"linux/mips64", "linux/mips64le", "linux/mipsle", "linux/ppc64", "linux/ppc64le",
	"linux/riscv64", "linux/s390x", "netbsd/386", "netbsd/amd64", "netbsd/arm",
	"netbsd/arm64", "openbsd/386", "openbsd/amd64", "openbsd/arm", "openbsd/arm64",
	"openbsd/ppc64", "openbsd/riscv64", "plan9/386", "plan9/amd64", "plan9/arm",
	"solaris/amd64", "wasip1/wasm", "windows/386", "windows/amd64", "windows/arm64",
}

func goSupports(goos, goarch string) bool {
	return slices.Contains(goPairs, goos+"/"+goarch)
}
