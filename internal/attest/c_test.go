package attest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spdx/tools-golang/spdx"

	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

func tmuxSubject() CSubject {
	return CSubject{
		Name: "tmux", Version: "3.5a", Platform: platform.Platform{OS: "linux", Arch: "arm64"},
		Released:      time.Date(2024, 10, 5, 8, 0, 0, 0, time.UTC),
		URL:           "https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz",
		TarballSHA256: "16216bd0877170dfcc64157085ba9013610b12b082548c7c9542cc0103198951",
		Deps: []CDep{{Name: "libevent", Version: "2.1.13-stable",
			URL:    "https://github.com/libevent/libevent/releases/download/release-2.1.13-stable/libevent-2.1.13-stable.tar.gz",
			SHA256: "f7e9383b8c0baa81b687e5b5eecc01beefaf1b19b64151d95ed61647fe7a315c"}},
	}
}

func lz4Subject() CSubject {
	return CSubject{
		Name: "lz4", Version: "v1.10.0", Platform: platform.Platform{OS: "linux", Arch: "amd64"},
		Released:      time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC),
		URL:           "https://github.com/lz4/lz4/archive/refs/tags/v1.10.0.tar.gz",
		TarballSHA256: "537512904744b35e232912055ccf8ec66d768639ff3abe5788d90d792ec5f48b",
	}
}

