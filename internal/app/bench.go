package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/bench"
	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/ci"
)

// BenchCI times `mage ci` with nothing to do (in process, runs times) or,
// with full, a cold build of the whole catalog into a fresh repository after
// dropping every builder cache, with the machine's peak memory.
func (a *App) BenchCI(ctx context.Context, runs int, full bool) error {
	if err := a.wholePrograms("bench:ci"); err != nil {
		return err
	}
	if full {
		return a.benchCold(ctx)
	}
	var times []time.Duration
	var unpublished []string
	for i := range runs {
		start := time.Now()
		run, err := a.ciPlan(ctx, "bench:ci")
		if err == nil {
			err = ci.PlanErrors(run.entries) // a timing of a plan that failed would mislead
		}
		if err != nil {
			return err
		}
		times = append(times, time.Since(start))
		for _, e := range run.entries {
			if e.Build && i == 0 {
				unpublished = append(unpublished, e.Program.Name)
			}
		}
	}
	slices.Sort(times)
	c, _ := a.Catalog()
	fmt.Printf("no-op ci for %d programs: median %s, min %s, max %s over %d runs (in process; add the mage start-up)\n",
		len(c.Programs), times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), runs)
	if len(unpublished) > 0 {
		// Their plan entries cost the same; `mage ci` would try to build them.
		fmt.Printf("not published, so a real run would build them: %s\n", strings.Join(unpublished, ", "))
	}
	return nil
}

// benchCold builds the whole catalog with `mage ci`'s code path into a
// fresh repository after pruning every builder cache (layers, Go module and
// build caches), sampling the machine's memory while it runs.
func (a *App) benchCold(ctx context.Context) error {
	b, err := a.Builder(ctx)
	if err != nil {
		return err
	}
	if _, err := b.Buildx.Run(ctx, buildx.PruneAllArgv()...); err != nil {
		return err
	}
	fresh := *a
	fresh.Config.Image = a.benchRepository()
	fresh.Config.PlanImage = "" // plan against the fresh repository: everything is built
	mem := bench.StartMemorySampler(250 * time.Millisecond)
	start := time.Now()
	res, err := fresh.CI(ctx)
	peak, increase := mem.Stop()
	fmt.Print(res)
	fmt.Printf("full catalog, cold (builder cache pruned): %s, peak memory in use %s (+%s), %d jobs at once\n",
		time.Since(start).Round(time.Second), bench.GiB(peak), bench.GiB(increase), a.Config.Jobs)
	return err
}

// benchRepository is a fresh repository beside CROSSBIN_IMAGE for a
// benchmark to publish into.
func (a *App) benchRepository() string {
	return a.Config.Image + "-bench-" + time.Now().UTC().Format("20060102t150405")
}

// BenchBuild times shfmt for all its platforms through crossbin and through
// a bare `go install` loop on the same warm caches.
func (a *App) BenchBuild(ctx context.Context) (bench.Result, error) {
	if err := a.wholePrograms("bench:build"); err != nil {
		return bench.Result{}, err
	}
	prog, err := a.Program("shfmt")
	if err != nil {
		return bench.Result{}, err
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return bench.Result{}, err
	}
	opt, err := a.Pipeline(ctx, b, nil, nil)
	if err != nil {
		return bench.Result{}, err
	}
	return bench.Run(ctx, opt, b.Buildx, prog)
}

// BenchCatalog builds programs (comma-separated; default
// bench.DefaultPrograms) for their real platforms with the bare go loop and
// through the pipeline, each cold and then warm, on this machine. Each
// side's caches live in the cache directory (bench/bare, bench/crossbin),
// beside BuildKit's, and are removed afterwards; crossbin publishes into
// throwaway repositories beside CROSSBIN_IMAGE.
func (a *App) BenchCatalog(ctx context.Context, programs string) (res bench.Comparison, err error) {
	if err := a.wholePrograms("bench:catalog"); err != nil {
		return res, err
	}
	names, err := bench.ParsePrograms(programs)
	if err != nil {
		return res, err
	}
	if a.Config.CacheDir == "" {
		return res, errors.New("bench:catalog keeps its caches in the cache directory: set CROSSBIN_CACHE_DIR")
	}
	c, patches, err := a.catalogAndPatches()
	if err != nil {
		return res, err
	}
	progs := make([]catalog.Program, len(names))
	for i, name := range names {
		if progs[i], err = c.Get(name); err != nil {
			return res, err
		}
	}
	b, err := a.Builder(ctx)
	if err != nil {
		return res, err
	}
	opt, err := a.Pipeline(ctx, b, patches, progs)
	if err != nil {
		return res, err
	}
	bareCaches := bench.Caches{Dir: filepath.Join(a.Config.CacheDir, "bench", "bare")}
	crossbinCaches := bench.Caches{Dir: filepath.Join(a.Config.CacheDir, "bench", "crossbin")}
	defer func() {
		// Also after a signal: the module caches are read-only and large.
		cleanup := context.WithoutCancel(ctx)
		err = errors.Join(err, bareCaches.Remove(cleanup), crossbinCaches.Remove(cleanup))
	}()
	opt.Sources = crossbinCaches.Preparer(a.sources(patches))
	bare := &bench.Bare{Env: a.Config.Environ(), Caches: bareCaches, Sources: bareCaches.Preparer(a.sources(patches))}
	crossbin := &bench.Crossbin{
		Options: opt, Buildx: b.Buildx, Caches: crossbinCaches,
		Repository: a.benchRepository(),
	}
	res, err = bench.Compare(ctx, progs, bare, crossbin, a.Log)
	res.Jobs = opt.Jobs
	return res, err
}
