package pitfig

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/pit/suite"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// KernelMethods are the methods of E1 in the order Kernels draws them.
var KernelMethods = []string{suite.MDense, suite.MCSR, suite.MBlock, suite.MBlockConv, suite.MStatic,
	suite.MPIT32x1, suite.MPIT1x64, suite.MPITAuto}

// IndexMethods are the methods of E3 in the order IndexCost draws them;
// CSR conversion runs at 1x1 only.
var IndexMethods = []string{suite.MIndex1, suite.MIndexN, suite.MIndexAtom, suite.MTriton, suite.MBCSRConv, suite.MCSRConv}

// GPUMethods are the methods of the E9 model in the order GPUModel draws
// them; the tuned static kernel exists only where the artifact measured it.
var GPUMethods = []string{suite.MDense, suite.MBlock, suite.MStatic, suite.MPITAuto}

// Paper's ratio of the 32×1 micro-tile kernel to the 32×64 block kernel
// at equal sparsity, V100 FP32 4096³ (specs/pit.md §4.2, §9 item 4).
const (
	PaperRatioLow  = 1.09
	PaperRatioHigh = 1.38
)

// patternNames returns the String of each pattern of suite.Patterns.
func patternNames() []string {
	out := make([]string, len(suite.Patterns))
	for i, t := range suite.Patterns {
		out[i] = t.String()
	}
	return out
}

// side returns the integer r with r^k = v, rounded; 0 if v ≤ 0.
func side(v int64, k float64) int {
	if v <= 0 {
		return 0
	}
	return int(math.Round(math.Pow(float64(v), 1/k)))
}

