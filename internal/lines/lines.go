// Package lines trims command output for error messages.
package lines

import "strings"

// Last returns the last n lines of s, without a trailing newline.
func Last(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// First returns the first line of s, leading and trailing space trimmed.
func First(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
