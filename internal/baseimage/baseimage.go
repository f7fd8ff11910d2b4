// Package baseimage chooses the Go builder image every build starts from,
// and assembles it locally for machines that cannot pull
// golang:<version>-alpine from Docker Hub. GoVersion, the Go release builds
// use, is pinned here.
//
// The choice (Choice.Image) is made once, for every builder: an image the
// user configured is used as is; a builder of the user's own gets the
// upstream golang:<GoVersion>-alpine and pulls it itself; the embedded stack
// gets the upstream image when Docker Hub answers, and otherwise one
// assembled here (Local) and pushed to its registry.
//
// The assembled image mirrors what the Dockerfiles expect from the official
// one: a busybox userland (the same shell alpine has), the Go toolchain in
// /usr/local/go, GOPATH=/go, GOTOOLCHAIN=local, and the host's CA bundle so
// TLS through an intercepting proxy works. Its parts come from places this
// machine can reach: the toolchain is the golang.org/toolchain module from
// the Go module proxy (verified by the go tool), busybox and the CA bundle
// are the host's (Debian's busybox-static and ca-certificates).
//
// The image is built reproducibly (fixed timestamps and owners, sorted
// entries) and tagged by a key over its inputs, so checking whether the
// registry already has it costs one HEAD request.
package baseimage

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/atomicfile"
	"github.com/crossbin/crossbin/internal/gotool"
	"github.com/crossbin/crossbin/internal/registry"
)

// recipeVersion changes whenever the layout below changes, so the input key
// (and tag) changes with it.
const recipeVersion = "1"

// epoch is every file's and the image's timestamp.
var epoch = time.Unix(0, 0).UTC()

// Inputs are the parts of the image.
type Inputs struct {
	GoVersion string // e.g. 1.26.8
	GOARCH    string // architecture of the image and its toolchain
	Toolchain string // extracted golang.org/toolchain module (GOROOT)
	ToolSum   string // its h1: checksum
	Busybox   string // statically linked busybox
	CABundle  string // PEM bundle, installed as /etc/ssl/certs/ca-certificates.crt
}

// ToolchainModule is the golang.org/toolchain module version for a Go
// release on linux/goarch.
func ToolchainModule(goVersion, goarch string) (module, version string) {
	return "golang.org/toolchain", "v0.0.1-go" + goVersion + ".linux-" + goarch
}

// Gather downloads the toolchain through the go tool and locates the host
// parts.
func Gather(ctx context.Context, env []string, goVersion, goarch, busybox, caBundle string) (Inputs, error) {
	mod, ver := ToolchainModule(goVersion, goarch)
	m, err := gotool.Download(ctx, env, mod, ver)
	if err != nil {
		return Inputs{}, fmt.Errorf("the Go %s toolchain for the builder image: %w", goVersion, err)
	}
	for _, f := range []string{busybox, caBundle} {
		if _, err := os.Stat(f); err != nil {
			return Inputs{}, fmt.Errorf("builder image input: %w", err)
		}
	}
	return Inputs{GoVersion: goVersion, GOARCH: goarch, Toolchain: m.Dir, ToolSum: m.Sum, Busybox: busybox, CABundle: caBundle}, nil
}

// Key is a digest over everything that determines the image's content.
func (in Inputs) Key() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "recipe %s\ngo %s\narch %s\ntoolchain %s\n", recipeVersion, in.GoVersion, in.GOARCH, in.ToolSum)
	for _, f := range []string{in.Busybox, in.CABundle} {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %x\n", filepath.Base(f), sha256.Sum256(data))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Tag is the image tag for these inputs: the Go version and a short key.
func (in Inputs) Tag() (string, error) {
	key, err := in.Key()
	if err != nil {
		return "", err
	}
	return in.GoVersion + "-crossbin-" + key[:12], nil
}

// Ensure makes sure repo holds the image for in, building and pushing it if
// it does not, and returns its reference pinned by digest
// (repo:tag@sha256:...). The digest of what was pushed is recorded in the
// file record; the image counts as present only when the registry has that
// digest, so a registry that lost it, or holds something else under the
// tag, gets the image again.
func Ensure(ctx context.Context, log *slog.Logger, reg registry.Client, repo string, in Inputs, record string) (string, error) {
	tag, err := in.Tag()
	if err != nil {
		return "", fmt.Errorf("builder image key: %w", err)
	}
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("builder image reference: %w", err)
	}
	return ensure(ctx, log, reg, ref, record, "Go builder image", func() (v1.Image, func(), error) {
		work, err := os.MkdirTemp("", "crossbin-baseimage-")
		if err != nil {
			return nil, nil, err
		}
		img, err := Build(ctx, in, work)
		return img, func() { os.RemoveAll(work) }, err
	})
}