// Kernels draws Fig. 15 on CPU from E1: a sparse × dense N³ product whose
// left operand has a random mask of granularity 32x1, 1x64, 32x64 or 1x1
// (a column each). The top row is the latency (ms, log) against sparsity
// of every method of KernelMethods, the bottom row the multiply-adds each
// executed relative to the dense product's N³ (log): block-sparse kernels
// stay near dense on fine masks, PIT and CSR fall with the density.
func Kernels(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "Kernels"
	grans := patternNames()
	if err := need(fig, "E1", rows, grans, KernelMethods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig15_kernels", 2, len(grans))
	c := cats(xs(rows, ""))
	n := 0
	dropped := 0
	for j, g := range grans {
		top, bottom := f.Panel(0, j), f.Panel(1, j)
		top.Title.Text = "mask granularity " + g
		top.Y.Label.Text = "latency (ms)"
		bottom.X.Label.Text = "sparsity (%)"
		bottom.Y.Label.Text = "MACs executed / N³"
		logY(top)
		logY(bottom)
		dense := pick(rows, g, suite.MDense)
		denseMACs := func(x float64) float64 {
			for _, r := range dense {
				if same(r.X, x) {
					return float64(r.Work.MACs)
				}
			}
			return float64(dense[0].Work.MACs)
		}
		n = side(dense[0].Work.MACs, 3)
		d, err := drawCurves(top, methodCurves(rows, g, KernelMethods, c, func(r suite.Row) float64 { return ms(r.Median) }))
		if err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		dropped += d
		macs := methodCurves(rows, g, KernelMethods, c, func(r suite.Row) float64 {
			return float64(r.Work.MACs) / denseMACs(r.X)
		})
		jitter(macs, len(KernelMethods), 0.3)
		d, err = drawCurves(bottom, macs)
		if err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		dropped += d
		c.apply(&top.X, pct)
		c.apply(&bottom.X, pct)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(KernelMethods, nil))
	extra := fmt.Sprintf("N = %d (an N×N×N FP32 product); CSR, block 32x64 and the static block are built before timing, "+
		"\"+ convert\" builds the block format in every call; PIT auto includes its micro-tile choice; "+
		"in the bottom row the methods are set slightly apart, as many execute equal counts", n)
	if dropped > 0 {
		extra += fmt.Sprintf("; %d zero points left off the log axes", dropped)
	}
	f.Note = measuredNote("E1", "Fig. 15", m, rows, extra)
	return f, nil
}

// MicroTileOverhead draws Fig. 16 on CPU from E2: the same dense kernel on
// the 32×64 blocks of a 32×64-granular mask and on 32×1 micro-tiles
// gathered from a 32×1-granular mask of equal sparsity. Left, both
// latencies (ms, log); right, their ratio PIT / block (of the medians and
// of the minima) against the paper's 1.09–1.38 on a V100.
func MicroTileOverhead(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "MicroTileOverhead"
	if len(rows) == 0 {
		return nil, fmt.Errorf("pitfig: %s: no E2 rows", fig)
	}
	g := groups(rows)[0]
	methods := []string{suite.MBlockKern, suite.MPITKernel}
	if err := need(fig, "E2", rows, []string{g}, methods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig16_microtile_overhead", 1, 2)
	f.Width = 7.2 * vg.Inch
	c := cats(xs(rows, g))
	left, right := f.Panel(0, 0), f.Panel(0, 1)
	left.Title.Text = "kernel latency"
	left.X.Label.Text, left.Y.Label.Text = "sparsity (%)", "latency (ms)"
	logY(left)
	curves := methodCurves(rows, g, methods, c, func(r suite.Row) float64 { return ms(r.Median) })
	if _, err := drawCurves(left, curves); err != nil {
		return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
	}
	c.apply(&left.X, pct)

	right.Title.Text = "PIT 32x1 / block 32x64"
	right.X.Label.Text, right.Y.Label.Text = "sparsity (%)", "latency ratio"
	block, pitk := pick(rows, g, suite.MBlockKern), pick(rows, g, suite.MPITKernel)
	med := curve{label: "ratio of medians", style: 2}
	lo := curve{label: "ratio of minima", style: 3, dashed: true}
	var logs []float64
	for _, b := range block {
		for _, p := range pitk {
			if same(b.X, p.X) && b.Median > 0 && b.Min > 0 {
				x := c.at(b.X)
				med.pts = append(med.pts, plotter.XY{X: x, Y: p.Median / b.Median})
				lo.pts = append(lo.pts, plotter.XY{X: x, Y: p.Min / b.Min})
				logs = append(logs, math.Log(p.Median/b.Median))
			}
		}
	}
	if len(med.pts) == 0 {
		return nil, fmt.Errorf("pitfig: %s: E2 has no sparsity with both %q and %q timed", fig, suite.MBlockKern, suite.MPITKernel)
	}
	n := float64(len(c))
	band, err := plotter.NewPolygon(plotter.XYs{{X: -0.5, Y: PaperRatioLow}, {X: n - 0.5, Y: PaperRatioLow},
		{X: n - 0.5, Y: PaperRatioHigh}, {X: -0.5, Y: PaperRatioHigh}})
	if err != nil {
		return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
	}
	bandColor := color.NRGBA{0xE6, 0x9F, 0x00, 0x50}
	band.Color = bandColor
	band.LineStyle = draw.LineStyle{Color: color.RGBA{0xE6, 0x9F, 0x00, 0xff}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: n - 0.5, Y: 1}})
	if err != nil {
		return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
	}
	oneStyle := draw.LineStyle{Color: color.Gray{0x80}, Width: vg.Points(0.6)}
	one.LineStyle = oneStyle
	right.Add(band, one)
	if _, err := drawCurves(right, []curve{med, lo}); err != nil {
		return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: -0.4, Y: PaperRatioLow}},
		Labels: []string{fmt.Sprintf("paper, V100: %.2f–%.2f", PaperRatioLow, PaperRatioHigh)}})
	if err == nil {
		lbl.TextStyle[0] = labelStyle(color.RGBA{0xA0, 0x60, 0x00, 0xff})
		lbl.TextStyle[0].XAlign = draw.XLeft
		lbl.TextStyle[0].YAlign = draw.YTop
		lbl.Offset = vg.Point{Y: -vg.Points(1.5)}
		right.Add(lbl)
	}
	c.apply(&right.X, pct)
	finish(f)
	right.Y.Min = math.Min(0.8, slices.Min(lows(med.pts, lo.pts))-0.1)
	right.Y.Max = math.Max(right.Y.Max, PaperRatioHigh+0.2)

	entries := legend(methods, nil)
	entries = append(entries, med.entry(), lo.entry(),
		figure.Entry{Label: "paper (V100 FP32, 4096³)", Thumbs: []plot.Thumbnailer{thumb{fill: bandColor, line: &band.LineStyle}}},
		figure.Entry{Label: "equal", Thumbs: []plot.Thumbnailer{thumb{line: &oneStyle}}})
	f.SetLegend(entries)
	var ratios []float64
	for _, p := range med.pts {
		ratios = append(ratios, p.Y)
	}
	gm := 0.0
	for _, l := range logs {
		gm += l
	}
	gm = math.Exp(gm / float64(len(logs)))
	nn := side(block[0].Work.MACs, 3)
	f.Note = measuredNote("E2", "Fig. 16", m, rows,
		fmt.Sprintf("N = %d; both formats built before timing; ratio of medians: geometric mean %.2f, range %.2f–%.2f over %d sparsities",
			nn, gm, slices.Min(ratios), slices.Max(ratios), len(ratios)))
	return f, nil
}

