// Package pitfig draws the CPU analogues of the figures of PIT (Zheng et
// al., "PIT: Optimization of Dynamic Sparse Deep Learning Models via
// Permutation Invariant Transformation", SOSP 2023) from the rows of the
// experiment suite lib/pit/suite (specs/pit.md §3.1 and §5.5, "Figures to
// draw"): the sparse-matmul kernels of Fig. 15, the micro-tile overhead of
// Fig. 16, index construction of Fig. 17, the MoE layer of Fig. 8, padded
// sequences of Fig. 10, sparse attention of Fig. 11/12, activation
// sparsity of Fig. 9, sparse training of Fig. 14, the micro-tile chooser,
// and the V100 latency model of E9.
//
// Every function takes the rows of one experiment (suite.Run's map entry)
// and, for measured experiments, the suite.Machine they ran on, and
// returns an error naming the figure and what is missing when a row the
// figure needs is absent. Times are drawn in milliseconds. Each figure's
// note names the machine, the dense kernel, the number of interleaved
// repetitions behind each median and the experiment; E9's says that it is
// a model fitted to published V100 data, not a measurement.
package pitfig

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/pit/suite"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Paper is the figures' subdirectory of figures/.
const Paper = "pit"

// Labels that name what E9 is, on its figure and in its note.
const (
	GPUModelTitle = "modelled V100 (not measured)"
	GPUModelNote  = "V100 model fitted to the artifact's published data, not a measurement"
)

// ---- rows ----------------------------------------------------------------

// groups returns the groups of rows in the order they first appear.
func groups(rows []suite.Row) []string {
	var out []string
	for _, r := range rows {
		if !slices.Contains(out, r.Group) {
			out = append(out, r.Group)
		}
	}
	return out
}

// pick returns the rows of group and method, sorted by X.
func pick(rows []suite.Row, group, method string) []suite.Row {
	var out []suite.Row
	for _, r := range rows {
		if r.Group == group && r.Method == method {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b suite.Row) int { return cmp.Compare(a.X, b.X) })
	return out
}

// xs returns the distinct X values of rows (of group, if not empty),
// sorted.
func xs(rows []suite.Row, group string) []float64 {
	var out []float64
	for _, r := range rows {
		if group != "" && r.Group != group {
			continue
		}
		if !slices.ContainsFunc(out, func(v float64) bool { return same(v, r.X) }) {
			out = append(out, r.X)
		}
	}
	slices.Sort(out)
	return out
}

func same(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a)) }

