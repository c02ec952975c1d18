package figure

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one method's replicated measurements for ErrorLines.
type Series struct {
	Label string
	// Values[i] holds the replicate values at the i-th x; NaN marks a
	// missing replicate. A point whose replicates are all missing is not
	// drawn, and the line breaks there.
	Values [][]float64
}

// MeanSE returns the mean of the non-NaN values, their standard error
// (sample standard deviation with ddof 1, divided by sqrt(n)) and their
// count n. The error is 0 for n = 1 and the mean NaN for n = 0.
func MeanSE(values []float64) (mean, se float64, n int) {
	var sum float64
	for _, v := range values {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = sum / float64(n)
	if n == 1 {
		return mean, 0, 1
	}
	var ss float64
	for _, v := range values {
		if !math.IsNaN(v) {
			ss += (v - mean) * (v - mean)
		}
	}
	return mean, math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n)), n
}

// Glyph shapes cycle with the palette in ErrorLines and, after the palette
// is used up, in CategoryScatter; filled shapes first.
var glyphShapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
	draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

// seriesStyle is the line and marker of the i-th series of ErrorLines.
func seriesStyle(i int) (draw.LineStyle, draw.GlyphStyle) {
	c := Color(i)
	return draw.LineStyle{Color: c, Width: vg.Points(1)},
		draw.GlyphStyle{Color: c, Radius: vg.Points(2.2), Shape: glyphShapes[i%len(glyphShapes)]}
}

// SeriesLegend returns the legend entries ErrorLines gives series, for a
// figure-wide legend (Figure.SetLegend).
func SeriesLegend(series []Series) []Entry {
	out := make([]Entry, len(series))
	for i, s := range series {
		l, g := seriesStyle(i)
		out[i] = Entry{Label: s.Label, Thumbs: []plot.Thumbnailer{thumb{line: &l, glyph: &g}}}
	}
	return out
}

// ErrorLines draws one line per series through the replicate means at x,
// with markers and vertical error bars of ± 2 standard errors (MeanSE), and
// adds each series to the panel's legend. Series i takes palette colour i
// and marker i. This is the MAPE-versus-data-level and width-versus-
// miscoverage figure of the Pitot paper (specs/pitot.md section 6:
// baseline, ablation_*, hyperparameters, baseline_width*). Use ClipY to
// fix the y range as the paper's clipped variants do, and
// plot.InvertedScale on p.X for a miscoverage axis that runs 0.10 -> 0.01.
// The panel's y axis should be linear: on a log axis a bar reaching zero
// makes gonum/plot panic when drawing.
func ErrorLines(p *plot.Plot, x []float64, series []Series) error {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("figure: ErrorLines: x has non-finite value %v", v)
		}
	}
	for i, s := range series {
		if len(s.Values) != len(x) {
			return fmt.Errorf("figure: ErrorLines: series %d (%q) has %d points, want len(x) = %d", i, s.Label, len(s.Values), len(x))
		}
		var seg, all plotter.XYs
		var errs plotter.YErrors
		var segs []plotter.XYs
		for j, vals := range s.Values {
			m, se, n := MeanSE(vals)
			if n == 0 {
				if len(seg) > 0 {
					segs = append(segs, seg)
				}
				seg = nil
				continue
			}
			if math.IsInf(m, 0) || math.IsInf(se, 0) {
				return fmt.Errorf("figure: ErrorLines: series %q at x=%v has non-finite values %v", s.Label, x[j], vals)
			}
			pt := plotter.XY{X: x[j], Y: m}
			seg = append(seg, pt)
			all = append(all, pt)
			errs = append(errs, struct{ Low, High float64 }{2 * se, 2 * se})
		}
		if len(seg) > 0 {
			segs = append(segs, seg)
		}
		ls, gs := seriesStyle(i)
		for _, sg := range segs {
			if len(sg) < 2 {
				continue
			}
			l, err := plotter.NewLine(sg)
			if err != nil {
				return fmt.Errorf("figure: ErrorLines: series %q: %w", s.Label, err)
			}
			l.LineStyle = ls
			p.Add(l)
		}
		if len(all) > 0 {
			bars, err := plotter.NewYErrorBars(errorPoints{all, errs})
			if err != nil {
				return fmt.Errorf("figure: ErrorLines: series %q: %w", s.Label, err)
			}
			bars.LineStyle = ls
			bars.CapWidth = vg.Points(3)
			sc, err := plotter.NewScatter(all)
			if err != nil {
				return fmt.Errorf("figure: ErrorLines: series %q: %w", s.Label, err)
			}
			sc.GlyphStyle = gs
			p.Add(bars, sc)
		}
		p.Legend.Add(s.Label, thumb{line: &ls, glyph: &gs})
	}
	return nil
}

type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// ClipY fixes a panel's y range to [lo, hi], as matplotlib's set_ylim:
// lines, bars and markers outside are clipped. Call it after adding the
// data (plot.Add widens the range again).
func ClipY(p *plot.Plot, lo, hi float64) {
	p.Y.Min, p.Y.Max = lo, hi
}

// thumb is a legend thumbnail: a horizontal line through the middle, a
// marker in the centre, either optional.
type thumb struct {
	line  *draw.LineStyle
	glyph *draw.GlyphStyle
}

// Thumbnail implements plot.Thumbnailer.
func (t thumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	if t.line != nil {
		c.StrokeLine2(*t.line, c.Min.X, y, c.Max.X, y)
	}
	if t.glyph != nil {
		c.DrawGlyphNoClip(*t.glyph, c.Center())
	}
}
