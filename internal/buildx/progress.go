package buildx

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// StepError picks the cause out of buildx's plain progress output: the
// last lines the failed step printed (e.g. the compiler's error), or
// buildx's own ERROR line when no step failed.
func StepError(out string) string {
	lines := strings.Split(out, "\n")
	step := ""
	for _, l := range lines {
		if id, rest, ok := strings.Cut(l, " "); ok && strings.HasPrefix(id, "#") && strings.HasPrefix(rest, "ERROR:") {
			step = id
		}
	}
	var printed []string
	for _, l := range lines {
		id, rest, ok := strings.Cut(l, " ")
		if !ok || id != step || step == "" {
			continue
		}
		// Step output lines are "#12 29.95 text": drop the timestamp.
		if ts, text, ok := strings.Cut(rest, " "); ok && strings.Trim(ts, "0123456789.") == "" {
			printed = append(printed, text)
		}
	}
	if len(printed) > 0 {
		if len(printed) > 8 {
			printed = printed[len(printed)-8:]
		}
		return strings.Join(printed, "; ")
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "ERROR:") {
			return lines[i]
		}
	}
	return "see the build output above"
}

// prefixWriter writes whole lines, each with a prefix; concurrent builds
// share the underlying writer.
type prefixWriter struct {
	prefix string
	w      io.Writer
	buf    []byte
}

var outputMu sync.Mutex

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		outputMu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		outputMu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
