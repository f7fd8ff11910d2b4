package main

import "testing"

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ name, version, platform, want string }{
		{"dlv", "v1.6.1", "linux/s390x", "dlv v1.6.1 is unavailable on linux/s390x"},
		{"dlv", "", "linux/s390x", "dlv is unavailable on linux/s390x"},
	} {
		if got := message(tc.name, tc.version, tc.platform); got != tc.want {
			t.Errorf("message(%q, %q, %q) = %q; want %q", tc.name, tc.version, tc.platform, got, tc.want)
		}
	}
}
