package platform

// Names are what other tools call a platform: the qemu-user interpreter
// that runs its binaries on another machine (the binfmt_misc entry
// Debian's qemu-user-static registers), Debian's architecture (dpkg) and
// Alpine's (apk). An empty name means that distribution has none.
type Names struct {
	QEMU, Debian, Alpine string
}

// The table: crossbin's default platforms, then the Linux targets a program
// can opt into. Debian's armel is ARMv5TE soft-float, which v5, v6 and v7
// cores all run; Alpine's armhf is ARMv6, its armv7 ARMv7.
var names = []struct {
	Platform Platform
	Names
}{
	{Platform{"linux", "amd64", ""}, Names{"qemu-x86_64", "amd64", "x86_64"}},
	{Platform{"linux", "386", ""}, Names{"qemu-i386", "i386", "x86"}},
	{Platform{"linux", "arm64", ""}, Names{"qemu-aarch64", "arm64", "aarch64"}},
	{Platform{"linux", "arm", "v5"}, Names{"qemu-arm", "armel", ""}},
	{Platform{"linux", "arm", "v6"}, Names{"qemu-arm", "armel", "armhf"}},
	{Platform{"linux", "arm", "v7"}, Names{"qemu-arm", "armhf", "armv7"}},
	{Platform{"linux", "s390x", ""}, Names{"qemu-s390x", "s390x", "s390x"}},
	{Platform{"linux", "ppc64le", ""}, Names{"qemu-ppc64le", "ppc64el", "ppc64le"}},
	{Platform{"linux", "riscv64", ""}, Names{"qemu-riscv64", "riscv64", "riscv64"}},
	{Platform{"linux", "mips64le", ""}, Names{"qemu-mips64el", "mips64el", ""}},
	{Platform{"linux", "loong64", ""}, Names{"qemu-loongarch64", "loong64", "loongarch64"}},
	{Platform{"linux", "ppc64", ""}, Names{"qemu-ppc64", "ppc64", ""}},
	{Platform{"linux", "mips", ""}, Names{"qemu-mips", "", ""}},
	{Platform{"linux", "mipsle", ""}, Names{"qemu-mipsel", "mipsel", ""}},
	{Platform{"linux", "mips64", ""}, Names{"qemu-mips64", "", ""}},
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
