package figure

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

var pngDir = flag.String("png", "", "also write the golden figures as PNG into this directory, to look at")

// checkGolden compares f's SVG with testdata/<name>.golden.svg (go test
// -update rewrites it).
func checkGolden(t *testing.T, f *Figure, name string) {
	t.Helper()
	got, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if *pngDir != "" {
		b, err := f.Render("png")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*pngDir, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", name+".golden.svg")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		out := filepath.Join(t.TempDir(), name+".svg")
		os.WriteFile(out, got, 0o644)
		t.Errorf("SVG differs from %s (got %s); inspect, then go test -update ./lib/figure", golden, out)
	}
}

// wave is deterministic test data: a smooth function of i and j in [-1, 1].
func wave(i, j int) float64 { return math.Sin(1.7*float64(i) + 2.3*float64(j) + 0.4) }

// TestMeanSE checks the mean and standard error on hand-computed cases.
func TestMeanSE(t *testing.T) {
	const tol = 1e-12 // a few ulps of the values involved
	for _, c := range []struct {
		in       []float64
		mean, se float64
		n        int
	}{
		// sd(1,2,3,4) with ddof 1 = sqrt(5/3); se = sqrt(5/3)/2
		{[]float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0/3) / 2, 4},
		{[]float64{1, math.NaN(), 3}, 2, 1, 2}, // sd(1,3) = sqrt(2), se = 1
		{[]float64{7}, 7, 0, 1},
	} {
		m, se, n := MeanSE(c.in)
		if math.Abs(m-c.mean) > tol || math.Abs(se-c.se) > tol || n != c.n {
			t.Errorf("MeanSE(%v) = %v, %v, %d; want %v, %v, %d", c.in, m, se, n, c.mean, c.se, c.n)
		}
	}
	if m, _, n := MeanSE([]float64{math.NaN()}); !math.IsNaN(m) || n != 0 {
		t.Errorf("MeanSE(NaN) = %v, n %d", m, n)
	}
}

