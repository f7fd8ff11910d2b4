package readme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
)

// TestREADMEIsCurrent fails when README.md's catalog table is stale: run
// `go tool mage readme`.
func TestREADMEIsCurrent(t *testing.T) {
	c, err := catalog.Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(readme, Table(c, DefaultRepo))
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Fatal("README.md's catalog table is stale: run `go tool mage readme`")
	}
}

func TestReplace(t *testing.T) {
	in := []byte("# x\n" + Begin + "\nold\n" + End + "\ntail\n")
	out, err := Replace(in, "new\n")
	if err != nil || string(out) != "# x\n"+Begin+"\nnew\n"+End+"\ntail\n" {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := Replace([]byte("no markers"), "x"); err == nil || !strings.Contains(err.Error(), "catalog markers") {
		t.Fatalf("err = %v", err)
	}
}
