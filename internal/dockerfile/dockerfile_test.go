package dockerfile

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/golden"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParse(t *testing.T) {
	f, err := Parse(readFile(t, "args.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range f.Args {
		fmt.Fprintf(&b, "ARG line %d global=%v %s default=%v %q comment=%q\n", a.Line, a.Global, a.Name, a.HasDefault, a.Value, a.Comment)
	}
	for _, s := range f.Stages {
		fmt.Fprintf(&b, "FROM line %d %q as %q\n", s.Line, s.Base, s.Name)
	}
	golden.Check(t, "args.parsed", []byte(b.String()))
	if _, ok := f.Stage("fetch"); !ok {
		t.Error(`Stage("fetch") not found`)
	}
}

func TestSetArg(t *testing.T) {
	data := readFile(t, "args.Dockerfile")
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.SetArg("VERSION", "v3.20.0")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "args.set.Dockerfile", out)
	out, err = f.SetArg("EMPTY", "now")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("    EMPTY=now\n")) {
		t.Errorf("EMPTY not set:\n%s", out)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"MISSING", "v1", "no global `ARG MISSING=...`"},
		{"BARE", "v1", "no global `ARG BARE=...`"},
		{"VERSION", "v1 v2", "needs quoting"},
		{"VERSION", "", "needs quoting"},
		{"VERSION", "$(rm -rf)", "needs quoting"},
	} {
		if _, err := f.SetArg(tc.name, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetArg(%s, %q) err = %v; want %q", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ARG\n", "ARG without a name"},
		{"ARG 1X=2\n", "not a valid name"},
		{"ARG A=\"open\n", "unterminated quote"},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) err = %v; want %q", tc.in, err, tc.want)
		}
	}
}

func TestSetArgSplitValue(t *testing.T) {
	f, err := Parse([]byte("ARG VERSION=v1\\\n.2\nFROM scratch\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := f.Global("VERSION"); a.Value != "v1.2" {
		t.Fatalf("value %q", a.Value)
	}
	if _, err := f.SetArg("VERSION", "v2"); err == nil || !strings.Contains(err.Error(), "line continuation") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzSetArg checks that a rewrite changes only the ARG's value: every other
// line stays byte-for-byte, and parsing the result reads the new value.
func FuzzSetArg(f *testing.F) {
	f.Add(string(readFile(f, "args.Dockerfile")), "VERSION", "v9.9.9")
	f.Add("ARG VERSION=v1\nFROM scratch\n", "VERSION", "v2")
	f.Add("# c\r\nARG A=1 VERSION='x y' B\r\n", "VERSION", "z")
	f.Add("ARG A=1 \\\n  VERSION=2\n", "VERSION", "3")
	f.Fuzz(func(t *testing.T, in, name, value string) {
		p, err := Parse([]byte(in))
		if err != nil {
			return
		}
		out, err := p.SetArg(name, value)
		if err != nil {
			return
		}
		before, after := strings.Split(in, "\n"), strings.Split(string(out), "\n")
		if len(before) != len(after) {
			t.Fatalf("line count changed: %d -> %d", len(before), len(after))
		}
		a, _ := p.Global(name)
		for i := range before {
			if i+1 != a.Line && before[i] != after[i] {
				t.Fatalf("line %d changed: %q -> %q", i+1, before[i], after[i])
			}
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if got, _ := q.Global(name); got.Value != value {
			t.Fatalf("value after rewrite %q; want %q", got.Value, value)
		}
	})
}
