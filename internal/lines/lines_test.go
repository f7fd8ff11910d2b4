package lines

import "testing"

func TestLast(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb", 5, "a\nb"},
		{"", 3, ""},
	} {
		if got := Last(tc.in, tc.n); got != tc.want {
			t.Errorf("Last(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestFirst(t *testing.T) {
	for in, want := range map[string]string{"a\nb": "a", "\n  x  \ny": "x  ", "": "", "one": "one"} {
		if got := First(in); got != want {
			t.Errorf("First(%q) = %q; want %q", in, got, want)
		}
	}
}
