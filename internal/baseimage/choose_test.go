package baseimage

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// fakeAssembler records the Go release it was asked for.
type fakeAssembler struct {
	asked []string
	err   error
}

func (f *fakeAssembler) Assemble(_ context.Context, goVersion string) (string, error) {
	f.asked = append(f.asked, goVersion)
	if f.err != nil {
		return "", f.err
	}
	return "localhost:5000/crossbin/golang:" + goVersion + "-crossbin-0123456789ab", nil
}

func TestUpstream(t *testing.T) {
	if got := Upstream("1.26.8"); got != "golang:1.26.8-alpine" {
		t.Errorf("Upstream(1.26.8) = %s", got)
	}
	if !strings.HasPrefix(GoVersion, "1.") || strings.HasPrefix(GoVersion, "v") {
		t.Errorf("GoVersion %q is not a Go release as image tags spell it", GoVersion)
	}
}

func TestChoiceImage(t *testing.T) {
	broken := errors.New("no toolchain")
	for _, tc := range []struct {
		name      string
		override  string
		goVersion string
		local     bool  // the embedded stack, which can assemble
		hub       bool  // what the probe answers
		assembly  error // what assembling returns
		want      string
		wantErr   error
		probed    bool
		assembled string // the Go release assembled, "" when none was
	}{
		{name: "override, user's builder", override: "example.com/go:1", want: "example.com/go:1"},
		{name: "override, embedded stack", override: "example.com/go:1", local: true, want: "example.com/go:1"},
		{name: "user's builder gets upstream unasked", goVersion: "1.25.3", want: "golang:1.25.3-alpine"},
		{name: "user's builder, pinned release", want: Upstream(GoVersion)},
		{name: "Docker Hub answers", goVersion: "1.25.3", local: true, hub: true, want: "golang:1.25.3-alpine", probed: true},
		{name: "Docker Hub unreachable", goVersion: "1.25.3", local: true, want: "localhost:5000/crossbin/golang:1.25.3-crossbin-0123456789ab", probed: true, assembled: "1.25.3"},
		{name: "assembled at the pinned release", local: true, want: "localhost:5000/crossbin/golang:" + GoVersion + "-crossbin-0123456789ab", probed: true, assembled: GoVersion},
		{name: "assembly fails", goVersion: "1.25.3", local: true, assembly: broken, wantErr: broken, probed: true, assembled: "1.25.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probed := false
			asm := &fakeAssembler{err: tc.assembly}
			c := Choice{
				Override:  tc.override,
				GoVersion: tc.goVersion,
				DockerHubReachable: func(context.Context) bool {
					probed = true
					return tc.hub
				},
			}
			if tc.local {
				c.Local = asm
			}
			got, err := c.Image(context.Background())
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("Image() = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if probed != tc.probed {
				t.Errorf("Docker Hub probed: %v; want %v", probed, tc.probed)
			}
			if got := strings.Join(asm.asked, " "); got != tc.assembled {
				t.Errorf("assembled %q; want %q", got, tc.assembled)
			}
		})
	}
}

// A missing busybox fails before anything is downloaded, and says what is
// missing.
func TestLocalNeedsBusybox(t *testing.T) {
	l := Local{
		Repo:     "localhost:5000/crossbin/golang",
		GOARCH:   "amd64",
		LookPath: func(string) (string, error) { return "", exec.ErrNotFound },
	}
	_, err := l.Assemble(context.Background(), GoVersion)
	if !errors.Is(err, exec.ErrNotFound) || !strings.HasPrefix(err.Error(), "builder image: busybox: ") {
		t.Fatalf("err = %v; want the missing busybox named", err)
	}
}
