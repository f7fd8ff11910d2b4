package upstream

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Release tags of tarball programs (C programs pinned by release tarball)
// are pinned as published, since the tag is what the tarball's URL and
// file name are made of: tmux "3.5a", lz4 "v1.10.0". They are not module
// versions, so the Go rule (canonical vMAJOR.MINOR.PATCH) does not fit
// them; their rule, ChooseTag's, is:
//
//   - a release tag is two or three dot-separated numbers, with at most
//     one lowercase letter after the last (tmux's fix releases: 3.5 <
//     3.5a < 3.6), and written with a leading "v" exactly when the pinned
//     tag is; anything else (3.6-rc, release-2.1.12-stable, v2) is skipped
//     with a note, as non-canonical Go versions are;
//   - tags compare number by number (a missing third number is 0), then
//     by the letter (none before a);
//   - the newest tag newer than the pin with the pin's first number is
//     chosen; a newer first number is noted, not taken (as a new major
//     module path is for Go programs).
var releaseTag = regexp.MustCompile(`^(v?)(\d+)\.(\d+)(?:\.(\d+))?([a-z]?)$`)

// tag is a parsed release tag.
type tag struct {
	raw     string
	v       bool
	numbers [3]int
	letter  string
}

func parseTag(s string) (tag, bool) {
	m := releaseTag.FindStringSubmatch(s)
	if m == nil {
		return tag{}, false
	}
	t := tag{raw: s, v: m[1] == "v", letter: m[5]}
	for i, n := range m[2:5] {
		if n == "" {
			continue
		}
		x, err := strconv.Atoi(n)
		if err != nil {
			return tag{}, false
		}
		t.numbers[i] = x
	}
	return t, true
}

func (t tag) compare(o tag) int {
	if c := slices.Compare(t.numbers[:], o.numbers[:]); c != 0 {
		return c
	}
	return strings.Compare(t.letter, o.letter)
}

// ChooseTag picks the newest release tag newer than current (see the rule
// above); the choice is current itself when there is none.
func ChooseTag(current string, tags []string) (Choice, error) {
	cur, ok := parseTag(current)
	if !ok {
		return Choice{}, fmt.Errorf("pinned release tag %q is not NUMBER.NUMBER[.NUMBER][letter] (with or without a leading v): bump it by hand", current)
	}
	best := cur
	var skipped, majors []string
	for _, s := range tags {
		t, ok := parseTag(s)
		if !ok || t.v != cur.v {
			skipped = append(skipped, s)
			continue
		}
		switch {
		case t.compare(cur) <= 0:
		case t.numbers[0] != cur.numbers[0]:
			majors = append(majors, s)
		case t.compare(best) > 0:
			best = t
		}
	}
	ch := Choice{Version: best.raw}
	if len(majors) > 0 {
		slices.SortFunc(majors, func(a, b string) int { x, _ := parseTag(a); y, _ := parseTag(b); return y.compare(x) })
		ch.Notes = append(ch.Notes, "new major release "+majors[0]+" not taken: bump it by hand")
	}
	if len(skipped) > 0 {
		slices.Sort(skipped)
		ch.Notes = append(ch.Notes, "skipped tags that are not release tags like "+current+": "+strings.Join(skipped, ", "))
	}
	return ch, nil
}