// need checks that every group has rows of every method and returns an
// error naming the figure, the experiment and what is missing.
func need(fig, id string, rows []suite.Row, grps, methods []string) error {
	if len(rows) == 0 {
		return fmt.Errorf("pitfig: %s: no %s rows", fig, id)
	}
	var missing []string
	for _, g := range grps {
		for _, m := range methods {
			if len(pick(rows, g, m)) == 0 {
				missing = append(missing, fmt.Sprintf("%q in group %q", m, g))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("pitfig: %s: %s rows missing for method %s", fig, id, strings.Join(missing, ", "))
	}
	return nil
}

// ms is seconds in milliseconds.
func ms(s float64) float64 { return s * 1e3 }

// ---- notes ---------------------------------------------------------------

// kernelText names the dense kernel every method of the suite calls.
func kernelText(m suite.Machine) string {
	switch m.Kernel {
	case "Gemm":
		return "dense tile kernel pit.Gemm (OpenBLAS sgemm) for every method"
	case "GemmGo":
		return "dense tile kernel pit.GemmGo (pure Go, value-independent) for every method"
	case "":
		return "dense tile kernel not recorded"
	}
	return "dense tile kernel " + m.Kernel
}

// repsText is "median of 5 interleaved repetitions" (or "5/9" when rows
// differ).
func repsText(rows []suite.Row) string {
	var reps []string
	for _, r := range rows {
		s := strconv.Itoa(r.Reps)
		if !slices.Contains(reps, s) {
			reps = append(reps, s)
		}
	}
	slices.Sort(reps)
	return fmt.Sprintf("median of %s interleaved repetitions per point", strings.Join(reps, "/"))
}

// measuredNote is the note of a measured figure: the experiment and what it
// mirrors, the machine and kernel, the repetitions, then extra lines.
func measuredNote(id, mirrors string, m suite.Machine, rows []suite.Row, extra ...string) string {
	lines := []string{
		fmt.Sprintf("%s (PIT %s on CPU), measured on %s", id, mirrors, m),
		fmt.Sprintf("%s; %s", kernelText(m), repsText(rows)),
	}
	return wrapNote(append(lines, extra...)...)
}

// noteWidth is the most characters of a note line; longer lines are
// broken at spaces.
const noteWidth = 120

// wrapNote joins lines into a note, breaking each at spaces so that no
// line is longer than noteWidth characters.
func wrapNote(lines ...string) string {
	var out []string
	for _, l := range lines {
		for _, part := range strings.Split(l, "\n") {
			for len([]rune(part)) > noteWidth {
				r := []rune(part)
				cut := strings.LastIndex(string(r[:noteWidth]), " ")
				if cut <= 0 {
					break
				}
				out = append(out, part[:cut])
				part = "  " + strings.TrimLeft(part[cut:], " ")
			}
			out = append(out, part)
		}
	}
	return strings.Join(out, "\n")
}

// ---- axes ----------------------------------------------------------------

// cats is a categorical x axis: the i-th value is drawn at x = i, so that
// sparsities 0.9, 0.95 and 0.99 do not crowd at one end.
type cats []float64

// at returns the position of x, or -1.
func (c cats) at(x float64) float64 {
	for i, v := range c {
		if same(v, x) {
			return float64(i)
		}
	}
	return -1
}

// apply labels the axis with label(value) at each position.
func (c cats) apply(a *plot.Axis, label func(float64) string) {
	ticks := make([]plot.Tick, len(c))
	for i, v := range c {
		ticks[i] = plot.Tick{Value: float64(i), Label: label(v)}
	}
	a.Tick.Marker = plot.ConstantTicks(ticks)
	a.Min, a.Max = -0.5, float64(len(c))-0.5
}

// pct formats a fraction as a percentage: 0.95 is "95".
func pct(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) }

// num formats a value briefly: 1024 is "1024", 0.5 is "0.5".
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// logY puts a panel's y axis on a log scale (figure.LogY) with the house
// LogTicks, which label 2 and 5 too when a panel spans less than two
// decades.
func logY(p *plot.Plot) {
	figure.LogY(p)
	p.Y.Tick.Marker = figure.LogTicks{}
}

// padLog widens a log y range so that markers keep off the frame and at
// least one labelled tick (1, 2 or 5 times a power of ten) falls inside.
// Call it after the data are added (and after ShareY).
func padLog(p *plot.Plot) {
	lo, hi := p.Y.Min, p.Y.Max
	if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return
	}
	lo, hi = lo/1.25, hi*1.25
	if r := hi / lo; r < 3 {
		f := math.Sqrt(3 / r)
		lo, hi = lo/f, hi*f
	}
	p.Y.Min, p.Y.Max = lo, hi
}

// padLinear starts a linear y axis at zero and leaves room at the top.
func padLinear(p *plot.Plot) {
	p.Y.Min = math.Min(0, p.Y.Min)
	if p.Y.Max > 0 && !math.IsInf(p.Y.Max, 0) {
		p.Y.Max *= 1.1
	}
}

// finish pads the y axes of every panel of f, by scale.
func finish(f *figure.Figure) {
	for _, row := range f.Panels {
		for _, p := range row {
			if p == nil {
				continue
			}
			if _, ok := p.Y.Scale.(plot.LogScale); ok {
				padLog(p)
			} else {
				padLinear(p)
			}
		}
	}
}

// ---- curves --------------------------------------------------------------

// styleOrder maps a method's index to a palette colour, with black
// before yellow.
var styleOrder = []int{0, 1, 2, 3, 4, 5, 7, 6}

// darkYellow replaces the palette's yellow, which is hard to see on white.
var darkYellow = color.RGBA{0xA8, 0x8A, 0x00, 0xff}

// glyphs cycle with the colours, filled shapes first.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
	draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

// colorOf is the colour of style i.
func colorOf(i int) color.Color {
	k := styleOrder[i%len(styleOrder)]
	if k == 6 {
		return darkYellow
	}
	return figure.Color(k)
}

