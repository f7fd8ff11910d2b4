package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/crossbin/crossbin/internal/add"
	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/pipeline"
	"github.com/crossbin/crossbin/internal/upstream"
)

// Added is what `mage add` did.
type Added struct {
	Entry   add.Entry
	Program catalog.Program
	// Report is the build's, unless -nobuild.
	Report *pipeline.Report
}

// Add makes a catalog entry for the Go command at path (module or package
// import path), regenerates the README's table and, unless nobuild,
// builds, verifies and publishes it.
func (a *App) Add(ctx context.Context, req add.Request, nobuild bool) (Added, error) {
	if _, err := a.Catalog(); err != nil {
		return Added{}, fmt.Errorf("the catalog does not load; fix it before adding to it: %w", err)
	}
	entries, err := upstream.ParseGOPROXY(a.Config.GoEnv["GOPROXY"])
	if err != nil {
		return Added{}, err
	}
	e, prog, err := add.Add(ctx, add.Options{
		CatalogDir: filepath.Join(a.Root, "dockerfiles"),
		Env:        a.Config.Environ(),
		Proxy:      upstream.Proxy{Entries: entries, Client: &http.Client{Timeout: 30 * time.Second}},
		Runner:     a.runner(),
		Jobs:       a.Config.Jobs,
		Log:        a.Log,
	}, req)
	if err != nil {
		return Added{}, err
	}
	a.Log.Info("added to the catalog", "program", e.Name, "dir", prog.Dir, "unavailable", len(e.Unavailable))
	if _, err := a.Readme(); err != nil {
		return Added{Entry: e, Program: prog}, fmt.Errorf("%s was added, but README.md's table was not regenerated: %w", e.Name, err)
	}
	out := Added{Entry: e, Program: prog}
	if nobuild {
		return out, nil
	}
	rep, err := a.BuildProgram(ctx, e.Name, "")
	out.Report = &rep
	switch {
	case errors.Is(err, buildx.ErrNoSpace):
		return out, fmt.Errorf("%s was added to the catalog (%s) but its build ran out of disk space: %w; free space, then run `go tool mage build:program %s`", e.Name, prog.Dir, err, e.Name)
	case err != nil:
		return out, fmt.Errorf("%s was added to the catalog (%s) but did not build and publish: %w; fix program.yaml and run `go tool mage build:program %s`, or remove the directory", e.Name, prog.Dir, err, e.Name)
	}
	return out, nil
}
