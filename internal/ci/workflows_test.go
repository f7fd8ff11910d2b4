package ci

import (
	"os/exec"
	"path/filepath"
	"testing"
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
