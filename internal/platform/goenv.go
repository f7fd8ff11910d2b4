package platform

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Var is one environment variable of the Go toolchain.
type Var struct {
	Name, Value string
}

func (v Var) String() string { return v.Name + "=" + v.Value }

// GoEnvNames lists, in a fixed order, every variable GoEnv sets. A Dockerfile
// that receives the mapping as build arguments declares each of them.
func GoEnvNames() []string {
	names := []string{"GOOS", "GOARCH"}
	for _, l := range levels {
		if !slices.Contains(names, l.name) {
			names = append(names, l.name)
		}
	}
	return names
}

// level describes how an architecture's variant selects its instruction-set
// level: which variable, the value for no variant, and the accepted variants
// with the value each one means.
type level struct {
	arches   []string
	name     string
	def      string
	variants map[string]string
}

var levels = []level{
	{
		arches: []string{"arm"}, name: "GOARM", def: "7",
		// arm/v8 is a 32-bit userland on an ARMv8 core; Go's best for it is v7.
		variants: map[string]string{"v5": "5", "v6": "6", "v7": "7", "v8": "7"},
	},
	{
		arches: []string{"amd64"}, name: "GOAMD64", def: "v1",
		variants: map[string]string{"v2": "v2", "v3": "v3", "v4": "v4"},
	},
	{
		arches: []string{"arm64"}, name: "GOARM64", def: "v8.0",
		variants: arm64Levels(),
	},
	{
		arches: []string{"386"}, name: "GO386", def: "sse2",
		variants: map[string]string{"sse2": "sse2", "softfloat": "softfloat"},
	},
	{
		arches: []string{"mips", "mipsle"}, name: "GOMIPS", def: "hardfloat",
		variants: map[string]string{"hardfloat": "hardfloat", "softfloat": "softfloat"},
	},
	{
		arches: []string{"mips64", "mips64le"}, name: "GOMIPS64", def: "hardfloat",
		variants: map[string]string{"hardfloat": "hardfloat", "softfloat": "softfloat"},
	},
	{
		arches: []string{"ppc64", "ppc64le"}, name: "GOPPC64", def: "power8",
		variants: map[string]string{"power8": "power8", "power9": "power9", "power10": "power10"},
	},
	{
		arches: []string{"riscv64"}, name: "GORISCV64", def: "rva20u64",
		variants: map[string]string{"rva20u64": "rva20u64", "rva22u64": "rva22u64", "rva23u64": "rva23u64"},
	},
}

// arm64Levels: OCI spells ARMv8.2 as arm64/v8.2, Go as GOARM64=v8.2.
// Go accepts v8.0..v8.9 and v9.0..v9.5.
func arm64Levels() map[string]string {
	m := map[string]string{}
	for minor := range 10 {
		v := fmt.Sprintf("v8.%d", minor)
		m[v] = v
	}
	for minor := range 6 {
		v := fmt.Sprintf("v9.%d", minor)
		m[v] = v
	}
	m["v9"] = "v9.0"
	return m
}

// GoEnv returns the Go toolchain environment that builds for p: every name
// of GoEnvNames, in that order, empty where it does not apply to p's
// architecture. Defaults are spelled out, so the result does not depend on
// the toolchain's own defaults.
func (p Platform) GoEnv() ([]Var, error) {
	env := []Var{{"GOOS", p.OS}, {"GOARCH", p.Arch}}
	var matched *level
	for i := range levels {
		if slices.Contains(levels[i].arches, p.Arch) {
			matched = &levels[i]
		}
	}
	switch {
	case matched == nil && p.Variant != "":
		return nil, fmt.Errorf("architecture %s has no variants, got %q", p.Arch, p.Variant)
	case matched != nil && p.Variant != "":
		if _, ok := matched.variants[p.Variant]; !ok {
			return nil, fmt.Errorf("unknown variant %q for %s (known: %s)", p.Variant, p.Arch, strings.Join(slices.Sorted(maps.Keys(matched.variants)), ", "))
		}
	}
	for _, name := range GoEnvNames()[2:] {
		value := ""
		if matched != nil && matched.name == name {
			value = matched.def
			if p.Variant != "" {
				value = matched.variants[p.Variant]
			}
		}
		env = append(env, Var{name, value})
	}
	return env, nil
}
