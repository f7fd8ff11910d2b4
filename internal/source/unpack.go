package source

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// MaxUnpacked bounds what one tarball may unpack to, against archives that
// expand without end.
const MaxUnpacked = 8 << 30

// ErrUnsafeArchive is wrapped by every error about an entry Unpack refuses.
var ErrUnsafeArchive = errors.New("unsafe tarball entry")

// Unpack writes the tarball archive (gzip, xz, bzip2 or zstd, told apart
// by their magic bytes, not the file name) into dir, without its single
// top-level directory, as `tar --strip-components=1` does in the
// Dockerfile built alone. It returns the newest modification time in the
// archive.
//
// A source tarball is untrusted input until it is built in a sandbox, and
// it is unpacked on the host: entries with absolute paths or "..",
// anything but directories, regular files and links, and links whose
// target leaves the tree are refused. Every write goes through an os.Root
// on dir, so even a link the checks missed cannot carry a write outside.
// Modes keep only the executable bit (0755 or 0644): no setuid, no
// owners. Regular files keep their modification times.
func Unpack(ctx context.Context, archive, dir string) (time.Time, error) {
	var newest time.Time
	f, err := os.Open(archive)
	if err != nil {
		return newest, err
	}
	defer f.Close()
	r, closeReader, err := decompress(bufio.NewReader(f))
	if err != nil {
		return newest, err
	}
	defer closeReader()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return newest, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return newest, err
	}
	defer root.Close()

	tr := tar.NewReader(r)
	var top string
	var links []string
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return newest, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return newest, fmt.Errorf("read the archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader { // pax metadata (git archive's commit id)
			continue
		}
		first, rel, err := entryPath(hdr.Name)
		if err != nil {
			return newest, err
		}
		switch {
		case top == "":
			top = first
		case first != top:
			return newest, fmt.Errorf("%w: %s and %s/: the tarball has no single top-level directory to strip", ErrUnsafeArchive, hdr.Name, top)
		}
		if rel == "" {
			if hdr.Typeflag != tar.TypeDir {
				return newest, fmt.Errorf("%w: %s: a file beside the top-level directory", ErrUnsafeArchive, hdr.Name)
			}
			continue
		}
		if hdr.ModTime.After(newest) {
			newest = hdr.ModTime.UTC()
		}
		if err := root.MkdirAll(path.Dir(rel), 0o755); err != nil {
			return newest, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		// A later entry of the same name replaces the earlier, as tar does.
		if fi, err := root.Lstat(rel); err == nil && (!fi.IsDir() || hdr.Typeflag != tar.TypeDir) {
			if err := root.RemoveAll(rel); err != nil {
				return newest, err
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(rel, 0o755)
		case tar.TypeReg:
			total += hdr.Size
			if total > MaxUnpacked {
				return newest, fmt.Errorf("%w: the tarball unpacks to more than %d bytes", ErrUnsafeArchive, int64(MaxUnpacked))
			}
			err = writeFile(root, rel, tr, hdr.FileInfo().Mode())
			if err == nil {
				// The archive's times: autotools' make compares them
				// (configure must stay newer than configure.ac).
				err = root.Chtimes(rel, hdr.ModTime, hdr.ModTime)
			}
		case tar.TypeSymlink:
			if path.IsAbs(hdr.Linkname) || strings.HasPrefix(path.Join(path.Dir(rel), hdr.Linkname), "../") || path.Join(path.Dir(rel), hdr.Linkname) == ".." {
				return newest, fmt.Errorf("%w: %s links to %s, outside the tree", ErrUnsafeArchive, hdr.Name, hdr.Linkname)
			}
			links = append(links, rel)
			err = root.Symlink(hdr.Linkname, rel)
		case tar.TypeLink:
			lfirst, lrel, lerr := entryPath(hdr.Linkname)
			if lerr != nil || lfirst != top || lrel == "" {
				return newest, fmt.Errorf("%w: %s is a hard link to %s, outside the tree", ErrUnsafeArchive, hdr.Name, hdr.Linkname)
			}
			err = root.Link(lrel, rel)
		default:
			return newest, fmt.Errorf("%w: %s is a %s, which a source tree has no use for", ErrUnsafeArchive, hdr.Name, typeName(hdr.Typeflag))
		}
		if err != nil {
			return newest, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
	if top == "" {
		return newest, fmt.Errorf("%w: the archive is empty", ErrUnsafeArchive)
	}
	// Each link alone stays inside; through other links it might not
	// (a/b -> .. then c -> a/b/..): follow every one as the kernel would.
	for _, l := range links {
		if err := insideTree(dir, l); err != nil {
			return newest, fmt.Errorf("%w: %s/%s: %w", ErrUnsafeArchive, top, l, err)
		}
	}
	return newest, nil
}

// entryPath splits an archive name into its top-level directory and the
// path below it, refusing absolute names and "..".
func entryPath(name string) (top, rel string, err error) {
	clean := strings.TrimPrefix(name, "./")
	if strings.HasPrefix(clean, "/") {
		return "", "", fmt.Errorf("%w: %s is an absolute path", ErrUnsafeArchive, name)
	}
	for _, el := range strings.Split(clean, "/") {
		if el == ".." {
			return "", "", fmt.Errorf("%w: %s climbs out of the tree with \"..\"", ErrUnsafeArchive, name)
		}
	}
	clean = path.Clean(clean)
	if clean == "." || clean == "" {
		return "", "", fmt.Errorf("%w: %q names no file", ErrUnsafeArchive, name)
	}
	top, rel, _ = strings.Cut(clean, "/")
	return top, rel, nil
}

func writeFile(root *os.Root, rel string, r io.Reader, mode fs.FileMode) error {
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// insideTree follows the link at rel (and any link on the way) inside dir,
// and fails if that leaves dir. A target that does not exist is fine: it
// stays a dangling link inside the tree.
func insideTree(dir, rel string) error {
	todo := strings.Split(rel, "/")
	var at []string
	for hops := 0; len(todo) > 0; {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			if len(at) == 0 {
				return errors.New("the link leads outside the tree")
			}
			at = at[:len(at)-1]
			continue
		}
		at = append(at, el)
		fi, err := os.Lstat(filepath.Join(dir, filepath.Join(at...)))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if hops++; hops > 40 {
			return errors.New("too many levels of links")
		}
		target, err := os.Readlink(filepath.Join(dir, filepath.Join(at...)))
		if err != nil {
			return err
		}
		if path.IsAbs(target) {
			return fmt.Errorf("a link on the way points to %s", target)
		}
		at = at[:len(at)-1]
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("tar entry of type %q", t)
}

// decompress picks the decompressor by the stream's magic bytes.
func decompress(r *bufio.Reader) (io.Reader, func(), error) {
	magic, _ := r.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("xz: %w", err)
		}
		return xr, func() {}, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(r), func() {}, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return nil, nil, fmt.Errorf("not a tarball crossbin unpacks (gzip, xz, bzip2 or zstd): it starts with % x", magic)
}
