// Package gotool runs the go command for the module operations crossbin
// needs. Going through the go tool (rather than fetching zips by hand) means
// GOPROXY, GOPRIVATE, GONOSUMDB and GOFLAGS are honoured exactly as they are
// for `go build`, and every download is verified against go.sum and the
// checksum database.
package gotool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crossbin/crossbin/internal/proc"
)

// Module is a downloaded module, as `go mod download -json` reports it.
type Module struct {
	Path    string
	Version string
	Dir     string // extracted source in the module cache (read-only)
	Sum     string // h1: hash of the module zip
	GoMod   string // path of the cached go.mod
	Info    string // path of the cached .info file
	Zip     string // path of the cached zip
}

// Download fetches module@version into the module cache. env is the full
// environment for the go command (nil means this process's).
func Download(ctx context.Context, env []string, module, version string) (Module, error) {
	if env == nil {
		env = os.Environ()
	}
	cmd := proc.Command(ctx, "go", "mod", "download", "-json", module+"@"+version)
	// Outside any module, and never -mod=vendor from the user's GOFLAGS.
	cmd.Env = slices.Concat(env, []string{"GOWORK=off", "GOFLAGS=-mod=mod"})
	cmd.Dir = os.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var m struct {
		Module
		Error string
	}
	if len(out) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			return Module{}, fmt.Errorf("download %s@%s: parse `go mod download -json` output: %w", module, version, err)
		}
	}
	switch {
	case m.Error != "":
		return Module{}, fmt.Errorf("download %s@%s: %s (check the module path and version, GOPROXY, and that the module proxy is reachable)", module, version, m.Error)
	case runErr != nil:
		return Module{}, fmt.Errorf("download %s@%s: %w: %s (check GOPROXY and that the module proxy is reachable)", module, version, runErr, strings.TrimSpace(stderr.String()))
	case m.Dir == "":
		return Module{}, fmt.Errorf("download %s@%s: the go tool reported no directory", module, version)
	}
	return m.Module, nil
}

// Time is the module version's release time, from the proxy's .info file.
// It is what builds use as SOURCE_DATE_EPOCH, so an image's timestamps
// depend on the program's version and nothing else.
func (m Module) Time() (time.Time, error) {
	data, err := os.ReadFile(m.Info)
	if err != nil {
		return time.Time{}, fmt.Errorf("read %s@%s release time: %w", m.Path, m.Version, err)
	}
	var info struct{ Time time.Time }
	if err := json.Unmarshal(data, &info); err != nil || info.Time.IsZero() {
		return time.Time{}, fmt.Errorf("read %s@%s release time from %s: no valid Time (%w)", m.Path, m.Version, m.Info, err)
	}
	return info.Time.UTC(), nil
}

// CopyTree copies a directory of regular files and directories, such as a
// module in the read-only module cache, making the copy writable.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		default:
			return errors.New("unexpected file type at " + p)
		}
	})
}
