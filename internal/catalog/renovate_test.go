package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRenovateSeesEveryPin checks that renovate.json's regex manager
// matches every program's Dockerfile and reads its module and version.
func TestRenovateSeesEveryPin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "renovate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		CustomManagers []struct {
			MatchStrings []string `json:"matchStrings"`
		} `json:"customManagers"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.CustomManagers) != 1 || len(cfg.CustomManagers[0].MatchStrings) != 1 {
		t.Fatalf("renovate.json: %v %+v", err, cfg)
	}
	// Renovate's named groups are JavaScript's (?<name>); Go spells them (?P<name>).
	re, err := regexp.Compile(strings.ReplaceAll(cfg.CustomManagers[0].MatchStrings[0], "(?<", "(?P<"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join("..", "..", "dockerfiles"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Programs {
		df, _ := os.ReadFile(p.Dockerfile())
		type pin struct{ datasource, depName, version string }
		want := []pin{{"go", p.Module, p.Version}}
		if p.Tarball != nil { // a C program: its release's own annotation, then its deps'
			want = []pin{{p.Tarball.Datasource, p.Tarball.DepName, p.Version}}
			for _, d := range p.Deps {
				want = append(want, pin{d.Tarball.Datasource, d.Tarball.DepName, d.Version})
			}
		}
		var got []pin
		for _, m := range re.FindAllSubmatch(df, -1) {
			g := map[string]string{}
			for i, name := range re.SubexpNames() {
				if name != "" {
					g[name] = string(m[i])
				}
			}
			got = append(got, pin{g["datasource"], g["depName"], g["currentValue"]})
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: renovate reads %v; want %v", p.Name, got, want)
		}
	}
}
