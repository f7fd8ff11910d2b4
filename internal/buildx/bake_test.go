package buildx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

// batch is one program's requests as the pipeline makes them: a program
// with a prepared source, an unavailable platform and a netrc secret.
func batch(t *testing.T) []BuildRequest {
	t.Helper()
	var reqs []BuildRequest
	for _, p := range []platform.Platform{{OS: "linux", Arch: "arm64"}, {OS: "linux", Arch: "arm", Variant: "v7"}} {
		goenv, err := p.GoEnv()
		if err != nil {
			t.Fatal(err)
		}
		args := map[string]string{"GO_IMAGE": "localhost:5000/crossbin/golang:1.26.8", "VERSION": "v3.6.2"}
		for _, v := range goenv {
			args[v.Name] = v.Value
		}
		reqs = append(reqs, BuildRequest{
			Context: "/repo/dockerfiles/helm", Platform: p, Args: args,
			Contexts:   map[string]string{"source": "/cache/source/helm-" + p.Arch},
			Secrets:    map[string]string{"netrc": "machine example.com password s3cret"},
			Repository: "localhost:5000/crossbin", SourceDateEpoch: 1623332829, Progress: "plain", Provenance: "mode=max",
		})
	}
	return append(reqs, BuildRequest{
		Context: "/repo/unavailable", Dockerfile: "/repo/unavailable/Dockerfile", Platform: platform.Platform{OS: "linux", Arch: "s390x"},
		Args:       map[string]string{"NAME": "helm", "VERSION": "v3.6.2", "PLATFORM": "linux/s390x"},
		Repository: "localhost:5000/crossbin", SourceDateEpoch: 1623332829, Progress: "plain",
	})
}

func TestBakeDefinition(t *testing.T) {
	reqs := batch(t)
	def, err := BakeDefinition(reqs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(def), "s3cret") {
		t.Fatal("a secret's value is in the bake file")
	}
	golden.Check(t, "bake.json", append(def, '\n'))

	// Each target builds what BuildArgv builds alone: the same flags.
	var f bakeFile
	if err := json.Unmarshal(def, &f); err != nil {
		t.Fatal(err)
	}
	for k, name := range BakeTargets(reqs) {
		if got, want := f.Target[name], targetOfArgv(t, BuildArgv(reqs[k])); !reflect.DeepEqual(got, want) {
			t.Errorf("target %s differs from its build argv:\nbake: %+v\nargv: %+v", name, got, want)
		}
	}
}

// targetOfArgv reads a build command line back as a bake target.
func targetOfArgv(t *testing.T, argv []string) bakeTarget {
	t.Helper()
	tg := bakeTarget{Context: argv[len(argv)-1], Args: map[string]string{}}
	for k := 0; k < len(argv)-1; k++ {
		flag, val, _ := strings.Cut(argv[k], "=")
		next := func() string { k++; return argv[k] }
		switch flag {
		case "--platform":
			tg.Platforms = []string{next()}
		case "--file":
			tg.Dockerfile = next()
		case "--build-arg":
			name, v, _ := strings.Cut(next(), "=")
			tg.Args[name] = v
		case "--build-context":
			name, v, _ := strings.Cut(next(), "=")
			if tg.Contexts == nil {
				tg.Contexts = map[string]string{}
			}
			tg.Contexts[name] = v
		case "--secret":
			tg.Secret = append(tg.Secret, next())
		case "--output":
			tg.Output = []string{next()}
		case "--provenance":
			if val == "false" {
				tg.Attest = append(tg.Attest, "type=provenance,disabled=true")
			} else {
				tg.Attest = append(tg.Attest, "type=provenance,"+val)
			}
		case "--sbom":
			tg.Attest = append(tg.Attest, "type=sbom,disabled=true")
		case "--progress", "--metadata-file":
			next()
		case "build":
		default:
			t.Fatalf("flag %s has no bake counterpart in this test", argv[k])
		}
	}
	return tg
}

func TestBakeDefinitionSecretConflict(t *testing.T) {
	reqs := batch(t)
	reqs[1].Secrets = map[string]string{"netrc": "other"}
	if _, err := BakeDefinition(reqs); err == nil || !strings.Contains(err.Error(), `secret "netrc" differs`) {
		t.Errorf("conflicting secrets: %v", err)
	}
}

