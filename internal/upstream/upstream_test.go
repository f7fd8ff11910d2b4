package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// proxyServer serves the module proxy protocol from a map of path → body;
// a missing path is 404, and status overrides are given as "!<code>".
func proxyServer(t *testing.T, files map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		switch {
		case !ok:
			http.NotFound(w, r)
		case strings.HasPrefix(body, "!"):
			var code int
			fmt.Sscanf(body, "!%d", &code)
			w.WriteHeader(code)
		default:
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func proxyFor(t *testing.T, goproxy string) Proxy {
	entries, err := ParseGOPROXY(goproxy)
	if err != nil {
		t.Fatal(err)
	}
	return Proxy{Entries: entries, Client: &http.Client{Timeout: 2 * time.Second}}
}

func TestParseGOPROXY(t *testing.T) {
	got, err := ParseGOPROXY("https://a.example/,https://b.example|direct")
	if err != nil {
		t.Fatal(err)
	}
	want := []ProxyEntry{{"https://a.example", false}, {"https://b.example", true}, {"direct", false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v; want %v", got, want)
	}
	if _, err := ParseGOPROXY("proxy.golang.org"); err == nil {
		t.Error("a bare host was accepted")
	}
	if d, _ := ParseGOPROXY(""); len(d) != 2 || d[0].URL != "https://proxy.golang.org" {
		t.Errorf("default: %v", d)
	}
}

func TestProxyReleases(t *testing.T) {
	srv := proxyServer(t, map[string]string{
		"/mvdan.cc/sh/v3/@v/list":                     "v3.6.0\nv3.7.0\nv3.8.0-rc.1\nv3.7.1\n",
		"/mvdan.cc/sh/v3/@v/v3.7.1.mod":               "module mvdan.cc/sh/v3\n\nretract v3.7.1 // broken\nretract [v3.0.0, v3.0.2]\n",
		"/mvdan.cc/sh/v4/@v/list":                     "v4.0.0\nv4.1.0-rc.1\n",
		"/github.com/!burnt!sushi/toml/@v/list":       "v1.0.0\n",
		"/github.com/!burnt!sushi/toml/@v/v1.0.0.mod": "module github.com/BurntSushi/toml\n",
	})
	p := proxyFor(t, srv.URL)
	rel, err := p.Releases(context.Background(), "mvdan.cc/sh/v3")
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Versions) != 4 || rel.NextMajor != "mvdan.cc/sh/v4@v4.0.0" || !rel.Retracted("v3.7.1") || !rel.Retracted("v3.0.1") || rel.Retracted("v3.7.0") {
		t.Errorf("got %+v", rel)
	}
	ch, err := Choose("v3.6.0", rel, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Version != "v3.7.0" || len(ch.Notes) != 3 {
		t.Errorf("choice %+v; want v3.7.0 with notes on the prerelease, the retraction and the new major", ch)
	}
	// Upper-case letters are escaped in proxy paths.
	if rel, err := p.Releases(context.Background(), "github.com/BurntSushi/toml"); err != nil || len(rel.Versions) != 1 {
		t.Errorf("escaped path: %+v %v", rel, err)
	}
}

func TestProxyLatestFallback(t *testing.T) {
	srv := proxyServer(t, map[string]string{
		"/example.com/pseudo/@v/list":                                   "",
		"/example.com/pseudo/@latest":                                   `{"Version":"v0.0.0-20240101000000-abcdefabcdef","Time":"2024-01-01T00:00:00Z"}`,
		"/example.com/pseudo/@v/v0.0.0-20240101000000-abcdefabcdef.mod": "module example.com/pseudo\n",
		"/example.com/garbled/@v/list":                                  "",
		"/example.com/garbled/@latest":                                  `{"Version":`,
	})
	p := proxyFor(t, srv.URL)
	if rel, err := p.Releases(context.Background(), "example.com/pseudo"); err != nil || len(rel.Versions) != 1 {
		t.Errorf("@latest: %+v %v", rel, err)
	}
	if _, err := p.Releases(context.Background(), "example.com/garbled"); err == nil || !strings.Contains(err.Error(), "malformed answer") {
		t.Errorf("malformed JSON: %v", err)
	}
}

func TestProxyErrorsAndFallbacks(t *testing.T) {
	good := proxyServer(t, map[string]string{"/example.com/m/@v/list": "v1.0.0\n", "/example.com/m/@v/v1.0.0.mod": "module example.com/m\n"})
	for _, tc := range []struct {
		name   string
		status string // first proxy's answer for the list
		sep    string
		want   string // "" when the second proxy answers
	}{
		{"404 falls through a comma", "!404", ",", ""},
		{"410 falls through a comma", "!410", ",", ""},
		{"500 stops at a comma", "!500", ",", "500 Internal Server Error"},
		{"403 stops at a comma", "!403", ",", "403 Forbidden"},
		{"500 falls through a pipe", "!500", "|", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := proxyServer(t, map[string]string{"/example.com/m/@v/list": tc.status})
			p := proxyFor(t, bad.URL+tc.sep+good.URL)
			rel, err := p.Releases(context.Background(), "example.com/m")
			if tc.want == "" {
				if err != nil || len(rel.Versions) != 1 {
					t.Fatalf("got %+v, %v", rel, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if Refused(err) != (tc.status == "!403") {
				t.Errorf("Refused(%v) = %v", err, !Refused(err))
			}
		})
	}
	t.Run("credentials stay out of errors", func(t *testing.T) {
		bad := proxyServer(t, map[string]string{"/example.com/m/@v/list": "!403"})
		withCreds := strings.Replace(bad.URL, "http://", "http://robot:s3cret@", 1)
		_, err := proxyFor(t, withCreds).Releases(context.Background(), "example.com/m")
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "robot:xxxxx@") {
			t.Fatalf("err = %v; want the URL with its password redacted", err)
		}
		_, err = proxyFor(t, "http://robot:s3cret@127.0.0.1:1").Releases(context.Background(), "example.com/m")
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("unreachable: err = %v; want no password", err)
		}
	})
	t.Run("not found anywhere", func(t *testing.T) {
		p := proxyFor(t, good.URL+",direct")
		_, err := p.Releases(context.Background(), "example.com/none")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "example.com/none") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("off", func(t *testing.T) {
		_, err := proxyFor(t, "off").Releases(context.Background(), "example.com/m")
		if err == nil || !strings.Contains(err.Error(), "GOPROXY=off") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		_, err := proxyFor(t, "http://127.0.0.1:1").Releases(context.Background(), "example.com/m")
		if err == nil || !strings.Contains(err.Error(), "is the module proxy reachable") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer slow.Close()
		p := proxyFor(t, slow.URL)
		p.Client.Timeout = 200 * time.Millisecond
		start := time.Now()
		_, err := p.Releases(context.Background(), "example.com/m")
		if err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("err = %v after %s", err, time.Since(start))
		}
	})
}

func TestChoose(t *testing.T) {
	rel := Releases{Versions: []string{"v1.5.0", "v1.6.0", "v1.6.1", "v1.7.0-beta.1", "v2.0.0+incompatible", "v1.9.0", "garbage", "v1.10", "v1.11.0+build.1", "v1.8"}}
	for _, tc := range []struct {
		name, current string
		pol           Policy
		want          string
		note          string
	}{
		{"newest", "v1.5.0", Policy{}, "v1.9.0", ""},
		{"constraint", "v1.5.0", Policy{Constraint: "~> 1.6.0"}, "v1.6.1", `v1.9.0 not allowed by "~> 1.6.0"`},
		{"below", "v1.5.0", Policy{Constraint: "< 1.6"}, "v1.5.0", "not allowed"},
		{"prerelease allowed", "v1.6.1", Policy{Prereleases: true, Constraint: "< 1.8"}, "v1.7.0-beta.1", ""},
		{"prerelease skipped", "v1.6.1", Policy{Constraint: "< 1.8"}, "v1.6.1", "prerelease skipped: v1.7.0-beta.1"},
		{"incompatible ignored", "v1.9.0", Policy{}, "v1.9.0", ""},
		{"incompatible line", "v2.0.0+incompatible", Policy{}, "v2.0.0+incompatible", ""},
		{"already newest", "v1.9.0", Policy{}, "v1.9.0", ""},
		{"not canonical skipped", "v1.5.0", Policy{}, "v1.9.0", "not canonical (vMAJOR.MINOR.PATCH), skipped: v1.10, v1.11.0+build.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := Choose(tc.current, rel, tc.pol)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Version != tc.want || (tc.note != "" && !strings.Contains(strings.Join(ch.Notes, "; "), tc.note)) {
				t.Fatalf("got %+v; want %s with note %q", ch, tc.want, tc.note)
			}
		})
	}
	if _, err := Choose("v1.0.0", rel, Policy{Constraint: "about 1"}); err == nil || !strings.Contains(err.Error(), `update constraint "about 1"`) {
		t.Errorf("bad constraint: %v", err)
	}
	if _, err := Choose("1.0", rel, Policy{}); err == nil {
		t.Error("bad current version accepted")
	}
	if _, err := Choose("v1.4", rel, Policy{}); err == nil || !strings.Contains(err.Error(), `current version "v1.4" is not canonical (vMAJOR.MINOR.PATCH)`) {
		t.Errorf("non-canonical pin: %v", err)
	}
	// Pseudo-versions and +incompatible versions are canonical.
	for _, v := range []string{"v0.0.0-20210608161538-9736a4bde949", "v29.9.1+incompatible"} {
		if _, err := Choose(v, rel, Policy{}); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
}

func TestGitHubReleases(t *testing.T) {
	var calls atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("no token sent")
		}
		switch r.URL.Query().Get("page") {
		case "":
			w.Header().Set("Link", fmt.Sprintf(`<%s/repos/o/r/releases?per_page=100&page=2>; rel="next", <%s/x>; rel="last"`, srv.URL, srv.URL))
			fmt.Fprint(w, `[{"tag_name":"v1.2.0"},{"tag_name":"1.1.0"},{"tag_name":"v1.3.0","draft":true},{"tag_name":"nightly"}]`)
		case "2":
			fmt.Fprint(w, `[{"tag_name":"v1.3.0-rc.1","prerelease":true},{"tag_name":"v1.0.0"}]`)
		}
	}))
	defer srv.Close()
	rel, err := GitHub{BaseURL: srv.URL, Token: "tok", Client: srv.Client()}.Releases(context.Background(), "o/r")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rel.Versions, " ") != "v1.2.0 v1.1.0 v1.3.0-rc.1 v1.0.0" || calls.Load() != 2 {
		t.Errorf("versions %v after %d calls", rel.Versions, calls.Load())
	}
}

func TestGitHubErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"rate limit", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1700000000")
			w.WriteHeader(http.StatusForbidden)
		}, "rate limit exceeded reading o/r releases: it resets at 2023-11-14T22:13:20Z; set GITHUB_TOKEN"},
		{"not found", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, "not found: GitHub repository o/r"},
		{"server error", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"message":"upstream broke"}`)
		}, "502 Bad Gateway upstream broke"},
		{"malformed", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `[{"tag_name":`) }, "malformed JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			_, err := GitHub{BaseURL: srv.URL, Client: srv.Client()}.Releases(context.Background(), "o/r")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	if _, err := (GitHub{}).Releases(context.Background(), "just-a-name"); err == nil {
		t.Error("a repository without owner accepted")
	}
}
