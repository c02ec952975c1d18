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

// Percentile returns the q-th percentile (0 <= q <= 100) of sorted values
// by linear interpolation between closest ranks, NumPy's default
// (numpy.percentile, method "linear"), which matplotlib's box plots use.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * q / 100
	i := int(math.Floor(h))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// BoxPlots draws one box per group at x = 0, 1, ... with the group names
// as tick labels, as matplotlib's boxplot draws them (the
// by_platform_category figure of specs/pitot.md section 6): the box spans
// the quartiles, a line marks the median, whiskers reach the most extreme
// values within 1.5 interquartile ranges of the box, and points beyond are
// drawn as rings. Quartiles follow NumPy (Percentile), not gonum's
// median-of-halves. NaNs are left out; a group without values gets a tick
// label and no box. Boxes are half as wide as the spacing between groups.
//
// It returns the gonum box plotters (nil for empty groups) for restyling.
func BoxPlots(p *plot.Plot, groups []string, values [][]float64) ([]*plotter.BoxPlot, error) {
	if len(values) != len(groups) {
		return nil, fmt.Errorf("figure: BoxPlots: %d groups but %d value sets", len(groups), len(values))
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("figure: BoxPlots: no groups")
	}
	set := &boxSet{boxes: make([]*plotter.BoxPlot, len(groups))}
	ticks := make([]plot.Tick, len(groups))
	for i, g := range groups {
		ticks[i] = plot.Tick{Value: float64(i), Label: g}
		var vs plotter.Values
		for _, v := range values[i] {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("figure: BoxPlots: group %q has an infinite value", g)
			}
			if !math.IsNaN(v) {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		b, err := plotter.NewBoxPlot(vg.Points(10), float64(i), vs)
		if err != nil {
			return nil, fmt.Errorf("figure: BoxPlots: group %q: %w", g, err)
		}
		numpyStats(b)
		b.BoxStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(0.8)}
		b.WhiskerStyle = b.BoxStyle
		b.MedianStyle = draw.LineStyle{Color: Color(1), Width: vg.Points(1.2)}
		b.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(2), Shape: draw.RingGlyph{}}
		set.boxes[i] = b
	}
	p.Add(set)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	return set.boxes, nil
}

// numpyStats recomputes a box's quartiles, whiskers and outliers with
// NumPy's percentiles and matplotlib's whisker rule (whis = 1.5).
func numpyStats(b *plotter.BoxPlot) {
	s := slices.Clone([]float64(b.Values))
	slices.Sort(s)
	b.Quartile1, b.Median, b.Quartile3 = Percentile(s, 25), Percentile(s, 50), Percentile(s, 75)
	iqr := b.Quartile3 - b.Quartile1
	lo, hi := b.Quartile1-1.5*iqr, b.Quartile3+1.5*iqr
	b.AdjLow, b.AdjHigh = math.Inf(1), math.Inf(-1)
	b.Outside = b.Outside[:0]
	for i, v := range b.Values {
		if v < lo || v > hi {
			b.Outside = append(b.Outside, i)
			continue
		}
		b.AdjLow, b.AdjHigh = math.Min(b.AdjLow, v), math.Max(b.AdjHigh, v)
	}
	// matplotlib never lets a whisker end inside the box.
	b.AdjLow, b.AdjHigh = math.Min(b.AdjLow, b.Quartile1), math.Max(b.AdjHigh, b.Quartile3)
}

// boxSet draws boxes with a width proportional to the spacing of the
// groups, which gonum's fixed-length widths cannot express.
type boxSet struct{ boxes []*plotter.BoxPlot }

// Plot implements plot.Plotter.
func (s *boxSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	w := (trX(1) - trX(0)) / 2
	for _, b := range s.boxes {
		if b != nil {
			b.Width, b.CapWidth = w, w/2
			b.Plot(c, p)
		}
	}
}

// DataRange implements plot.DataRanger.
func (s *boxSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, b := range s.boxes {
		if b != nil {
			ymin, ymax = math.Min(ymin, b.Min), math.Max(ymax, b.Max)
		}
	}
	if ymin > ymax {
		ymin, ymax = 0, 1
	}
	return -0.5, float64(len(s.boxes)) - 0.5, ymin, ymax
}