// lows returns the y values of the points of both lists.
func lows(a, b plotter.XYs) []float64 {
	var out []float64
	for _, p := range append(slices.Clone(a), b...) {
		out = append(out, p.Y)
	}
	return out
}

// IndexCost draws Fig. 17 on CPU from E3: per mask granularity (1x1,
// 16x16, 32x32, a panel each), the latency (ms, log) against sparsity of
// building PIT's unordered index (one worker, all workers, atomic appends)
// and of the ordered conversions of the baselines (a Triton-like block
// layout with a sorted LUT, BCSR, and CSR at 1x1).
func IndexCost(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "IndexCost"
	grans := make([]string, len(suite.E3Granularities))
	for i, t := range suite.E3Granularities {
		grans[i] = t.String()
	}
	if err := need(fig, "E3", rows, grans, IndexMethods[:5]); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig17_index_cost", 1, len(grans))
	c := cats(xs(rows, ""))
	for j, g := range grans {
		p := f.Panel(0, j)
		p.Title.Text = "granularity " + g
		p.X.Label.Text, p.Y.Label.Text = "sparsity (%)", "latency (ms)"
		logY(p)
		if _, err := drawCurves(p, methodCurves(rows, g, IndexMethods, c, func(r suite.Row) float64 { return ms(r.Median) })); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		c.apply(&p.X, pct)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(IndexMethods, nil))
	mask := side(pick(rows, grans[0], suite.MIndex1)[0].Work.IndexReads, 2)
	f.Note = measuredNote("E3", "Fig. 17", m, rows,
		fmt.Sprintf("a %d×%d mask; PIT appends non-empty micro-tiles in any order, the baselines write an ordered format", mask, mask))
	return f, nil
}

