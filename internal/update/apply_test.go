package update

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crossbin/crossbin/internal/catalog"
)

// fakeVerifier records the trial builds; fail names the programs whose build
// fails, setup is the error of readying the builds.
type fakeVerifier struct {
	setup   error
	fail    map[string]error
	readied int
	built   []catalog.Program
}

func (f *fakeVerifier) verify(context.Context) (Build, error) {
	f.readied++
	if f.setup != nil {
		return nil, f.setup
	}
	return func(_ context.Context, p catalog.Program) error {
		f.built = append(f.built, p)
		return f.fail[p.Name]
	}, nil
}

// pinned is the version p's Dockerfile pins on disk now.
func pinned(t *testing.T, p catalog.Program) string {
	t.Helper()
	reloaded, err := catalog.LoadProgram(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return reloaded.Version
}

func bump(p catalog.Program, version string) Row {
	return Row{Program: p, Old: p.Version, New: version, Notes: []string{"from check"}}
}

func TestApplyKeepsWhatBuildsAndRevertsTheRest(t *testing.T) {
	helm, shfmt := copyProgram(t, "helm"), copyProgram(t, "shfmt")
	f := &fakeVerifier{fail: map[string]error{"helm": errors.New("exit status 1")}}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8")}, f.verify)

	if got := pinned(t, helm); got != helm.Version {
		t.Errorf("helm pinned %s after a failed build; want %s (reverted)", got, helm.Version)
	}
	want := "helm v9.8.7 does not build, the bump is reverted: exit status 1"
	if rows[0].Err == nil || rows[0].Err.Error() != want {
		t.Errorf("helm error %v; want %q", rows[0].Err, want)
	}
	if rows[0].Bumped() {
		t.Error("helm still reads as bumped")
	}

	if got := pinned(t, shfmt); got != "v9.8.8" {
		t.Errorf("shfmt pinned %s after a passing build; want v9.8.8", got)
	}
	if rows[1].Err != nil || !slices.Equal(rows[1].Notes, []string{"from check", "verified by a build"}) {
		t.Errorf("shfmt row %+v; want no error and the note", rows[1])
	}

	// The trial builds see the programs as bumped, one build each.
	var versions []string
	for _, p := range f.built {
		versions = append(versions, p.Name+"@"+p.Version)
	}
	if !slices.Equal(versions, []string{"helm@v9.8.7", "shfmt@v9.8.8"}) || f.readied != 1 {
		t.Errorf("built %v after readying %d times; want helm@v9.8.7, shfmt@v9.8.8 after once", versions, f.readied)
	}
}

func TestApplyRevertsAllWhenNoBuildCanRun(t *testing.T) {
	helm, shfmt := copyProgram(t, "helm"), copyProgram(t, "shfmt")
	f := &fakeVerifier{setup: errors.New("start buildkitd: no space left on device")}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8")}, f.verify)
	for i, p := range []catalog.Program{helm, shfmt} {
		if got := pinned(t, p); got != p.Version {
			t.Errorf("%s pinned %s; want %s (reverted)", p.Name, got, p.Version)
		}
		want := p.Name + ": cannot verify the bump: start buildkitd: no space left on device"
		if rows[i].Err == nil || rows[i].Err.Error() != want {
			t.Errorf("%s error %v; want %q", p.Name, rows[i].Err, want)
		}
	}
	if len(f.built) != 0 {
		t.Errorf("built %d programs without a builder", len(f.built))
	}
}

func TestApplyLeavesRowsThatDoNotBump(t *testing.T) {
	helm, dlv, shfmt := copyProgram(t, "helm"), copyProgram(t, "dlv"), copyProgram(t, "shfmt")
	before := map[string][]byte{}
	for _, p := range []catalog.Program{helm, dlv} {
		before[p.Name], _ = os.ReadFile(p.Dockerfile())
	}
	in := []Row{
		{Program: helm, Old: helm.Version, New: helm.Version, Notes: []string{"newest"}}, // current
		{Program: dlv, Old: dlv.Version, New: "v9.8.7", Err: errors.New("dlv: GET 503")}, // check failed
		bump(shfmt, "v9.8.8"),
	}
	orig := slices.Clone(in)
	f := &fakeVerifier{}
	rows := Apply(context.Background(), in, f.verify)
	for i := range 2 {
		if rows[i].Program.Name != orig[i].Program.Name || rows[i].New != orig[i].New || rows[i].Err != orig[i].Err || !slices.Equal(rows[i].Notes, orig[i].Notes) {
			t.Errorf("row %d changed: %+v; was %+v", i, rows[i], orig[i])
		}
		after, _ := os.ReadFile(rows[i].Program.Dockerfile())
		if string(after) != string(before[rows[i].Program.Name]) {
			t.Errorf("%s's Dockerfile changed", rows[i].Program.Name)
		}
	}
	if len(f.built) != 1 || f.built[0].Name != "shfmt" {
		t.Errorf("built %v; want only shfmt", f.built)
	}
	if !slices.Equal(in[2].Notes, orig[2].Notes) {
		t.Errorf("Apply changed its input: %+v", in[2])
	}

	// Nothing bumped: no builder is readied (no stack started for nothing).
	f = &fakeVerifier{}
	Apply(context.Background(), in[:2], f.verify)
	if f.readied != 0 {
		t.Errorf("readied the builds %d times with nothing bumped", f.readied)
	}
}

func TestApplyWithoutVerifierWritesTheBumps(t *testing.T) {
	shfmt := copyProgram(t, "shfmt")
	rows := Apply(context.Background(), []Row{bump(shfmt, "v9.8.8")}, nil)
	if got := pinned(t, shfmt); got != "v9.8.8" || rows[0].Err != nil || !slices.Equal(rows[0].Notes, []string{"from check"}) {
		t.Errorf("pinned %s, row %+v; want v9.8.8 without a note", got, rows[0])
	}
}

func TestApplyReportsAFailedWriteAndRevert(t *testing.T) {
	helm, shfmt := copyProgram(t, "helm"), copyProgram(t, "shfmt")
	os.Remove(helm.Dockerfile())
	// shfmt's build removes its Dockerfile, so the revert cannot write it.
	f := &fakeVerifier{fail: map[string]error{"shfmt": errors.New("exit status 2")}}
	build := func(ctx context.Context) (Build, error) {
		b, err := f.verify(ctx)
		return func(ctx context.Context, p catalog.Program) error {
			os.Remove(p.Dockerfile())
			return b(ctx, p)
		}, err
	}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8")}, build)
	if rows[0].Err == nil || !errors.Is(rows[0].Err, os.ErrNotExist) {
		t.Errorf("helm error %v; want the failed write", rows[0].Err)
	}
	if len(f.built) != 1 || f.built[0].Name != "shfmt" {
		t.Errorf("built %v; want only shfmt (helm was never written)", f.built)
	}
	err := rows[1].Err
	if err == nil || !strings.HasPrefix(err.Error(), "shfmt v9.8.8 does not build, the bump is reverted: exit status 2\nrevert shfmt to "+shfmt.Version+": ") {
		t.Errorf("shfmt error %v; want the failed build and the failed revert", err)
	}
}

func TestApplyRevertsAProgramThatNoLongerLoads(t *testing.T) {
	shfmt := copyProgram(t, "shfmt")
	f := &fakeVerifier{}
	build := func(ctx context.Context) (Build, error) {
		os.WriteFile(filepath.Join(shfmt.Dir, catalog.SpecFile), []byte("nonsense: true\n"), 0o644)
		return f.verify(ctx)
	}
	rows := Apply(context.Background(), []Row{bump(shfmt, "v9.8.8")}, build)
	if rows[0].Err == nil || !strings.Contains(rows[0].Err.Error(), catalog.SpecFile) {
		t.Errorf("error %v; want the load failure", rows[0].Err)
	}
	if len(f.built) != 0 {
		t.Errorf("built %v", f.built)
	}
	df, _ := os.ReadFile(shfmt.Dockerfile())
	if !strings.Contains(string(df), "ARG VERSION="+shfmt.Version+"\n") {
		t.Error("the bump stayed although the program no longer loads")
	}
}
