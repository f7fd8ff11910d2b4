package buildx

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
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

// Kinds of BuildKit steps, as StepTimes sums them.
const (
	KindCompile = "compile"    // a RUN that runs go build or go install
	KindModules = "modules"    // a RUN that downloads modules
	KindExport  = "export"     // writing the image and pushing it
	KindImage   = "base image" // FROM: resolving and unpacking it
	KindOther   = "other"      // build definitions, contexts, COPY, ...
)

// StepTimes sums, by kind, how long the steps in buildx's plain progress
// output took: each step's DONE time, summed over every build in out,
// parallel steps each counted. Lines may carry a "[label] " prefix
// (Builder.Output); a step is known by its label and number.
func StepTimes(out string) map[string]time.Duration {
	sums := map[string]time.Duration{}
	eachStep(out, func(name string, took time.Duration) { sums[stepKind(name)] += took })
	return sums
}

// eachStep calls f with each finished step's name and DONE time in buildx's
// plain progress output; lines may carry a "[label] " prefix, and a step is
// known by its label and number.
func eachStep(out string, f func(name string, took time.Duration)) {
	names := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		label := ""
		// A label prefix is "[label] " before the step's "#N".
		if end := strings.Index(l, "] #"); strings.HasPrefix(l, "[") && end > 0 {
			label, l = l[:end+2], l[end+2:]
		}
		id, rest, ok := strings.Cut(l, " ")
		if !ok || !strings.HasPrefix(id, "#") {
			continue
		}
		key := label + id
		if _, named := names[key]; !named {
			names[key] = rest
			continue
		}
		if d, ok := strings.CutPrefix(rest, "DONE "); ok {
			if took, err := time.ParseDuration(d); err == nil {
				f(names[key], took)
			}
		}
	}
}

// stepKind classifies a step by its name in the progress output, e.g.
// "[linux-amd64 build 3/3] RUN … go install …".
func stepKind(name string) string {
	_, instr, ok := strings.Cut(name, "] ")
	if !ok {
		instr = name
	}
	switch {
	case strings.HasPrefix(instr, "RUN ") && (strings.Contains(instr, "go install") || strings.Contains(instr, "go build")):
		return KindCompile
	case strings.HasPrefix(instr, "RUN ") && strings.Contains(instr, "go mod download"):
		return KindModules
	case strings.HasPrefix(instr, "exporting to image"):
		return KindExport
	case strings.HasPrefix(instr, "FROM "):
		return KindImage
	}
	return KindOther
}

// TargetTimes sums, by bake target, how long each target's own steps took
// in buildx's plain progress output (a step is a target's when its name
// starts with "[<target> ", e.g. "[t3-linux-arm64 build 3/3] RUN …"). A
// step several targets share is counted once, for the one it names.
func TargetTimes(out string) map[string]time.Duration {
	sums := map[string]time.Duration{}
	eachStep(out, func(name string, took time.Duration) {
		if target, _, ok := strings.Cut(strings.TrimPrefix(name, "["), " "); ok && strings.HasPrefix(name, "[") {
			sums[strings.TrimSuffix(target, "]")] += took
		}
	})
	return sums
}
