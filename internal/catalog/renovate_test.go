package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
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
		m := re.FindSubmatch(df)
		if m == nil {
			t.Errorf("%s: renovate.json does not match its Dockerfile", p.Name)
			continue
		}
		got := map[string]string{}
		for i, name := range re.SubexpNames() {
			if name != "" {
				got[name] = string(m[i])
			}
		}
		datasource, depName := "go", p.Module
		if p.Tarball != nil { // a C program: its release's own annotation
			datasource, depName = p.Tarball.Datasource, p.Tarball.DepName
		}
		if got["datasource"] != datasource || got["depName"] != depName || got["currentValue"] != p.Version {
			t.Errorf("%s: renovate reads %v; want %s %s %s", p.Name, got, datasource, depName, p.Version)
		}
	}
}
