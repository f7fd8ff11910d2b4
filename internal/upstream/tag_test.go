package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestChooseTag(t *testing.T) {
	for _, tc := range []struct {
		current string
		tags    []string
		want    string
		notes   string
	}{
		{"3.5a", []string{"3.5", "3.5a", "3.4", "3.6", "3.6a", "3.3a"}, "3.6a", ""},
		{"3.5", []string{"3.5a"}, "3.5a", ""},
		{"3.5a", []string{"3.5", "3.4"}, "3.5a", ""},
		{"v1.10.0", []string{"v1.9.4", "v1.10.1", "v1.10.0", "v1.11", "1.12.0", "v2.0.0", "v1.11.0-rc1"}, "v1.11", "new major release v2.0.0 not taken: bump it by hand; skipped tags that are not release tags like v1.10.0: 1.12.0, v1.11.0-rc1"},
		{"1.7.1", []string{"jq-1.8.0", "1.7.10", "1.7.9"}, "1.7.10", "skipped tags that are not release tags like 1.7.1: jq-1.8.0"},
		{"3.5a", []string{"4.0", "5.1", "3.6"}, "3.6", "new major release 5.1 not taken: bump it by hand"},
	} {
		ch, err := ChooseTag(tc.current, tc.tags)
		if err != nil || ch.Version != tc.want || strings.Join(ch.Notes, "; ") != tc.notes {
			t.Errorf("%s %v: %q %q, %v; want %q %q", tc.current, tc.tags, ch.Version, strings.Join(ch.Notes, "; "), err, tc.want, tc.notes)
		}
	}
	if _, err := ChooseTag("jq-1.7.1", nil); err == nil || !strings.Contains(err.Error(), "bump it by hand") {
		t.Errorf("unparsable pin: %v", err)
	}
}

// TestGitHubRawTags: the release tags are kept as published beside the
// semantic versions; drafts and flagged prereleases are not; the token is
// sent only as the Authorization header and appears in no error.
func TestGitHubRawTags(t *testing.T) {
	const token = "ghp_secret-token-value"
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || strings.Contains(r.URL.String(), token) {
			t.Errorf("request %s with Authorization %q", r.URL, r.Header.Get("Authorization"))
		}
		if fail {
			http.Error(w, `{"message":"Bad credentials `+r.Header.Get("X-Nothing")+`"}`, http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`[{"tag_name":"3.5a"},{"tag_name":"3.6-rc","prerelease":true},{"tag_name":"3.7","draft":true},{"tag_name":"3.4"}]`))
	}))
	defer srv.Close()
	g := GitHub{BaseURL: srv.URL, Token: token, Client: srv.Client()}
	rel, err := g.Releases(context.Background(), "tmux/tmux")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rel.Tags, ",") != "3.5a,3.4" || strings.Join(rel.Versions, ",") != "v3.4" {
		t.Errorf("tags %v, versions %v", rel.Tags, rel.Versions)
	}
	fail = true
	if _, err := g.Releases(context.Background(), "tmux/tmux"); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v", err)
	}
}
