package suite

import (
	"fmt"
	"math"
	"strings"

	"github.com/paperlab/paperlab/lib/pit"
)

// Headline is one of the comparisons of specs/pit.md §9: our measured
// value beside the paper's, both as text.
type Headline struct {
	Name  string
	Ours  string
	Paper string
}

// find returns the row of experiment rows with group, x and method.
func find(rows []Row, group string, x float64, method string) (Row, bool) {
	for _, r := range rows {
		if r.Group == group && math.Abs(r.X-x) < 1e-9 && r.Method == method {
			return r, true
		}
	}
	return Row{}, false
}

// BreakEven is the micro-tile sparsity above which the calibrated PIT
// curve of tile t is faster than dense, interpolated linearly between
// the table's points; ok is false when the curve never crosses.
func BreakEven(tb pit.CostTable, t pit.Tile) (s float64, ok bool) {
	for _, c := range tb.Curves {
		if c.Tile != t {
			continue
		}
		p := c.Points
		if len(p) > 0 && p[0].Seconds <= tb.Dense {
			return p[0].Sparsity, true
		}
		for k := 1; k < len(p); k++ {
			a, b := p[k-1], p[k]
			if b.Seconds <= tb.Dense {
				f := (a.Seconds - tb.Dense) / (a.Seconds - b.Seconds)
				return a.Sparsity + f*(b.Sparsity-a.Sparsity), true
			}
		}
	}
	return 0, false
}

// Headlines computes the comparisons of specs/pit.md §9 from a suite's
// rows and its cost table: break-even sparsity, speedups over dense,
// PIT against block-sparse and against the tuned static kernel on a
// fine-grained mask (time and multiply-adds), the micro-tile overhead,
// and the model-level speedups over the best baseline. Rows that are
// missing leave their lines out.
func Headlines(rows map[string][]Row, cal *Calibration) []Headline {
	var out []Headline
	add := func(name, ours, paper string) { out = append(out, Headline{name, ours, paper}) }
	ms := func(r Row) float64 { return 1e3 * r.Median }

	if cal != nil {
		if s, ok := BreakEven(cal.Table, pit.Tile32x1); ok {
			add("break-even sparsity, PIT 32x1 vs dense (cost table, index included)",
				fmt.Sprintf("%.0f %%", 100*s), "about 30 % (V100, 4096³)")
		} else {
			add("break-even sparsity, PIT 32x1 vs dense (cost table, index included)", "never within the table", "about 30 % (V100, 4096³)")
		}
	}
	e1 := rows["E1"]
	paperSpeed := map[float64]string{0.5: "1.36x", 0.9: "5.8x", 0.95: "10.9x", 0.99: "26.4x"}
	paperStatic := map[float64]string{0.5: "1.70x", 0.9: "4.14x", 0.95: "4.55x", 0.99: "3.00x"}
	for _, s := range E1Sparsities {
		d, ok1 := find(e1, "32x1", s, MDense)
		p, ok2 := find(e1, "32x1", s, MPIT32x1)
		if ok1 && ok2 {
			add(fmt.Sprintf("PIT 32x1 over dense at %g %% (32x1 mask)", 100*s),
				fmt.Sprintf("%.1fx (%.2f vs %.2f ms)", d.Median/p.Median, ms(p), ms(d)), paperSpeed[s])
		}
	}
	for _, s := range E1Sparsities {
		b, ok1 := find(e1, "32x1", s, MBlockConv)
		p, ok2 := find(e1, "32x1", s, MPIT32x1)
		if ok1 && ok2 {
			add(fmt.Sprintf("PIT 32x1 vs block 32x64 + convert at %g %% (32x1 mask)", 100*s),
				fmt.Sprintf("%.1fx faster, %.1fx fewer multiply-adds", b.Median/p.Median, float64(b.Work.MACs)/float64(p.Work.MACs)),
				"block-sparse barely beats dense on fine masks (§4.2)")
		}
	}
	for _, s := range E1Sparsities {
		st, ok1 := find(e1, "32x1", s, MStatic)
		p, ok2 := find(e1, "32x1", s, MPIT32x1)
		if ok1 && ok2 {
			add(fmt.Sprintf("PIT 32x1 vs tuned static block at %g %% (32x1 mask)", 100*s),
				fmt.Sprintf("%.1fx (%s)", st.Median/p.Median, strings.SplitN(st.Note, " tuned", 2)[0]), paperStatic[s]+" vs SparTA 32x1")
		}
	}
	b, ok1 := find(e1, "32x1", 0.95, MBlock)
	d, ok2 := find(e1, "32x1", 0.95, MDense)
	if ok1 && ok2 {
		add("32x64 blocks executed on a 95 % sparse 32x1 mask", fmt.Sprintf("%.1f %% of dense work (η = %.1f %%)",
			100*float64(b.Work.MACs)/float64(d.Work.MACs), 100*b.Work.Efficiency()), "96 % of blocks, η = 5.2 %")
	}
	var ratios []string
	for _, s := range []float64{0, 0.5, 0.9, 0.95, 0.99} {
		b, ok1 := find(rows["E2"], "32x64 vs 32x1", s, MBlockKern)
		p, ok2 := find(rows["E2"], "32x64 vs 32x1", s, MPITKernel)
		if ok1 && ok2 {
			ratios = append(ratios, fmt.Sprintf("%.2f at %g %%", p.Median/b.Median, 100*s))
		}
	}
	if len(ratios) > 0 {
		add("micro-tile overhead: PIT 32x1 kernel / 32x64 block kernel", strings.Join(ratios, ", "), "1.09-1.38 at 50-99 % (1.42 at 0 %)")
	}
	best := func(exp, group string, x float64, pitMethod string, baselines ...string) (string, bool) {
		p, ok := find(rows[exp], group, x, pitMethod)
		if !ok {
			return "", false
		}
		bestName, bestT := "", math.Inf(1)
		for _, m := range baselines {
			if b, ok := find(rows[exp], group, x, m); ok && b.Median < bestT {
				bestName, bestT = m, b.Median
			}
		}
		if bestName == "" {
			return "", false
		}
		return fmt.Sprintf("%.2fx over %s", bestT/p.Median, bestName), true
	}
	for _, r := range rows["E4"] {
		if r.Method != MPIT {
			continue
		}
		if v, ok := best("E4", r.Group, r.X, MPIT, MLoop, MPadded); ok {
			if c, ok := find(rows["E4"], r.Group, r.X, MCap125); ok {
				v += fmt.Sprintf("; %.2fx vs capacity 1.25, which %s", c.Median/r.Median, c.Note)
			}
			add(fmt.Sprintf("MoE %s, %g experts: PIT (no token dropped)", r.Group, r.X), v, "Fig. 8: PIT fastest (§4.3, values not extracted)")
		}
	}
	for _, r := range rows["E6"] {
		if r.Method != MPIT {
			continue
		}
		if v, ok := best("E6", r.Group, r.X, MPIT, MDense, "block 32x32 + convert"); ok {
			add(fmt.Sprintf("attention %s, L = %g: PIT", r.Group, r.X), v, "Fig. 11/12: PIT fastest (values not extracted)")
		}
	}
	for _, r := range rows["E8"] {
		if r.Method != MPIT || (r.X != 0.9 && r.X != 0.98) {
			continue
		}
		if v, ok := best("E8", r.Group, r.X, MPIT, MDense, MBlockConv); ok {
			add(fmt.Sprintf("training step, %s at %g %%: PIT", r.Group, 100*r.X), v, "Fig. 14: block-sparse degrades at 32x1, PIT does not")
		}
	}
	return out
}
