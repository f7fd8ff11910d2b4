// Package dockerfile reads and rewrites the build arguments a Dockerfile
// declares, without touching anything else in the file.
//
// crossbin keeps a program's facts where `docker buildx build` alone sees
// them: `ARG MODULE=...` and `ARG VERSION=...` in the Dockerfile's global
// scope (before the first FROM). The catalog reads them with Args, and
// `mage update` bumps a version with SetArg, which changes the value of one
// ARG and leaves every other byte of the file as it was, so comments, the
// Renovate annotation and line continuations survive.
//
// The parser understands what Dockerfiles use around ARG: comments, blank
// lines, backslash line continuations, several NAME[=VALUE] pairs on one
// line, and single or double quoted values. It does not expand variables.
package dockerfile

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Arg is one declared build argument.
type Arg struct {
	Name       string
	Value      string // unquoted default value
	HasDefault bool
	Global     bool   // declared before the first FROM
	Line       int    // 1-based line the name is on
	Comment    string // the comment lines directly above the instruction, without "#"
	// start and end are the byte offsets of the raw value in the file;
	// split marks a value broken by a line continuation.
	start, end int
	split      bool
}

// File is a parsed Dockerfile.
type File struct {
	data   []byte
	Args   []Arg
	Stages []Stage
}

// Stage is one FROM instruction.
type Stage struct {
	Name string // the AS name, lower-cased; empty if unnamed
	Base string // the image or stage it builds on, unexpanded
	Line int
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads a Dockerfile's ARG and FROM instructions.
func Parse(data []byte) (*File, error) {
	f := &File{data: data}
	var comments []string
	seenFrom := false
	for ins, err := range instructions(data) {
		if err != nil {
			return nil, err
		}
		if ins.comment {
			comments = append(comments, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ins.text), "#")))
			continue
		}
		keyword, rest, _ := strings.Cut(strings.TrimLeft(ins.text, " \t"), " ")
		switch strings.ToUpper(strings.TrimSpace(keyword)) {
		case "ARG":
			args, err := parseArgs(data, ins, !seenFrom)
			if err != nil {
				return nil, err
			}
			if len(args) > 0 {
				args[0].Comment = strings.Join(comments, "\n")
			}
			f.Args = append(f.Args, args...)
		case "FROM":
			seenFrom = true
			f.Stages = append(f.Stages, parseFrom(rest, ins.line))
		}
		comments = nil
	}
	return f, nil
}

// Global returns the global ARG called name.
func (f *File) Global(name string) (Arg, bool) {
	for _, a := range f.Args {
		if a.Global && a.Name == name {
			return a, true
		}
	}
	return Arg{}, false
}

// Stage returns the stage called name.
func (f *File) Stage(name string) (Stage, bool) {
	for _, s := range f.Stages {
		if s.Name == strings.ToLower(name) {
			return s, true
		}
	}
	return Stage{}, false
}

// SetArg returns the file with the default value of the global ARG name
// replaced by value; every other byte is unchanged. The value is written
// bare, so it must not need quoting.
func (f *File) SetArg(name, value string) ([]byte, error) {
	if value == "" || strings.ContainsAny(value, " \t\r\n\\\"'$#") {
		return nil, fmt.Errorf("ARG %s: value %q needs quoting; only plain values can be written", name, value)
	}
	a, ok := f.Global(name)
	if !ok || !a.HasDefault {
		return nil, fmt.Errorf("no global `ARG %s=...` in the Dockerfile", name)
	}
	if a.split {
		return nil, fmt.Errorf("line %d: the value of ARG %s spans a line continuation; put it on one line", a.Line, name)
	}
	out := make([]byte, 0, len(f.data)+len(value))
	out = append(out, f.data[:a.start]...)
	out = append(out, value...)
	return append(out, f.data[a.end:]...), nil
}

// instruction is one logical line: a comment, or an instruction with its
// continuation lines joined.
type instruction struct {
	text    string
	line    int
	comment bool
	// offsets maps each byte of text to its offset in the file.
	offsets []int
}

