package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestWorkflows lints .github/workflows with actionlint (a go tool of this
// module; building it the first time needs the module proxy).
func TestWorkflows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds actionlint from the module proxy (skipped with -short)")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", ".github", "workflows", "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("workflows: %v %v", files, err)
	}
	out, err := exec.Command("go", append([]string{"tool", "actionlint"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// workflow is the part of a GitHub Actions workflow the rules below read.
type workflow struct {
	Concurrency concurrency
	Jobs        map[string]struct {
		If          string
		Concurrency concurrency
		Steps       []step
	}
}

type concurrency struct {
	Group            string
	CancelInProgress bool `yaml:"cancel-in-progress"`
}

type step struct {
	ID              string
	If              string
	Run             string
	Uses            string
	ContinueOnError any `yaml:"continue-on-error"`
}

func readWorkflow(t *testing.T, name string) workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// findStep returns the step of job whose run or uses contains what.
func (w workflow) findStep(t *testing.T, job, what string) step {
	t.Helper()
	for _, s := range w.Jobs[job].Steps {
		if strings.Contains(s.Run, what) || strings.Contains(s.Uses, what) {
			return s
		}
	}
	t.Fatalf("job %s has no step with %q", job, what)
	return step{}
}

// TestUpdateWorkflow: the bumps that built are proposed even when others
// failed (mage update exits non-zero then), and the job still fails.
func TestUpdateWorkflow(t *testing.T) {
	w := readWorkflow(t, "update.yml")
	update := w.findStep(t, "update", "go tool mage update")
	if update.ContinueOnError != nil {
		t.Errorf("the update step has continue-on-error: %v; a failed update must fail the job", update.ContinueOnError)
	}
	pr := w.findStep(t, "update", "peter-evans/create-pull-request")
	if !strings.Contains(pr.If, "!cancelled()") {
		t.Errorf("the pull request step runs only when every step before it passed (if: %q); it must run after a failed update too", pr.If)
	}
	if !strings.Contains(pr.If, "steps.changes.outputs.changed") {
		t.Errorf("the pull request step does not check for changes (if: %q)", pr.If)
	}
}

// TestPublishWorkflow: publishing runs take turns as a whole (plan, builds,
// merge), a failing ci:plan fails its job, and one failing program or
// platform leaves the others to be built and merged.
func TestPublishWorkflow(t *testing.T) {
	w := readWorkflow(t, "publish.yml")
	if w.Concurrency.Group != "crossbin-publish" || w.Concurrency.CancelInProgress {
		t.Errorf("workflow concurrency %+v; want group crossbin-publish without cancel-in-progress", w.Concurrency)
	}
	for name, job := range w.Jobs {
		if job.Concurrency.Group != "" {
			t.Errorf("job %s has its own concurrency group %q: on the matrix job it holds the platform jobs against each other", name, job.Concurrency.Group)
		}
	}
	plan := w.findStep(t, "plan", "ci:plan")
	if !strings.Contains(plan.Run, "ci:plan -out=\"$GITHUB_OUTPUT\"") || strings.Contains(plan.Run, "$(") {
		t.Errorf("plan step %q: ci:plan must write $GITHUB_OUTPUT itself, so its exit code is the step's", plan.Run)
	}
	for _, job := range []string{"build-platform", "merge"} {
		if !strings.Contains(w.Jobs[job].If, "!cancelled()") {
			t.Errorf("job %s runs only when every job before it passed (if: %q); one failed program must not stop the others", job, w.Jobs[job].If)
		}
	}
	w.findStep(t, "merge", "ci:merge")

	// Nothing else publishes: ci.yml's pull request build pushes to the
	// runner's own registry.
	data, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", "ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"ci:plan", "ci:build", "ci:merge"} {
		if strings.Contains(string(data), target) {
			t.Errorf("ci.yml runs %s outside the publishing workflow's concurrency group", target)
		}
	}
}
