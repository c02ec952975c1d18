package pitotfig

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/dataset"
)

// TestInterference draws the figure from the shipped data: one 2-way panel,
// and a note with the fractions of specs/pitot.md 1.2 (if2: .562 within
// 1.25x, .911 within 2x, maximum bin [9.50, 9.75)).
func TestInterference(t *testing.T) {
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Interference(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 1 || len(f.Panels[0]) != 1 {
		t.Fatalf("panels %dx%d, want 1x1", len(f.Panels), len(f.Panels[0]))
	}
	for _, s := range []string{"2-way: n=98,957", "56.2% <= 1.25x", "91.1% <= 2x", "max 9.51x", "data: data/pitot"} {
		if !strings.Contains(f.Note, s) {
			t.Errorf("note lacks %q: %s", s, f.Note)
		}
	}
	if len(InterferenceEdges) != 81 || InterferenceEdges[1] != 1.25 {
		t.Errorf("edges %v", InterferenceEdges[:2])
	}
	paths, err := f.Save(t.TempDir())
	if err != nil || len(paths) != 2 || filepath.Base(paths[0]) != "interference.svg" || filepath.Base(paths[1]) != "interference.pdf" {
		t.Errorf("saved %v, %v", paths, err)
	}

	// With 3- and 4-way sets present, there is a panel per set.
	p.Interference[3] = p.Interference[2]
	p.Interference[4] = p.Interference[2]
	if f, err = Interference(p); err != nil || len(f.Panels[0]) != 3 || f.Panel(0, 2).Title.Text != "4-way interference" {
		t.Errorf("with 3 sets: %v", err)
	}
	delete(p.Interference, 2)
	delete(p.Interference, 3)
	delete(p.Interference, 4)
	if _, err := Interference(p); err == nil {
		t.Error("no error without interference sets")
	}
}