// instructions yields the file's logical lines, skipping blank ones.
func instructions(data []byte) func(yield func(instruction, error) bool) {
	return func(yield func(instruction, error) bool) {
		lineNo, pos := 0, 0
		var cur *instruction
		for pos < len(data) {
			end := pos
			for end < len(data) && data[end] != '\n' {
				end++
			}
			lineNo++
			raw := string(data[pos:end])
			line := strings.TrimSuffix(raw, "\r")
			trimmed := strings.TrimSpace(line)
			next := end + 1
			switch {
			case cur == nil && trimmed == "":
			case cur == nil && strings.HasPrefix(trimmed, "#"):
				if !yield(instruction{text: line, line: lineNo, comment: true}, nil) {
					return
				}
			case cur != nil && (trimmed == "" || strings.HasPrefix(trimmed, "#")):
				// Blank and comment lines inside a continuation are skipped.
			default:
				if cur == nil {
					cur = &instruction{line: lineNo}
				}
				body := line
				cont := strings.HasSuffix(strings.TrimRight(line, " \t"), "\\")
				if cont {
					body = strings.TrimRight(line, " \t")
					body = body[:len(body)-1]
				}
				for i := range len(body) {
					cur.offsets = append(cur.offsets, pos+i)
				}
				cur.text += body
				if !cont {
					if !yield(*cur, nil) {
						return
					}
					cur = nil
				}
			}
			pos = next
		}
		if cur != nil {
			yield(*cur, nil)
		}
	}
}

// parseArgs reads the NAME[=VALUE] pairs of an ARG instruction.
func parseArgs(data []byte, ins instruction, global bool) ([]Arg, error) {
	text := ins.text
	i := strings.Index(strings.ToUpper(text), "ARG") + len("ARG")
	var args []Arg
	for {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i >= len(text) {
			break
		}
		nameStart := i
		for i < len(text) && text[i] != '=' && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		a := Arg{Name: text[nameStart:i], Line: 1 + strings.Count(string(data[:ins.offsets[nameStart]]), "\n"), Global: global}
		if !nameRE.MatchString(a.Name) {
			return nil, fmt.Errorf("line %d: ARG %q is not a valid name", ins.line, a.Name)
		}
		if i < len(text) && text[i] == '=' {
			i++
			a.HasDefault = true
			valStart := i
			var val strings.Builder
			var quote byte
		value:
			for i < len(text) {
				c := text[i]
				switch {
				case quote != 0 && c == quote:
					quote = 0
				case quote != 0:
					val.WriteByte(c)
				case c == '"' || c == '\'':
					quote = c
				case c == ' ' || c == '\t':
					break value
				default:
					val.WriteByte(c)
				}
				i++
			}
			if quote != 0 {
				return nil, fmt.Errorf("line %d: ARG %s: unterminated quote", ins.line, a.Name)
			}
			a.Value = val.String()
			switch {
			case i > valStart:
				a.start, a.end = ins.offsets[valStart], ins.offsets[i-1]+1
				a.split = a.end-a.start != i-valStart
			case valStart < len(ins.offsets):
				a.start, a.end = ins.offsets[valStart], ins.offsets[valStart]
			default:
				a.start, a.end = ins.offsets[valStart-1]+1, ins.offsets[valStart-1]+1
			}
			if a.start > a.end || a.end > len(data) {
				return nil, errors.New("internal error: ARG value offsets out of range")
			}
		}
		args = append(args, a)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("line %d: ARG without a name", ins.line)
	}
	return args, nil
}

func parseFrom(rest string, line int) Stage {
	var fields []string
	for _, f := range strings.Fields(rest) {
		if !strings.HasPrefix(f, "--") {
			fields = append(fields, f)
		}
	}
	s := Stage{Line: line}
	if len(fields) > 0 {
		s.Base = fields[0]
	}
	if len(fields) >= 3 && strings.EqualFold(fields[1], "AS") {
		s.Name = strings.ToLower(fields[2])
	}
	return s
}