// ensure is Ensure with the image's assembly given; build's cleanup runs
// once the image is pushed. what names the image in logs and errors.
func ensure(ctx context.Context, log *slog.Logger, reg registry.Client, ref name.Tag, record, what string, build func() (v1.Image, func(), error)) (string, error) {
	if data, err := os.ReadFile(record); err == nil {
		if d, err := v1.NewHash(strings.TrimSpace(string(data))); err == nil && reg.Exists(ctx, ref.Context().Digest(d.String())) {
			if err := reg.Tag(ctx, ref.String(), d); err != nil {
				return "", fmt.Errorf("%s: %w", what, err)
			}
			return ref.String() + "@" + d.String(), nil
		}
	}
	start := time.Now()
	log.Info("assembling the "+what+" (Docker Hub unreachable; first run only)", "image", ref.String())
	img, cleanup, err := build()
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return "", fmt.Errorf("assemble the %s: %w", what, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("assemble the %s: %w", what, err)
	}
	if err := reg.Push(ctx, ref, img); err != nil {
		return "", fmt.Errorf("push the %s: %w", what, err)
	}
	if err := os.MkdirAll(filepath.Dir(record), 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.Write(record, []byte(d.String()+"\n")); err != nil {
		return "", fmt.Errorf("record the %s's digest: %w", what, err)
	}
	log.Info("pushed the "+what, "image", ref.String(), "digest", d.String(), "duration", time.Since(start).Round(time.Second))
	return ref.String() + "@" + d.String(), nil
}

// Pin returns ref with the digest the registry holds for it now
// (repo:tag@sha256:...), so a run builds every program from one image
// and a changed image changes every program's inputs. A reference that
// already names a digest is returned as is.
func Pin(ctx context.Context, reg registry.Client, ref string) (string, error) {
	return pin(ctx, reg, ref, "Go builder image", "CROSSBIN_GO_IMAGE")
}

// PinDebian is Pin for the Debian builder image.
func PinDebian(ctx context.Context, reg registry.Client, ref string) (string, error) {
	return pin(ctx, reg, ref, "Debian builder image", "CROSSBIN_DEBIAN_IMAGE")
}

func pin(ctx context.Context, reg registry.Client, ref, what, setting string) (string, error) {
	if strings.Contains(ref, "@") {
		return ref, nil
	}
	d, err := reg.Digest(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("resolve the %s %s to a digest: %w (set %s to an image this machine can read, e.g. pinned as name:tag@sha256:...)", what, ref, err, setting)
	}
	return ref + "@" + d.String(), nil
}

// Build assembles the image, writing layer tarballs under work.
func Build(ctx context.Context, in Inputs, work string) (v1.Image, error) {
	applets, err := busyboxApplets(ctx, in.Busybox)
	if err != nil {
		return nil, err
	}
	rootfs := filepath.Join(work, "rootfs.tar")
	if err := writeTar(rootfs, func(tw *tarWriter) error { return rootfsLayer(tw, in, applets) }); err != nil {
		return nil, fmt.Errorf("rootfs layer: %w", err)
	}
	goroot := filepath.Join(work, "go.tar")
	if err := writeTar(goroot, func(tw *tarWriter) error { return gorootLayer(tw, in.Toolchain) }); err != nil {
		return nil, fmt.Errorf("the Go toolchain layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, f := range []string{rootfs, goroot} {
		layer, err := tarball.LayerFromFile(f, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			Created: v1.Time{Time: epoch}, CreatedBy: "crossbin baseimage: " + filepath.Base(f),
		}}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", in.GOARCH
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		Env: []string{
			"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"GOLANG_VERSION=" + in.GoVersion,
			"GOTOOLCHAIN=local",
			"GOPATH=/go",
		},
		WorkingDir: "/go",
		Cmd:        []string{"/bin/sh"},
	}
	return mutate.ConfigFile(img, cf)
}

// busyboxApplets asks busybox which applets it has, as paths such as
// "bin/sh" or "usr/bin/env".
func busyboxApplets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	var applets []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line = strings.Trim(line, "/ "); line != "" && !strings.Contains(line, "..") {
			applets = append(applets, line)
		}
	}
	sort.Strings(applets)
	return applets, nil
}

