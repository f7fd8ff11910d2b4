package bench

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemorySampler records the machine's peak memory use (MemTotal minus
// MemAvailable from /proc/meminfo) while it runs: builds happen in
// buildkitd and its containers, not in this process, so only the machine's
// view catches them.
type MemorySampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	baseline uint64
	peak     uint64
}

// StartMemorySampler samples every interval until Stop.
func StartMemorySampler(interval time.Duration) *MemorySampler {
	s := &MemorySampler{stop: make(chan struct{}), baseline: usedMemory()}
	s.peak = s.baseline
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if used := usedMemory(); used > 0 {
					s.mu.Lock()
					s.peak = max(s.peak, used)
					s.mu.Unlock()
				}
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak and the increase over the
// memory in use at the start, in bytes; zero where /proc/meminfo is
// missing.
func (s *MemorySampler) Stop() (peak, increase uint64) {
	close(s.stop)
	s.done.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peak < s.baseline {
		return s.peak, 0
	}
	return s.peak, s.peak - s.baseline
}

func usedMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var total, avail uint64
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "MemTotal":
			total = kb << 10
		case "MemAvailable":
			avail = kb << 10
		}
	}
	if total == 0 || avail > total {
		return 0
	}
	return total - avail
}

// GiB formats bytes as GiB.
func GiB(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<30), 'f', 2, 64) + " GiB" }
