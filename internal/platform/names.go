package platform

import (
	"debug/elf"
	"fmt"
	"strings"
)

// Names are what other tools call a platform: the qemu-user interpreter
// that runs its binaries on another machine (the binfmt_misc entry
// Debian's qemu-user-static registers), Debian's architecture (dpkg) and
// Alpine's (apk). An empty name means that distribution has none.
type Names struct {
	QEMU, Debian, Alpine string
}

// Toolchain is what cross-compiling C and C++ for a platform takes on a
// Debian trixie build machine (see CrossC).
type Toolchain struct {
	// Triple is the GNU triple: the prefix of the cross compiler and
	// binutils (aarch64-linux-gnu-gcc), configure's --host.
	Triple string
	// Libc is the Debian package holding the target's C library headers
	// and static libraries for the cross compiler. It is only recommended
	// by the compiler, so `--no-install-recommends` leaves it out and
	// <bits/libc-header-start.h> is missing without it.
	Libc string
	// Flags select the instruction set and float ABI where that decides
	// which cores run the binary: arm's and MIPS's float ABI. They restate
	// the Debian toolchain's defaults, so the binary does not change when
	// those do. Empty: the toolchain's baseline, which is Go's too (x86-64,
	// i686, ARMv8-A, POWER8, RV64GC).
	Flags string
	// Multiarch reports whether Debian trixie main has the architecture's
	// own packages, so a program's libraries install as
	// libncurses-dev:<Debian arch> with their static .a files. Without it
	// there is only the cross C library: a program that needs other
	// libraries is unavailable there.
	Multiarch bool
	// CPUFamily is Meson's name of the architecture (its cross file's
	// host_machine cpu_family).
	CPUFamily string
}

// The table: crossbin's default platforms, then the Linux targets a program
// can opt into.
//
// Debian's armel is ARMv5TE soft-float, which v5, v6 and v7 cores all run;
// Alpine's armhf is ARMv6, its armv7 ARMv7. For C, arm/v5 and arm/v6 both
// take the armel toolchain with its own flags: Debian has no ARMv6
// hard-float port (Raspbian's armhf is not Debian's), and Debian's armhf C
// library is ARMv7 Thumb-2, which a v6 core cannot run; raising -march to
// armv6 for the program's own code alone would mix it with armel's v5TE
// libraries for no gain worth a second toolchain. The v6 image holds the
// v5 build. mips64el and loong64 are not release architectures of trixie
// (mips64el left, loong64 is a port): only their cross C library is in
// main, as for the opt-in MIPS and big-endian POWER targets.
var names = []struct {
	Platform Platform
	Names
	Toolchain Toolchain
}{
	{Platform{"linux", "amd64", ""}, Names{"qemu-x86_64", "amd64", "x86_64"},
		Toolchain{"x86_64-linux-gnu", "libc6-dev-amd64-cross", "", true, "x86_64"}},
	{Platform{"linux", "386", ""}, Names{"qemu-i386", "i386", "x86"},
		Toolchain{"i686-linux-gnu", "libc6-dev-i386-cross", "", true, "x86"}},
	{Platform{"linux", "arm64", ""}, Names{"qemu-aarch64", "arm64", "aarch64"},
		Toolchain{"aarch64-linux-gnu", "libc6-dev-arm64-cross", "", true, "aarch64"}},
	{Platform{"linux", "arm", "v5"}, Names{"qemu-arm", "armel", ""},
		Toolchain{"arm-linux-gnueabi", "libc6-dev-armel-cross", "-march=armv5te -marm -mfloat-abi=soft", true, "arm"}},
	{Platform{"linux", "arm", "v6"}, Names{"qemu-arm", "armel", "armhf"},
		Toolchain{"arm-linux-gnueabi", "libc6-dev-armel-cross", "-march=armv5te -marm -mfloat-abi=soft", true, "arm"}},
	{Platform{"linux", "arm", "v7"}, Names{"qemu-arm", "armhf", "armv7"},
		Toolchain{"arm-linux-gnueabihf", "libc6-dev-armhf-cross", "-march=armv7-a+fp -mthumb -mfloat-abi=hard", true, "arm"}},
	{Platform{"linux", "s390x", ""}, Names{"qemu-s390x", "s390x", "s390x"},
		Toolchain{"s390x-linux-gnu", "libc6-dev-s390x-cross", "", true, "s390x"}},
	{Platform{"linux", "ppc64le", ""}, Names{"qemu-ppc64le", "ppc64el", "ppc64le"},
		Toolchain{"powerpc64le-linux-gnu", "libc6-dev-ppc64el-cross", "", true, "ppc64"}},
	{Platform{"linux", "riscv64", ""}, Names{"qemu-riscv64", "riscv64", "riscv64"},
		Toolchain{"riscv64-linux-gnu", "libc6-dev-riscv64-cross", "", true, "riscv64"}},
	{Platform{"linux", "mips64le", ""}, Names{"qemu-mips64el", "mips64el", ""},
		Toolchain{"mips64el-linux-gnuabi64", "libc6-dev-mips64el-cross", "-mabi=64 -mhard-float", false, "mips64"}},
	{Platform{"linux", "loong64", ""}, Names{"qemu-loongarch64", "loong64", "loongarch64"},
		Toolchain{"loongarch64-linux-gnu", "libc6-dev-loong64-cross", "", false, "loongarch64"}},
	{Platform{"linux", "ppc64", ""}, Names{"qemu-ppc64", "ppc64", ""},
		Toolchain{"powerpc64-linux-gnu", "libc6-dev-ppc64-cross", "", false, "ppc64"}},
	{Platform{"linux", "mips", ""}, Names{"qemu-mips", "", ""},
		Toolchain{"mips-linux-gnu", "libc6-dev-mips-cross", "-mhard-float", false, "mips"}},
	{Platform{"linux", "mipsle", ""}, Names{"qemu-mipsel", "mipsel", ""},
		Toolchain{"mipsel-linux-gnu", "libc6-dev-mipsel-cross", "-mhard-float", false, "mips"}},
	{Platform{"linux", "mips64", ""}, Names{"qemu-mips64", "", ""},
		Toolchain{"mips64-linux-gnuabi64", "libc6-dev-mips64-cross", "-mabi=64 -mhard-float", false, "mips64"}},
}

