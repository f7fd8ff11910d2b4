package platform

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCrossC pins each platform's C toolchain to the package names Debian
// trixie has (checked with apt-cache against trixie main, amd64 build
// machine) and to which architectures trixie main ships libraries for.
func TestCrossC(t *testing.T) {
	for _, tc := range []struct {
		platform, triple, gcc, gxx, libc, flags string
		multiarch                               bool
	}{
		{"linux/amd64", "x86_64-linux-gnu", "gcc-x86-64-linux-gnu", "g++-x86-64-linux-gnu", "libc6-dev-amd64-cross", "", true},
		{"linux/386", "i686-linux-gnu", "gcc-i686-linux-gnu", "g++-i686-linux-gnu", "libc6-dev-i386-cross", "", true},
		{"linux/arm64", "aarch64-linux-gnu", "gcc-aarch64-linux-gnu", "g++-aarch64-linux-gnu", "libc6-dev-arm64-cross", "", true},
		{"linux/arm/v5", "arm-linux-gnueabi", "gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi", "libc6-dev-armel-cross", "-march=armv5te -marm -mfloat-abi=soft", true},
		{"linux/arm/v6", "arm-linux-gnueabi", "gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi", "libc6-dev-armel-cross", "-march=armv5te -marm -mfloat-abi=soft", true},
		{"linux/arm/v7", "arm-linux-gnueabihf", "gcc-arm-linux-gnueabihf", "g++-arm-linux-gnueabihf", "libc6-dev-armhf-cross", "-march=armv7-a+fp -mthumb -mfloat-abi=hard", true},
		{"linux/s390x", "s390x-linux-gnu", "gcc-s390x-linux-gnu", "g++-s390x-linux-gnu", "libc6-dev-s390x-cross", "", true},
		{"linux/ppc64le", "powerpc64le-linux-gnu", "gcc-powerpc64le-linux-gnu", "g++-powerpc64le-linux-gnu", "libc6-dev-ppc64el-cross", "", true},
		{"linux/riscv64", "riscv64-linux-gnu", "gcc-riscv64-linux-gnu", "g++-riscv64-linux-gnu", "libc6-dev-riscv64-cross", "", true},
		{"linux/mips64le", "mips64el-linux-gnuabi64", "gcc-mips64el-linux-gnuabi64", "g++-mips64el-linux-gnuabi64", "libc6-dev-mips64el-cross", "-mabi=64 -mhard-float", false},
		{"linux/loong64", "loongarch64-linux-gnu", "gcc-loongarch64-linux-gnu", "g++-loongarch64-linux-gnu", "libc6-dev-loong64-cross", "", false},
		{"linux/ppc64", "powerpc64-linux-gnu", "gcc-powerpc64-linux-gnu", "g++-powerpc64-linux-gnu", "libc6-dev-ppc64-cross", "", false},
		{"linux/mips", "mips-linux-gnu", "gcc-mips-linux-gnu", "g++-mips-linux-gnu", "libc6-dev-mips-cross", "-mhard-float", false},
		{"linux/mipsle", "mipsel-linux-gnu", "gcc-mipsel-linux-gnu", "g++-mipsel-linux-gnu", "libc6-dev-mipsel-cross", "-mhard-float", false},
		{"linux/mips64", "mips64-linux-gnuabi64", "gcc-mips64-linux-gnuabi64", "g++-mips64-linux-gnuabi64", "libc6-dev-mips64-cross", "-mabi=64 -mhard-float", false},
	} {
		p, err := Parse(tc.platform)
		if err != nil {
			t.Fatal(err)
		}
		tc2, ok := p.CrossC()
		if !ok {
			t.Errorf("%s: no C toolchain", p)
			continue
		}
		want := []string{tc.gcc, tc.gxx, tc.libc}
		if tc2.Triple != tc.triple || !slices.Equal(tc2.Packages(), want) || tc2.Flags != tc.flags || tc2.Multiarch != tc.multiarch {
			t.Errorf("%s: %+v packages %v; want %s %v %q multiarch=%v", p, tc2, tc2.Packages(), tc.triple, want, tc.flags, tc.multiarch)
		}
	}
	if got := len(CrossCPlatforms()); got != 15 {
		t.Errorf("%d platforms with a C toolchain, want 15", got)
	}
	for _, p := range Defaults() {
		if !slices.Contains(CrossCPlatforms(), p) {
			t.Errorf("default %s has no C toolchain", p)
		}
	}
	// A multiarch platform has a Debian architecture to add.
	for _, p := range CrossCPlatforms() {
		tc, _ := p.CrossC()
		if n, _ := p.Names(); tc.Multiarch && n.Debian == "" {
			t.Errorf("%s: multiarch without a Debian architecture", p)
		}
	}
}

func TestCEnv(t *testing.T) {
	for _, tc := range []struct{ platform, want string }{
		{"linux/arm64", "TRIPLE=aarch64-linux-gnu DEBARCH=arm64 CROSS_PACKAGES=gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross ARCHFLAGS= CPU_FAMILY=aarch64 ENDIAN=little"},
		{"linux/arm/v6", "TRIPLE=arm-linux-gnueabi DEBARCH=armel CROSS_PACKAGES=gcc-arm-linux-gnueabi g++-arm-linux-gnueabi libc6-dev-armel-cross ARCHFLAGS=-march=armv5te -marm -mfloat-abi=soft CPU_FAMILY=arm ENDIAN=little"},
		{"linux/s390x", "TRIPLE=s390x-linux-gnu DEBARCH=s390x CROSS_PACKAGES=gcc-s390x-linux-gnu g++-s390x-linux-gnu libc6-dev-s390x-cross ARCHFLAGS= CPU_FAMILY=s390x ENDIAN=big"},
		{"linux/mips", "TRIPLE=mips-linux-gnu DEBARCH= CROSS_PACKAGES=gcc-mips-linux-gnu g++-mips-linux-gnu libc6-dev-mips-cross ARCHFLAGS=-mhard-float CPU_FAMILY=mips ENDIAN=big"},
	} {
		p, _ := Parse(tc.platform)
		env, err := p.CEnv()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var got, names []string
		for _, v := range env {
			got = append(got, v.String())
			names = append(names, v.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", p, strings.Join(got, " "), tc.want)
		}
		if !slices.Equal(names, CEnvNames()) {
			t.Errorf("%s: names %v, want %v", p, names, CEnvNames())
		}
	}
	for _, p := range []Platform{{"windows", "amd64", ""}, {"linux", "arm64", "v9"}, {"linux", "arm", "v8"}} {
		if _, err := p.CEnv(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CEnv err = %v, want ErrInvalid", p, err)
		}
	}
}
