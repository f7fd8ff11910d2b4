package buildx

import (
	"os"
	"testing"
)

func TestParseInspect(t *testing.T) {
	for file, want := range map[string]Node{
		"testdata/inspect-running.txt":  {"crossbin0", "running"},
		"testdata/inspect-inactive.txt": {"dead0", "inactive"},
		"testdata/inspect-stopped.txt":  {"mybuilder0", "stopped"},
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseInspect(string(data)); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %+v; want [%+v]", file, got, want)
		}
	}
}
