package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/filehash"
	"github.com/crossbin/crossbin/internal/gotool"
)

// MaxTarball bounds a release tarball's size: a server that sends more is
// not serving the pinned release, and must not fill the cache's disk.
const MaxTarball = 1 << 30

// DigestError reports bytes that are not the pinned release: the URL served
// a tarball whose sha256 is Got, but the Dockerfile pins Want. Nothing of
// it is kept.
type DigestError struct {
	URL, Want, Got string
	// Arg is the ARG that pins Want: SHA256, or a dep's LIBEVENT_SHA256.
	Arg string
}

func (e *DigestError) Error() string {
	arg := e.Arg
	if arg == "" {
		arg = "SHA256"
	}
	return fmt.Sprintf("%s served a tarball with sha256 %s, but ARG %s pins %s: these are not the pinned release's bytes (nothing was kept; if upstream re-released on purpose, check it and pin the new digest)", e.URL, e.Got, arg, e.Want)
}

// tarballMeta is stored beside an unpacked tree (<dir>.json).
type tarballMeta struct {
	URL    string    `json:"url"`
	SHA256 string    `json:"sha256"`
	Time   time.Time `json:"time"`
}

// release is one pinned tarball: a program's or one of its deps'.
type release struct {
	name, version string
	tb            catalog.Tarball
	arg           string // the ARG pinning its sha256
}

// fetchTarball returns the unpacked tree of prog's release tarball (see
// fetchRelease), with its deps' trees in Deps.
func (p Preparer) fetchTarball(ctx context.Context, prog catalog.Program) (Source, error) {
	src, err := p.fetchRelease(ctx, release{prog.Name, prog.Version, *prog.Tarball, "SHA256"})
	if err != nil {
		return Source{}, fmt.Errorf("%s %s: release tarball: %w", prog.Name, prog.Version, err)
	}
	for _, d := range prog.Deps {
		dep, err := p.fetchRelease(ctx, release{d.Name, d.Version, d.Tarball, catalog.ArgPrefix(d.Name) + "SHA256"})
		if err != nil {
			return Source{}, fmt.Errorf("%s %s: dep %s %s: release tarball: %w", prog.Name, prog.Version, d.Name, d.Version, err)
		}
		if src.Deps == nil {
			src.Deps = map[string]string{}
		}
		src.Deps[d.Name] = dep.Dir
	}
	return src, nil
}

