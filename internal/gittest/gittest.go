// Package gittest serves real git repositories over smart HTTP for tests,
// with git's own http-backend behind net/http/cgi: clients run the real
// git protocol against it, nothing is mocked.
package gittest

import (
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Release is one commit of a served repository and the tag naming it.
type Release struct {
	Tag       string
	Annotated bool              // an annotated tag object; else lightweight
	Date      string            // commit date, RFC 3339
	Files     map[string]string // written on top of the previous release
}

// Serve creates a repository with releases, one commit each in order, and
// serves it at the returned URL (…/repo.git) until the test ends. commits
// maps each tag to its commit hash. Tests that need git skip without it.
func Serve(t testing.TB, releases ...Release) (url string, commits map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	work := filepath.Join(t.TempDir(), "work")
	env := []string{
		"GIT_AUTHOR_NAME=crossbin", "GIT_AUTHOR_EMAIL=test@crossbin.invalid",
		"GIT_COMMITTER_NAME=crossbin", "GIT_COMMITTER_EMAIL=test@crossbin.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + root,
	}
	run(t, "", env, "init", "--quiet", "--initial-branch=main", work)
	commits = map[string]string{}
	for _, r := range releases {
		names := make([]string, 0, len(r.Files))
		for name := range r.Files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			path := filepath.Join(work, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(r.Files[name]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dated := append(slices.Clip(env), "GIT_AUTHOR_DATE="+r.Date, "GIT_COMMITTER_DATE="+r.Date)
		run(t, work, dated, "add", "--all")
		run(t, work, dated, "commit", "--quiet", "--allow-empty", "-m", "release "+r.Tag)
		if r.Annotated {
			run(t, work, dated, "tag", "-a", "-m", "release "+r.Tag, r.Tag)
		} else {
			run(t, work, dated, "tag", r.Tag)
		}
		commits[r.Tag] = run(t, work, env, "rev-parse", "HEAD")
	}
	run(t, "", env, "clone", "--quiet", "--bare", work, filepath.Join(root, "repo.git"))
	srv := httptest.NewServer(&cgi.Handler{
		Path: filepath.Join(run(t, "", nil, "--exec-path"), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	})
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git", commits
}

func run(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
