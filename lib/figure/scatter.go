package figure

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// categoryGlyph is the marker of the k-th category: palette colour k, a
// filled circle for the first len(Palette) categories, then other shapes.
func categoryGlyph(k int) draw.GlyphStyle {
	return draw.GlyphStyle{
		Color:  Color(k),
		Radius: vg.Points(2),
		Shape:  glyphShapes[(k/len(Palette))%len(glyphShapes)],
	}
}

// CategoryLegend returns the legend entries CategoryScatter gives the
// categories of order, for a figure-wide legend (Figure.SetLegend).
func CategoryLegend(order []string) []Entry {
	out := make([]Entry, len(order))
	for k, c := range order {
		g := categoryGlyph(k)
		out[k] = Entry{Label: c, Thumbs: []plot.Thumbnailer{thumb{glyph: &g}}}
	}
	return out
}

// CategoryScatter draws points (x[i], y[i]) coloured by their category
// cat[i] and adds one legend entry per category present. The k-th
// category of order takes palette colour k, so that colours agree between
// panels and figures; a nil order means the categories sorted. Categories
// are drawn in order, later ones on top.
//
// It serves the log-log interference_norm figure (call LogLog first) and
// the t-SNE embeddings tsne_* (linear axes) of specs/pitot.md section 6.
// On a log axis every coordinate must be positive.
func CategoryScatter(p *plot.Plot, x, y []float64, cat []string, order []string) error {
	if len(y) != len(x) || len(cat) != len(x) {
		return fmt.Errorf("figure: CategoryScatter: len(x) = %d, len(y) = %d, len(cat) = %d; want equal", len(x), len(y), len(cat))
	}
	if order == nil {
		order = slices.Clone(cat)
		slices.Sort(order)
		order = slices.Compact(order)
	}
	index := make(map[string]int, len(order))
	for k, c := range order {
		if _, dup := index[c]; dup {
			return fmt.Errorf("figure: CategoryScatter: category %q twice in order", c)
		}
		index[c] = k
	}
	_, logX := p.X.Scale.(plot.LogScale)
	_, logY := p.Y.Scale.(plot.LogScale)
	groups := make([]plotter.XYs, len(order))
	for i := range x {
		k, ok := index[cat[i]]
		if !ok {
			return fmt.Errorf("figure: CategoryScatter: point %d has category %q, not in order %q", i, cat[i], order)
		}
		if !finite(x[i]) || !finite(y[i]) {
			return fmt.Errorf("figure: CategoryScatter: point %d (%q) is not finite: (%v, %v)", i, cat[i], x[i], y[i])
		}
		if (logX && x[i] <= 0) || (logY && y[i] <= 0) {
			return fmt.Errorf("figure: CategoryScatter: point %d (%q) is (%v, %v), not positive on a log axis", i, cat[i], x[i], y[i])
		}
		groups[k] = append(groups[k], plotter.XY{X: x[i], Y: y[i]})
	}
	for k, pts := range groups {
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("figure: CategoryScatter: category %q: %w", order[k], err)
		}
		s.GlyphStyle = categoryGlyph(k)
		p.Add(s)
		g := s.GlyphStyle
		p.Legend.Add(order[k], thumb{glyph: &g})
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// LogLog puts both axes of a panel on log scales with LogTicks.
func LogLog(p *plot.Plot) {
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = LogTicks{}
	}
}

// LogTicks marks a log axis as matplotlib does: major ticks with labels at
// powers of ten, minor ticks at their multiples 2..9. When the range holds
// fewer than two powers of ten, the multiples 2 and 5 are labelled too, so
// that a narrow axis still reads. (plot.LogTicks labels only powers of
// ten and starts its ticks one decade late when the minimum is below 1.)
type LogTicks struct{}

// Ticks implements plot.Ticker.
func (LogTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0 && max > 0) {
		panic("figure: LogTicks: range must be positive")
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	powers := 0
	for e := lo; e <= hi; e++ {
		if v := math.Pow(10, float64(e)); v >= min && v <= max {
			powers++
		}
	}
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			if e == hi && m > 1 {
				break
			}
			v := float64(m) * base
			t := plot.Tick{Value: v}
			if m == 1 || (powers < 2 && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// Fit is a least-squares line log(y) = Slope*log(x) + Intercept (natural
// logarithms) with the Pearson correlation R of log x and log y over the N
// points.
type Fit struct {
	Slope, Intercept, R float64
	N                   int
}

// LogLogFit fits a line to (log x, log y) by least squares, draws it as a
// dashed black line over the x range of the data, adds the legend entry
// "fit, r = 0.79" and returns the fit. The paper reports r for the
// interference_norm figure (specs/pitot.md section 6). All values must be
// positive.
func LogLogFit(p *plot.Plot, x, y []float64) (Fit, error) {
	if len(x) != len(y) {
		return Fit{}, fmt.Errorf("figure: LogLogFit: len(x) = %d, len(y) = %d; want equal", len(x), len(y))
	}
	if len(x) < 2 {
		return Fit{}, fmt.Errorf("figure: LogLogFit: %d points, want at least 2", len(x))
	}
	lx, ly := make([]float64, len(x)), make([]float64, len(y))
	for i := range x {
		if !(x[i] > 0 && y[i] > 0) || !finite(x[i]) || !finite(y[i]) {
			return Fit{}, fmt.Errorf("figure: LogLogFit: point %d is (%v, %v), want positive and finite", i, x[i], y[i])
		}
		lx[i], ly[i] = math.Log(x[i]), math.Log(y[i])
	}
	lo, hi := slices.Min(lx), slices.Max(lx)
	if lo == hi {
		return Fit{}, fmt.Errorf("figure: LogLogFit: all %d x values equal %v", len(x), x[0])
	}
	b, a := stat.LinearRegression(lx, ly, nil, false)
	f := Fit{Slope: a, Intercept: b, R: stat.Correlation(lx, ly, nil), N: len(x)}
	line, err := plotter.NewLine(plotter.XYs{
		{X: math.Exp(lo), Y: math.Exp(b + a*lo)},
		{X: math.Exp(hi), Y: math.Exp(b + a*hi)},
	})
	if err != nil {
		return Fit{}, fmt.Errorf("figure: LogLogFit: %w", err)
	}
	line.LineStyle = draw.LineStyle{Color: Palette[7], Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
	p.Add(line)
	ls := line.LineStyle
	p.Legend.Add(fmt.Sprintf("fit, r = %.2f", f.R), thumb{line: &ls})
	return f, nil
}