// Chooser draws PIT's micro-tile selection (specs/pit.md §2.7): left, the
// calibrated cost table of this machine, latency (ms, log) against
// micro-tile sparsity per micro-tile shape, with the dense product as a
// dashed line; right, what PIT auto picked on E1 for each mask
// granularity and sparsity (parsed from the rows' "picked …" notes), the
// marker filled where the pick beat the measured dense product and hollow
// where it did not.
func Chooser(cal *suite.Calibration, e1 []suite.Row) (*figure.Figure, error) {
	const fig = "Chooser"
	if cal == nil || len(cal.Table.Curves) == 0 {
		return nil, fmt.Errorf("pitfig: %s: no cost table", fig)
	}
	var autos []suite.Row
	for _, r := range e1 {
		if r.Method == suite.MPITAuto {
			autos = append(autos, r)
		}
	}
	if len(autos) == 0 {
		return nil, fmt.Errorf("pitfig: %s: no E1 rows of method %q", fig, suite.MPITAuto)
	}
	f := figure.New(Paper, "chooser", 1, 2)
	f.Width, f.Height = 8*vg.Inch, 3.4*vg.Inch
	left, right := f.Panel(0, 0), f.Panel(0, 1)

	// Left: the cost table.
	var sps []float64
	for _, cv := range cal.Table.Curves {
		for _, p := range cv.Points {
			if !slices.ContainsFunc(sps, func(v float64) bool { return same(v, p.Sparsity) }) {
				sps = append(sps, p.Sparsity)
			}
		}
	}
	slices.Sort(sps)
	c := cats(sps)
	left.Title.Text = fmt.Sprintf("cost table (%d³ product)", cal.Table.N)
	left.X.Label.Text, left.Y.Label.Text = "micro-tile sparsity (%)", "latency (ms)"
	logY(left)
	tiles := make([]string, len(cal.Table.Curves))
	var curves []curve
	for i, cv := range cal.Table.Curves {
		tiles[i] = cv.Tile.String()
		k := curve{label: tiles[i], style: i}
		for _, p := range cv.Points {
			k.pts = append(k.pts, plotter.XY{X: c.at(p.Sparsity), Y: ms(p.Seconds)})
		}
		curves = append(curves, k)
	}
	if _, err := drawCurves(left, curves); err != nil {
		return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
	}
	denseStyle := draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
	if cal.Table.Dense > 0 {
		dl, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: ms(cal.Table.Dense)}, {X: float64(len(c)) - 0.5, Y: ms(cal.Table.Dense)}})
		if err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		dl.LineStyle = denseStyle
		left.Add(dl)
	}
	c.apply(&left.X, pct)

	// Right: the picks on E1.
	grans := groups(autos)
	ordered := patternNames()
	slices.SortStableFunc(grans, func(a, b string) int {
		ia, ib := slices.Index(ordered, a), slices.Index(ordered, b)
		if ia < 0 {
			ia = len(ordered)
		}
		if ib < 0 {
			ib = len(ordered)
		}
		return ia - ib
	})
	sx := cats(xs(autos, ""))
	right.Title.Text = "PIT auto's pick on E1"
	right.X.Label.Text, right.Y.Label.Text = "sparsity (%)", "mask granularity"
	denseOf := func(g string, x float64) float64 {
		for _, r := range pick(e1, g, suite.MDense) {
			if same(r.X, x) {
				return r.Median
			}
		}
		return math.NaN()
	}
	faster, slower := 0, 0
	for gi, g := range grans {
		for _, r := range pick(autos, g, suite.MPITAuto) {
			tile, seff, ok := pickedTile(r.Note)
			if !ok {
				return nil, fmt.Errorf("pitfig: %s: E1 row %s at sparsity %g has no \"picked …\" note (%q)", fig, g, r.X, r.Note)
			}
			style, col := slices.Index(tiles, tile), color.Color(color.Black)
			if style >= 0 {
				col = colorOf(style)
			}
			_, gs := styleOf(max(style, 0), false)
			gs.Color = col
			gs.Radius = vg.Points(3.2)
			pt := plotter.XY{X: sx.at(r.X), Y: float64(len(grans) - 1 - gi)}
			d := denseOf(g, r.X)
			if !math.IsNaN(d) && r.Median >= d {
				gs.Shape = draw.RingGlyph{}
				slower++
			} else {
				if tile == "dense" {
					gs.Shape = draw.BoxGlyph{}
				} else {
					gs.Shape = draw.CircleGlyph{}
				}
				faster++
			}
			s, err := plotter.NewScatter(plotter.XYs{pt})
			if err != nil {
				return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
			}
			s.GlyphStyle = gs
			right.Add(s)
			label := tile
			if !math.IsNaN(seff) {
				label += fmt.Sprintf("\ns_eff %.2f", seff)
			}
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{pt}, Labels: []string{label}})
			if err != nil {
				return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
			}
			lb.TextStyle[0] = labelStyle(color.Black)
			lb.TextStyle[0].YAlign = draw.YTop
			lb.Offset = vg.Point{Y: -vg.Points(4.5)}
			right.Add(lb)
		}
	}
	sx.apply(&right.X, pct)
	yt := make([]plot.Tick, len(grans))
	for gi, g := range grans {
		yt[gi] = plot.Tick{Value: float64(len(grans) - 1 - gi), Label: g}
	}
	right.Y.Tick.Marker = plot.ConstantTicks(yt)
	right.Y.Min, right.Y.Max = -0.75, float64(len(grans))-0.4
	padLog(left)

	entries := legend(tiles, nil)
	entries = append(entries, figure.Entry{Label: "dense (calibrated)", Thumbs: []plot.Thumbnailer{thumb{line: &denseStyle}}})
	f.SetLegend(entries)
	f.Note = wrapNote(
		fmt.Sprintf("cost table calibrated on %s, %s; each point the fastest of %d runs", cal.Machine, kernelText(cal.Machine), cal.Reps),
		fmt.Sprintf("picks: E1 (PIT Fig. 15 on CPU), PIT auto with this table; %s; filled marker: PIT auto's median beat dense (%d of %d), hollow: it did not",
			repsText(autos), faster, faster+slower),
		"PIT auto compares each candidate's predicted time at the mask's effective micro-tile sparsity s_eff with the dense time, and keeps the cheapest",
	)
	return f, nil
}

