package pipeline

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/buildx"
	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
	"github.com/crossbin/crossbin/internal/source"
	"github.com/crossbin/crossbin/internal/verify"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func program(t *testing.T, name string) catalog.Program {
	t.Helper()
	p, err := catalog.LoadProgram(filepath.Join("..", "..", "dockerfiles", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustParse(t *testing.T, s string) platform.Platform {
	t.Helper()
	p, err := platform.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlan(t *testing.T) {
	dlv := program(t, "dlv")
	jobs, err := Plan(dlv, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		kind := "real"
		if j.Unavailable {
			kind = "unavailable"
		}
		got = append(got, j.Platform.String()+"="+kind)
	}
	want := "linux/amd64=real linux/386=real linux/arm64=real linux/arm/v5=unavailable linux/arm/v6=unavailable linux/arm/v7=unavailable linux/s390x=unavailable linux/ppc64le=real linux/riscv64=real linux/mips64le=unavailable linux/loong64=real"
	if strings.Join(got, " ") != want {
		t.Errorf("plan:\n got %s\nwant %s", strings.Join(got, " "), want)
	}

	jobs, err = Plan(dlv, []platform.Platform{mustParse(t, "linux/aarch64"), mustParse(t, "linux/arm64")})
	if err != nil || len(jobs) != 1 || jobs[0].Platform.String() != "linux/arm64" {
		t.Errorf("subset: %v, %v", jobs, err)
	}
	for _, tc := range []struct{ platform, want string }{
		{"linux/s390x", "dlv is unavailable on linux/s390x (delve has no linux/s390x backend): choose among its real platforms linux/amd64, linux/386, linux/arm64, linux/ppc64le, linux/riscv64, linux/loong64"},
		{"linux/ppc64", "dlv does not cover linux/ppc64"},
	} {
		if _, err := Plan(dlv, []platform.Platform{mustParse(t, tc.platform)}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Plan(%s) err = %v; want %q", tc.platform, err, tc.want)
		}
	}
}

func TestRequestArgv(t *testing.T) {
	opt := Options{
		GoImage: "golang:1.26.8-alpine", Repository: "localhost:5000/crossbin", Root: "/repo",
		GoEnv: map[string]string{"GOPROXY": "https://proxy.golang.org,direct", "GOFLAGS": "-buildvcs=false"},
	}
	released := time.Date(2021, 6, 9, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		program, version, platform string
	}{
		{"shfmt", "v3.14.1", "linux/arm/v6"},
		{"helm", "v3.6.2", "linux/riscv64"},
		{"dlv", "v1.27.2", "linux/s390x"},
		{"dlv", "v1.27.2", "linux/riscv64"}, // build tags
	} {
		prog := program(t, tc.program)
		prog.Dir = "dockerfiles/" + tc.program // stable across checkouts
		prog.Version = tc.version              // stable across updates
		job := NewJob(prog, mustParse(t, tc.platform))
		req := Request(opt, job, source.Source{Dir: "/gomod/" + prog.Module + "@" + prog.Version}, released, "/tmp/metadata.json")
		name := tc.program + "-" + strings.ReplaceAll(tc.platform, "/", "-") + ".argv"
		golden.Check(t, name, []byte(strings.Join(buildx.BuildArgv(req), "\n")+"\n"))
	}
}

// debianOptions are a run's options with a Debian builder image, and a
// proxy whose credentials must reach no build argument.
func debianOptions() Options {
	return Options{
		GoImage: "golang:1.26.8-alpine", DebianImage: "localhost:5000/crossbin/debian:trixie-0123@sha256:" + strings.Repeat("ab", 32),
		Repository: "localhost:5000/crossbin", Root: "/repo",
		GoEnv: map[string]string{"GOPROXY": "https://user:secret@proxy.example", "GOFLAGS": "-buildvcs=false"},
	}
}

// renderExample is one of the examples under internal/render/testdata/,
// in dockerfiles/<name> as the catalog would hold it.
func renderExample(t *testing.T, kind, name string) catalog.Program {
	t.Helper()
	prog, err := catalog.LoadProgram(filepath.Join("..", "render", "testdata", kind, name))
	if err != nil {
		t.Fatal(err)
	}
	prog.Dir = "dockerfiles/" + name
	return prog
}

// TestRequestArgvTarball: a C program gets the Debian builder image, the C
// target variables and its unpacked tarball as the source context, and
// none of the Go settings; its unavailable platforms still build the Go
// stand-in with them.
func TestRequestArgvTarball(t *testing.T) {
	opt := debianOptions()
	released := time.Date(2024, 10, 10, 8, 0, 0, 0, time.UTC)
	// The C examples the Dockerfile template is tested with.
	prog := renderExample(t, "c", "tmux")
	for _, pl := range []string{"linux/arm64", "linux/arm/v7", "linux/loong64"} {
		job := NewJob(prog, mustParse(t, pl))
		req := Request(opt, job, source.Source{Dir: "/cache/source/tarball/tmux-3.5a-16216bd0877170dfcc64157085", Deps: map[string]string{"libevent": "/cache/source/tarball/libevent-2.1.13-stable-f7e9383b8c0baa81b687e5b5"}}, released, "/tmp/metadata.json")
		argv := strings.Join(buildx.BuildArgv(req), "\n") + "\n"
		if !job.Unavailable && (strings.Contains(argv, "GO") || req.Secrets != nil) {
			t.Errorf("%s: a C build gets Go settings:\n%s", pl, argv)
		}
		golden.Check(t, "tmux-"+strings.ReplaceAll(pl, "/", "-")+".argv", []byte(argv))
		if pl == "linux/arm64" {
			record := strings.Join(buildx.BuildArgv(RecordRequest(req, "/tmp/work/0-linux-arm64-record")), "\n") + "\n"
			golden.Check(t, "tmux-linux-arm64-sbom.argv", []byte(record))
		}
	}
}

// TestRequestArgvCgo: a Go program with cgo gets the Go settings and
// variables and, for its C toolchain, the Debian builder image and the C
// target variables; credentials stay in the netrc secret.
func TestRequestArgvCgo(t *testing.T) {
	opt := debianOptions()
	released := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	// The cgo example the Dockerfile template is tested with.
	prog := renderExample(t, "cgo", "sqlite-example")
	for _, pl := range []string{"linux/arm64", "linux/loong64"} {
		job := NewJob(prog, mustParse(t, pl))
		req := Request(opt, job, source.Source{Dir: "/gomod/" + prog.Module + "@" + prog.Version}, released, "/tmp/metadata.json")
		argv := strings.Join(buildx.BuildArgv(req), "\n") + "\n"
		for _, want := range []string{"GO_IMAGE=", "GOARCH=", "DEBIAN_IMAGE=", "TRIPLE=", "CROSS_PACKAGES="} {
			if !strings.Contains(argv, "\n"+want) {
				t.Errorf("%s: no %s in\n%s", pl, want, argv)
			}
		}
		if strings.Contains(argv, "user:secret") || req.Secrets["netrc"] == "" {
			t.Errorf("%s: the proxy's credentials belong in the netrc secret only:\n%s", pl, argv)
		}
		golden.Check(t, "sqlite-example-"+strings.ReplaceAll(pl, "/", "-")+".argv", []byte(argv))
	}
	// Its unavailable platforms build the Go stand-in, without C.
	prog.Unavailable = map[platform.Platform]string{mustParse(t, "linux/loong64"): "no"}
	req := Request(opt, NewJob(prog, mustParse(t, "linux/loong64")), source.Source{}, released, "/tmp/metadata.json")
	if _, ok := req.Args["DEBIAN_IMAGE"]; ok || req.Args["TRIPLE"] != "" {
		t.Errorf("unavailable cgo platform gets the C toolchain: %v", req.Args)
	}
}

func TestTable(t *testing.T) {
	dlv := program(t, "dlv")
	dlv.Version = "v1.6.1" // stable across updates
	h, _ := v1.NewHash("sha256:8ea5212d2032a9b090c588086f80e9096289271ff509e1997b6b710192c23146")
	rep := Report{
		Program: dlv,
		Outcomes: []Outcome{
			{Job: Job{Program: dlv, Platform: mustParse(t, "linux/amd64")}, Digest: h, Duration: 31 * time.Second,
				Verify: verify.Result{Size: 11 << 20, Ran: true, Output: "Delve Debugger"}},
			{Job: Job{Program: dlv, Platform: mustParse(t, "linux/386"), Unavailable: true}, Digest: h, Duration: time.Second,
				Verify: verify.Result{Size: 1 << 20, ELF: "EM_386 ELFCLASS32 ELFDATA2LSB", Note: "ELF checked only: this machine cannot execute linux/386 binaries"}},
			{Job: Job{Program: dlv, Platform: mustParse(t, "linux/arm64")}, Duration: 2 * time.Second, Patches: []string{"dlv-fix"},
				Err: errors.New("buildx build: undefined: parseCPUInfo (exit status 1)\nmore")},
		},
		Unmoved:  ErrBuildFailed,
		Obsolete: []string{"dlv-old-fix"},
		Duration: 40 * time.Second,
	}
	golden.Check(t, "table.txt", []byte(rep.Table()))
}

// TestTableNamesTarball: a C program's summary names its release tarball,
// where a Go program's names its module.
func TestTableNamesTarball(t *testing.T) {
	prog, err := catalog.LoadProgram(filepath.Join("..", "render", "testdata", "c", "tmux"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(Report{Program: prog}.Table(), "\n")
	if want := "tmux 3.5a (https://github.com/tmux/tmux/releases/download/3.5a/tmux-3.5a.tar.gz)"; first != want {
		t.Errorf("table starts %q, want %q", first, want)
	}
}
