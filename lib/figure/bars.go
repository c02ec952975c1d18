package figure

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarSeries is one method's bars for GroupedBars: one value per group and,
// optionally, absolute error-bar ends (not offsets from the value).
type BarSeries struct {
	Label string
	// Values[g] is the bar's height in group g; NaN leaves the bar out.
	Values []float64
	// Low and High, when non-nil, are the error bar's ends in each group
	// (absolute y values); NaN leaves the error bar out.
	Low, High []float64
}

// barFill is the fraction of a group's slot the bars of one group fill.
const barFill = 0.8

// barStyle is the fill of the i-th series' bars and their outline.
func barStyle(i int) (color.Color, draw.LineStyle) {
	return Color(i), draw.LineStyle{Color: color.Black, Width: vg.Points(0.4)}
}

// barThumb is a legend thumbnail: a filled, outlined box.
type barThumb struct{ i int }

// Thumbnail implements plot.Thumbnailer.
func (t barThumb) Thumbnail(c *draw.Canvas) {
	fill, line := barStyle(t.i)
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(fill, pts)
	c.StrokeLines(line, append(pts, pts[0]))
}

// BarLegend returns the legend entries GroupedBars gives series, for a
// figure-wide legend (Figure.SetLegend).
func BarLegend(series []BarSeries) []Entry {
	out := make([]Entry, len(series))
	for i, s := range series {
		out[i] = Entry{Label: s.Label, Thumbs: []plot.Thumbnailer{barThumb{i}}}
	}
	return out
}

// GroupedBars draws, for each group at x = 0, 1, ... (the group names as
// tick labels), one bar per series side by side, series i in palette
// colour i, with vertical error bars from Low to High where given, and adds
// each series to the panel's legend: the bar charts of Fig. 12 and 13 of
// specs/apparate.md 4.12. Bars start at 0, so the y axis must be linear.
// The bars of a group fill 80 % of its slot.
func GroupedBars(p *plot.Plot, groups []string, series []BarSeries) error {
	_, err := groupedBars(p, groups, series)
	return err
}

// groupedBars is GroupedBars, returning the plotter it added.
func groupedBars(p *plot.Plot, groups []string, series []BarSeries) (*barSet, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("figure: GroupedBars: no groups")
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("figure: GroupedBars: no series")
	}
	for _, s := range series {
		if err := checkBarSeries(s, len(groups)); err != nil {
			return nil, err
		}
	}
	set := &barSet{groups: len(groups), series: series}
	p.Add(set)
	ticks := make([]plot.Tick, len(groups))
	for g, name := range groups {
		ticks[g] = plot.Tick{Value: float64(g), Label: name}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	for i, s := range series {
		p.Legend.Add(s.Label, barThumb{i})
	}
	return set, nil
}

// checkBarSeries checks a series' lengths and that its numbers are not
// infinite.
func checkBarSeries(s BarSeries, n int) error {
	if len(s.Values) != n {
		return fmt.Errorf("figure: GroupedBars: series %q has %d values, want %d (one per group)", s.Label, len(s.Values), n)
	}
	if (s.Low == nil) != (s.High == nil) {
		return fmt.Errorf("figure: GroupedBars: series %q has only one of Low and High", s.Label)
	}
	if s.Low != nil && (len(s.Low) != n || len(s.High) != n) {
		return fmt.Errorf("figure: GroupedBars: series %q has %d Low and %d High values, want %d", s.Label, len(s.Low), len(s.High), n)
	}
	for _, xs := range [][]float64{s.Values, s.Low, s.High} {
		for _, v := range xs {
			if math.IsInf(v, 0) {
				return fmt.Errorf("figure: GroupedBars: series %q has an infinite value", s.Label)
			}
		}
	}
	return nil
}

// barSet draws grouped bars in data coordinates, so that their width
// follows the spacing of the groups.
type barSet struct {
	groups int
	series []BarSeries
}

// rect is a bar in data coordinates.
type rect struct{ x0, x1, y0, y1 float64 }

// bar returns the rectangle of series i in group g, and whether it is drawn.
func (s *barSet) bar(i, g int) (rect, bool) {
	v := s.series[i].Values[g]
	if math.IsNaN(v) {
		return rect{}, false
	}
	w := barFill / float64(len(s.series))
	x0 := float64(g) - barFill/2 + float64(i)*w
	return rect{x0, x0 + w, math.Min(0, v), math.Max(0, v)}, true
}

