package bench

import (
	"testing"
	"time"
)

// TestMemorySampler touches 256 MiB and expects the machine-wide peak to
// rise by at least half of it. The sampler watches the whole machine, so
// other processes freeing memory at the same moment (parallel test
// packages) can hide the rise: up to three tries.
func TestMemorySampler(t *testing.T) {
	var increase uint64
	for range 3 {
		s := StartMemorySampler(5 * time.Millisecond)
		buf := make([]byte, 256<<20) // touch 256 MiB so the machine sees it
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1
		}
		time.Sleep(100 * time.Millisecond)
		var peak uint64
		peak, increase = s.Stop()
		if peak == 0 {
			t.Skip("no /proc/meminfo here")
		}
		_ = buf[len(buf)-1]
		if increase >= 128<<20 {
			return
		}
	}
	t.Errorf("increase %s after touching 256 MiB, three times", GiB(increase))
}