// styleOf is the line and marker of style i, dashed if asked.
func styleOf(i int, dashed bool) (draw.LineStyle, draw.GlyphStyle) {
	c := colorOf(i)
	ls := draw.LineStyle{Color: c, Width: vg.Points(1)}
	if dashed {
		ls.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	return ls, draw.GlyphStyle{Color: c, Radius: vg.Points(2.2), Shape: glyphs[i%len(glyphs)]}
}

// curve is one method's line on a panel.
type curve struct {
	label  string
	style  int
	dashed bool
	pts    plotter.XYs
}

// jitter shifts the i-th of n curves sideways by up to ±width/2, so that
// curves with equal values (exact counters) stay visible side by side.
func jitter(curves []curve, n int, width float64) {
	if n < 2 {
		return
	}
	for k := range curves {
		dx := (float64(curves[k].style)/float64(n-1) - 0.5) * width
		for i := range curves[k].pts {
			curves[k].pts[i].X += dx
		}
	}
}

// isLogY reports whether p's y axis is logarithmic.
func isLogY(p *plot.Plot) bool {
	_, ok := p.Y.Scale.(plot.LogScale)
	return ok
}

// draw adds the curve to p: a line through its points (when there are two
// or more) and a marker at each. On a log axis points at or below zero are
// left out; it returns how many.
func (c curve) draw(p *plot.Plot) (dropped int, err error) {
	var pts plotter.XYs
	for _, pt := range c.pts {
		if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) || (isLogY(p) && pt.Y <= 0) {
			dropped++
			continue
		}
		pts = append(pts, pt)
	}
	if len(pts) == 0 {
		return dropped, nil
	}
	ls, gs := styleOf(c.style, c.dashed)
	if len(pts) > 1 {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return dropped, fmt.Errorf("%s: %w", c.label, err)
		}
		l.LineStyle = ls
		p.Add(l)
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return dropped, fmt.Errorf("%s: %w", c.label, err)
	}
	s.GlyphStyle = gs
	p.Add(s)
	return dropped, nil
}

// entry is the curve's legend entry.
func (c curve) entry() figure.Entry {
	ls, gs := styleOf(c.style, c.dashed)
	return figure.Entry{Label: c.label, Thumbs: []plot.Thumbnailer{thumb{line: &ls, glyph: &gs}}}
}

// thumb is a legend thumbnail: a line through the middle and a marker.
type thumb struct {
	line  *draw.LineStyle
	glyph *draw.GlyphStyle
	fill  color.Color
}

// Thumbnail implements plot.Thumbnailer.
func (t thumb) Thumbnail(c *draw.Canvas) {
	if t.fill != nil {
		pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
		c.FillPolygon(t.fill, pts)
	}
	y := c.Center().Y
	if t.line != nil {
		c.StrokeLine2(*t.line, c.Min.X, y, c.Max.X, y)
	}
	if t.glyph != nil {
		c.DrawGlyphNoClip(*t.glyph, c.Center())
	}
}

// methodCurves returns one curve per method of methods (style = its
// index) through (position of X on cat, value(row)) for group's rows.
// Methods without rows in the group give no curve.
func methodCurves(rows []suite.Row, group string, methods []string, c cats, value func(suite.Row) float64) []curve {
	var out []curve
	for i, m := range methods {
		rs := pick(rows, group, m)
		if len(rs) == 0 {
			continue
		}
		cv := curve{label: m, style: i}
		for _, r := range rs {
			x := float64(0)
			if c != nil {
				if x = c.at(r.X); x < 0 {
					continue
				}
			} else {
				x = r.X
			}
			cv.pts = append(cv.pts, plotter.XY{X: x, Y: value(r)})
		}
		out = append(out, cv)
	}
	return out
}

// drawCurves draws curves on p and returns the number of points left out.
func drawCurves(p *plot.Plot, curves []curve) (int, error) {
	n := 0
	for _, c := range curves {
		d, err := c.draw(p)
		if err != nil {
			return n, err
		}
		n += d
	}
	return n, nil
}

// legend is the figure legend of methods, in order (style = index), each
// entry once.
func legend(methods []string, dashed map[string]bool) []figure.Entry {
	out := make([]figure.Entry, len(methods))
	for i, m := range methods {
		out[i] = curve{label: m, style: i, dashed: dashed[m]}.entry()
	}
	return out
}

// labelStyle is the small text of point annotations.
func labelStyle(c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(plot.DefaultFont, 6.5), Handler: plot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YBottom}
}

// annotate adds text labels at points, above them by dy points (below
// them when dy is negative).
func annotate(p *plot.Plot, pts plotter.XYs, labels []string, c color.Color, dy vg.Length) error {
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i] = labelStyle(c)
		if dy < 0 {
			l.TextStyle[i].YAlign = draw.YTop
		}
	}
	l.Offset = vg.Point{Y: dy}
	p.Add(l)
	return nil
}

// pickedTile returns what a "picked …" note says was chosen: "dense" or a
// tile such as "16x1", with the effective sparsity when given (else NaN);
// ok is false when the note names no pick.
func pickedTile(note string) (tile string, seff float64, ok bool) {
	_, rest, found := strings.Cut(note, "picked ")
	if !found {
		return "", math.NaN(), false
	}
	rest = strings.TrimSpace(rest)
	tile, args, _ := strings.Cut(rest, " ")
	seff = math.NaN()
	if _, v, has := strings.Cut(args, "s_eff "); has {
		v, _, _ = strings.Cut(v, ",")
		if f, err := strconv.ParseFloat(strings.Trim(v, " ()"), 64); err == nil {
			seff = f
		}
	}
	return strings.TrimRight(tile, ";,"), seff, tile != ""
}