// TestBuildBatch runs a stand-in buildx that checks what bake receives
// and prints progress and writes the metadata file as bake does.
func TestBuildBatch(t *testing.T) {
	reqs := batch(t)
	names := BakeTargets(reqs)
	md := map[string]any{"buildx.build.warnings": []string{}}
	for k, n := range names {
		md[n] = map[string]string{"containerimage.digest": "sha256:" + strings.Repeat(string(rune('a'+k)), 64)}
	}
	data, _ := json.Marshal(md)
	good := filepath.Join(t.TempDir(), "md.json")
	os.WriteFile(good, data, 0o644)
	// The stand-in finds the bake file after --file and the metadata file
	// after --metadata-file, and wants read access to exactly the
	// requests' directories.
	script := `while [ $# -gt 0 ]; do case "$1" in --file) f=$2;; --metadata-file) m=$2;; --allow) allow="$allow $2";; esac; shift; done
[ -f "$f" ] && [ "$allow" = "$ALLOW" ] && [ "$CROSSBIN_SECRET_NETRC" = "machine example.com password s3cret" ] || { echo "ERROR: bad call: $allow"; exit 1; }
echo '#7 [t1-linux-arm-v7 build 3/3] RUN go install'; echo '#7 DONE 2.5s'; echo '#8 [t1-linux-arm-v7] exporting to image'; echo '#8 DONE 0.5s'
cp "$SRC" "$m"`
	allow := ""
	for _, d := range []string{"/cache/source/helm-arm", "/cache/source/helm-arm64", "/repo/dockerfiles/helm", "/repo/unavailable"} {
		allow += " fs.read=" + d
	}
	b := Builder{Client: Client{Path: "/bin/sh", Prefix: []string{"-c", script, "buildx", "bake"}, Env: []string{"SRC=" + good, "ALLOW=" + allow}}}
	got, err := b.BuildBatch(context.Background(), t.TempDir(), "helm", reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Digests) != 3 || got.Digests[0].Hex[0] != 'a' || got.Digests[2].Hex[0] != 'c' {
		t.Errorf("digests = %v", got.Digests)
	}
	if fmt.Sprint(got.Times) != "[0s 3s 0s]" {
		t.Errorf("times = %v; want arm/v7's own steps", got.Times)
	}

	// A failed step: bake names its target; the error is Build's.
	b.Client.Prefix[1] = `echo '#9 [t1-linux-arm-v7 build 3/3] RUN go install'; echo '#9 0.9 main.go:3:1: undefined: x'; echo '#9 ERROR: process did not complete successfully: exit code: 1'
echo 'ERROR: target t1-linux-arm-v7: failed to solve: process "/bin/sh -c go install" did not complete successfully: exit code: 1'; exit 1`
	_, err = b.BuildBatch(context.Background(), t.TempDir(), "helm", reqs)
	var be *BatchError
	if !errors.As(err, &be) || be.Target != 1 || !strings.Contains(err.Error(), "undefined: x") || !strings.HasPrefix(err.Error(), "buildx bake:") {
		t.Errorf("failed bake: %#v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Error("the secret is in the error")
	}
	b.Client.Prefix[1] = `echo '#9 ERROR: mkdir /tmp/go-build1: no space left on device'; exit 1`
	_, err = b.BuildBatch(context.Background(), t.TempDir(), "helm", reqs)
	if !errors.Is(err, ErrNoSpace) || !errors.As(err, &be) || be.Target != -1 {
		t.Errorf("full disk: %v", err)
	}
}

func TestBakeDefinitionLiterals(t *testing.T) {
	reqs := batch(t)[2:]
	reqs[0].Args["GOFLAGS"] = "-ldflags=-X=main.v=${v}%{x}"
	reqs[0].Provenance = "false"
	def, err := BakeDefinition(reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"GOFLAGS": "-ldflags=-X=main.v=$${v}%%{x}"`, `"type=provenance,disabled=true"`} {
		if !strings.Contains(string(def), want) {
			t.Errorf("bake file lacks %s:\n%s", want, def)
		}
	}
	// A relative path is the working directory's, as buildx build reads it.
	reqs[0].Context, reqs[0].Dockerfile = "unavailable", "unavailable/Dockerfile"
	def, err = BakeDefinition(reqs)
	wd, _ := os.Getwd()
	if err != nil || !strings.Contains(string(def), `"context": "`+filepath.Join(wd, "unavailable")+`"`) ||
		!strings.Contains(string(def), `"dockerfile": "`+filepath.Join(wd, "unavailable", "Dockerfile")+`"`) {
		t.Errorf("relative paths: %v\n%s", err, def)
	}
	if got := BakeAllow(reqs); len(got) != 1 || got[0] != filepath.Join(wd, "unavailable") {
		t.Errorf("BakeAllow = %v", got)
	}
}

func TestTargetTimes(t *testing.T) {
	out, err := os.ReadFile("testdata/bake-shfmt.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := TargetTimes(string(out))
	var sum time.Duration
	for _, d := range got {
		sum += d
	}
	all := StepTimes(string(out))
	// Every step but bake's own "[internal]" ones belongs to a target.
	if len(got) != 12 || sum != all[KindCompile]+all[KindExport]+all[KindModules]+all[KindOther]-got["internal"] || got["linux-386"] == 0 {
		t.Errorf("TargetTimes = %v (sum %s), StepTimes = %v", got, sum, all)
	}
}

func TestReadBakeDigests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "md.json")
	os.WriteFile(path, []byte(`{"t0-linux-amd64":{"containerimage.digest":"sha256:`+strings.Repeat("0", 64)+`"},"t1-linux-386":{"buildx.build.ref":"x"}}`), 0o644)
	if _, err := readBakeDigests(path, []string{"t0-linux-amd64"}); err != nil {
		t.Errorf("one target: %v", err)
	}
	if _, err := readBakeDigests(path, []string{"t0-linux-amd64", "t1-linux-386"}); err == nil || !strings.Contains(err.Error(), "no image digest for t1-linux-386") {
		t.Errorf("a target without its digest: %v", err)
	}
	if _, err := readBakeDigests(path, []string{"t2-linux-arm64"}); err == nil {
		t.Error("a missing target accepted")
	}
}