// Names returns what other tools call p, and whether the table knows it.
func (p Platform) Names() (Names, bool) {
	for _, n := range names {
		if n.Platform == p {
			return n.Names, true
		}
	}
	return Names{}, false
}

// CrossC returns the toolchain that cross-compiles C and C++ for p on a
// Debian trixie build machine, and whether the table knows one.
func (p Platform) CrossC() (Toolchain, bool) {
	for _, n := range names {
		if n.Platform == p {
			return n.Toolchain, n.Toolchain.Triple != ""
		}
	}
	return Toolchain{}, false
}

// Compilers are the Debian packages of the cross gcc and g++: Debian
// names them after the triple with '_' spelled '-' (gcc-x86-64-linux-gnu).
func (t Toolchain) Compilers() []string {
	triple := strings.ReplaceAll(t.Triple, "_", "-")
	return []string{"gcc-" + triple, "g++-" + triple}
}

// Packages are the Debian packages the toolchain is made of: the
// compilers (which bring binutils) and the C library.
func (t Toolchain) Packages() []string {
	return append(t.Compilers(), t.Libc)
}

// CEnvNames lists, in a fixed order, every variable CEnv sets. A Dockerfile
// that receives them as build arguments declares each of them.
func CEnvNames() []string {
	return []string{"TRIPLE", "DEBARCH", "CROSS_PACKAGES", "ARCHFLAGS", "CPU_FAMILY", "ENDIAN"}
}

// CEnv returns the variables a C build for p takes: the GNU triple, the
// Debian architecture (empty where Debian has none), the toolchain's
// packages (space-separated), the compiler flags, and Meson's cpu_family
// and endianness, in the order of CEnvNames.
func (p Platform) CEnv() ([]Var, error) {
	t, ok := p.CrossC()
	if !ok || p.OS != "linux" {
		return nil, fmt.Errorf("%w: no C cross toolchain known for %s (see internal/platform/names.go)", ErrInvalid, p)
	}
	e, err := p.ELF()
	if err != nil {
		return nil, err
	}
	endian := "little"
	if e.Order == elf.ELFDATA2MSB {
		endian = "big"
	}
	n, _ := p.Names()
	return []Var{
		{"TRIPLE", t.Triple},
		{"DEBARCH", n.Debian},
		{"CROSS_PACKAGES", strings.Join(t.Packages(), " ")},
		{"ARCHFLAGS", t.Flags},
		{"CPU_FAMILY", t.CPUFamily},
		{"ENDIAN", endian},
	}, nil
}

// CrossCPlatforms lists every platform the table has a C toolchain for, in
// the table's order.
func CrossCPlatforms() []Platform {
	var out []Platform
	for _, n := range names {
		if n.Toolchain.Triple != "" {
			out = append(out, n.Platform)
		}
	}
	return out
}
