package bench

import (
	"testing"
	"time"
)

func TestMemorySampler(t *testing.T) {
	s := StartMemorySampler(5 * time.Millisecond)
	buf := make([]byte, 256<<20) // touch 256 MiB so the machine sees it
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	time.Sleep(100 * time.Millisecond)
	peak, increase := s.Stop()
	if peak == 0 {
		t.Skip("no /proc/meminfo here")
	}
	if increase < 128<<20 {
		t.Errorf("increase %s after touching 256 MiB", GiB(increase))
	}
	_ = buf[len(buf)-1]
}
