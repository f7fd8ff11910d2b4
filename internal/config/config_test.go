package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/platform"
)

func envOf(kv map[string]string) Env {
	return func(name string) (string, bool) { v, ok := kv[name]; return v, ok }
}

var defaults = Defaults{CacheDir: "/cache/crossbin", CPUs: 2, MemBytes: 24 << 30}

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(envOf(nil), map[string]string{"GOPROXY": "https://proxy.golang.org,direct", "GOFLAGS": ""}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || c.Builder != "" {
		t.Errorf("Embedded() = false, Builder %q; want the embedded stack by default", c.Builder)
	}
	if c.Image != "127.0.0.1:5000/crossbin" || c.RegistryPort != 5000 {
		t.Errorf("Image %q port %d; want 127.0.0.1:5000/crossbin on 5000", c.Image, c.RegistryPort)
	}
	if c.Jobs != 2 || c.CacheDir != "/cache/crossbin" || c.Platforms != nil || c.Verbose {
		t.Errorf("got %+v", c)
	}
	if len(c.GoEnv) != 1 || c.GoEnv["GOPROXY"] != "https://proxy.golang.org,direct" {
		t.Errorf("GoEnv = %v; want only the non-empty GOPROXY", c.GoEnv)
	}
}

func TestFromEnvSettings(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{
		"CROSSBIN_BUILDER":       " desktop-linux ",
		"CROSSBIN_IMAGE":         "ghcr.io/me/crossbin",
		"CROSSBIN_PLAN_IMAGE":    "ghcr.io/upstream/crossbin",
		"CROSSBIN_REGISTRY_PORT": "5123",
		"CROSSBIN_PLATFORMS":     "linux/aarch64, linux/riscv64",
		"CROSSBIN_JOBS":          "3",
		"CROSSBIN_CACHE_DIR":     "/tmp/cb",
		"CROSSBIN_GO_IMAGE":      "golang:1.26-alpine",
		"CROSSBIN_DEBIAN_IMAGE":  "debian:trixie-slim",
		"MAGEFILE_VERBOSE":       "1",
	}), nil, defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := []platform.Platform{{OS: "linux", Arch: "arm64"}, {OS: "linux", Arch: "riscv64"}}
	if len(c.Platforms) != 2 || c.Platforms[0] != want[0] || c.Platforms[1] != want[1] {
		t.Errorf("Platforms = %v; want %v", c.Platforms, want)
	}
	if c.Builder != "desktop-linux" || c.Embedded() || c.Image != "ghcr.io/me/crossbin" || c.PlanRepository() != "ghcr.io/upstream/crossbin" || c.RegistryPort != 5123 ||
		c.Jobs != 3 || c.CacheDir != "/tmp/cb" || c.GoImage != "golang:1.26-alpine" || c.DebianImage != "debian:trixie-slim" || !c.Verbose {
		t.Errorf("got %+v", c)
	}
}

func TestFromEnvImageFollowsPort(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"CROSSBIN_REGISTRY_PORT": "5001"}), nil, defaults)
	if err != nil || c.Image != "127.0.0.1:5001/crossbin" || c.PlanRepository() != c.Image {
		t.Fatalf("Image = %q, plan repository %q, err %v; want 127.0.0.1:5001/crossbin for both", c.Image, c.PlanRepository(), err)
	}
}

func TestFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"CROSSBIN_REGISTRY_PORT", "http", "CROSSBIN_REGISTRY_PORT=\"http\": want a port number"},
		{"CROSSBIN_REGISTRY_PORT", "70000", "want a port number 1-65535"},
		{"CROSSBIN_REGISTRY_PORT", "0", "want a port number 1-65535"},
		{"CROSSBIN_JOBS", "0", "CROSSBIN_JOBS=\"0\": want a positive number"},
		{"CROSSBIN_JOBS", "many", "want a positive number"},
		{"CROSSBIN_PLATFORMS", "linux/arm64,windows", "CROSSBIN_PLATFORMS"},
		{"CROSSBIN_PLATFORMS", "linux/sparc", "CROSSBIN_PLATFORMS"},
		{"CROSSBIN_PLATFORMS", " ", "CROSSBIN_PLATFORMS: empty platform list: \" \" names no platform"},
		{"CROSSBIN_PLATFORMS", ",", "CROSSBIN_PLATFORMS: empty platform list"},
		{"CROSSBIN_TIMEOUT_BUILD", "10", "CROSSBIN_TIMEOUT_BUILD=\"10\": want a positive duration such as 90s or 30m"},
		{"CROSSBIN_MIN_FREE", "lots", "CROSSBIN_MIN_FREE=\"lots\": want a size such as 10GiB or 500MiB"},
		{"CROSSBIN_TIMEOUT_SOURCE", "-1m", "CROSSBIN_TIMEOUT_SOURCE=\"-1m\": want a positive duration"},
		{"CROSSBIN_TIMEOUT_REGISTRY", "0s", "CROSSBIN_TIMEOUT_REGISTRY=\"0s\""},
		{"CROSSBIN_IMAGE", "ghcr.io/me/crossbin:latest", "without tag or digest"},
		{"CROSSBIN_IMAGE", "ghcr.io/me/crossbin@sha256:0000000000000000000000000000000000000000000000000000000000000000", "without tag or digest"},
		{"CROSSBIN_IMAGE", "UPPER/case", "CROSSBIN_IMAGE"},
		{"CROSSBIN_PLAN_IMAGE", "ghcr.io/me/crossbin:latest", "CROSSBIN_PLAN_IMAGE=\"ghcr.io/me/crossbin:latest\": "},
		{"CROSSBIN_TARBALL_MIRRORS", "mirror.example/{sha256}", `CROSSBIN_TARBALL_MIRRORS: "mirror.example/{sha256}": want an http(s) URL template`},
		{"CROSSBIN_TARBALL_MIRRORS", "https://a.example/{file}, https://b.example/all.tar.gz", `"https://b.example/all.tar.gz": name the tarball with {sha256} or {file}`},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := FromEnv(envOf(map[string]string{tc.name: tc.value}), nil, defaults)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestFromEnvJoinsErrors(t *testing.T) {
	_, err := FromEnv(envOf(map[string]string{"CROSSBIN_JOBS": "x", "CROSSBIN_REGISTRY_PORT": "y"}), nil, defaults)
	if err == nil || !strings.Contains(err.Error(), "CROSSBIN_JOBS") || !strings.Contains(err.Error(), "CROSSBIN_REGISTRY_PORT") {
		t.Fatalf("err = %v; want both settings named", err)
	}
}

