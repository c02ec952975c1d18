package pitotfig

import (
	"math"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/train"
)

// fakeSummary has mf and if2 set at every level and replicate, with MAPE
// mape·(level index + 1) and width w at every alpha.
func fakeSummary(t *testing.T, levels []float64, reps int, mape, w float64) *conformal.Summary {
	t.Helper()
	s := &conformal.Summary{Levels: levels, Replicates: reps}
	a := len(conformal.Alphas)
	for _, obj := range []string{"mf", "if2"} {
		for l := range levels {
			for r := range reps {
				e := conformal.Evaluation{Alphas: conformal.Alphas, MAPE: mape * float64(l+1), ValBest: make([]int, a)}
				for range a {
					e.Width = append(e.Width, w)
					e.Coverage = append(e.Coverage, 0.95)
					e.ValWidth = append(e.ValWidth, []float64{w})
					e.Margin = append(e.Margin, []float64{0.1})
					e.WidthRaw = append(e.WidthRaw, []float64{w})
					e.CoverageRaw = append(e.CoverageRaw, []float64{0.95})
				}
				if err := s.Set(obj, l, r, e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return s
}

func TestWidthGrid(t *testing.T) {
	src := train.Profile{Name: "test", Levels: []float64{0.1, 0.5, 0.9, 0.3}, Replicates: 2}
	sums := map[string]*conformal.Summary{}
	for i, m := range WidthMethods {
		sums[m.Preset] = fakeSummary(t, src.Levels, 2, 0.1, 0.1*float64(i+1))
	}
	f, err := WidthGrid("baseline_width_if", "if", sums, WidthMethods, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 2 || len(f.Panels[0]) != 3 {
		t.Fatalf("%d levels laid out as %dx%d", len(src.Levels), len(f.Panels), len(f.Panels[0]))
	}
	if got := f.Panel(1, 0).Title.Text; got != "30 % training data" {
		t.Errorf("fourth panel %q", got)
	}
	if _, err := f.Render("svg"); err != nil {
		t.Fatal(err)
	}
	if _, err := WidthGrid("x", "if3", sums, WidthMethods, src); err == nil {
		t.Error("objective if3 accepted")
	}
	delete(sums, "baseline/attention")
	if _, err := WidthGrid("x", "mf", sums, WidthMethods, src); err == nil || !strings.Contains(err.Error(), "baseline/attention") {
		t.Errorf("missing summary: %v", err)
	}
}

func TestHyperparameterFigure(t *testing.T) {
	src := train.Profile{Name: "test", Levels: []float64{0.1, 0.9}, Replicates: 2}
	sums := map[string]*conformal.Summary{}
	for _, p := range HyperparameterPresets() {
		sums[p] = fakeSummary(t, src.Levels, 2, 0.1, 0.2)
	}
	// A diverged preset: MAPE above 1000 % is left out, not drawn.
	sums["embedding/4"] = fakeSummary(t, src.Levels, 2, 20, 0.2)
	f, err := HyperparameterFigure(sums, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 4 || len(f.Panels[0]) != 2 {
		t.Fatalf("%dx%d panels, want 4x2 (mf, if2)", len(f.Panels), len(f.Panels[0]))
	}
	if got := f.Panel(0, 0).Title.Text; !strings.HasSuffix(got, ", mf") {
		t.Errorf("first column %q, want mf", got)
	}
	if _, max := f.Panel(1, 0).Y.Min, f.Panel(1, 0).Y.Max; max > 1000 || math.IsNaN(max) {
		t.Errorf("y axis reaches %v: the diverged preset was drawn", max)
	}
	if _, err := f.Render("svg"); err != nil {
		t.Fatal(err)
	}
	if n := len(HyperparameterPresets()); n != 16 {
		t.Errorf("%d presets, want pitot and 15 sweeps", n)
	}
	delete(sums, "weight/2.0")
	if _, err := HyperparameterFigure(sums, src); err == nil || !strings.Contains(err.Error(), "weight/2.0") {
		t.Errorf("missing summary: %v", err)
	}
}