func rootfsLayer(tw *tarWriter, in Inputs, applets []string) error {
	for _, d := range []struct {
		path string
		mode int64
	}{
		{"bin", 0o755}, {"etc", 0o755}, {"etc/ssl", 0o755}, {"etc/ssl/certs", 0o755},
		{"go", 0o777}, {"go/bin", 0o777}, {"go/src", 0o777}, {"root", 0o700},
		{"sbin", 0o755}, {"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755},
		{"usr/local", 0o755}, {"usr/local/bin", 0o755}, {"usr/sbin", 0o755},
	} {
		if err := tw.dir(d.path, d.mode); err != nil {
			return err
		}
	}
	busybox, err := os.ReadFile(in.Busybox)
	if err != nil {
		return err
	}
	if err := tw.file("bin/busybox", 0o755, busybox); err != nil {
		return err
	}
	for _, a := range applets {
		if a == "bin/busybox" {
			continue
		}
		if err := tw.symlink(a, "/bin/busybox"); err != nil {
			return err
		}
	}
	ca, err := os.ReadFile(in.CABundle)
	if err != nil {
		return err
	}
	files := []struct {
		path string
		data string
	}{
		{"etc/group", "root:x:0:root\nnobody:x:65534:\n"},
		{"etc/nsswitch.conf", "hosts: files dns\n"},
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"etc/ssl/certs/ca-certificates.crt", string(ca)},
	}
	for _, f := range files {
		if err := tw.file(f.path, 0o644, []byte(f.data)); err != nil {
			return err
		}
	}
	return nil
}

// gorootLayer puts the toolchain module at /usr/local/go. Module zips carry
// no file modes, so the programs under bin/ and pkg/tool/ are made
// executable here.
func gorootLayer(tw *tarWriter, toolchain string) error {
	if err := tw.dir("usr/local/go", 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(toolchain, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == toolchain {
			return err
		}
		rel, err := filepath.Rel(toolchain, p)
		if err != nil {
			return err
		}
		target := "usr/local/go/" + filepath.ToSlash(rel)
		if d.IsDir() {
			return tw.dir(target, 0o755)
		}
		mode := int64(0o644)
		if strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "pkg/tool/") {
			mode = 0o755
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return tw.file(target, mode, data)
	})
}

// tarWriter writes entries with fixed owners and timestamps.
type tarWriter struct{ *tar.Writer }

func writeTar(path string, fill func(*tarWriter) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := &tarWriter{tar.NewWriter(f)}
	if err := fill(tw); err != nil {
		f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (tw *tarWriter) header(h *tar.Header) error {
	h.ModTime, h.Format = epoch, tar.FormatPAX
	return tw.WriteHeader(h)
}

func (tw *tarWriter) dir(path string, mode int64) error {
	return tw.header(&tar.Header{Typeflag: tar.TypeDir, Name: path + "/", Mode: mode})
}

func (tw *tarWriter) file(path string, mode int64, data []byte) error {
	if err := tw.header(&tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func (tw *tarWriter) symlink(path, target string) error {
	return tw.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: path, Linkname: target, Mode: 0o777})
}
