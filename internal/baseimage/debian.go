package baseimage

// The Debian builder image C programs build on (their Dockerfiles'
// DEBIAN_IMAGE): debian:trixie from Docker Hub where it answers, otherwise
// assembled here the way debuerreotype makes the official one, from the
// Debian mirror this machine reaches: `mmdebstrap --variant=minbase`, the
// host's CA bundle copied in (TLS through an intercepting proxy works, as
// in the Go builder image), apt's sources naming the mirror (mmdebstrap
// writes them), and the root file system as one layer. Device nodes are
// left out of the layer (the runtime mounts /dev), and every timestamp is
// the epoch (mmdebstrap honours SOURCE_DATE_EPOCH), so the layer depends
// only on the packages the mirror served.
//
// The key covers what the image is made from here: the recipe, suite,
// mirror, architecture and CA bundle. The packages' versions are not in
// it: the mirror moves daily, and every C build runs `apt-get update`
// before it installs anything, so an older base only means a larger apt
// step. The image is assembled once and reused while the registry holds
// the digest recorded at its push.

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossbin/crossbin/internal/lines"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/registry"
)

// Debian is the Debian release C programs build on, and the mirror the
// assembled image is made from and points apt at.
const (
	DebianSuite  = "trixie"
	DebianMirror = "http://deb.debian.org/debian"
)

// debianRecipe changes whenever the assembly below changes.
const debianRecipe = "1"

// DebianUpstream is the official Debian image for the suite.
func DebianUpstream() string { return "debian:" + DebianSuite }

// caPath is where the host's CA bundle goes in the image, as Debian's
// ca-certificates package puts it.
const caPath = "/etc/ssl/certs/ca-certificates.crt"

// DebianInputs are what the assembled Debian image is made from.
type DebianInputs struct {
	Suite    string // e.g. trixie
	Mirror   string // e.g. http://deb.debian.org/debian
	Arch     string // Debian architecture of the image (the build platform's), e.g. amd64
	CABundle string // the host's PEM bundle
}

// Key is a digest over the inputs.
func (in DebianInputs) Key() (string, error) {
	ca, err := os.ReadFile(in.CABundle)
	if err != nil {
		return "", fmt.Errorf("the Debian builder image's input: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "debian recipe %s\nsuite %s\nmirror %s\narch %s\nca %x\n", debianRecipe, in.Suite, in.Mirror, in.Arch, sha256.Sum256(ca))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Tag is the image tag for the inputs: the suite and a short key, e.g.
// trixie-0123456789ab.
func (in DebianInputs) Tag() (string, error) {
	key, err := in.Key()
	if err != nil {
		return "", err
	}
	return in.Suite + "-" + key[:12], nil
}

// MmdebstrapArgv is the command that writes the root file system as a tar
// file to out: a minimal Debian (essential packages and apt) with the
// host's CA bundle. Run it with SOURCE_DATE_EPOCH=0.
func MmdebstrapArgv(in DebianInputs, out string) []string {
	return []string{
		"mmdebstrap", "--variant=minbase", "--format=tar", "--architectures=" + in.Arch,
		// Hooks are mmdebstrap's: $1 is the new root. copy-in is its own
		// command, run without a shell.
		`--customize-hook=mkdir -p "$1` + filepath.Dir(caPath) + `"`,
		"--customize-hook=copy-in " + in.CABundle + " " + filepath.Dir(caPath),
		in.Suite, out, in.Mirror,
	}
}

// DebianConfig is the assembled image's configuration, as the official
// image has it.
func DebianConfig() v1.Config {
	return v1.Config{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"bash"},
	}
}

// debianLayer copies mmdebstrap's tar to w as the image's layer: without
// device nodes, with names made relative ("./etc" becomes "etc") and every
// timestamp the epoch. Everything else (owners, modes, links) is kept.
func debianLayer(r io.Reader, w io.Writer) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read the root file system: %w", err)
		}
		if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock || h.Typeflag == tar.TypeFifo {
			continue
		}
		h.Name = strings.TrimPrefix(h.Name, "./")
		if h.Name == "" || h.Name == "/" {
			continue
		}
		if h.Typeflag == tar.TypeLink {
			h.Linkname = strings.TrimPrefix(h.Linkname, "./")
		}
		h.ModTime, h.AccessTime, h.ChangeTime, h.Format = epoch, epoch, epoch, tar.FormatPAX
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	return tw.Close()
}

