package app

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/install"
	"github.com/crossbin/crossbin/internal/registry"
)

// Install puts the host binary of a published program into dir: through
// the Docker Engine when one answers, else straight from the registry.
func (a *App) Install(ctx context.Context, name, dir string) (string, error) {
	prog, err := a.Program(name)
	if err != nil {
		return "", err
	}
	pl, err := install.Host()
	if err != nil {
		return "", err
	}
	var fetchers []install.Fetcher
	if engine, err := install.NewEngine(ctx, ""); err == nil {
		defer engine.Client.Close()
		fetchers = append(fetchers, engine)
	} else {
		a.Log.Debug("no Docker Engine; reading the registry directly", "reason", err)
	}
	fetchers = append(fetchers, install.Registry{Client: a.registry()})
	ref := registry.TagsOf(a.Config.Image, prog).Version
	path, used, err := install.Binary(ctx, fetchers, ref, prog.Name, pl, dir)
	if err != nil {
		return "", fmt.Errorf("%w (is it published? `go tool mage build:program %s`; is the registry up? `go tool mage stack:up`)", err, prog.Name)
	}
	a.Log.Info("installed", "program", prog.Name, "version", prog.Version, "path", path, "via", used.String())
	return path, nil
}
