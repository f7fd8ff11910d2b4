package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Proxy finds module versions through the Go module proxy protocol
// (https://go.dev/ref/mod#goproxy-protocol), trying GOPROXY's entries the
// way the go command does: after a ",", the next proxy is tried only when
// this one says 404 or 410; after a "|", after any error.
type Proxy struct {
	Entries []ProxyEntry
	Client  *http.Client
}

// ProxyEntry is one GOPROXY element.
type ProxyEntry struct {
	URL string // a base URL, "direct" or "off"
	// FallThrough: on any error, try the next entry (the "|" separator).
	FallThrough bool
}

// ParseGOPROXY splits a GOPROXY value.
func ParseGOPROXY(value string) ([]ProxyEntry, error) {
	var entries []ProxyEntry
	rest := strings.TrimSpace(value)
	if rest == "" {
		rest = "https://proxy.golang.org,direct"
	}
	for rest != "" {
		i := strings.IndexAny(rest, ",|")
		item, sep := rest, byte(0)
		if i >= 0 {
			item, sep, rest = rest[:i], rest[i], rest[i+1:]
		} else {
			rest = ""
		}
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item != "direct" && item != "off" && !strings.HasPrefix(item, "https://") && !strings.HasPrefix(item, "http://") && !strings.HasPrefix(item, "file://") {
			return nil, fmt.Errorf("GOPROXY entry %q: want a URL, direct or off", item)
		}
		entries = append(entries, ProxyEntry{URL: strings.TrimSuffix(item, "/"), FallThrough: sep == '|'})
	}
	return entries, nil
}

// statusError is an HTTP answer other than 200.
type statusError struct {
	url    string
	status int
	body   string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("GET %s: %d %s", e.url, e.status, http.StatusText(e.status))
	if e.body != "" {
		msg += ": " + e.body
	}
	return msg
}

func (e *statusError) notFound() bool { return e.status == 404 || e.status == 410 }

// Refused reports whether err is a proxy's refusal (401 or 403), as this
// build machine's proxy answers @v/list for many modules.
func Refused(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.status == http.StatusUnauthorized || se.status == http.StatusForbidden)
}

// redact hides a password in a GOPROXY URL: errors are shown and logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// get fetches path (after the module's escaped path) from the first proxy
// that has it.
func (p Proxy) get(ctx context.Context, mod, path string) ([]byte, error) {
	escaped, err := module.EscapePath(mod)
	if err != nil {
		return nil, fmt.Errorf("module path %q: %w", mod, err)
	}
	if len(p.Entries) == 0 {
		return nil, errors.New("no GOPROXY entries")
	}
	var errs []error
	for _, e := range p.Entries {
		switch e.URL {
		case "off":
			errs = append(errs, errors.New("GOPROXY=off disallows module lookups"))
			return nil, errors.Join(errs...)
		case "direct":
			errs = append(errs, fmt.Errorf("%s: not found on any module proxy (crossbin queries proxies only, not %q)", mod, "direct"))
			return nil, errors.Join(errs...)
		}
		body, err := p.fetch(ctx, e.URL+"/"+escaped+"/@v/"+path)
		if err == nil {
			return body, nil
		}
		errs = append(errs, err)
		var se *statusError
		if !e.FallThrough && (!errors.As(err, &se) || !se.notFound()) {
			return nil, errors.Join(errs...)
		}
	}
	return nil, errors.Join(errs...)
}

func (p Proxy) fetch(ctx context.Context, url string) ([]byte, error) {
	if path, ok := strings.CutPrefix(url, "file://"); ok {
		body, err := os.ReadFile(filepath.FromSlash(path))
		if errors.Is(err, os.ErrNotExist) {
			return nil, &statusError{url: redact(url), status: http.StatusNotFound}
		}
		return body, err
	}
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w (is the module proxy reachable? check GOPROXY)", redact(url), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(url), err)
	}
	if resp.StatusCode != http.StatusOK {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		return nil, &statusError{url: redact(url), status: resp.StatusCode, body: snippet}
	}
	return body, nil
}