// BuildDebian runs mmdebstrap under work and makes the image from what it
// wrote. goarch is the image's architecture in OCI terms (amd64, arm64).
func BuildDebian(ctx context.Context, log *slog.Logger, in DebianInputs, goarch, work string) (v1.Image, error) {
	raw := filepath.Join(work, "mmdebstrap.tar")
	argv := MmdebstrapArgv(in, raw)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	log.Info("running mmdebstrap", "suite", in.Suite, "mirror", in.Mirror, "arch", in.Arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, lines.Last(string(out), 15))
	}
	layerFile := filepath.Join(work, "rootfs.tar")
	if err := convert(raw, layerFile); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(layerFile, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	return debianImage(layer, goarch)
}

func convert(from, to string) error {
	r, err := os.Open(from)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(to)
	if err != nil {
		return err
	}
	if err := debianLayer(r, w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// debianImage is the one-layer image with its configuration.
func debianImage(layer v1.Layer, goarch string) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: epoch}, CreatedBy: "crossbin baseimage: mmdebstrap --variant=minbase " + DebianSuite,
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = DebianConfig()
	return mutate.ConfigFile(img, cf)
}

// EnsureDebian makes sure repo holds the Debian image for in, assembling
// and pushing it if it does not, and returns its reference pinned by
// digest (repo:trixie-<key>@sha256:...). record is as for Ensure. prepare,
// when set, runs right before an assembly (not when the image is reused):
// the stack installs mmdebstrap there.
func EnsureDebian(ctx context.Context, log *slog.Logger, reg registry.Client, repo string, in DebianInputs, goarch, record string, prepare func(context.Context) error) (string, error) {
	tag, err := in.Tag()
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("the Debian builder image's reference: %w", err)
	}
	return ensure(ctx, log, reg, ref, record, "Debian builder image", func() (v1.Image, func(), error) {
		if prepare != nil {
			if err := prepare(ctx); err != nil {
				return nil, nil, err
			}
		}
		work, err := os.MkdirTemp("", "crossbin-debian-")
		if err != nil {
			return nil, nil, err
		}
		img, err := BuildDebian(ctx, log, in, goarch, work)
		return img, func() { os.RemoveAll(work) }, err
	})
}

// DebianChoice decides the Debian builder image as Choice does the Go one.
type DebianChoice struct {
	// Override, when set, is the image, used as is (CROSSBIN_DEBIAN_IMAGE).
	Override string
	// Local assembles the image when Docker Hub does not answer; nil: the
	// builder is the user's own and pulls debian:trixie itself.
	Local *LocalDebian
	// DockerHubReachable is as for Choice.
	DockerHubReachable func(context.Context) bool
}

// Image returns the Debian builder image.
func (c DebianChoice) Image(ctx context.Context) (string, error) {
	var assemble func(context.Context) (string, error)
	if c.Local != nil {
		assemble = c.Local.Assemble
	}
	return choose(ctx, c.Override, DebianUpstream(), assemble, c.DockerHubReachable)
}

// LocalDebian assembles the Debian image here and pushes it to Repo.
type LocalDebian struct {
	Repo     string // e.g. 127.0.0.1:5000/crossbin/debian
	Mirror   string // default DebianMirror
	GOARCH   string // the build platform's architecture
	CABundle string
	Record   string
	Log      *slog.Logger
	// Prepare runs before mmdebstrap, only when the image is assembled
	// (the stack installs mmdebstrap with it).
	Prepare func(context.Context) error
}

// Assemble makes sure Repo holds the image and returns its reference.
func (l LocalDebian) Assemble(ctx context.Context) (string, error) {
	n, ok := platform.Platform{OS: "linux", Arch: l.GOARCH}.Names()
	if !ok || n.Debian == "" {
		return "", fmt.Errorf("the Debian builder image: the platform table has no Debian architecture for linux/%s", l.GOARCH)
	}
	arch := n.Debian
	mirror := l.Mirror
	if mirror == "" {
		mirror = DebianMirror
	}
	in := DebianInputs{Suite: DebianSuite, Mirror: mirror, Arch: arch, CABundle: l.CABundle}
	return EnsureDebian(ctx, l.Log, registry.Client{}, l.Repo, in, l.GOARCH, l.Record, l.Prepare)
}