// Plot implements plot.Plotter.
func (s *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	errStyle := draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
	for i, ser := range s.series {
		fill, line := barStyle(i)
		for g := range s.groups {
			r, ok := s.bar(i, g)
			if !ok {
				continue
			}
			pts := []vg.Point{{X: trX(r.x0), Y: trY(r.y0)}, {X: trX(r.x0), Y: trY(r.y1)}, {X: trX(r.x1), Y: trY(r.y1)}, {X: trX(r.x1), Y: trY(r.y0)}}
			c.FillPolygon(fill, c.ClipPolygonXY(pts))
			c.StrokeLines(line, c.ClipLinesXY(append(pts, pts[0]))...)
		}
		if ser.Low == nil {
			continue
		}
		for g := range s.groups {
			r, ok := s.bar(i, g)
			lo, hi := ser.Low[g], ser.High[g]
			if !ok || math.IsNaN(lo) || math.IsNaN(hi) {
				continue
			}
			x := trX((r.x0 + r.x1) / 2)
			hw := (trX(r.x1) - trX(r.x0)) / 4
			ylo, yhi := trY(lo), trY(hi)
			c.StrokeLines(errStyle, c.ClipLinesXY(
				[]vg.Point{{X: x, Y: ylo}, {X: x, Y: yhi}},
				[]vg.Point{{X: x - hw, Y: ylo}, {X: x + hw, Y: ylo}},
				[]vg.Point{{X: x - hw, Y: yhi}, {X: x + hw, Y: yhi}})...)
		}
	}
}

// DataRange implements plot.DataRanger: the groups' slots in x, and 0, the
// values and the error bars in y.
func (s *barSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 0, 0
	for _, ser := range s.series {
		for _, xs := range [][]float64{ser.Values, ser.Low, ser.High} {
			for _, v := range xs {
				if !math.IsNaN(v) {
					ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
				}
			}
		}
	}
	return -0.5, float64(s.groups) - 0.5, ymin, ymax
}

// CDFSeries is one empirical distribution for CDFLines.
type CDFSeries struct {
	Label string
	X     []float64 // the values, in any order; NaNs are left out
	// Dashes is the line's dash pattern (nil: solid), e.g.
	// []vg.Length{vg.Points(4), vg.Points(2)} for a dashed line.
	Dashes []vg.Length
}

// CDFMaxPoints is the most points CDFLines draws per series.
const CDFMaxPoints = 2000

// cdfPoints returns the empirical CDF of sorted values, (x_i, (i+1)/n),
// thinned to at most max points by taking evenly spaced ranks (quantiles);
// the first and last points are always kept.
func cdfPoints(sorted []float64, max int) plotter.XYs {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	m := min(n, max)
	out := make(plotter.XYs, m)
	for k := range m {
		i := k
		if m < n {
			if m == 1 {
				i = n - 1
			} else {
				i = int(math.Round(float64(k) * float64(n-1) / float64(m-1)))
			}
		}
		out[k] = plotter.XY{X: sorted[i], Y: float64(i+1) / float64(n)}
	}
	return out
}

// cdfStyle is the line of the i-th series of CDFLines.
func cdfStyle(i int, dashes []vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: Color(i), Width: vg.Points(1.2), Dashes: dashes}
}

// CDFLines draws the empirical CDF of each series, sorted values against
// rank/n (specs/apparate.md 4.12, Fig. 14), as a line in palette colour i
// with the series' dash pattern, and adds each series to the panel's
// legend. Each line has at most CDFMaxPoints points, taken at evenly spaced
// ranks, so that vector output stays small.
func CDFLines(p *plot.Plot, series []CDFSeries) error {
	for i, s := range series {
		x := make([]float64, 0, len(s.X))
		for _, v := range s.X {
			if math.IsInf(v, 0) {
				return fmt.Errorf("figure: CDFLines: series %q has an infinite value", s.Label)
			}
			if !math.IsNaN(v) {
				x = append(x, v)
			}
		}
		if len(x) == 0 {
			return fmt.Errorf("figure: CDFLines: series %q has no values", s.Label)
		}
		slices.Sort(x)
		l, err := plotter.NewLine(cdfPoints(x, CDFMaxPoints))
		if err != nil {
			return fmt.Errorf("figure: CDFLines: series %q: %w", s.Label, err)
		}
		l.LineStyle = cdfStyle(i, s.Dashes)
		p.Add(l)
		ls := l.LineStyle
		p.Legend.Add(s.Label, thumb{line: &ls})
	}
	return nil
}

// CDFLegend returns the legend entries CDFLines gives series, for a
// figure-wide legend (Figure.SetLegend).
func CDFLegend(series []CDFSeries) []Entry {
	out := make([]Entry, len(series))
	for i, s := range series {
		ls := cdfStyle(i, s.Dashes)
		out[i] = Entry{Label: s.Label, Thumbs: []plot.Thumbnailer{thumb{line: &ls}}}
	}
	return out
}
