package suite

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/paperlab/paperlab/lib/pit"
)

// e4 is Fig. 8 on CPU: one Switch-like FFN-MoE layer (DModel → DFF → DModel,
// top-1 routing) for each token count and number of experts, by PIT's
// gather-GEMM-scatter and the baselines of specs/pit.md §5.4. The
// all-experts emulation (the artifact's "Tutel" bar, §7 item 1) runs only
// at the smallest configuration; its cost grows with E·T. The PIT index
// alone is timed as its own case, so figures can split PIT's bar.
func e4(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	mc, w := cfg.MoE, cfg.Workers
	d, f := mc.DModel, mc.DFF
	var rows []Row
	total := len(mc.Tokens) * len(mc.Experts)
	for ti, T := range mc.Tokens {
		x := pit.RandomMatrix(seedOf(cfg.Seed, 10, ti), T, d)
		y := pit.NewMatrix(T, d)
		for ei, E := range mc.Experts {
			ex := pit.RandomExperts(seedOf(cfg.Seed, 11, ei), E, d, f)
			route := pit.ZipfRoute(seedOf(cfg.Seed, 12, ti, ei), T, E, mc.Skew)
			// One untimed run per method gives its drop, padding and
			// buffer figures, which depend on the routing only.
			stat := func(f func() pit.MoEStats) (func() pit.Work, string, int64) {
				st := f()
				return func() pit.Work { return f().Work },
					fmt.Sprintf("dropped %d, padded rows %d", st.Dropped, st.PaddedRows), st.BufferBytes
			}
			type m struct {
				name string
				run  func() pit.MoEStats
			}
			ms := []m{
				{MLoop, func() pit.MoEStats { return pit.MoELoop(x, route, ex, y, w) }},
				{MCap125, func() pit.MoEStats { return pit.MoECapacity(x, route, ex, y, 1.25, w) }},
				{MCap2, func() pit.MoEStats { return pit.MoECapacity(x, route, ex, y, 2, w) }},
				{MPadded, func() pit.MoEStats { return pit.MoEBlockPadded(x, route, ex, y, mc.Block, w) }},
				{MPIT, func() pit.MoEStats { return pit.MoEPIT(x, route, ex, y, w) }},
			}
			if ti == 0 && ei == 0 {
				ms = append(ms, m{MAllExperts, func() pit.MoEStats { return pit.MoEAllExperts(x, route, ex, y, w) }})
			}
			var cases []Case
			for _, mm := range ms {
				run, n, buf := stat(mm.run)
				cases = append(cases, Case{Method: mm.name, Note: n, Buffer: buf, Run: run})
			}
			cases = append(cases, Case{Method: MPITIndex, Run: func() pit.Work {
				ix := pit.BuildTokenIndex(route, E, w)
				return pit.Work{IndexReads: int64(len(route)), MicroTiles: int64(len(ix.Tokens))}
			}})
			for i := range cases {
				cases[i].Group, cases[i].X = fmt.Sprintf("T=%d", T), float64(E)
			}
			done := ti*len(mc.Experts) + ei
			rows = append(rows, Measure(cases, cfg.Reps, func(dn, t int) { hook(done*t+dn, total*t) })...)
		}
	}
	return rows, nil
}

// e5 is Fig. 10/13 on CPU: one Width→Width linear layer on padded batches,
// dense over the padding against PIT's two ways of skipping it.
func e5(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	w, width := cfg.Workers, cfg.Seqlen.Width
	wt := pit.RandomMatrix(seedOf(cfg.Seed, 13), width, width)
	var rows []Row
	total := 0
	for _, set := range cfg.Seqlen.Sets {
		total += len(set.Means)
	}
	done := 0
	for si, set := range cfg.Seqlen.Sets {
		x := pit.RandomMatrix(seedOf(cfg.Seed, 14, si), set.Batch*set.Len, width)
		y := pit.NewMatrix(set.Batch*set.Len, width)
		for mi, mean := range set.Means {
			lens := pit.LogNormalLengths(seedOf(cfg.Seed, 15, si, mi), set.Batch, set.Len, mean, cfg.Seqlen.Sigma)
			sum := 0
			for _, l := range lens {
				sum += l
			}
			note := fmt.Sprintf("%.1f %% padding", 100*(1-float64(sum)/float64(set.Batch*set.Len)))
			cases := []Case{
				{Method: MDense, Run: func() pit.Work { return pit.SeqlenDense(x, lens, wt, y, w) }},
				{Method: "PIT tile skip", Run: func() pit.Work { return pit.SeqlenTileSkip(x, lens, wt, y, w) }},
				{Method: "PIT token gather", Run: func() pit.Work { return pit.SeqlenGather(x, lens, wt, y, w) }},
				{Method: "unpadded per sample", Run: func() pit.Work { return pit.SeqlenUnpadded(x, lens, wt, y, w) }},
			}
			for i := range cases {
				cases[i].Group, cases[i].X, cases[i].Note = set.Name, mean, note
			}
			dn := done
			rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) { hook(dn*t+d, total*t) })...)
			done++
		}
	}
	return rows, nil
}

