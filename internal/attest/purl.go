package attest

import "strings"

// purl is the package URL of a Go module: pkg:golang/<path>@<version>.
//
// Each path segment and the version are percent-encoded as the purl spec
// asks (everything but ALPHA, DIGIT, '.', '-', '_', '~' and ':'), so
// v1.0.0+incompatible becomes v1.0.0%2Bincompatible; the '/' between
// segments stays, splitting namespace from name. Case is kept although the
// golang type's definition asks for lowercase (a warning in the spec's own
// tests): Go module paths are case-sensitive (github.com/BurntSushi/toml),
// and scanners and the module proxy match them as written. No maintained
// purl library is in the module graph; this is the one place purls are made.
func purl(path, version string) string {
	var b strings.Builder
	b.WriteString("pkg:golang/")
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(purlEscape(seg))
	}
	if version != "" {
		b.WriteByte('@')
		b.WriteString(purlEscape(version))
	}
	return b.String()
}

func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '_', c == '~', c == ':':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}