func TestDefaultJobs(t *testing.T) {
	for _, tc := range []struct {
		cpus int
		mem  uint64
		want int
	}{
		{2, 24 << 30, 2},
		{16, 8 << 30, 4},
		{16, 0, 16},
		{0, 0, 1},
		{4, 1 << 30, 1},
	} {
		if got := DefaultJobs(tc.cpus, tc.mem); got != tc.want {
			t.Errorf("DefaultJobs(%d, %d) = %d; want %d", tc.cpus, tc.mem, got, tc.want)
		}
	}
}

func TestFromEnvTimeouts(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{}), nil, defaults)
	if err != nil || c.Timeouts != DefaultTimeouts {
		t.Fatalf("defaults: %+v, %v", c.Timeouts, err)
	}
	c, err = FromEnv(envOf(map[string]string{"CROSSBIN_TIMEOUT_SOURCE": "90s", "CROSSBIN_TIMEOUT_BUILD": "2h", "CROSSBIN_TIMEOUT_REGISTRY": "10s"}), nil, defaults)
	if err != nil || c.Timeouts != (Timeouts{Source: 90 * time.Second, Build: 2 * time.Hour, Registry: 10 * time.Second}) {
		t.Fatalf("set: %+v, %v", c.Timeouts, err)
	}
}

func TestFromEnvMinFree(t *testing.T) {
	for v, want := range map[string]uint64{"": 0, "10GiB": 10 << 30, "500MiB": 500 << 20, "0": 0} {
		c, err := FromEnv(envOf(map[string]string{"CROSSBIN_MIN_FREE": v}), nil, defaults)
		if err != nil || c.MinFree != want {
			t.Errorf("CROSSBIN_MIN_FREE=%q: %d, %v; want %d", v, c.MinFree, err, want)
		}
	}
}

func TestFromEnvSigning(t *testing.T) {
	c, err := FromEnv(envOf(nil), nil, defaults)
	if err != nil {
		t.Fatal(err)
	}
	if c.Signing != (Signing{}) {
		t.Errorf("Signing = %+v; want no key, no transparency log by default", c.Signing)
	}
	for _, tc := range []struct{ tlog, want string }{
		{"off", ""}, {"on", DefaultRekor}, {"https://rekor.example", "https://rekor.example"},
	} {
		c, err := FromEnv(envOf(map[string]string{
			"CROSSBIN_SIGNING_KEY": "/keys/cosign.key",
			"COSIGN_PASSWORD":      " s3cret ",
			"CROSSBIN_VERIFY_KEY":  "/keys/cosign.pub",
			"CROSSBIN_TLOG":        tc.tlog,
		}), nil, defaults)
		if err != nil {
			t.Fatal(err)
		}
		want := Signing{Key: "/keys/cosign.key", Password: " s3cret ", VerifyKey: "/keys/cosign.pub", TLog: tc.want}
		if c.Signing != want {
			t.Errorf("CROSSBIN_TLOG=%s: Signing = %#v, want %#v", tc.tlog, c.Signing, want)
		}
		// Printed in any form, the password stays hidden.
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(f, c); strings.Contains(out, "s3cret") {
				t.Errorf("Sprintf(%q, config) shows the password: %s", f, out)
			}
		}
	}
	if _, err := FromEnv(envOf(map[string]string{"CROSSBIN_TLOG": "yes"}), nil, defaults); err == nil || !strings.Contains(err.Error(), "CROSSBIN_TLOG") {
		t.Errorf("CROSSBIN_TLOG=yes: err = %v, want one naming the setting", err)
	}
}

func TestFromEnvTarballMirrors(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"CROSSBIN_TARBALL_MIRRORS": " https://a.example/sha256/{sha256} ,, http://b.example/{file}"}), nil, defaults)
	if err != nil || strings.Join(c.TarballMirrors, " ") != "https://a.example/sha256/{sha256} http://b.example/{file}" {
		t.Fatalf("mirrors %q, err %v", c.TarballMirrors, err)
	}
	if c, _ := FromEnv(envOf(nil), nil, defaults); c.TarballMirrors != nil {
		t.Errorf("default mirrors %q, want none", c.TarballMirrors)
	}
}