// TestPercentile checks NumPy's linear percentiles:
// numpy.percentile([1, 2, 4, 8, 9], [0, 25, 50, 75, 90, 100]) =
// [1, 2, 4, 8, 8.6, 9].
func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 4, 8, 9}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {25, 2}, {50, 4}, {75, 8}, {90, 8.6}, {100, 9}} {
		if got := Percentile(s, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

// TestBoxStats checks quartiles, whiskers and outliers against
// matplotlib.cbook.boxplot_stats([1, 2, 3, 4, 5, 6, 7, 8, 30]):
// q1 3, med 5, q3 7, whislo 1, whishi 8, fliers [30].
func TestBoxStats(t *testing.T) {
	p := NewPlot("", "", "")
	boxes, err := BoxPlots(p, []string{"a", "empty"}, [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 30, math.NaN()}, {math.NaN()}})
	if err != nil {
		t.Fatal(err)
	}
	b := boxes[0]
	if b.Quartile1 != 3 || b.Median != 5 || b.Quartile3 != 7 || b.AdjLow != 1 || b.AdjHigh != 8 || len(b.Outside) != 1 || b.Value(b.Outside[0]) != 30 {
		t.Errorf("box stats q1 %v med %v q3 %v whiskers %v %v outside %v", b.Quartile1, b.Median, b.Quartile3, b.AdjLow, b.AdjHigh, b.Outside)
	}
	if boxes[1] != nil {
		t.Error("empty group got a box")
	}
	if _, err := BoxPlots(p, []string{"a"}, nil); err == nil {
		t.Error("mismatched groups accepted")
	}
}

// TestLogLogFit recovers an exact power law y = 3 x^2 (r = 1) and a
// decreasing one (r = -1).
func TestLogLogFit(t *testing.T) {
	const tol = 1e-12
	x := []float64{0.5, 1, 2, 4, 8}
	for _, c := range []struct{ a, r float64 }{{2, 1}, {-0.5, -1}} {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = 3 * math.Pow(v, c.a)
		}
		f, err := LogLogFit(NewPlot("", "", ""), x, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(f.Slope-c.a) > tol || math.Abs(f.Intercept-math.Log(3)) > tol || math.Abs(f.R-c.r) > tol || f.N != 5 {
			t.Errorf("fit %+v, want slope %v, intercept ln 3, r %v", f, c.a, c.r)
		}
	}
	if _, err := LogLogFit(NewPlot("", "", ""), []float64{1, 0}, []float64{1, 2}); err == nil {
		t.Error("non-positive x accepted")
	}
}

// TestLogTicks: powers of ten are labelled; a range within one decade
// labels 2 and 5 as well.
func TestLogTicks(t *testing.T) {
	labels := func(min, max float64) string {
		var out []string
		for _, tk := range (LogTicks{}).Ticks(min, max) {
			if tk.Label != "" && tk.Value >= min && tk.Value <= max {
				out = append(out, tk.Label)
			}
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		min, max float64
		want     string
	}{
		{0.05, 20, "0.1 1 10"},
		{1.5, 30, "2 5 10 20"},
		{0.002, 0.03, "0.002 0.005 0.01 0.02"},
	} {
		if got := labels(c.min, c.max); got != c.want {
			t.Errorf("LogTicks(%v, %v) labels %q, want %q", c.min, c.max, got, c.want)
		}
	}
}

// TestErrors checks that bad input is reported, naming the problem.
func TestErrors(t *testing.T) {
	p := NewPlot("", "", "")
	if err := ErrorLines(p, []float64{1, 2}, []Series{{Label: "m", Values: [][]float64{{1}}}}); err == nil || !strings.Contains(err.Error(), `"m"`) {
		t.Errorf("short series: %v", err)
	}
	if err := CategoryScatter(p, []float64{1}, []float64{1}, []string{"b"}, []string{"a"}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("unknown category: %v", err)
	}
	LogLog(p)
	if err := CategoryScatter(p, []float64{1}, []float64{0}, []string{"a"}, nil); err == nil {
		t.Error("zero on a log axis accepted")
	}
}

// TestShare checks shared ranges and that inner panels lose their labels.
func TestShare(t *testing.T) {
	f := New("test", "share", 2, 2)
	for r := range 2 {
		for c := range 2 {
			p := f.Panel(r, c)
			p.X.Label.Text, p.Y.Label.Text = "x", "y"
			if err := ErrorLines(p, []float64{0, 1}, []Series{{Values: [][]float64{{float64(r + c)}, {float64(10 * (r + 1))}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.ShareY(true)
	f.ShareX(false)
	for r, want := range [][2]float64{{0, 10}, {1, 20}} {
		for c := range 2 {
			if y := f.Panel(r, c).Y; y.Min != want[0] || y.Max != want[1] {
				t.Errorf("panel %d,%d y range %v..%v, want %v", r, c, y.Min, y.Max, want)
			}
		}
	}
	if f.Panel(0, 1).Y.Label.Text != "" || f.Panel(1, 0).Y.Label.Text != "y" || f.Panel(0, 0).X.Label.Text != "" || f.Panel(1, 1).X.Label.Text != "x" {
		t.Error("shared labels not kept on the outer panels only")
	}
	for _, tk := range f.Panel(0, 1).Y.Tick.Marker.Ticks(0, 10) {
		if strings.TrimSpace(tk.Label) != "" {
			t.Errorf("inner panel tick label %q", tk.Label)
		}
	}
	f.ShareY(true) // idempotent
	if _, ok := f.Panel(0, 1).Y.Tick.Marker.(unlabelled).Ticker.(unlabelled); ok {
		t.Error("ticker wrapped twice")
	}
}

var methods = []string{"Pitot", "Monolith", "Attention", "Factorization"}

// errorLinesFigure is a 1x2 figure like the paper's baseline: MAPE (%)
// against data level, 4 methods x 5 replicates, y shared and clipped to
// 5-20, one legend above; one missing point.
func errorLinesFigure(t *testing.T) *Figure {
	f := New("test", "errorlines", 1, 2)
	levels := Linspace(0.1, 0.9, 9)
	for j, title := range []string{"matrix completion", "interference (mean)"} {
		var series []Series
		for m, name := range methods {
			s := Series{Label: name}
			for i, l := range levels {
				reps := make([]float64, 5)
				for r := range reps {
					reps[r] = 6 + 3*float64(m) + 8*(1-l) + 2*float64(j) + 0.6*wave(i+10*m, r+7*j)
				}
				if m == 3 && i == 4 {
					reps = []float64{math.NaN()} // missing: the line breaks
				}
				s.Values = append(s.Values, reps)
			}
			series = append(series, s)
		}
		p := f.Panel(0, j)
		p.Title.Text = title
		p.X.Label.Text = "data level"
		p.Y.Label.Text = "MAPE (%)"
		if err := ErrorLines(p, levels, series); err != nil {
			t.Fatal(err)
		}
		if j == 0 {
			f.SetLegend(SeriesLegend(series))
		}
	}
	f.ShareY(false)
	for _, row := range f.Panels {
		for _, p := range row {
			ClipY(p, 5, 20)
		}
	}
	f.SetLegend(f.Legend) // the second panel's legend goes too
	f.Note = "note: synthetic data, 5 replicates, mean ± 2 SE"
	return f
}

func TestErrorLinesGolden(t *testing.T) { checkGolden(t, errorLinesFigure(t), "errorlines") }

var suites = []string{"Polybench", "MiBench", "Cortex", "SD-VBS", "Libsodium", "Python", "UNIX"}

// scatterFigure is a log-log category scatter with a fit (like
// interference_norm) beside a linear embedding scatter (like tsne_*).
func scatterFigure(t *testing.T) *Figure {
	f := New("test", "scatter", 1, 2)
	arch := []string{"AMD", "Intel", "ARM-A", "RISC-V", "ARM-M"}
	var x, y []float64
	var cat []string
	for i := range 40 {
		v := math.Pow(10, -1+2.5*float64(i)/39)
		x = append(x, v)
		y = append(y, 3*math.Pow(v, 0.8)*math.Exp(0.5*wave(i, 1)))
		cat = append(cat, arch[i%len(arch)])
	}
	p := f.Panel(0, 0)
	p.Title.Text = "interference vs norm"
	p.X.Label.Text = "spectral norm"
	p.Y.Label.Text = "mean slowdown (%)"
	LogLog(p)
	if err := CategoryScatter(p, x, y, cat, arch); err != nil {
		t.Fatal(err)
	}
	if _, err := LogLogFit(p, x, y); err != nil {
		t.Fatal(err)
	}
	p.Legend.Left = true

	x, y, cat = nil, nil, nil
	for k, s := range suites {
		cx, cy := 12*math.Cos(2*math.Pi*float64(k)/7), 12*math.Sin(2*math.Pi*float64(k)/7)
		for i := range 12 {
			x = append(x, cx+2.5*wave(i, k))
			y = append(y, cy+2.5*wave(k, i+3))
			cat = append(cat, s)
		}
	}
	p = f.Panel(0, 1)
	p.Title.Text = "t-SNE of workloads"
	p.X.Label.Text = "t-SNE 1"
	p.Y.Label.Text = "t-SNE 2"
	if err := CategoryScatter(p, x, y, cat, suites); err != nil {
		t.Fatal(err)
	}
	// The embedding's legend goes above the figure, clear of the points.
	clearLegend(p)
	f.Legend = CategoryLegend(suites)
	return f
}

func TestScatterGolden(t *testing.T) { checkGolden(t, scatterFigure(t), "scatter") }

// boxFigure is a 1x3 box-plot figure like by_platform_category.
func boxFigure(t *testing.T) *Figure {
	f := New("test", "boxplots", 1, 3)
	for j, groups := range [][]string{
		{"AOT", "Interp", "JIT"},
		{"x86-AMD", "x86-Intel", "ARM-A", "Other"},
		{"WAMR", "Wasm3", "WasmEdge", "Wasmer", "Wasmtime"},
	} {
		values := make([][]float64, len(groups))
		for g := range groups {
			for i := range 12 {
				values[g] = append(values[g], 8+2*float64(g)+3*wave(i, g+5*j))
			}
			values[g] = append(values[g], 22-float64(g)) // an outlier
		}
		p := f.Panel(0, j)
		p.Y.Label.Text = "MAPE (%)"
		if _, err := BoxPlots(p, groups, values); err != nil {
			t.Fatal(err)
		}
		p.Y.Min, p.Y.Max = 0, 25
	}
	f.ShareY(false)
	return f
}

func TestBoxPlotsGolden(t *testing.T) { checkGolden(t, boxFigure(t), "boxplots") }

// gridFigure is a 3x3 grid of error lines with an inverted miscoverage
// axis (like baseline_width_mf) and one legend above.
func gridFigure(t *testing.T) *Figure {
	f := New("test", "grid", 3, 3)
	eps := Linspace(0.10, 0.01, 10)
	var series []Series
	for k := range 9 {
		series = nil
		for m, name := range methods[:3] {
			s := Series{Label: name}
			for i, e := range eps {
				reps := make([]float64, 5)
				for r := range reps {
					reps[r] = (1 + 0.3*float64(m)) * (1.5 + 0.05/e + 0.1*float64(k)) * (1 + 0.03*wave(i+m, r+k))
				}
				s.Values = append(s.Values, reps)
			}
			series = append(series, s)
		}
		p := f.Panel(k/3, k%3)
		p.Title.Text = fmt.Sprintf("level %.1f", 0.1*float64(k+1))
		p.X.Label.Text = "miscoverage ε"
		p.Y.Label.Text = "tightness"
		p.X.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
		if err := ErrorLines(p, eps, series); err != nil {
			t.Fatal(err)
		}
	}
	f.ShareX(false)
	f.ShareY(false)
	f.SetLegend(SeriesLegend(series))
	return f
}

// TestGrid renders the 3x3 grid and a 4x4 one (golden only as PNG when
// asked: the kinds are covered by the other goldens).
func TestGrid(t *testing.T) {
	f := gridFigure(t)
	if _, err := f.Render("svg"); err != nil {
		t.Fatal(err)
	}
	g := New("test", "grid4", 4, 4)
	for r := range 4 {
		for c := range 4 {
			p := g.Panel(r, c)
			p.Title.Text = fmt.Sprintf("row %d col %d", r, c)
			p.X.Label.Text, p.Y.Label.Text = "data level", "MAPE (%)"
			var series []Series
			for m := range 5 {
				s := Series{Label: fmt.Sprintf("q=%d", m)}
				for i := range 9 {
					s.Values = append(s.Values, []float64{10 + float64(m) - float64(i)*0.5 + wave(i, m+r+c), 10 + float64(m) - float64(i)*0.5})
				}
				series = append(series, s)
			}
			if err := ErrorLines(p, Linspace(0.1, 0.9, 9), series); err != nil {
				t.Fatal(err)
			}
		}
	}
	g.ShareX(false)
	g.ShareY(true)
	g.KeepLegend(0, 0)
	for _, h := range []*Figure{f, g} {
		if *pngDir != "" {
			b, err := h.Render("png")
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(*pngDir, h.Name+".png"), b, 0o644)
		}
	}
}