// e6 is Fig. 11/12 on CPU: one attention head over a Longformer mask
// (sliding window plus data-dependent global tokens) and a
// Museformer-like block-structure mask that changes with every sample.
// The block-sparse baseline converts its 32×32 layout on every call, as
// PyTorch-S does.
func e6(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	w, ac := cfg.Workers, cfg.Attention
	var rows []Row
	total := 2 * len(ac.Lengths)
	for li, L := range ac.Lengths {
		q := pit.RandomMatrix(seedOf(cfg.Seed, 16, li), L, ac.Head)
		k := pit.RandomMatrix(seedOf(cfg.Seed, 17, li), L, ac.Head)
		v := pit.RandomMatrix(seedOf(cfg.Seed, 18, li), L, ac.Head)
		out := pit.NewMatrix(L, ac.Head)
		globals := pit.LongformerGlobals(seedOf(cfg.Seed, 19, li), L, ac.Globals)
		lf := pit.LongformerMask(L, ac.Window, globals)
		ms := pit.BlockStructureMask(seedOf(cfg.Seed, 20, li), L, 32, ac.Density)
		blocks := func(m pit.Mask) pit.Work {
			x, cv := pit.TritonLayout(m, pit.Tile32x32)
			return pit.AttentionBlocks(q, k, v, x, m, out, w).Add(pit.Work{IndexReads: cv.Reads})
		}
		groups := []struct {
			name  string
			cases []Case
		}{
			{"Longformer", []Case{
				{Method: MDense, Run: func() pit.Work { return pit.AttentionDense(q, k, v, lf, out, w) }},
				{Method: "block 32x32 + convert", Run: func() pit.Work { return blocks(lf) }},
				{Method: MPIT, Note: fmt.Sprintf("%d global tokens", len(globals)), Run: func() pit.Work {
					return pit.AttentionLongformerPIT(q, k, v, ac.Window, globals, out, w)
				}},
			}},
			{"Museformer-like", []Case{
				{Method: MDense, Run: func() pit.Work { return pit.AttentionDense(q, k, v, ms, out, w) }},
				{Method: "block 32x32 + convert", Run: func() pit.Work { return blocks(ms) }},
				{Method: MPIT, Note: "online 32x32 index", Run: func() pit.Work {
					x := pit.BuildIndex(ms, pit.Tile32x32, w)
					return pit.AttentionBlocks(q, k, v, x, ms, out, w).Add(pit.Work{IndexReads: x.Reads})
				}},
			}},
		}
		for gi, g := range groups {
			for i := range g.cases {
				g.cases[i].Group, g.cases[i].X = g.name, float64(L)
			}
			done := li*2 + gi
			rows = append(rows, Measure(g.cases, cfg.Reps, func(d, t int) { hook(done*t+d, total*t) })...)
		}
	}
	return rows, nil
}

// Activations returns H = ReLU(X·W1 + bias) for Gaussian X (tokens×d) and
// W1 (d×hidden, scaled so X·W1 is standard normal), with the bias set so
// that a fraction sparsity of H is zero (specs/pit.md §5.5 E7). With
// correlated, neurons are either dead (never fire) or fire half the time,
// the dead share chosen for the target sparsity, as in ReLU models whose
// zeros gather on neurons; otherwise every neuron fires with probability
// 1 − sparsity, independently.
func Activations(seed uint64, tokens, d, hidden int, sparsity float64, correlated bool) pit.Matrix {
	x := pit.RandomMatrix(seed, tokens, d)
	w1 := pit.RandomMatrix(seed+1, d, hidden)
	for i := range w1.Data {
		w1.Data[i] /= float32(math.Sqrt(float64(d)))
	}
	h := pit.NewMatrix(tokens, hidden)
	pit.Dense(x, w1, h, 0)
	bias := make([]float32, hidden)
	std := distuv.UnitNormal
	if correlated {
		dead := 1 - 2*(1-sparsity) // alive neurons fire with probability 1/2 (bias 0)
		for j := range bias {
			if float64(j) < dead*float64(hidden) {
				bias[j] = -1e9
			}
		}
		// Spread the dead neurons over the hidden axis deterministically.
		perm := pit.RandomMatrix(seed+2, 1, hidden).Data
		order := make([]int, hidden)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(perm[a], perm[b]) })
		shuffled := make([]float32, hidden)
		for i, j := range order {
			shuffled[j] = bias[i]
		}
		bias = shuffled
	} else {
		// P(z + b > 0) = 1 − sparsity for z ~ N(0, 1).
		b := float32(-std.Quantile(sparsity))
		for j := range bias {
			bias[j] = b
		}
	}
	for i := range tokens {
		row := h.Row(i)
		for j := range row {
			row[j] = max(row[j]+bias[j], 0)
		}
	}
	return h
}

