package figure

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Linspace returns n evenly spaced values from lo to hi inclusive, as
// NumPy's linspace does.
func Linspace(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if n == 1 {
			out[i] = lo
			break
		}
		out[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return out
}

// Bin counts values into the bins delimited by edges (ascending, len >= 2),
// with NumPy's histogram convention: bins are half-open [e_i, e_i+1) except
// the last, which includes its right edge. Values outside, and NaNs, are
// not counted.
func Bin(values, edges []float64) []float64 {
	counts := make([]float64, len(edges)-1)
	last := edges[len(edges)-1]
	for _, v := range values {
		if !(v >= edges[0] && v <= last) {
			continue
		}
		i := sort.SearchFloat64s(edges, v) // first edge >= v
		if i == len(edges) || edges[i] != v {
			i--
		}
		if i == len(counts) {
			i-- // v == last edge
		}
		counts[i]++
	}
	return counts
}

// Histogram draws pre-binned counts as bars. Unlike gonum's
// plotter.Histogram it works on a log y axis: bars rise from the bottom of
// the panel, and empty bins are not drawn.
type Histogram struct {
	Edges  []float64 // len(Counts)+1 ascending bin edges
	Counts []float64
	Fill   color.Color
	Line   draw.LineStyle
}

// NewHistogram bins values into edges and returns bars in palette colour i.
func NewHistogram(values, edges []float64, i int) (*Histogram, error) {
	if len(edges) < 2 || !sort.Float64sAreSorted(edges) {
		return nil, fmt.Errorf("figure: histogram needs at least 2 ascending edges, got %v", edges)
	}
	return &Histogram{
		Edges:  edges,
		Counts: Bin(values, edges),
		Fill:   Color(i),
		Line:   draw.LineStyle{Color: color.White, Width: vg.Points(0.3)},
	}, nil
}

// Plot implements plot.Plotter.
func (h *Histogram) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, n := range h.Counts {
		if n <= 0 {
			continue
		}
		x0, x1 := trX(h.Edges[i]), trX(h.Edges[i+1])
		y0, y1 := c.Min.Y, trY(math.Min(n, p.Y.Max))
		if n < p.Y.Min {
			continue
		}
		bar := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(h.Fill, c.ClipPolygonXY(bar))
		c.StrokeLines(h.Line, c.ClipLinesXY(bar)...)
	}
}

// DataRange implements plot.DataRanger: x spans the edges, y spans the
// counts (from the smallest positive count, so that log axes work).
func (h *Histogram) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), 0
	for _, n := range h.Counts {
		if n > 0 {
			ymin = math.Min(ymin, n)
			ymax = math.Max(ymax, n)
		}
	}
	if ymax == 0 {
		ymin, ymax = 1, 1
	}
	return h.Edges[0], h.Edges[len(h.Edges)-1], ymin, ymax
}

// Thumbnail implements plot.Thumbnailer for legends.
func (h *Histogram) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(h.Fill, c.ClipPolygonY(pts))
}
