package figure

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// TestGroupedBarsErrors checks that mismatched lengths and infinite
// values are errors naming the series.
func TestGroupedBarsErrors(t *testing.T) {
	groups := []string{"a", "b"}
	for _, c := range []struct {
		name string
		s    BarSeries
	}{
		{"short values", BarSeries{Label: "m", Values: []float64{1}}},
		{"short low", BarSeries{Label: "m", Values: []float64{1, 2}, Low: []float64{0}, High: []float64{2, 3}}},
		{"low without high", BarSeries{Label: "m", Values: []float64{1, 2}, Low: []float64{0, 1}}},
		{"infinite", BarSeries{Label: "m", Values: []float64{1, math.Inf(1)}}},
	} {
		if err := GroupedBars(NewPlot("", "", ""), groups, []BarSeries{c.s}); err == nil || !strings.Contains(err.Error(), `"m"`) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := GroupedBars(NewPlot("", "", ""), nil, nil); err == nil {
		t.Error("no groups accepted")
	}
}

// TestGroupedBars checks the bars' geometry (height = value, side by side
// within the group's slot), the data range, the legend and that the
// figure renders.
func TestGroupedBars(t *testing.T) {
	f := New("test", "bars", 1, 1)
	p := f.Panel(0, 0)
	series := []BarSeries{
		{Label: "A", Values: []float64{60, 80, math.NaN()}, Low: []float64{50, 78, math.NaN()}, High: []float64{70, 90, math.NaN()}},
		{Label: "B", Values: []float64{65, -5, 40}},
	}
	set, err := groupedBars(p, []string{"g0", "g1", "g2"}, series)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range series {
		for g, v := range s.Values {
			r, ok := set.bar(i, g)
			if ok != !math.IsNaN(v) {
				t.Errorf("series %d group %d drawn = %v", i, g, ok)
				continue
			}
			if !ok {
				continue
			}
			if h := r.y1 - r.y0; h != math.Abs(v) || (v >= 0 && r.y0 != 0) {
				t.Errorf("series %d group %d: bar %v, want height %v from 0", i, g, r, v)
			}
			if r.x0 < float64(g)-0.5 || r.x1 > float64(g)+0.5 || math.Abs(r.x1-r.x0-0.4) > 1e-12 {
				t.Errorf("series %d group %d: bar x %v..%v", i, g, r.x0, r.x1)
			}
		}
	}
	a, _ := set.bar(0, 0)
	if b, _ := set.bar(1, 0); a.x1 > b.x0+1e-12 {
		t.Errorf("bars overlap: %v %v", a, b)
	}
	if x0, x1, y0, y1 := set.DataRange(); x0 != -0.5 || x1 != 2.5 || y0 != -5 || y1 != 90 {
		t.Errorf("data range %v %v %v %v", x0, x1, y0, y1)
	}
	if n := len(BarLegend(series)); n != 2 {
		t.Errorf("%d legend entries", n)
	}
	f.SetLegend(BarLegend(series))
	b, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("g2")) {
		t.Error("group tick label missing from the SVG")
	}
}

// TestCDFPoints checks the thinning: all points when few, otherwise at
// most the cap, keeping the first and last point, monotone in x and y.
func TestCDFPoints(t *testing.T) {
	small := cdfPoints([]float64{1, 2, 3, 4}, 10)
	if len(small) != 4 || small[0].Y != 0.25 || small[3].Y != 1 {
		t.Errorf("small CDF %v", small)
	}
	n := 12345
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(float64(i)) * 100
	}
	slices.Sort(x)
	pts := cdfPoints(x, CDFMaxPoints)
	if len(pts) != CDFMaxPoints {
		t.Fatalf("%d points, want %d", len(pts), CDFMaxPoints)
	}
	if pts[0].X != x[0] || pts[0].Y != 1/float64(n) || pts[len(pts)-1].X != x[n-1] || pts[len(pts)-1].Y != 1 {
		t.Errorf("ends %v %v", pts[0], pts[len(pts)-1])
	}
	for k := 1; k < len(pts); k++ {
		if pts[k].X < pts[k-1].X || pts[k].Y <= pts[k-1].Y {
			t.Fatalf("not monotone at %d: %v %v", k, pts[k-1], pts[k])
		}
	}
}

// TestCDFLines checks errors and that a figure with thinned CDFs renders
// to a small SVG.
func TestCDFLines(t *testing.T) {
	if err := CDFLines(NewPlot("", "", ""), []CDFSeries{{Label: "e", X: []float64{math.NaN()}}}); err == nil || !strings.Contains(err.Error(), `"e"`) {
		t.Errorf("empty series: %v", err)
	}
	if err := CDFLines(NewPlot("", "", ""), []CDFSeries{{Label: "i", X: []float64{math.Inf(-1)}}}); err == nil {
		t.Error("infinite value accepted")
	}
	f := New("test", "cdf", 1, 1)
	x := make([]float64, 100000)
	for i := range x {
		x[i] = float64((i * 7919) % 100000)
	}
	series := []CDFSeries{{Label: "a", X: x}, {Label: "b", X: x[:500], Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}}
	if err := CDFLines(f.Panel(0, 0), series); err != nil {
		t.Fatal(err)
	}
	f.SetLegend(CDFLegend(series))
	b, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 400_000 {
		t.Errorf("SVG of %d bytes", len(b))
	}
}
