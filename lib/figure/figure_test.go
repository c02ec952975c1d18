package figure

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestLinspace(t *testing.T) {
	if got := Linspace(1, 21, 81); len(got) != 81 || got[0] != 1 || got[80] != 21 || got[4] != 2 {
		t.Errorf("Linspace(1, 21, 81) = %v", got)
	}
}

// TestBin checks NumPy's histogram convention on hand-counted cases.
func TestBin(t *testing.T) {
	edges := []float64{1, 2, 3, 4}
	values := []float64{0.5, 1, 1.5, 2, 2.999, 3, 4, 4.5, -1}
	// [1,2): 1, 1.5   [2,3): 2, 2.999   [3,4]: 3, 4 (last bin closed)
	if got, want := Bin(values, edges), []float64{2, 2, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("Bin = %v, want %v", got, want)
	}
	if _, err := NewHistogram(values, []float64{2, 1}, 0); err == nil {
		t.Error("descending edges accepted")
	}
}

func histogramFigure(t *testing.T) *Figure {
	f := New("test", "histogram", 1, 2)
	for j, vals := range [][]float64{{1, 1, 1, 1.2, 2, 3.5, 3.6}, {1.1, 4}} {
		h, err := NewHistogram(vals, Linspace(1, 5, 17), j)
		if err != nil {
			t.Fatal(err)
		}
		p := f.Panel(0, j)
		p.Title.Text = "panel"
		LogY(p)
		p.Add(h)
		p.Y.Min, p.Y.Max = 0.5, 10
	}
	f.Note = "note: a test figure"
	return f
}

// TestHistogramGolden compares the SVG of a small two-panel log-y
// histogram with testdata/histogram.golden.svg (go test -update rewrites it).
func TestHistogramGolden(t *testing.T) {
	got, err := histogramFigure(t).Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "histogram.golden.svg")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		os.WriteFile(filepath.Join(t.TempDir(), "got.svg"), got, 0o644)
		t.Errorf("SVG differs from %s; inspect, then go test -update ./lib/figure", golden)
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	f := histogramFigure(t)
	paths, err := f.Save(dir, "svg", "pdf", "png")
	if err != nil {
		t.Fatal(err)
	}
	magic := map[string]string{".svg": "<?xml", ".pdf": "%PDF", ".png": "\x89PNG"}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), magic[filepath.Ext(p)]) {
			t.Errorf("%s: %v, starts %q", p, err, b[:min(8, len(b))])
		}
		if filepath.Dir(p) != filepath.Join(dir, "test") {
			t.Errorf("%s not under %s/test", p, dir)
		}
	}
	// PNG is deterministic too.
	a, _ := f.Render("png")
	b, _ := f.Render("png")
	if !bytes.Equal(a, b) {
		t.Error("PNG differs between renders")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "test", ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if _, err := f.Render("jpeg2000"); err == nil {
		t.Error("unknown format accepted")
	}
}
