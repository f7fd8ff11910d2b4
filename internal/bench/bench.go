// Package bench measures what crossbin costs over the bare go tool: the
// same programs for the same platforms, built by a plain
// `GOOS=… GOARCH=… go build` loop (Commands: what each Dockerfile's build
// step runs, without BuildKit) and by the pipeline on the same machine,
// reported as ratios.
//
// Run (bench:build) compares one program on the same warm Go module and
// build caches. Compare (bench:catalog) compares several, each side first
// cold (its caches emptied) and then warm (its Go caches kept).
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
)

// Result is one benchmark run.
type Result struct {
	Program   catalog.Program
	Platforms int
	// Bare is the go install loop, one platform after another.
	Bare time.Duration
	// Rebuild is the pipeline after dropping BuildKit's layer cache, on
	// warm Go caches; push, verify and merge included.
	Rebuild time.Duration
	// Cached is the pipeline again with nothing changed.
	Cached time.Duration
	// RebuildSteps is the rebuild's time per pipeline step.
	RebuildSteps []pipeline.Timing
	// RebuildKinds is the time BuildKit's steps took in the rebuild, by
	// kind (buildx.StepTimes), summed over platforms.
	RebuildKinds map[string]time.Duration
}

// Run warms the caches with one pipeline build, then times the bare loop,
// a pipeline rebuild and a cached pipeline run. bx is the builder's buildx,
// whose layer cache is dropped before the rebuild.
func Run(ctx context.Context, opt pipeline.Options, bx buildx.Client, prog catalog.Program) (Result, error) {
	r := Result{Program: prog, Platforms: len(prog.Real())}
	if _, err := pipeline.Build(ctx, opt, prog, nil); err != nil {
		return r, fmt.Errorf("warm-up build: %w", err)
	}
	bare := &Bare{Env: os.Environ(), Sources: opt.Sources} // the host's Go caches
	for k, v := range opt.GoEnv {
		bare.Env = append(bare.Env, k+"="+v)
	}
	if err := bare.Build(ctx, prog); err != nil { // warms them
		return r, err
	}
	start := time.Now()
	if err := bare.Build(ctx, prog); err != nil {
		return r, err
	}
	r.Bare = time.Since(start)

	// Drop BuildKit's layer cache but keep its cache mounts (the Go module
	// and build caches) and the builder image, so every step runs again on
	// warm Go caches. (`buildx build --no-cache` would start the cache
	// mounts empty too.)
	if err := prune(ctx, bx, opt.GoImage, false); err != nil {
		return r, err
	}
	rebuild, progress := opt, &bytes.Buffer{}
	if b, ok := opt.Builder.(buildx.Builder); ok {
		// Builder.Output writes whole lines under one lock.
		var w io.Writer = progress
		if b.Output != nil {
			w = io.MultiWriter(progress, b.Output)
		}
		b.Output = w
		rebuild.Builder = b
	}
	start = time.Now()
	res, err := pipeline.Run(ctx, rebuild, []pipeline.Target{{Program: prog, Publish: true}})
	if err != nil {
		return r, err
	}
	r.Rebuild, r.RebuildSteps = time.Since(start), res.Steps
	r.RebuildKinds = buildx.StepTimes(progress.String())
	start = time.Now()
	if _, err := pipeline.Build(ctx, opt, prog, nil); err != nil {
		return r, err
	}
	r.Cached = time.Since(start)
	return r, nil
}

// String renders the result as a small table with the ratios.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s, %d platforms, warm Go module and build caches\n", r.Program.Name, r.Program.Version, r.Platforms)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tTIME\tRATIO TO BARE LOOP")
	fmt.Fprintf(tw, "bare `GOOS=… GOARCH=… go install` loop\t%s\t1.00\n", r.Bare.Round(10*time.Millisecond))
	fmt.Fprintf(tw, "crossbin, layer cache dropped (build+push+verify+merge)\t%s\t%.2f\n", r.Rebuild.Round(10*time.Millisecond), ratio(r.Rebuild, r.Bare))
	fmt.Fprintf(tw, "crossbin, nothing changed\t%s\t%.2f\n", r.Cached.Round(10*time.Millisecond), ratio(r.Cached, r.Bare))
	tw.Flush()
	if len(r.RebuildSteps) > 0 {
		b.WriteString("rebuild by step:")
		for _, s := range r.RebuildSteps {
			fmt.Fprintf(&b, " %s %s", s.Step, s.Duration.Round(10*time.Millisecond))
		}
		b.WriteString("\n")
	}
	if len(r.RebuildKinds) > 0 {
		b.WriteString("BuildKit's steps in the rebuild, summed over platforms (they overlap):")
		for _, k := range []string{buildx.KindCompile, buildx.KindExport, buildx.KindModules, buildx.KindImage, buildx.KindOther} {
			fmt.Fprintf(&b, " %s %s", k, r.RebuildKinds[k].Round(10*time.Millisecond))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
