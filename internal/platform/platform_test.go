package platform

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseNormalizes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"linux/amd64", "linux/amd64"},
		{"linux/x86_64", "linux/amd64"},
		{"linux/x86-64", "linux/amd64"},
		{"linux/amd64/v1", "linux/amd64"},
		{"linux/amd64/v3", "linux/amd64/v3"},
		{"Linux/AMD64", "linux/amd64"},
		{"linux/i386", "linux/386"},
		{"linux/i486", "linux/386"},
		{"linux/i586", "linux/386"},
		{"linux/i686", "linux/386"},
		{"linux/x86", "linux/386"},
		{"linux/386", "linux/386"},
		{"linux/aarch64", "linux/arm64"},
		{"linux/arm64/v8", "linux/arm64"},
		{"linux/arm64/8", "linux/arm64"},
		{"linux/arm64/v8.0", "linux/arm64"},
		{"linux/arm64/v8.2", "linux/arm64/v8.2"},
		{"linux/aarch64/9", "linux/arm64/v9"},
		{"linux/arm64/v9.0", "linux/arm64/v9"},
		{"linux/arm64/v9.3", "linux/arm64/v9.3"},
		{"linux/armhf", "linux/arm/v7"},
		{"linux/armel", "linux/arm/v6"},
		{"linux/arm", "linux/arm/v7"},
		{"linux/arm/7", "linux/arm/v7"},
		{"linux/arm/6", "linux/arm/v6"},
		{"linux/arm/5", "linux/arm/v5"},
		{"linux/arm/v6", "linux/arm/v6"},
		{"linux/arm/8", "linux/arm/v8"},
		{"linux/s390x", "linux/s390x"},
		{"linux/ppc64le", "linux/ppc64le"},
		{"linux/ppc64le/power9", "linux/ppc64le/power9"},
		{"linux/riscv64", "linux/riscv64"},
		{"linux/riscv64/rva22u64", "linux/riscv64/rva22u64"},
		{"linux/loong64", "linux/loong64"},
		{"linux/mips64le", "linux/mips64le"},
		{"linux/mipsle/softfloat", "linux/mipsle/softfloat"},
		{"macos/arm64", "darwin/arm64"},
		{"windows/amd64", "windows/amd64"},
		{" linux/arm64 ", "linux/arm64"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
		// Canonical forms are fixed points.
		again, err := Parse(got.String())
		if err != nil || again != got {
			t.Errorf("Parse(%q) = %v, %v; not a fixed point", got, again, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "want os/arch"},
		{"linux", "want os/arch"},
		{"linux/", "empty component"},
		{"/amd64", "empty component"},
		{"linux//v7", "empty component"},
		{"linux/arm/v7/extra", "want os/arch"},
		{"linux/amd64 ", ""}, // trimmed, accepted: checked below
		{"linux/arm 64", "characters outside"},
		{"linux/arm$64", "characters outside"},
		{"linux/sparc", "cannot build for linux/sparc"},
		{"plan9/arm64", "cannot build for plan9/arm64"},
		{"linux/arm/v9", `unknown variant "v9" for arm`},
		{"linux/amd64/v5", `unknown variant "v5" for amd64`},
		{"linux/arm64/v8.10", `unknown variant "v8.10" for arm64`},
		{"linux/s390x/v2", "s390x has no variants"},
		{"linux/riscv64/rv64gc", `unknown variant "rv64gc" for riscv64`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if tt.why == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error containing %q", tt.in, tt.why)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("Parse(%q) error %q, want it to name the input and contain %q", tt.in, err, tt.why)
		}
	}
}

func TestGoEnv(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string // the non-empty variables
	}{
		{"linux/amd64", map[string]string{"GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v1"}},
		{"linux/amd64/v2", map[string]string{"GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v2"}},
		{"linux/amd64/v4", map[string]string{"GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v4"}},
		{"linux/386", map[string]string{"GOOS": "linux", "GOARCH": "386", "GO386": "sse2"}},
		{"linux/arm64", map[string]string{"GOOS": "linux", "GOARCH": "arm64", "GOARM64": "v8.0"}},
		{"linux/arm64/v8.2", map[string]string{"GOOS": "linux", "GOARCH": "arm64", "GOARM64": "v8.2"}},
		{"linux/arm64/v9", map[string]string{"GOOS": "linux", "GOARCH": "arm64", "GOARM64": "v9.0"}},
		{"linux/arm/v5", map[string]string{"GOOS": "linux", "GOARCH": "arm", "GOARM": "5"}},
		{"linux/arm/v6", map[string]string{"GOOS": "linux", "GOARCH": "arm", "GOARM": "6"}},
		{"linux/arm/v7", map[string]string{"GOOS": "linux", "GOARCH": "arm", "GOARM": "7"}},
		{"linux/arm/v8", map[string]string{"GOOS": "linux", "GOARCH": "arm", "GOARM": "7"}},
		{"linux/s390x", map[string]string{"GOOS": "linux", "GOARCH": "s390x"}},
		{"linux/ppc64le", map[string]string{"GOOS": "linux", "GOARCH": "ppc64le", "GOPPC64": "power8"}},
		{"linux/ppc64le/power10", map[string]string{"GOOS": "linux", "GOARCH": "ppc64le", "GOPPC64": "power10"}},
		{"linux/riscv64", map[string]string{"GOOS": "linux", "GOARCH": "riscv64", "GORISCV64": "rva20u64"}},
		{"linux/riscv64/rva23u64", map[string]string{"GOOS": "linux", "GOARCH": "riscv64", "GORISCV64": "rva23u64"}},
		{"linux/loong64", map[string]string{"GOOS": "linux", "GOARCH": "loong64"}},
		{"linux/mips64le", map[string]string{"GOOS": "linux", "GOARCH": "mips64le", "GOMIPS64": "hardfloat"}},
		{"linux/mipsle/softfloat", map[string]string{"GOOS": "linux", "GOARCH": "mipsle", "GOMIPS": "softfloat"}},
		{"windows/arm64", map[string]string{"GOOS": "windows", "GOARCH": "arm64", "GOARM64": "v8.0"}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		env, err := p.GoEnv()
		if err != nil {
			t.Fatalf("%s.GoEnv(): %v", p, err)
		}
		var names []string
		got := map[string]string{}
		for _, v := range env {
			names = append(names, v.Name)
			if v.Value != "" {
				got[v.Name] = v.Value
			}
		}
		if !slices.Equal(names, GoEnvNames()) {
			t.Errorf("%s: names %v, want %v", p, names, GoEnvNames())
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: env %v, want %v", p, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: %s=%q, want %q", p, k, got[k], v)
			}
		}
	}
}

