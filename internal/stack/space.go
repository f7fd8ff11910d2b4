package stack

import (
	"fmt"
	"syscall"

	"github.com/docker/go-units"
)

// DefaultMinFree is the free space the embedded stack wants before it
// builds: measured here, BuildKit's Go build cache grows by 5–8 GB for one
// large program cold at eleven platforms (sops), and a disk that fills
// mid-build fails every platform at once.
const DefaultMinFree = 10 << 30

// space is, for the filesystem holding dir, what an unprivileged writer
// may still write (avail) and that plus what is in use (usable).
func space(dir string) (avail, usable uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	bsize := uint64(st.Bsize) //nolint:gosec // Bsize is positive
	return st.Bavail * bsize, (st.Blocks - st.Bfree + st.Bavail) * bsize, nil
}

// available is space's avail.
func available(dir string) (uint64, error) {
	avail, _, err := space(dir)
	return avail, err
}

// checkSpace refuses to build with less than minFree bytes available
// where the stack keeps its state.
func checkSpace(dir string, avail, minFree uint64) error {
	if avail >= minFree {
		return nil
	}
	return fmt.Errorf("only %s free on the filesystem holding %s (BuildKit's state, the registry's storage); builds want at least %s: "+
		"free space, or drop BuildKit's build cache with `go tool mage stack:prune` (CROSSBIN_MIN_FREE sets the floor)",
		units.BytesSize(float64(avail)), dir, units.BytesSize(float64(minFree)))
}

// GC bounds BuildKit's garbage collection, in bytes.
type GC struct {
	Reserved uint64 // never collected below this
	MaxUsed  uint64 // collected above this
	MinFree  uint64 // collected while the disk has less free
}

// GCFor bounds BuildKit's state on a filesystem with usable bytes (what is
// used plus what may still be written): half of it, at least 20 GiB; and
// while less than twice minFree is free, down to 5 GiB. BuildKit's own
// defaults are fractions of the filesystem's size, which can be far from
// what is usable (252 GB reported, 92 GB usable on the build machine), so
// they never fired there and its Go build caches filled the disk.
func GCFor(usable, minFree uint64) GC {
	if minFree == 0 {
		minFree = DefaultMinFree
	}
	return GC{Reserved: 5 << 30, MaxUsed: max(usable/2, 20<<30), MinFree: 2 * minFree}
}

// usable is space's usable.
func usable(dir string) (uint64, error) {
	_, n, err := space(dir)
	return n, err
}
