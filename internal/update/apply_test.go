package update

import (
	"context"
	"errors"
	"os"
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
	// onDisk is the version each program's Dockerfile pinned while it was
	// built.
	onDisk map[string]string
}

func (f *fakeVerifier) verify(context.Context) (Build, error) {
	f.readied++
	if f.setup != nil {
		return nil, f.setup
	}
	return func(_ context.Context, p catalog.Program) error {
		f.built = append(f.built, p)
		if reloaded, err := catalog.LoadProgram(p.Dir); err == nil {
			if f.onDisk == nil {
				f.onDisk = map[string]string{}
			}
			f.onDisk[p.Name] = reloaded.Version
		}
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

// dockerfiles reads the programs' Dockerfiles by name.
func dockerfiles(t *testing.T, progs ...catalog.Program) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range progs {
		data, err := os.ReadFile(p.Dockerfile())
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name] = string(data)
	}
	return out
}

// TestApplyVerifiesBeforeWriting: each bump is built at its new version
// while its Dockerfile still pins the old one; only the bumps that built
// are written, and a failing one stops no other.
func TestApplyVerifiesBeforeWriting(t *testing.T) {
	helm, shfmt := copyProgram(t, "helm"), copyProgram(t, "shfmt")
	before := dockerfiles(t, helm)
	f := &fakeVerifier{fail: map[string]error{"helm": errors.New("exit status 1")}}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8")}, f.verify)

	// The trial builds see the programs as bumped, one build each, with
	// their Dockerfiles not yet written.
	var versions []string
	for _, p := range f.built {
		versions = append(versions, p.Name+"@"+p.Version)
	}
	if !slices.Equal(versions, []string{"helm@v9.8.7", "shfmt@v9.8.8"}) || f.readied != 1 {
		t.Errorf("built %v after readying %d times; want helm@v9.8.7, shfmt@v9.8.8 after once", versions, f.readied)
	}
	if f.onDisk["helm"] != helm.Version || f.onDisk["shfmt"] != shfmt.Version {
		t.Errorf("the Dockerfiles pinned %v during the builds; want the old versions (verify before writing)", f.onDisk)
	}

	if after := dockerfiles(t, helm); after["helm"] != before["helm"] {
		t.Error("helm's Dockerfile was written although its build failed")
	}
	want := "helm v9.8.7 does not build, the bump is not written: exit status 1"
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
}

func TestApplyWritesNothingWhenNoBuildCanRun(t *testing.T) {
	helm, shfmt := copyProgram(t, "helm"), copyProgram(t, "shfmt")
	before := dockerfiles(t, helm, shfmt)
	f := &fakeVerifier{setup: errors.New("start buildkitd: no space left on device")}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8")}, f.verify)
	after := dockerfiles(t, helm, shfmt)
	for i, p := range []catalog.Program{helm, shfmt} {
		if after[p.Name] != before[p.Name] {
			t.Errorf("%s's Dockerfile was written without a build", p.Name)
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
		if rows[i].Program.Name != orig[i].Program.Name || rows[i].New != orig[i].New || !errors.Is(rows[i].Err, orig[i].Err) || !slices.Equal(rows[i].Notes, orig[i].Notes) {
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

func TestApplyReportsAFailedWrite(t *testing.T) {
	helm, shfmt, dlv := copyProgram(t, "helm"), copyProgram(t, "shfmt"), copyProgram(t, "dlv")
	os.Remove(helm.Dockerfile())
	// shfmt's build removes its Dockerfile, so the bump cannot be written.
	f := &fakeVerifier{}
	build := func(ctx context.Context) (Build, error) {
		b, err := f.verify(ctx)
		return func(ctx context.Context, p catalog.Program) error {
			if p.Name == "shfmt" {
				os.Remove(p.Dockerfile())
			}
			return b(ctx, p)
		}, err
	}
	rows := Apply(context.Background(), []Row{bump(helm, "v9.8.7"), bump(shfmt, "v9.8.8"), bump(dlv, "v9.8.9")}, build)
	if err := rows[0].Err; err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "helm: cannot pin v9.8.7: ") {
		t.Errorf("helm error %v; want the Dockerfile that cannot take the bump", err)
	}
	var built []string
	for _, p := range f.built {
		built = append(built, p.Name)
	}
	if !slices.Equal(built, []string{"shfmt", "dlv"}) {
		t.Errorf("built %v; want shfmt and dlv (helm's Dockerfile cannot take the bump, so no build is spent on it)", built)
	}
	if err := rows[1].Err; err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "shfmt: cannot pin v9.8.8: ") || slices.Contains(rows[1].Notes, "verified by a build") {
		t.Errorf("shfmt row %+v; want the failed write", rows[1])
	}
	if got := pinned(t, dlv); got != "v9.8.9" || rows[2].Err != nil {
		t.Errorf("dlv pinned %s, error %v; want v9.8.9 written", got, rows[2].Err)
	}
}
