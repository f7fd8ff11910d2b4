package add

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/upstream"
)

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"github.com/getsops/sops/v3/cmd/sops", []string{"github.com/getsops/sops/v3/cmd/sops", "github.com/getsops/sops/v3/cmd", "github.com/getsops/sops/v3", "github.com/getsops/sops", "github.com/getsops"}},
		{"mvdan.cc/sh/v3", []string{"mvdan.cc/sh/v3", "mvdan.cc/sh"}},
		{"example.com", nil},
	} {
		if got := Candidates(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("Candidates(%s) = %q; want %q", tc.path, got, tc.want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	for pkg, want := range map[string]string{
		"github.com/mikefarah/yq/v4":          "yq",
		"github.com/getsops/sops/v3/cmd/sops": "sops",
		"github.com/junegunn/fzf":             "fzf",
		"gopkg.in/yaml.v3":                    "yaml.v3",
		"github.com/x/tool/v2/cmd/v2":         "cmd",
	} {
		if got := DefaultName(pkg); got != want {
			t.Errorf("DefaultName(%s) = %s; want %s", pkg, got, want)
		}
	}
}

// tree writes files under a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMainPackages(t *testing.T) {
	dir := tree(t, map[string]string{
		"go.mod":                      "module example.com/m\n",
		"lib.go":                      "package m\n",
		"cmd/a/main.go":               "package main\nfunc main() {}\n",
		"cmd/b/main.go":               "package main\nfunc main() {}\n",
		"cmd/windowsonly/main.go":     "//go:build windows\n\npackage main\nfunc main() {}\n",
		"examples/demo/main.go":       "package main\nfunc main() {}\n",
		"internal/testdata/x/main.go": "package main\nfunc main() {}\n",
		"nested/go.mod":               "module example.com/m/nested\n",
		"nested/main.go":              "package main\nfunc main() {}\n",
		"tools/gen/main_test.go":      "package main\n",
	})
	got, err := MainPackages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cmd/a", "cmd/b"}; !slices.Equal(got, want) {
		t.Fatalf("MainPackages = %q; want %q", got, want)
	}
}