// TestBuildRecordPackages: the target's libraries are what multiarch
// installed for it after the snapshot, with their dependencies; the cross
// toolchain's packages are there, its programs marked as tools; the base
// system and build-machine tools (bison, pkgconf-bin) are not. On a native
// build without target libraries (lz4 on amd64) only the cross toolchain
// is.
func TestBuildRecordPackages(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"record-tmux-linux-arm64", []string{
			"binutils-aarch64-linux-gnu 2.44-3 amd64 tool",
			"cpp-14-aarch64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"g++-14-aarch64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"gcc-14-aarch64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"gcc-aarch64-linux-gnu 4:14.2.0-1 amd64 tool",
			"libc6 2.41-12 arm64",
			"libc6-arm64-cross 2.41-6cross1 all",
			"libc6-dev-arm64-cross 2.41-6cross1 all",
			"libevent-2.1-7t64 2.1.12-stable-10+b1 arm64",
			"libevent-dev 2.1.12-stable-10+b1 arm64",
			"libgcc-14-dev-arm64-cross 14.2.0-19cross1 all",
			"libgcc-s1 14.2.0-19 arm64",
			"libgcc-s1-arm64-cross 14.2.0-19cross1 all",
			"libncurses-dev 6.5+20250216-2 arm64",
			"libncurses6 6.5+20250216-2 arm64",
			"libncursesw6 6.5+20250216-2 arm64",
			"libtinfo6 6.5+20250216-2 arm64",
			"linux-libc-dev-arm64-cross 6.12.17-1cross1 all",
			"pkgconf 1.8.1-4 arm64",
		}},
		{"record-lz4-linux-amd64", []string{
			"binutils-x86-64-linux-gnu 2.44-3 amd64 tool",
			"cpp-14-x86-64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"g++-14-x86-64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"gcc-14-x86-64-linux-gnu 14.2.0-19cross1 amd64 tool",
			"gcc-x86-64-linux-gnu 4:14.2.0-1 amd64 tool",
			"libc6-amd64-cross 2.41-6cross1 all",
			"libc6-dev-amd64-cross 2.41-6cross1 all",
			"libgcc-14-dev-amd64-cross 14.2.0-19cross1 all",
			"libgcc-s1-amd64-cross 14.2.0-19cross1 all",
			"linux-libc-dev-amd64-cross 6.12.17-1cross1 all",
		}},
	} {
		rec, err := ReadBuildRecord(filepath.Join("testdata", tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rec.Packages {
			s := p.Name + " " + p.Version + " " + p.Arch
			if p.Tool {
				s += " tool"
			}
			got = append(got, s)
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.dir, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

func TestBuildRecordErrors(t *testing.T) {
	good := func() [5][]byte {
		return [5][]byte{
			[]byte(strings.Repeat("a", 64)), []byte("aarch64-linux-gnu-gcc (Debian 14.2.0-19) 14.2.0"),
			[]byte("TRIPLE=\"aarch64-linux-gnu\"\nDEBARCH=\"arm64\"\n"), []byte("libc6 2.41-12 arm64\n"), nil,
		}
	}
	for _, tc := range []struct {
		i    int
		data string
		want string
	}{
		{0, "not hex", "sha256 \"not hex\" is not a lowercase hex SHA-256"},
		{1, "", "compiler \"\" is not one line"},
		{2, "ARCHFLAGS=\"\"\n", "target names no TRIPLE and DEBARCH"},
		{3, "libc6 2.41-12 arm64 extra\n", "packages: line 1"},
	} {
		f := good()
		f[tc.i] = []byte(tc.data)
		if _, err := ParseBuildRecord(f[0], f[1], f[2], f[3], f[4]); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("file %d = %q: %v", tc.i, tc.data, err)
		}
	}
	if _, err := ReadBuildRecord(t.TempDir()); err == nil || !strings.Contains(err.Error(), "the C build record") {
		t.Errorf("empty directory: %v", err)
	}
}

func cSBOM(t *testing.T, dir string, s CSubject) (*spdx.Document, string) {
	t.Helper()
	dir = filepath.Join("testdata", dir)
	rec, err := ReadBuildRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "binary")
	doc, err := CSBOMFromFile(bin, rec, s)
	if err != nil {
		t.Fatal(err)
	}
	return doc, bin
}

func TestCSBOMGolden(t *testing.T) {
	for _, tc := range []struct {
		dir, file string
		s         CSubject
	}{
		{"record-tmux-linux-arm64", "sbom-tmux-linux-arm64.spdx.json", tmuxSubject()},
		{"record-lz4-linux-amd64", "sbom-lz4-linux-amd64.spdx.json", lz4Subject()},
	} {
		doc, _ := cSBOM(t, tc.dir, tc.s)
		got, err := JSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, tc.file, got)
		// What the JSON holds reads back, and checks out against the binary.
		back, err := ReadSPDX(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckC(back, filepath.Join("testdata", tc.dir, "binary"), tc.s); err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}

// TestCSBOMRefuses: a record of another binary (the sbom stage rebuilt
// instead of reused) or of another platform's toolchain makes no SBOM.
func TestCSBOMRefuses(t *testing.T) {
	dir := filepath.Join("testdata", "record-tmux-linux-arm64")
	rec, err := ReadBuildRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "tmux")
	os.WriteFile(other, []byte("another build"), 0o755)
	if _, err := CSBOMFromFile(other, rec, tmuxSubject()); err == nil || !strings.Contains(err.Error(), "the build record describes a binary with sha256 "+rec.SHA256) {
		t.Errorf("other binary: %v", err)
	}
	s := tmuxSubject()
	s.Platform = platform.Platform{OS: "linux", Arch: "riscv64"}
	if _, err := CSBOMFromFile(filepath.Join(dir, "binary"), rec, s); err == nil || !strings.Contains(err.Error(), "the build record is for aarch64-linux-gnu, platform linux/riscv64 builds with riscv64-linux-gnu") {
		t.Errorf("other platform: %v", err)
	}
}

// TestCheckC: the SBOM must match the pins and the binary.
func TestCheckC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*CSubject, *string)
		want   string
	}{
		{"version", func(s *CSubject, _ *string) { s.Version = "3.6" }, "the SBOM describes tmux 3.5a, not the pinned tmux 3.6"},
		{"url", func(s *CSubject, _ *string) { s.URL = "https://example.com/tmux.tar.gz" }, "comes from https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz, not the pinned https://example.com/tmux.tar.gz"},
		{"tarball", func(s *CSubject, _ *string) { s.TarballSHA256 = strings.Repeat("0", 64) }, "tarball is not the pinned sha256"},
		{"binary", func(_ *CSubject, bin *string) {
			*bin = filepath.Join(t.TempDir(), "tmux")
			os.WriteFile(*bin, []byte("another build"), 0o755)
		}, "the SBOM's /bin/tmux is not this binary"},
		{"platform", func(s *CSubject, _ *string) { s.Platform = platform.Platform{OS: "linux", Arch: "riscv64"} }, "the SBOM names aarch64-linux-gnu-gcc as the compiler of /bin/tmux, want riscv64-linux-gnu-gcc"},
		{"dep version", func(s *CSubject, _ *string) { s.Deps[0].Version = "2.1.12-stable" }, "the SBOM does not name the library libevent 2.1.12-stable built from its pinned tarball"},
		{"dep tarball", func(s *CSubject, _ *string) { s.Deps[0].SHA256 = strings.Repeat("0", 64) }, "the SBOM's libevent is not the pinned tarball"},
		{"no deps pinned", func(s *CSubject, _ *string) { s.Deps = nil }, "the SBOM names a library libevent 2.1.13-stable built from source that the pins do not"},
		{"another dep", func(s *CSubject, _ *string) {
			s.Deps = append(s.Deps, CDep{Name: "ncurses", Version: "6.5", URL: "https://example.com/ncurses-6.5.tar.gz", SHA256: strings.Repeat("1", 64)})
		}, "the SBOM does not name the library ncurses 6.5"},
	} {
		doc, bin := cSBOM(t, "record-tmux-linux-arm64", tmuxSubject())
		s := tmuxSubject()
		tc.change(&s, &bin)
		if err := CheckC(doc, bin, s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A Go SBOM is not a C one.
	goDoc, err := SBOM(dlvInfo(), dlvSubject())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckC(goDoc, filepath.Join("testdata", "record-tmux-linux-arm64", "binary"), tmuxSubject()); err == nil {
		t.Error("a Go SBOM passed as tmux's")
	}
}