// GPUModel draws E9: the V100 latency model of specs/pit.md §5.5b
// (fitted to the artifact's published kernel data) evaluated on E1's
// masks at 4096³, a panel per granularity, modelled latency (ms, log)
// against sparsity for cuBLAS dense, the 32×64 block kernel covering the
// mask, SparTA's tuned static kernel where the artifact measured it, and
// PIT choosing its micro-tile by the model (its pick written at each
// point). It is a model, not a measurement, and every panel says so.
func GPUModel(e9 []suite.Row) (*figure.Figure, error) {
	const fig = "GPUModel"
	grans := patternNames()
	if err := need(fig, "E9", e9, grans, []string{suite.MDense, suite.MBlock, suite.MPITAuto}); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "gpu_model", 1, len(grans))
	f.Height = 3.3 * vg.Inch
	c := cats(xs(e9, ""))
	for j, g := range grans {
		p := f.Panel(0, j)
		p.Title.Text = GPUModelTitle + "\nmask granularity " + g
		p.X.Label.Text, p.Y.Label.Text = "sparsity (%)", "modelled latency (ms)"
		logY(p)
		if _, err := drawCurves(p, methodCurves(e9, g, GPUMethods, c, func(r suite.Row) float64 { return ms(r.Median) })); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		var pts plotter.XYs
		var labels []string
		for _, r := range pick(e9, g, suite.MPITAuto) {
			if tile, _, ok := pickedTile(r.Note); ok && r.Median > 0 {
				pts = append(pts, plotter.XY{X: c.at(r.X), Y: ms(r.Median)})
				labels = append(labels, tile)
			}
		}
		if err := annotate(p, pts, labels, colorOf(slices.Index(GPUMethods, suite.MPITAuto)), -vg.Points(5)); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		c.apply(&p.X, pct)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(GPUMethods, nil))
	f.Note = wrapNote(
		"E9: "+GPUModelTitle+". "+GPUModelNote+" (specs/pit.md 5.5b): stile_db.csv, sparta_results.csv, cuBLAS 10.22 ms.",
		"V100 FP32, 4096×4096×4096; block density 1 − s^r for i.i.d. masks; PIT auto picks the cheapest of 4x1…32x1 or dense by the model "+
			"(label at each point); the static kernel exists only where the artifact measured it",
	)
	return f, nil
}
