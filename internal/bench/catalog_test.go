package bench

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossbin/crossbin/internal/catalog"
	"github.com/crossbin/crossbin/internal/golden"
	"github.com/crossbin/crossbin/internal/platform"
)

func TestParsePrograms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "", want: DefaultPrograms()},
		{in: " , ", want: DefaultPrograms()},
		{in: "helm", want: []string{"helm"}},
		{in: "gh, shfmt,", want: []string{"gh", "shfmt"}},
		{in: "gh,gh", err: "gh listed twice"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePrograms(tc.in)
			if errMatches(t, err, tc.err) && !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRatios(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name       string
		row        Row
		cold, warm float64
	}{
		{"both", Row{BareCold: 100 * s, CrossbinCold: 110 * s, BareWarm: 10 * s, CrossbinWarm: 20 * s}, 1.10, 2},
		{"crossbin faster", Row{BareCold: 100 * s, CrossbinCold: 50 * s, BareWarm: 10 * s, CrossbinWarm: 5 * s}, 0.5, 0.5},
		{"crossbin missing", Row{BareCold: 100 * s, BareWarm: 10 * s}, 0, 0},
		{"bare missing", Row{CrossbinCold: 100 * s, CrossbinWarm: 10 * s}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.row.ColdRatio(); got != tc.cold {
				t.Errorf("ColdRatio() = %v, want %v", got, tc.cold)
			}
			if got := tc.row.WarmRatio(); got != tc.warm {
				t.Errorf("WarmRatio() = %v, want %v", got, tc.warm)
			}
		})
	}
}

func TestTotal(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		rows []Row
		want Row
	}{
		{"none", nil, Row{Program: "total"}},
		{"sums", []Row{
			{Platforms: 11, BareCold: 60 * s, BareWarm: 6 * s, CrossbinCold: 66 * s, CrossbinWarm: 9 * s},
			{Platforms: 10, BareCold: 40 * s, BareWarm: 4 * s, CrossbinCold: 44 * s, CrossbinWarm: 6 * s},
		}, Row{Program: "total", Platforms: 21, BareCold: 100 * s, BareWarm: 10 * s, CrossbinCold: 110 * s, CrossbinWarm: 15 * s}},
		{"a pass stopped early", []Row{
			{Platforms: 11, BareCold: 60 * s, BareWarm: 6 * s, CrossbinCold: 66 * s},
			{Platforms: 11, BareCold: 40 * s, BareWarm: 4 * s},
		}, Row{Program: "total", Platforms: 22, BareCold: 100 * s, BareWarm: 10 * s}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Total(tc.rows); got != tc.want {
				t.Errorf("Total() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func comparison() Comparison {
	progs := programs()[:2]
	ms := time.Millisecond
	return Comparison{
		Programs:     progs,
		BareCold:     Pass{Times: []time.Duration{41234 * ms, 183456 * ms}, Peak: 3 << 30},
		BareWarm:     Pass{Times: []time.Duration{4512 * ms, 20100 * ms}, Peak: 2 << 30},
		CrossbinCold: Pass{Times: []time.Duration{47000 * ms, 195000 * ms}, Peak: 5 << 30},
		CrossbinWarm: Pass{Times: []time.Duration{8800 * ms}, Peak: 4 << 30},
		Jobs:         2,
	}
}

func TestComparisonGolden(t *testing.T) {
	c := comparison()
	golden.Check(t, "catalog.golden", []byte(c.String()))
	golden.Check(t, "catalog.md.golden", []byte(c.Markdown()))
}

func TestComparisonGoal(t *testing.T) {
	c := comparison()
	c.CrossbinCold.Times = []time.Duration{41 * time.Second, 180 * time.Second}
	if got := c.String(); !strings.Contains(got, "cold goal ≤ 1.10×: met (0.98×)") {
		t.Errorf("goal line missing in\n%s", got)
	}
	c.CrossbinCold.Times = c.CrossbinCold.Times[:1]
	if got := c.String(); !strings.Contains(got, "cold goal ≤ 1.10×: not measured") {
		t.Errorf("goal line missing in\n%s", got)
	}
}

// fakeSide records what Compare asks of it.
type fakeSide struct {
	name  string
	calls []string
	fail  string // program whose build fails
}

func (f *fakeSide) String() string { return f.name }

func (f *fakeSide) Cold(context.Context) error {
	f.calls = append(f.calls, "cold")
	return nil
}

func (f *fakeSide) Warm(context.Context) error {
	f.calls = append(f.calls, "warm")
	return nil
}

func (f *fakeSide) Build(_ context.Context, prog catalog.Program) error {
	f.calls = append(f.calls, prog.Name)
	if prog.Name == f.fail {
		return errors.New("boom")
	}
	return nil
}

func TestCompare(t *testing.T) {
	progs := programs()[:2]
	bare, crossbin := &fakeSide{name: "bare"}, &fakeSide{name: "crossbin"}
	c, err := Compare(context.Background(), progs, bare, crossbin, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cold", "shfmt", "helm", "warm", "shfmt", "warm", "helm"}
	if !slices.Equal(bare.calls, want) || !slices.Equal(crossbin.calls, want) {
		t.Errorf("calls: bare %q, crossbin %q, want %q each", bare.calls, crossbin.calls, want)
	}
	for _, p := range []Pass{c.BareCold, c.BareWarm, c.CrossbinCold, c.CrossbinWarm} {
		if len(p.Times) != len(progs) {
			t.Errorf("pass times %v, want one per program", p.Times)
		}
	}
}

func TestCompareStops(t *testing.T) {
	progs := programs()[:2]
	bare, crossbin := &fakeSide{name: "bare"}, &fakeSide{name: "crossbin", fail: "helm"}
	c, err := Compare(context.Background(), progs, bare, crossbin, nil)
	if err == nil || !strings.Contains(err.Error(), "crossbin, cold pass: helm: boom") {
		t.Fatalf("err = %v", err)
	}
	if len(c.BareWarm.Times) != 2 || len(c.CrossbinCold.Times) != 1 || crossbin.calls[len(crossbin.calls)-1] != "helm" {
		t.Errorf("after the failure: %+v, crossbin calls %q", c, crossbin.calls)
	}
}

func TestRealTarget(t *testing.T) {
	all := []platform.Platform{amd64, armv7}
	for _, tc := range []struct {
		name    string
		prog    catalog.Program
		subset  []platform.Platform
		publish bool
	}{
		{"all real", catalog.Program{Name: "a", Platforms: all}, nil, true},
		{"one unavailable", catalog.Program{Name: "b", Platforms: all, Unavailable: map[platform.Platform]string{armv7: "no"}}, []platform.Platform{amd64}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RealTarget(tc.prog)
			if !slices.Equal(got.Subset, tc.subset) || got.Publish != tc.publish {
				t.Errorf("RealTarget() = subset %v publish %v, want %v %v", got.Subset, got.Publish, tc.subset, tc.publish)
			}
		})
	}
}
