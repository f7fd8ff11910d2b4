package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/config"
	"github.com/crossbin/crossbin/internal/readme"
	"github.com/crossbin/crossbin/internal/stacktest"
)

// scratchRepo copies programs (from dockerfiles/, or a path to a program
// directory) and unavailable/ into a temporary repository with a README
// holding the catalog markers.
func scratchRepo(t *testing.T, programs ...string) string {
	t.Helper()
	root := t.TempDir()
	copyDir := func(from, to string) {
		entries, err := os.ReadDir(from)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(to, 0o755)
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(from, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(to, e.Name()), data, 0o644)
		}
	}
	for _, p := range programs {
		from := p
		if !strings.Contains(p, "/") {
			from = filepath.Join("..", "..", "dockerfiles", p)
		}
		copyDir(from, filepath.Join(root, "dockerfiles", filepath.Base(p)))
	}
	copyDir(filepath.Join("..", "..", "unavailable"), filepath.Join(root, "unavailable"))
	os.WriteFile(filepath.Join(root, "README.md"), []byte("# test\n"+readme.Begin+"\n"+readme.End+"\n"), 0o644)
	return root
}

// testApp is an App on the shared stack, working on root and pushing to a
// repository of the test's own.
func testApp(t *testing.T, root, repo string) *App {
	t.Helper()
	cfg, _ := stacktest.Up(t)
	return newTestApp(t, cfg, root, repo)
}

func newTestApp(t *testing.T, cfg config.Config, root, repo string) *App {
	cfg.Root = root
	cfg.Image = "127.0.0.1:" + strconv.Itoa(cfg.RegistryPort) + "/" + repo
	return &App{Config: cfg, Log: stacktest.Logger(t), Root: root}
}

// freshRepo names an image repository no earlier run has used.
func freshRepo(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
