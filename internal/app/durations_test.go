package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/durations"
)

// TestPipelineDurations: the pipeline options carry the durations kept in
// the cache directory; a corrupt file is a warning, not a failure, and the
// store it gives records into the same file; no cache directory, no store.
func TestPipelineDurations(t *testing.T) {
	cache := t.TempDir()
	path := filepath.Join(cache, "durations.json")
	k := durations.Key{Program: "shfmt", Platform: "linux/amd64"}
	for _, tc := range []struct {
		name, file, warn string
		want             time.Duration
	}{
		{"missing", "", "", 0},
		{"recorded", string(durations.Table{k: 42 * time.Second}.Encode()), "", 42 * time.Second},
		{"corrupt", "{\"jobs\": [", "build durations of earlier runs not read", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(path)
			if tc.file != "" {
				os.WriteFile(path, []byte(tc.file), 0o644)
			}
			var logs strings.Builder
			a := &App{Config: config.Config{CacheDir: cache}, Log: slog.New(slog.NewTextHandler(&logs, nil)), Root: "../.."}
			opt, err := a.Pipeline(context.Background(), Builder{GoImage: "golang:1.26.8-alpine"}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if opt.Durations == nil {
				t.Fatal("no durations store")
			}
			if d, _ := opt.Durations.Estimate(k); d != tc.want {
				t.Errorf("shfmt linux/amd64 expected %s; want %s", d, tc.want)
			}
			if got := strings.Contains(logs.String(), "level=WARN"); got != (tc.warn != "") || !strings.Contains(logs.String(), tc.warn) {
				t.Errorf("logs %q; want the warning %q", logs.String(), tc.warn)
			}
			if err := opt.Durations.Record(k, time.Second); err != nil {
				t.Fatal(err)
			}
			if s, err := durations.Open(path); err != nil || len(s.Table()) != 1 {
				t.Errorf("the file after a record: %v, %v", s.Table(), err)
			}
		})
	}
	a := &App{Log: slog.New(slog.DiscardHandler), Root: "../.."}
	if opt, err := a.Pipeline(context.Background(), Builder{}, nil, nil); err != nil || opt.Durations != nil {
		t.Errorf("without a cache directory: %v, %v; want no store", opt.Durations, err)
	}
}

// TestPipelineBatch: a program's platforms build in one bake only on a
// builder that bounds its steps (the embedded stack); a user's own builder
// keeps one build per platform.
func TestPipelineBatch(t *testing.T) {
	a := &App{Log: slog.New(slog.DiscardHandler), Root: "../.."}
	for _, bounded := range []bool{false, true} {
		opt, err := a.Pipeline(context.Background(), Builder{Bounded: bounded}, nil, nil)
		if err != nil || opt.Batch != bounded {
			t.Errorf("bounded builder %v: Batch %v, err %v", bounded, opt.Batch, err)
		}
	}
}
