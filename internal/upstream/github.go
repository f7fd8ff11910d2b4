package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// GitHub finds releases through GitHub's REST API, for programs whose
// releases are not module versions.
type GitHub struct {
	// BaseURL is the API root; empty means https://api.github.com.
	BaseURL string
	// Token authenticates (GITHUB_TOKEN); optional, but anonymous calls
	// are limited to 60 an hour.
	Token  string
	Client *http.Client
	// MaxPages bounds pagination (100 releases a page); 0 means 10.
	MaxPages int
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// Releases lists the semantic-version tags of repo's releases ("owner/name"),
// skipping drafts; GitHub's prerelease flag marks prereleases as such.
func (g GitHub) Releases(ctx context.Context, repo string) (Releases, error) {
	if strings.Count(repo, "/") != 1 {
		return Releases{}, fmt.Errorf("GitHub repository %q: want owner/name", repo)
	}
	base := strings.TrimSuffix(g.BaseURL, "/")
	if base == "" {
		base = "https://api.github.com"
	}
	client := g.Client
	if client == nil {
		client = http.DefaultClient
	}
	pages := g.MaxPages
	if pages == 0 {
		pages = 10
	}
	url := base + "/repos/" + repo + "/releases?per_page=100"
	var rel Releases
	for page := 0; url != "" && page < pages; page++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return Releases{}, err
		}
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		if g.Token != "" {
			req.Header.Set("Authorization", "Bearer "+g.Token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return Releases{}, fmt.Errorf("GitHub releases of %s: %w", repo, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if err != nil {
			return Releases{}, fmt.Errorf("GitHub releases of %s: %w", repo, err)
		}
		if err := githubStatus(resp, body, repo); err != nil {
			return Releases{}, err
		}
		var items []struct {
			TagName    string `json:"tag_name"`
			Draft      bool   `json:"draft"`
			Prerelease bool   `json:"prerelease"`
		}
		if err := json.Unmarshal(body, &items); err != nil {
			return Releases{}, fmt.Errorf("GitHub releases of %s: malformed JSON: %w", repo, err)
		}
		for _, it := range items {
			if !it.Draft && !it.Prerelease {
				rel.Tags = append(rel.Tags, it.TagName)
			}
			v := it.TagName
			if !strings.HasPrefix(v, "v") {
				v = "v" + v
			}
			if it.Draft || !semver.IsValid(v) {
				continue
			}
			if it.Prerelease && semver.Prerelease(v) == "" {
				continue // flagged prerelease without a prerelease version: not a release
			}
			rel.Versions = append(rel.Versions, v)
		}
		url = ""
		if m := nextLink.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
			url = m[1]
		}
	}
	return rel, nil
}

func githubStatus(resp *http.Response, body []byte, repo string) error {
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: GitHub repository %s", ErrNotFound, repo)
	case (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests) && resp.Header.Get("X-RateLimit-Remaining") == "0":
		reset := "later"
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			reset = "at " + time.Unix(s, 0).UTC().Format(time.RFC3339)
		}
		return fmt.Errorf("GitHub API rate limit exceeded reading %s releases: it resets %s; set GITHUB_TOKEN for a higher limit", repo, reset)
	default:
		var msg struct{ Message string }
		_ = json.Unmarshal(body, &msg)
		return errors.New(strings.TrimSpace(fmt.Sprintf("GitHub releases of %s: %s %s", repo, resp.Status, msg.Message)))
	}
}