// fetchRelease returns the unpacked tree of r's tarball: from the cache
// when that digest was unpacked before, else from the cached tarball, else
// downloaded from its URLs in order (see TarballURLs). The source's Sum is
// "sha256:<digest>" and its Released time the newest modification time in
// the tarball, so both follow from the pinned bytes.
func (p Preparer) fetchRelease(ctx context.Context, r release) (Source, error) {
	tb := r.tb
	dir := filepath.Join(p.CacheDir, "source", "tarball", r.name+"-"+r.version+"-"+tb.SHA256[:24])
	src := func(m tarballMeta) Source {
		return Source{
			Module:   gotool.Module{Path: r.name, Version: r.version, Dir: dir, Sum: "sha256:" + m.SHA256},
			Released: m.Time,
			Dir:      dir,
			URL:      m.URL,
		}
	}
	var m tarballMeta
	if data, err := os.ReadFile(dir + ".json"); err == nil && json.Unmarshal(data, &m) == nil && m.SHA256 == tb.SHA256 {
		return src(m), nil
	}
	file, from, err := p.Download(ctx, p.TarballURLs(tb, r.version), tb.SHA256)
	if de := (*DigestError)(nil); errors.As(err, &de) {
		de.Arg = r.arg
	}
	if err != nil {
		return Source{}, err
	}
	start := time.Now()
	err = fillDir(dir, func(work string) error {
		newest, err := Unpack(ctx, file, work)
		m = tarballMeta{URL: from, SHA256: tb.SHA256, Time: newest}
		if err != nil {
			return err
		}
		// BuildKit would apply it to the named context (see normalize).
		return dropDockerignore(work)
	})
	if err != nil {
		return Source{}, fmt.Errorf("unpack %s (from %s): %w", file, from, err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Source{}, err
	}
	// The metadata is written last: a tree without it is unpacked again.
	if err := os.WriteFile(dir+".json", data, 0o644); err != nil {
		return Source{}, err
	}
	p.Log.Info("unpacked release tarball", "name", r.name, "version", r.version, "dir", dir, "duration", time.Since(start).Round(100*time.Millisecond))
	return src(m), nil
}

// TarballURLs are the URLs tarball tb of version is tried at, in order:
// the Dockerfile's URL, program.yaml's mirrors, then p.Mirrors (the
// CROSSBIN_TARBALL_MIRRORS templates, with {sha256} and {file} filled in).
func (p Preparer) TarballURLs(tb catalog.Tarball, version string) []string {
	urls := tb.URLs(version)
	file := urls[0]
	if u, err := url.Parse(urls[0]); err == nil {
		file = path.Base(u.Path)
	}
	for _, t := range p.Mirrors {
		urls = append(urls, strings.NewReplacer("{sha256}", tb.SHA256, "{file}", file).Replace(t))
	}
	return urls
}

// Download returns the cache's copy of the tarball whose sha256 is want,
// and the URL it came from. A cached copy is checked again and used
// without the network; otherwise each URL is tried in order until one
// serves it. The bytes are hashed as they are written to a temporary file
// beside the cache entry, which takes the entry's name only when the
// digest matches: nothing reads a tarball before it is verified, and a
// failed download leaves nothing behind.
//
// Bytes with another digest stop the search with a *DigestError rather than
// moving on to the next mirror: the pinned URL serving other bytes means a
// re-release or tampering, which a person must look at. When every URL
// fails otherwise, the error (wrapping ErrUnreachable) names each URL and
// why.
func (p Preparer) Download(ctx context.Context, urls []string, want string) (file, from string, err error) {
	dir := filepath.Join(p.CacheDir, "source", "tarball", "sha256")
	file = filepath.Join(dir, want)
	if got, err := filehash.SHA256(file); err == nil {
		if got == want {
			return file, "cache", nil
		}
		p.Log.Warn("cached tarball is corrupt; fetching it again", "file", file, "sha256", got, "want", want)
		if err := os.Remove(file); err != nil {
			return "", "", err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	var failures []string
	for _, u := range urls {
		_, err := p.downloadOne(ctx, u, want, dir)
		if err == nil {
			p.Log.Info("fetched release tarball", "url", u, "sha256", want)
			return file, u, nil
		}
		if de := (*DigestError)(nil); errors.As(err, &de) || ctx.Err() != nil {
			return "", "", err
		}
		p.Log.Warn("tarball URL failed", "url", u, "err", err)
		failures = append(failures, err.Error())
	}
	return "", "", fmt.Errorf("%w: every URL failed (add a mirror to program.yaml or CROSSBIN_TARBALL_MIRRORS):\n  %s", ErrUnreachable, strings.Join(failures, "\n  "))
}

// FetchTarball downloads the tarball at u whose digest is not known yet (a new
// release `mage update` pins) into the cache, hashing it as it is written,
// and returns its sha256; a later Download of that digest finds it there.
// An answer other than 200 (a release without that tarball) is an error
// naming u.
func (p Preparer) FetchTarball(ctx context.Context, u string) (string, error) {
	dir := filepath.Join(p.CacheDir, "source", "tarball", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	got, err := p.downloadOne(ctx, u, "", dir)
	if err != nil {
		return "", err
	}
	p.Log.Info("fetched release tarball", "url", u, "sha256", got)
	return got, nil
}

// downloadOne downloads u into dir/<sha256>, checked against want unless
// want is empty, and returns its sha256.
func (p Preparer) downloadOne(ctx context.Context, u, want, dir string) (got string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	client := p.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err // *url.Error names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", u, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, ".download-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, MaxTarball+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", u, err)
	}
	if n > MaxTarball {
		return "", fmt.Errorf("%s: more than %d bytes: not a release tarball crossbin takes", u, MaxTarball)
	}
	got = hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return "", &DigestError{URL: u, Want: want, Got: got}
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return got, os.Rename(tmp.Name(), filepath.Join(dir, got))
}
