package pitfig

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/pit/suite"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Method names of E5 and E6 (literal strings in lib/pit/suite/models.go).
const (
	MTileSkip    = "PIT tile skip"
	MTokenGather = "PIT token gather"
	MUnpadded    = "unpadded per sample"
	MBlock32Conv = "block 32x32 + convert"
)

// Method lists in drawing order.
var (
	MoEMethods        = []string{suite.MLoop, suite.MCap125, suite.MCap2, suite.MPadded, suite.MAllExperts, suite.MPIT, suite.MPITIndex}
	SeqlenMethods     = []string{suite.MDense, MTileSkip, MTokenGather, MUnpadded}
	AttentionMethods  = []string{suite.MDense, MBlock32Conv, suite.MPIT}
	ActivationMethods = []string{suite.MDense, suite.MCSR, suite.MBlockConv, suite.MPIT32x1, suite.MPITAuto}
	TrainingMethods   = []string{suite.MDense, suite.MBlockConv, suite.MPIT}
)

// Groups the figures expect.
var (
	AttentionGroups  = []string{"Longformer", "Museformer-like"}
	ActivationGroups = []string{"independent", "dead neurons"}
	TrainingGroups   = []string{"32x64 mask", "32x1 mask"}
)

// tokenCount parses "T=1024"; -1 if it does not parse.
func tokenCount(g string) int {
	v, err := strconv.Atoi(strings.TrimPrefix(g, "T="))
	if err != nil {
		return -1
	}
	return v
}

// MoE draws Fig. 8 on CPU from E4: one Switch-like FFN-MoE layer per token
// count (a column each). The top row is the latency (ms, log) against the
// number of experts per method; the all-experts emulation runs at one
// configuration only and shows as a single point; the PIT index alone
// (dashed) shows how small a part of PIT's time it is. The bottom row is
// the temporary buffer each method holds for one call (MiB, log).
func MoE(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "MoE"
	if len(rows) == 0 {
		return nil, fmt.Errorf("pitfig: %s: no E4 rows", fig)
	}
	grps := groups(rows)
	slices.SortStableFunc(grps, func(a, b string) int { return tokenCount(a) - tokenCount(b) })
	required := []string{suite.MLoop, suite.MCap125, suite.MCap2, suite.MPadded, suite.MPIT, suite.MPITIndex}
	if err := need(fig, "E4", rows, grps, required); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig8_moe", 2, len(grps))
	f.Height = 5.2 * vg.Inch
	c := cats(xs(rows, ""))
	dashed := map[string]bool{suite.MPITIndex: true}
	for j, g := range grps {
		top, bottom := f.Panel(0, j), f.Panel(1, j)
		top.Title.Text = fmt.Sprintf("%s tokens", strings.TrimPrefix(g, "T="))
		top.Y.Label.Text = "latency (ms)"
		bottom.X.Label.Text = "number of experts"
		bottom.Y.Label.Text = "buffers per call (MiB)"
		logY(top)
		logY(bottom)
		curves := methodCurves(rows, g, MoEMethods, c, func(r suite.Row) float64 { return ms(r.Median) })
		for i := range curves {
			curves[i].dashed = dashed[curves[i].label]
		}
		if _, err := drawCurves(top, curves); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		bufs := methodCurves(rows, g, MoEMethods, c, func(r suite.Row) float64 { return float64(r.Buffer) / (1 << 20) })
		bufs = slices.DeleteFunc(bufs, func(k curve) bool { return k.label == suite.MPITIndex })
		if _, err := drawCurves(bottom, bufs); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		c.apply(&top.X, num)
		c.apply(&bottom.X, num)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(MoEMethods, dashed))
	var idx, pit []float64
	for _, r := range rows {
		switch r.Method {
		case suite.MPITIndex:
			idx = append(idx, r.Median)
		case suite.MPIT:
			pit = append(pit, r.Median)
		}
	}
	extra := "top-1 routing with Zipf-skewed expert popularity; capacity methods drop tokens, block padded pads every expert to a block, " +
		"all experts masked runs every token through every expert (once)"
	if len(idx) > 0 && len(pit) > 0 && slices.Min(pit) > 0 {
		extra += fmt.Sprintf("; PIT index only: at most %.2f %% of the fastest PIT layer time", 100*slices.Max(idx)/slices.Min(pit))
	}
	f.Note = measuredNote("E4", "Fig. 8", m, rows, extra)
	return f, nil
}

