package pipeline

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/source"
)

func TestBuildEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, args map[string]string
		netrc    string
	}{
		{"no credentials", map[string]string{"GOPROXY": "https://proxy.golang.org,direct", "GOFLAGS": "-mod=mod"},
			map[string]string{"GOPROXY": "https://proxy.golang.org,direct", "GOFLAGS": "-mod=mod"}, ""},
		{"credentials in a proxy URL", map[string]string{"GOPROXY": "https://robot:s3cret@goproxy.corp.example/mod|https://proxy.golang.org,direct"},
			map[string]string{"GOPROXY": "https://goproxy.corp.example/mod|https://proxy.golang.org,direct"}, "machine goproxy.corp.example login robot password s3cret\n"},
		{"token only", map[string]string{"GOPROXY": "https://tok3n@goproxy.corp.example,off"},
			map[string]string{"GOPROXY": "https://goproxy.corp.example,off"}, "machine goproxy.corp.example login tok3n password \n"},
		{"sumdb with key and credentials", map[string]string{"GOSUMDB": "sum.corp+abcd https://u:p@sum.corp.example"},
			map[string]string{"GOSUMDB": "sum.corp+abcd https://sum.corp.example"}, "machine sum.corp.example login u password p\n"},
		{"off and direct", map[string]string{"GOPROXY": "off", "GOSUMDB": "off"}, map[string]string{"GOPROXY": "off", "GOSUMDB": "off"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, netrc := buildEnv(tc.in)
			if !maps.Equal(args, tc.args) || netrc != tc.netrc {
				t.Errorf("buildEnv = %v, %q; want %v, %q", args, netrc, tc.args, tc.netrc)
			}
		})
	}
}

// TestNoSecretInBuildArgs: a GOPROXY with credentials reaches neither the
// build arguments nor anything else on the buildx command line; the
// request carries the netrc as a secret file instead.
func TestNoSecretInBuildArgs(t *testing.T) {
	prog := program(t, "helm")
	opt := Options{GoImage: "golang:1.26.8-alpine", Repository: "127.0.0.1:5000/crossbin", Root: "/repo",
		GoEnv: map[string]string{"GOPROXY": "https://robot:s3cret-t0ken@goproxy.corp.example,direct"}}
	released := time.Date(2021, 6, 9, 18, 0, 0, 0, time.UTC)
	req := Request(opt, NewJob(prog, mustParse(t, "linux/riscv64")), source.Source{Dir: "/src"}, released, "/tmp/m.json")
	argv := strings.Join(buildx.BuildArgv(req), " ")
	if strings.Contains(argv, "s3cret-t0ken") || strings.Contains(argv, "robot") {
		t.Errorf("a credential is on the command line: %s", argv)
	}
	if !strings.Contains(argv, "--secret id=netrc,env="+buildx.SecretEnv("netrc")) {
		t.Errorf("no netrc secret on the command line: %s", argv)
	}
	if req.Args["GOPROXY"] != "https://goproxy.corp.example,direct" || req.Secrets["netrc"] != "machine goproxy.corp.example login robot password s3cret-t0ken\n" {
		t.Errorf("GOPROXY %q, netrc %q", req.Args["GOPROXY"], req.Secrets["netrc"])
	}
}
