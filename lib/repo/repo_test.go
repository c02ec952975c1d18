package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "repo", "repo.go")); err != nil {
		t.Errorf("Root() = %s, which does not hold lib/repo", root)
	}
	if got, _ := RootFrom(filepath.Join(root, "notebooks", "pitot")); got != root {
		t.Errorf("RootFrom(notebooks/pitot) = %s, want %s", got, root)
	}
	if got := Rel(filepath.Join(root, "data", "pitot")); got != "data/pitot" {
		t.Errorf("Rel = %s", got)
	}
	if got := Rel("/elsewhere/x"); got != "/elsewhere/x" {
		t.Errorf("Rel outside = %s", got)
	}
	if _, err := RootFrom(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no paperlab checkout") {
		t.Errorf("RootFrom(tmp): %v", err)
	}
	t.Setenv("PAPERLAB_ROOT", "/some/where")
	if got, _ := Root(); got != "/some/where" {
		t.Errorf("PAPERLAB_ROOT ignored: %s", got)
	}
}
