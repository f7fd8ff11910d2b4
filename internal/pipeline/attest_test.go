package pipeline

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/attest"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/source"
)

// TestSBOMChoosesC: a C program's real platform gets the SBOM of its build
// record, checked against its pins; without the record it fails saying so.
func TestSBOMChoosesC(t *testing.T) {
	prog, err := catalog.LoadProgram(filepath.Join("..", "render", "testdata", "c", "tmux"))
	if err != nil {
		t.Fatal(err)
	}
	record := filepath.Join("..", "attest", "testdata", "record-tmux-linux-arm64")
	bin := filepath.Join(record, "binary")
	o := Outcome{Job: NewJob(prog, mustParse(t, "linux/arm64")), Record: record}
	doc, err := sbom(bin, o, source.Source{}, time.Unix(1728115200, 0))
	if err != nil {
		t.Fatal(err)
	}
	if name, version := attest.Version(doc); name != "tmux" || version != "3.5a" || len(doc.Files) != 1 {
		t.Errorf("described %s %s, %d files", name, version, len(doc.Files))
	}
	o.Record = t.TempDir()
	if _, err := sbom(bin, o, source.Source{}, time.Unix(1728115200, 0)); err == nil || !strings.Contains(err.Error(), "the C build record") {
		t.Errorf("no record: %v", err)
	}
}
