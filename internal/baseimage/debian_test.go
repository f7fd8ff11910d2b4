package baseimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func debianInputs(t *testing.T) DebianInputs {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	return DebianInputs{Suite: DebianSuite, Mirror: DebianMirror, Arch: "amd64", CABundle: ca}
}

func TestMmdebstrapArgv(t *testing.T) {
	in := DebianInputs{Suite: "trixie", Mirror: "http://deb.debian.org/debian", Arch: "arm64", CABundle: "/etc/ssl/certs/ca-certificates.crt"}
	got := strings.Join(MmdebstrapArgv(in, "/work/root.tar"), "\n")
	want := strings.Join([]string{
		"mmdebstrap", "--variant=minbase", "--format=tar", "--architectures=arm64",
		`--customize-hook=mkdir -p "$1/etc/ssl/certs"`,
		"--customize-hook=copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs",
		"trixie", "/work/root.tar", "http://deb.debian.org/debian",
	}, "\n")
	if got != want {
		t.Errorf("argv:\n%s\nwant:\n%s", got, want)
	}
}

// TestDebianTag: the tag names the suite and a key that changes with every
// input, and only with them.
func TestDebianTag(t *testing.T) {
	in := debianInputs(t)
	base, err := in.Tag()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^trixie-[0-9a-f]{12}$`).MatchString(base) {
		t.Errorf("tag %q", base)
	}
	if again, _ := in.Tag(); again != base {
		t.Errorf("not deterministic: %s, %s", base, again)
	}
	for what, mutate := range map[string]func(*DebianInputs){
		"suite":  func(in *DebianInputs) { in.Suite = "forky" },
		"mirror": func(in *DebianInputs) { in.Mirror = "http://mirror.example/debian" },
		"arch":   func(in *DebianInputs) { in.Arch = "arm64" },
		"CA bundle": func(in *DebianInputs) {
			os.WriteFile(in.CABundle, []byte("another\n"), 0o644)
		},
	} {
		other := debianInputs(t)
		mutate(&other)
		if got, _ := other.Tag(); strings.TrimPrefix(got, "forky") == strings.TrimPrefix(base, "trixie") {
			t.Errorf("the %s did not change the key", what)
		}
	}
	in.CABundle = filepath.Join(t.TempDir(), "missing")
	if _, err := in.Tag(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing CA bundle: %v", err)
	}
}

// TestDebianLayer: mmdebstrap's tar becomes a layer without device nodes,
// with relative names and epoch timestamps; owners, modes and hard links
// stay.
func TestDebianLayer(t *testing.T) {
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755},
		{Typeflag: tar.TypeDir, Name: "./dev/", Mode: 0o755},
		{Typeflag: tar.TypeChar, Name: "./dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Typeflag: tar.TypeSymlink, Name: "./dev/fd", Linkname: "/proc/self/fd", Mode: 0o777},
		{Typeflag: tar.TypeReg, Name: "./usr/bin/perl", Mode: 0o755, Size: 4},
		{Typeflag: tar.TypeLink, Name: "./usr/bin/perl5.40.1", Linkname: "./usr/bin/perl", Mode: 0o755},
		{Typeflag: tar.TypeDir, Name: "./var/cache/apt/archives/partial/", Mode: 0o700, Uid: 42, Uname: "_apt"},
		{Typeflag: tar.TypeReg, Name: "./usr/bin/su", Mode: 0o4755, Size: 2},
	} {
		h.ModTime = now
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	var out bytes.Buffer
	if err := debianLayer(&in, &out); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&out)
	var got []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %s", h.Name, h.ModTime)
		}
		data, _ := io.ReadAll(tr)
		got = append(got, h.Name+">"+h.Linkname+" "+h.FileInfo().Mode().String()+" "+string(rune('0'+h.Uid/10))+string(rune('0'+h.Uid%10))+" "+string(data))
	}
	want := []string{
		"dev/> drwxr-xr-x 00 ",
		"dev/fd>/proc/self/fd Lrwxrwxrwx 00 ",
		"usr/bin/perl> -rwxr-xr-x 00 xxxx",
		"usr/bin/perl5.40.1>usr/bin/perl -rwxr-xr-x 00 ",
		"var/cache/apt/archives/partial/> drwx------ 42 ",
		"usr/bin/su> urwxr-xr-x 00 xx",
	}
	if !slices.Equal(got, want) {
		t.Errorf("layer:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDebianImage(t *testing.T) {
	img, err := debianImage(static.NewLayer([]byte("rootfs"), types.OCILayer), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	if cf.OS != "linux" || cf.Architecture != "arm64" || !cf.Created.Equal(epoch) || len(layers) != 1 ||
		!slices.Equal(cf.Config.Cmd, []string{"bash"}) || !strings.HasPrefix(cf.Config.Env[0], "PATH=/usr/local/sbin:") {
		t.Errorf("config %+v, %d layers", cf, len(layers))
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("media type %s", mt)
	}
}

func TestDebianChoice(t *testing.T) {
	ctx := context.Background()
	never := func(context.Context) bool { t.Error("Docker Hub was asked"); return false }
	for _, tc := range []struct {
		c    DebianChoice
		want string
	}{
		{DebianChoice{Override: "mirror.example/debian:trixie", Local: &LocalDebian{}, DockerHubReachable: never}, "mirror.example/debian:trixie"},
		{DebianChoice{DockerHubReachable: never}, "debian:trixie"},
		{DebianChoice{Local: &LocalDebian{}, DockerHubReachable: func(context.Context) bool { return true }}, "debian:trixie"},
	} {
		if got, err := tc.c.Image(ctx); err != nil || got != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc.c, got, err, tc.want)
		}
	}
	// Unreachable: the local assembly, which needs a Debian architecture.
	_, err := DebianChoice{Local: &LocalDebian{GOARCH: "wasm"}, DockerHubReachable: func(context.Context) bool { return false }}.Image(ctx)
	if err == nil || !strings.Contains(err.Error(), "no Debian architecture for linux/wasm") {
		t.Errorf("unreachable: %v", err)
	}
}