// e7 is Fig. 9 on CPU: an activation-sparse fc2, Y = H·W2 with H the ReLU
// output, whose zeros are known only at run time: every sparse method
// finds them (MaskOf) inside the timing.
func e7(cfg Config, cal *Calibration, hook func(int, int)) ([]Row, error) {
	w, vc := cfg.Workers, cfg.Activation
	w2 := pit.RandomMatrix(seedOf(cfg.Seed, 21), vc.Hidden, vc.Model)
	y := pit.NewMatrix(vc.Tokens, vc.Model)
	var rows []Row
	total := 2 * len(vc.Sparsities)
	for ci, corr := range []bool{false, true} {
		group := "independent"
		if corr {
			group = "dead neurons"
		}
		for si, s := range vc.Sparsities {
			h := Activations(seedOf(cfg.Seed, 22, ci, si), vc.Tokens, vc.Model, vc.Hidden, s, corr)
			_, ch := auto(cal, h, pit.MaskOf(h), w2, y, w)
			cases := []Case{
				{Method: MDense, Run: func() pit.Work { return pit.Dense(h, w2, y, w) }},
				{Method: MCSR, Note: "conversion included", Run: func() pit.Work {
					m := pit.MaskOf(h)
					x, cv := pit.NewCSR(h, m)
					return pit.CSRMatmul(x, w2, y, w).Add(pit.Work{IndexReads: cv.Reads})
				}},
				{Method: MBlockConv, Run: func() pit.Work {
					m := pit.MaskOf(h)
					x, cv := pit.NewBCSR(h, m, pit.Block32x64, w)
					return pit.BCSRMatmul(x, w2, y, w).Add(pit.Work{IndexReads: cv.Reads})
				}},
				{Method: MPIT32x1, Run: func() pit.Work { return pit.MatmulK(h, pit.MaskOf(h), w2, y, w) }},
				{Method: MPITAuto, Note: "picked " + ch.String(), Run: func() pit.Work {
					wk, _ := auto(cal, h, pit.MaskOf(h), w2, y, w)
					return wk
				}},
			}
			for i := range cases {
				cases[i].Group, cases[i].X = group, s
			}
			done := ci*len(vc.Sparsities) + si
			rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) { hook(done*t+d, total*t) })...)
		}
	}
	return rows, nil
}

// e8 is Fig. 14 on CPU: one training step (forward, input and weight
// gradients) of a linear layer whose weight mask, pruned by magnitude at
// 32×64 or 32×1 granularity, changes every step. Deriving the mask costs
// every method the same and is not timed; the block-sparse baseline
// converts its layout and PIT rebuilds its index inside the step.
func e8(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	w, tc := cfg.Workers, cfg.Training
	wt := pit.RandomMatrix(seedOf(cfg.Seed, 23), tc.Width, tc.Width)
	xt := pit.RandomMatrix(seedOf(cfg.Seed, 24), tc.Width, tc.Tokens)
	dyt := pit.RandomMatrix(seedOf(cfg.Seed, 25), tc.Width, tc.Tokens)
	g := pit.NewLinearGrads(tc.Width, tc.Width, tc.Tokens)
	var rows []Row
	grans := []pit.Tile{pit.Block32x64, pit.Tile32x1}
	total := len(grans) * len(tc.Sparsities)
	for gi, t := range grans {
		for si, s := range tc.Sparsities {
			mask := pit.MagnitudeMask(wt, t, s)
			// At a granularity as coarse as the dense tile PIT needs no
			// gather and runs the block kernel on its online index.
			pitNote := "micro-tile " + t.String()
			pitStep := func() pit.Work { return pit.LinearStepPIT(wt, mask, t, xt, dyt, g, w) }
			if t == pit.Block32x64 {
				pitNote = "block kernel on the online 32x64 index"
				pitStep = func() pit.Work {
					x := pit.BuildIndex(mask, t, w)
					wk, cv := pit.LinearStepBlocks(wt, mask, x, xt, dyt, g, w)
					return wk.Add(pit.Work{IndexReads: x.Reads + cv.Reads})
				}
			}
			cases := []Case{
				{Method: MDense, Note: "dense with mask", Run: func() pit.Work { return pit.LinearStepDense(wt, mask, xt, dyt, g, w) }},
				{Method: MBlockConv, Run: func() pit.Work {
					wk, cv := pit.LinearStepBCSR(wt, mask, pit.Block32x64, xt, dyt, g, w)
					return wk.Add(pit.Work{IndexReads: cv.Reads})
				}},
				{Method: MPIT, Note: pitNote, Run: pitStep},
			}
			for i := range cases {
				cases[i].Group, cases[i].X = t.String()+" mask", s
			}
			done := gi*len(tc.Sparsities) + si
			rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) { hook(done*t+d, total*t) })...)
		}
	}
	return rows, nil
}