func TestChooseMain(t *testing.T) {
	for _, tc := range []struct {
		name, given string
		mains       []string
		want, err   string
	}{
		{"root", "example.com/m", []string{".", "cmd/x"}, ".", ""},
		{"only command", "example.com/m", []string{"cmd/tool"}, "cmd/tool", ""},
		{"named", "example.com/m/cmd/b", []string{"cmd/a", "cmd/b"}, "cmd/b", ""},
		{"several", "example.com/m", []string{"cmd/a", "cmd/b"}, "", "module example.com/m has several commands: example.com/m/cmd/a, example.com/m/cmd/b; name one, e.g. `go tool mage add example.com/m/cmd/a`"},
		{"none", "example.com/m", nil, "", "module example.com/m has no main package: crossbin builds commands (package main)"},
		{"not a command", "example.com/m/lib", []string{"cmd/a"}, "", "example.com/m/lib is not a main package of module example.com/m (its commands: example.com/m/cmd/a)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseMain("example.com/m", tc.given, tc.mains)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSourceKind(t *testing.T) {
	for _, tc := range []struct {
		name, gomod, kind, note string
	}{
		{"plain", "module example.com/m\n\nrequire golang.org/x/sys v0.1.0\n", "install", "go install module/pkg@version"},
		{"replace", "module example.com/m\n\nreplace golang.org/x/sys => golang.org/x/sys v0.2.0\n", "module", "has replace directives"},
		{"both", "module example.com/m\n\nexclude golang.org/x/sys v0.1.0\nreplace a.b/c => ./c\n", "module", "has replace and exclude directives"},
	} {
		kind, note, err := SourceKind([]byte(tc.gomod), "example.com/m")
		if err != nil || kind != tc.kind || !strings.Contains(note, tc.note) {
			t.Errorf("%s: got %s, %q, %v; want %s and a note saying %q", tc.name, kind, note, err, tc.kind, tc.note)
		}
	}
	if _, _, err := SourceKind([]byte("module (\n"), "example.com/m"); err == nil {
		t.Error("a broken go.mod was accepted")
	}
}

func TestStampTargets(t *testing.T) {
	dir := tree(t, map[string]string{
		"go.mod":                     "module example.com/m\n",
		"main.go":                    "package main\n\nimport _ \"example.com/m/cmd\"\n\nvar (\n\tversion = \"dev\"\n\tcount = 3\n\tname string\n)\n\nfunc main() {}\n",
		"cmd/root.go":                "package cmd\n\nvar Version string\nvar GitCommit string\n",
		"internal/version/v.go":      "package version\n\nvar gitVersion = \"v0.0.0\"\nconst Version = \"x\"\n",
		"internal/other/other.go":    "package other\n\nvar version = \"unused\"\n",
		"internal/version/v_test.go": "package version\n\nvar tag = \"test only\"\n",
	})
	got, err := StampTargets(dir, "example.com/m", ".")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"main.version", "example.com/m/internal/version.gitVersion", "example.com/m/cmd.Version"}
	if !slices.Equal(got, want) {
		t.Fatalf("StampTargets = %q; want %q", got, want)
	}
}

func TestFirstError(t *testing.T) {
	for _, tc := range []struct{ name, out, want string }{
		{"compile", "go: downloading golang.org/x/sys v0.1.0\n# golang.org/x/sys/unix\n/root/go/pkg/mod/golang.org/x/sys@v0.1.0/unix/a.go:12:3: undefined: Timespec\n/root/go/pkg/mod/golang.org/x/sys@v0.1.0/unix/b.go:1:1: more\n",
			"golang.org/x/sys/unix: undefined: Timespec"},
		{"own source", "# crossbin.test/hello\n/tmp/src/broken_s390x.go:6:9: undefined: undefinedOnS390x\n", "crossbin.test/hello: undefined: undefinedOnS390x"},
		{"no package line", "go: example.com/m@v1.0.0 requires go >= 1.27 (running go 1.26.8; GOTOOLCHAIN=local)\n", "go: example.com/m@v1.0.0 requires go >= 1.27 (running go 1.26.8; GOTOOLCHAIN=local)"},
		{"constraints", "package example.com/m: build constraints exclude all Go files in /tmp/src\n", "package example.com/m: build constraints exclude all Go files in ."},
		{"cache path inside", "# example.com/m\nmain.go:3:8: could not import x (open /root/go/pkg/mod/golang.org/x/sys@v0.1.0/unix/a.go: no such file)\n",
			"example.com/m: could not import x (open golang.org/x/sys@v0.1.0/unix/a.go: no such file)"},
		{"empty", "", "the build failed without a message"},
	} {
		if got := FirstError(tc.out, "/tmp/src"); got != tc.want {
			t.Errorf("%s: FirstError = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewestStable(t *testing.T) {
	for _, tc := range []struct {
		name, list, want, err string
	}{
		{"stable over prerelease", "v1.0.0\nv1.2.0-rc.1\nv0.9.0\n", "v1.0.0", ""},
		{"go.mod over +incompatible", "v20.10.0+incompatible\nv0.3.0\n", "v0.3.0", ""},
		{"only +incompatible", "v29.1.0+incompatible\nv28.0.0+incompatible\n", "v29.1.0+incompatible", ""},
		{"only prereleases", "v1.0.0-rc.1\n", "", "example.com/m has no stable release (only v1.0.0-rc.1): name a version with -version"},
		{"a newer major version", "v1.0.0\n", "", "example.com/m@v1.0.0 is not the newest major version: example.com/m/v2@v2.1.0 exists; add that path (or pin this one with -version=v1.0.0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/example.com/m/v2/@v/list" && strings.Contains(tc.name, "major"):
					fmt.Fprint(w, "v2.1.0\n")
				case r.URL.Path == "/example.com/m/@v/list":
					fmt.Fprint(w, tc.list)
				case strings.HasSuffix(r.URL.Path, ".mod"):
					fmt.Fprint(w, "module example.com/m\n")
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			r, err := newestStable(context.Background(), upstream.Proxy{Entries: []upstream.ProxyEntry{{URL: srv.URL}}}, "example.com/m", "example.com/m")
			got := r.version
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestCompilerFailure(t *testing.T) {
	for out, want := range map[string]bool{
		"# golang.org/x/sys/unix\n/root/go/pkg/mod/golang.org/x/sys@v0.1.0/unix/a.go:12:3: undefined: Timespec\n": true,
		"package example.com/m: build constraints exclude all Go files in /tmp/src\n":                             true,
		"# runtime/cgo\ngcc: not found\n": false,
		"go: example.com/m@v1.0.0: reading https://proxy.golang.org/example.com/m/@v/v1.0.0.zip: 502 Bad Gateway\n": false,
		"go: go.mod requires go >= 1.27 (running go 1.26.8; GOTOOLCHAIN=local)\n":                                   false,
	} {
		if got := compilerFailure(out); got != want {
			t.Errorf("compilerFailure(%q) = %v; want %v", out, got, want)
		}
	}
}

func TestNeedsCgo(t *testing.T) {
	for _, tc := range []struct {
		reason string
		cgo    []string
		want   bool
	}{
		{"package example.com/m: build constraints exclude all Go files in .", []string{"example.com/m"}, true},
		{"example.com/m/db: undefined: sqlite3.Open", []string{"example.com/m/db"}, true},
		{"example.com/m/term: undefined: Winsize", []string{"example.com/m/db"}, false},
		{"package example.com/m: build constraints exclude all Go files in .", nil, false},
	} {
		if got := needsCgo(tc.reason, tc.cgo); got != tc.want {
			t.Errorf("needsCgo(%q, %q) = %v; want %v", tc.reason, tc.cgo, got, tc.want)
		}
	}
}