// padding returns the "12.3 % padding" of a row's note, or NaN.
func padding(note string) float64 {
	v, _, ok := strings.Cut(note, "%")
	if !ok {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// Seqlen draws Fig. 10 on CPU from E5: a linear layer on padded batches,
// one panel per batch shape (GLUE-like short sequences, long documents),
// latency (ms) against the mean sequence length (the batch's padding
// share under each), for the dense layer over the padding, PIT skipping
// padded tiles, PIT gathering the real tokens, and an unpadded per-sample
// loop.
func Seqlen(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "Seqlen"
	if len(rows) == 0 {
		return nil, fmt.Errorf("pitfig: %s: no E5 rows", fig)
	}
	grps := groups(rows)
	if err := need(fig, "E5", rows, grps, SeqlenMethods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig10_seqlen", 1, len(grps))
	f.Height = 2.7 * vg.Inch
	var all []float64
	for _, r := range rows {
		all = append(all, r.Median)
	}
	useLog := spans(all, 10)
	for j, g := range grps {
		p := f.Panel(0, j)
		p.Title.Text = g
		p.X.Label.Text, p.Y.Label.Text = "mean length (padding %)", "latency (ms)"
		if useLog {
			logY(p)
		}
		c := cats(xs(rows, g))
		if _, err := drawCurves(p, methodCurves(rows, g, SeqlenMethods, c, func(r suite.Row) float64 { return ms(r.Median) })); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		dense := pick(rows, g, suite.MDense)
		c.apply(&p.X, func(x float64) string {
			for _, r := range dense {
				if same(r.X, x) {
					if pd := padding(r.Note); !math.IsNaN(pd) {
						return fmt.Sprintf("%s\n(%.0f %%)", num(x), pd)
					}
				}
			}
			return num(x)
		})
	}
	finish(f)
	f.SetLegend(legend(SeqlenMethods, nil))
	f.Note = measuredNote("E5", "Fig. 10", m, rows,
		"one width×width linear layer (BERT-base width) on a batch padded to its maximum length; log-normal lengths of each mean")
	return f, nil
}

// spans reports whether the positive values span at least a factor k.
func spans(v []float64, k float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if x > 0 {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return hi/lo >= k
}

// Attention draws Fig. 11/12 on CPU from E6: one attention head over a
// Longformer mask (sliding window plus data-dependent global tokens) and a
// Museformer-like block mask that changes with every sample, a panel
// each, with grouped bars per sequence length for dense masked attention,
// a 32×32 block-sparse kernel that converts its layout on every call, and
// PIT. Each bar carries its latency in ms.
func Attention(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "Attention"
	if err := need(fig, "E6", rows, AttentionGroups, AttentionMethods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig11_attention", 1, len(AttentionGroups))
	f.Width, f.Height = 7.2*vg.Inch, 2.8*vg.Inch
	var series []figure.BarSeries
	for j, g := range AttentionGroups {
		p := f.Panel(0, j)
		p.Title.Text = g
		p.X.Label.Text, p.Y.Label.Text = "sequence length", "latency (ms)"
		lens := xs(rows, g)
		names := make([]string, len(lens))
		for i, l := range lens {
			names[i] = num(l)
		}
		series = nil
		for _, mm := range AttentionMethods {
			s := figure.BarSeries{Label: mm, Values: make([]float64, len(lens))}
			for i := range s.Values {
				s.Values[i] = math.NaN()
			}
			for _, r := range pick(rows, g, mm) {
				if i := cats(lens).at(r.X); i >= 0 {
					s.Values[int(i)] = ms(r.Median)
				}
			}
			series = append(series, s)
		}
		if err := figure.GroupedBars(p, names, series); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		// Value labels on top of the bars (GroupedBars fills 80 % of a
		// group's slot, the series side by side).
		w := 0.8 / float64(len(series))
		var pts plotter.XYs
		var labels []string
		for i, s := range series {
			for gi, v := range s.Values {
				if !math.IsNaN(v) {
					pts = append(pts, plotter.XY{X: float64(gi) - 0.4 + (float64(i)+0.5)*w, Y: v})
					labels = append(labels, strconv.FormatFloat(v, 'f', 1, 64))
				}
			}
		}
		if err := annotate(p, pts, labels, figure.Palette[7], vg.Points(1.5)); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(figure.BarLegend(series))
	globals := ""
	for _, r := range pick(rows, "Longformer", suite.MPIT) {
		if r.Note != "" {
			globals += fmt.Sprintf("; L=%s: %s", num(r.X), r.Note)
		}
	}
	f.Note = measuredNote("E6", "Fig. 11/12", m, rows,
		"one head; the block kernel rebuilds its 32x32 layout every call; PIT: window plus gathered global columns (Longformer), "+
			"online 32x32 index (Museformer-like)"+globals)
	return f, nil
}

// Activation draws Fig. 9 on CPU from E7: an activation-sparse fc2 whose
// zeros are found at run time, a panel per activation pattern
// (independent zeros, dead neurons), latency (ms, log) against activation
// sparsity per method, with PIT auto's pick written next to its points.
func Activation(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "Activation"
	if err := need(fig, "E7", rows, ActivationGroups, ActivationMethods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig9_activation", 1, len(ActivationGroups))
	f.Width, f.Height = 7.2*vg.Inch, 2.9*vg.Inch
	autoStyle := slices.Index(ActivationMethods, suite.MPITAuto)
	for j, g := range ActivationGroups {
		p := f.Panel(0, j)
		p.Title.Text = g
		p.X.Label.Text, p.Y.Label.Text = "activation sparsity (%)", "latency (ms)"
		logY(p)
		c := cats(xs(rows, g))
		if _, err := drawCurves(p, methodCurves(rows, g, ActivationMethods, c, func(r suite.Row) float64 { return ms(r.Median) })); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		var pts plotter.XYs
		var labels []string
		for _, r := range pick(rows, g, suite.MPITAuto) {
			if tile, _, ok := pickedTile(r.Note); ok && r.Median > 0 {
				pts = append(pts, plotter.XY{X: c.at(r.X), Y: ms(r.Median)})
				labels = append(labels, "picked "+tile)
			}
		}
		if err := annotate(p, pts, labels, colorOf(autoStyle), vg.Points(3.5)); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		c.apply(&p.X, pct)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(ActivationMethods, nil))
	f.Note = measuredNote("E7", "Fig. 9", m, rows,
		"Y = H·W2 with H = ReLU(X·W1 + b); every sparse method finds the zeros of H inside the timing; "+
			"PIT auto chooses with the calibrated cost table")
	return f, nil
}

// Training draws Fig. 14 on CPU from E8: one training step (forward,
// input and weight gradients) of a linear layer whose magnitude-pruned
// weight mask changes every step, a panel per mask granularity (32x64,
// 32x1), per-step latency (ms, log) against sparsity for the dense step
// with the mask applied, a block-sparse step that reconverts its layout,
// and PIT rebuilding its index.
func Training(rows []suite.Row, m suite.Machine) (*figure.Figure, error) {
	const fig = "Training"
	if err := need(fig, "E8", rows, TrainingGroups, TrainingMethods); err != nil {
		return nil, err
	}
	f := figure.New(Paper, "fig14_training", 1, len(TrainingGroups))
	f.Width, f.Height = 7.2*vg.Inch, 2.7*vg.Inch
	for j, g := range TrainingGroups {
		p := f.Panel(0, j)
		p.Title.Text = g
		p.X.Label.Text, p.Y.Label.Text = "weight sparsity (%)", "latency per step (ms)"
		logY(p)
		c := cats(xs(rows, g))
		if _, err := drawCurves(p, methodCurves(rows, g, TrainingMethods, c, func(r suite.Row) float64 { return ms(r.Median) })); err != nil {
			return nil, fmt.Errorf("pitfig: %s: %w", fig, err)
		}
		c.apply(&p.X, pct)
	}
	f.ShareY(true)
	finish(f)
	f.SetLegend(legend(TrainingMethods, nil))
	f.Note = measuredNote("E8", "Fig. 14", m, rows,
		"forward plus both backward products; the mask is re-derived by magnitude each step outside the timing, "+
			"the block baseline reconverts and PIT re-indexes inside it")
	return f, nil
}
