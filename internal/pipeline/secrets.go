package pipeline

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// proxyVars are the go settings that hold URLs (GOPROXY's list, GOSUMDB's
// optional "name+key url" form ends in one).
var proxyVars = []string{"GOPROXY", "GOSUMDB"}

// buildEnv splits the go settings passed to builds into build arguments
// without credentials and a netrc file holding them: credentials inside a
// GOPROXY or GOSUMDB URL (https://user:token@host/) must never reach build
// arguments, which BuildKit's provenance records and `docker history`
// shows. The go tool reads the same credentials from the netrc, which
// builds get as a BuildKit secret mounted at /root/.netrc.
func buildEnv(goEnv map[string]string) (args map[string]string, netrc string) {
	args = make(map[string]string, len(goEnv))
	var lines []string
	for k, v := range goEnv {
		if !slices.Contains(proxyVars, k) {
			args[k] = v
			continue
		}
		var clean []string
		for _, entry := range splitProxyList(v) {
			u, err := url.Parse(entry.url)
			if err != nil || u.User == nil || u.Host == "" {
				clean = append(clean, entry.url+entry.sep)
				continue
			}
			pass, _ := u.User.Password()
			lines = append(lines, fmt.Sprintf("machine %s login %s password %s", u.Hostname(), u.User.Username(), pass))
			u.User = nil
			clean = append(clean, u.String()+entry.sep)
		}
		args[k] = strings.Join(clean, "")
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	if len(lines) > 0 {
		netrc = strings.Join(lines, "\n") + "\n"
	}
	return args, netrc
}

type proxyEntry struct{ url, sep string }

// splitProxyList splits a GOPROXY list at its separators ("," and "|"),
// keeping each separator with the entry before it. A GOSUMDB value
// ("sum.golang.org", "name+key https://url") is one entry, its URL last.
func splitProxyList(v string) []proxyEntry {
	if name, rawURL, ok := strings.Cut(v, " "); ok {
		return []proxyEntry{{url: name + " ", sep: ""}, {url: rawURL}}
	}
	var out []proxyEntry
	start := 0
	for i, r := range v {
		if r == ',' || r == '|' {
			out = append(out, proxyEntry{url: v[start:i], sep: string(r)})
			start = i + 1
		}
	}
	return append(out, proxyEntry{url: v[start:]})
}
