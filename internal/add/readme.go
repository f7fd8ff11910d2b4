package add

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	mdLink     = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdEmphasis = strings.NewReplacer("**", "", "__", "", "`", "")
)

// readmeSummary is the first sentence of the first prose paragraph of the
// module's README (README.md, then README.rst, README): headings,
// badges, images, HTML and code are skipped; links keep their text. Empty
// when there is none that reads as a description.
func readmeSummary(dir string) string {
	for _, name := range []string{"README.md", "README.rst", "README", "readme.md"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		return summary(string(b))
	}
	return ""
}

func summary(text string) string {
	var para []string
	fenced := false
	// done: the first prose paragraph was seen; only it may describe.
	done := false
	flush := func() string {
		p := strings.Join(para, " ")
		para = nil
		p = strings.TrimSpace(mdEmphasis.Replace(mdLink.ReplaceAllString(p, "$1")))
		if len(strings.Fields(p)) < 4 {
			return ""
		}
		done = true
		if i := strings.Index(p, ". "); i > 0 {
			p = p[:i]
		}
		p = strings.TrimSuffix(p, ".")
		if len(p) > 120 || strings.Contains(p, "://") {
			return ""
		}
		return p
	}
	for line := range strings.Lines(text) {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		bullet := len(t) > 1 && strings.ContainsAny(t[:1], "*-+") && t[1] == ' '
		if t == "" || bullet || strings.ContainsAny(t[:1], "#<![|>=.:") || strings.Trim(t, "-=*~^") == "" {
			if s := flush(); s != "" || done {
				return s
			}
			continue
		}
		para = append(para, t)
	}
	return flush()
}