// Releases lists a module's versions (the proxy's @v/list, or @latest when
// the list is empty), its retractions and a newer major module path.
func (p Proxy) Releases(ctx context.Context, mod string) (Releases, error) {
	versions, err := p.list(ctx, mod)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.notFound() {
			return Releases{}, fmt.Errorf("%w: module %s (%w)", ErrNotFound, mod, err)
		}
		return Releases{}, err
	}
	rel := Releases{Versions: versions}
	if latest := newest(versions, false); latest != "" {
		retracted, err := p.retractions(ctx, mod, latest)
		if err != nil {
			return Releases{}, err
		}
		rel.Retracted = retracted
	}
	if next := nextMajor(mod); next != "" {
		if vs, err := p.list(ctx, next); err == nil {
			if v := newest(vs, true); v != "" {
				rel.NextMajor = next + "@" + v
			}
		}
	}
	return rel, nil
}

// Latest is the version the proxy's @latest names for mod, for proxies
// that refuse its @v/list. ErrNotFound when it names none.
func (p Proxy) Latest(ctx context.Context, mod string) (string, error) {
	body, err := p.getLatest(ctx, mod)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.notFound() {
			return "", fmt.Errorf("%w: %s@latest (%w)", ErrNotFound, mod, err)
		}
		return "", err
	}
	var info struct{ Version string }
	if err := json.Unmarshal(body, &info); err != nil || !semver.IsValid(info.Version) {
		return "", fmt.Errorf("%s@latest: malformed answer %q: want JSON with a Version", mod, strings.TrimSpace(string(body)))
	}
	return info.Version, nil
}

func (p Proxy) list(ctx context.Context, mod string) ([]string, error) {
	body, err := p.get(ctx, mod, "list")
	if err != nil {
		return nil, err
	}
	var versions []string
	for _, line := range strings.Split(string(body), "\n") {
		if v := strings.Fields(line); len(v) > 0 && semver.IsValid(v[0]) {
			versions = append(versions, v[0])
		}
	}
	if len(versions) > 0 {
		return versions, nil
	}
	// No tagged versions listed: @latest may still name one.
	latest, err := p.Latest(ctx, mod)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []string{latest}, nil
}

func (p Proxy) getLatest(ctx context.Context, mod string) ([]byte, error) {
	// @latest sits beside @v/, not under it.
	escaped, err := module.EscapePath(mod)
	if err != nil {
		return nil, err
	}
	for _, e := range p.Entries {
		if e.URL == "off" || e.URL == "direct" {
			break
		}
		body, err := p.fetch(ctx, e.URL+"/"+escaped+"/@latest")
		var se *statusError
		if err == nil || (!e.FallThrough && (!errors.As(err, &se) || !se.notFound())) {
			return body, err
		}
	}
	return nil, &statusError{url: mod + "/@latest", status: 404}
}

// retractions reads the retract directives of the module's latest go.mod.
func (p Proxy) retractions(ctx context.Context, mod, latest string) (func(string) bool, error) {
	body, err := p.get(ctx, mod, latest+".mod")
	if err != nil {
		return nil, fmt.Errorf("read retractions of %s: %w", mod, err)
	}
	f, err := modfile.ParseLax(mod+"@"+latest+"/go.mod", body, nil)
	if err != nil {
		return nil, fmt.Errorf("read retractions of %s: %w", mod, err)
	}
	intervals := f.Retract
	return func(v string) bool {
		for _, r := range intervals {
			if semver.Compare(r.Low, v) <= 0 && semver.Compare(v, r.High) <= 0 {
				return true
			}
		}
		return false
	}, nil
}

// newest is the highest version, preferring releases over prereleases.
func newest(versions []string, releasesOnly bool) string {
	best, bestPre := "", ""
	for _, v := range versions {
		if semver.Prerelease(v) != "" {
			if semver.Compare(v, bestPre) > 0 {
				bestPre = v
			}
		} else if semver.Compare(v, best) > 0 {
			best = v
		}
	}
	if best == "" && !releasesOnly {
		return bestPre
	}
	return best
}

// nextMajor is the module path of the next major version: …/v3 → …/v4,
// a path without suffix → …/v2. gopkg.in paths have none.
func nextMajor(mod string) string {
	prefix, major, ok := module.SplitPathVersion(mod)
	if !ok || strings.HasPrefix(mod, "gopkg.in/") {
		return ""
	}
	n := 1
	if major != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(major, "/v"))
		if err != nil {
			return ""
		}
		n = v
	}
	return prefix + "/v" + strconv.Itoa(n+1)
}
