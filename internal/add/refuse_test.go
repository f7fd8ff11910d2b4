package add

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestAddRefusesTarballs: a release tarball's URL (or file name) is not a
// Go import path; add says how a C program is added instead, before any
// network or file access.
func TestAddRefusesTarballs(t *testing.T) {
	for _, path := range []string{
		"https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz",
		"github.com/lz4/lz4/archive/refs/tags/v1.10.0.tar.gz",
		"http://example.com/tool",
	} {
		_, _, err := Add(context.Background(), Options{CatalogDir: t.TempDir()}, Request{Path: path})
		if !errors.Is(err, ErrNotGo) || !strings.Contains(err.Error(), "from: tarball") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v", path, err)
		}
	}
	if err := refuseTarball("github.com/junegunn/fzf"); err != nil {
		t.Errorf("a module path was refused: %v", err)
	}
}