func TestDefaultsAreCanonical(t *testing.T) {
	want := "linux/amd64 linux/386 linux/arm64 linux/arm/v5 linux/arm/v6 linux/arm/v7 linux/s390x linux/ppc64le linux/riscv64 linux/mips64le linux/loong64"
	var got []string
	for _, p := range Defaults() {
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Errorf("default %s does not parse to itself: %v %v", p, q, err)
		}
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != want {
		t.Errorf("Defaults() = %v, want %s", got, want)
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("linux/arm64, linux/riscv64,,linux/aarch64")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "linux/arm64" || got[1].String() != "linux/riscv64" {
		t.Errorf("ParseList = %v", got)
	}
	if _, err := ParseList("linux/arm64,linux/nope"); err == nil || !strings.Contains(err.Error(), "linux/nope") {
		t.Errorf("ParseList with a bad entry: %v", err)
	}
	for _, blank := range []string{"", " ", ",", " , ,"} {
		if got, err := ParseList(blank); !errors.Is(err, ErrEmptyList) || got != nil {
			t.Errorf("ParseList(%q) = %v, %v; want ErrEmptyList", blank, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/arm/v7", "linux/aarch64/9", "a/b/c/d", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("Parse(%q) = %v, but Parse(%q) = %v, %v", s, p, p.String(), q, err)
		}
		if _, err := p.GoEnv(); err != nil {
			t.Fatalf("parsed %v has no Go env: %v", p, err)
		}
	})
}

func TestELF(t *testing.T) {
	for _, p := range Defaults() {
		e, err := p.ELF()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if e.Machine == 0 || e.Class == 0 || e.Order == 0 {
			t.Errorf("%s: incomplete ELF %v", p, e)
		}
	}
	if e, _ := (Platform{OS: "linux", Arch: "arm", Variant: "v6"}).ELF(); e.String() != "EM_ARM ELFCLASS32 ELFDATA2LSB" {
		t.Errorf("arm/v6: %s", e)
	}
	if e, _ := (Platform{OS: "linux", Arch: "s390x"}).ELF(); e.Order.String() != "ELFDATA2MSB" {
		t.Errorf("s390x is big-endian, got %s", e)
	}
	if _, err := (Platform{OS: "windows", Arch: "amd64"}).ELF(); err == nil {
		t.Error("windows has no ELF header")
	}
}

// TestNames: every default and opt-in Linux target has its QEMU
// interpreter and distribution names, spelled as those tools spell them.
func TestNames(t *testing.T) {
	for _, tc := range []struct{ platform, qemu, debian, alpine string }{
		{"linux/amd64", "qemu-x86_64", "amd64", "x86_64"},
		{"linux/386", "qemu-i386", "i386", "x86"},
		{"linux/arm64", "qemu-aarch64", "arm64", "aarch64"},
		{"linux/arm/v5", "qemu-arm", "armel", ""},
		{"linux/armel", "qemu-arm", "armel", "armhf"}, // containerd reads armel as arm/v6
		{"linux/arm/v7", "qemu-arm", "armhf", "armv7"},
		{"linux/s390x", "qemu-s390x", "s390x", "s390x"},
		{"linux/ppc64le", "qemu-ppc64le", "ppc64el", "ppc64le"},
		{"linux/riscv64", "qemu-riscv64", "riscv64", "riscv64"},
		{"linux/mips64le", "qemu-mips64el", "mips64el", ""},
		{"linux/loong64", "qemu-loongarch64", "loong64", "loongarch64"},
		{"linux/ppc64", "qemu-ppc64", "ppc64", ""},
		{"linux/mips", "qemu-mips", "", ""},
		{"linux/mipsle", "qemu-mipsel", "mipsel", ""},
		{"linux/mips64", "qemu-mips64", "", ""},
	} {
		p, err := Parse(tc.platform)
		if err != nil {
			t.Fatal(err)
		}
		n, ok := p.Names()
		if !ok || n != (Names{tc.qemu, tc.debian, tc.alpine}) {
			t.Errorf("%s: %+v, %v; want %s %s %s", tc.platform, n, ok, tc.qemu, tc.debian, tc.alpine)
		}
		if _, err := p.ELF(); err != nil {
			t.Errorf("%s: %v", tc.platform, err)
		}
	}
	for _, p := range Defaults() {
		if _, ok := p.Names(); !ok {
			t.Errorf("default %s has no names", p)
		}
	}
	if _, ok := (Platform{"linux", "arm64", "v9"}).Names(); ok {
		t.Error("linux/arm64/v9 has names; the table lists the baseline only")
	}
}
