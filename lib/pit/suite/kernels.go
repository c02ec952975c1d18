package suite

import (
	"fmt"

	"github.com/paperlab/paperlab/lib/pit"
)

// Patterns are the mask granularities of E1 (Fig. 15) and the micro-tile
// candidates PIT-auto chooses among.
var Patterns = []pit.Tile{{Rows: 32, Cols: 1}, {Rows: 1, Cols: 64}, {Rows: 32, Cols: 64}, {Rows: 1, Cols: 1}}

// E1Sparsities are the sparsities of E1 (Fig. 15).
var E1Sparsities = []float64{0.5, 0.9, 0.95, 0.99}

// E2Sparsities are the twelve sparsities of E2 (Fig. 16).
var E2Sparsities = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99}

// E3Granularities are the block shapes of E3 (Fig. 17).
var E3Granularities = []pit.Tile{{Rows: 1, Cols: 1}, {Rows: 16, Cols: 16}, {Rows: 32, Cols: 32}}

// Method names shared by experiments and figures.
const (
	MDense      = "dense"
	MCSR        = "CSR"
	MBlock      = "block 32x64"
	MBlockConv  = "block 32x64 + convert"
	MStatic     = "static tuned block"
	MPIT32x1    = "PIT 32x1"
	MPIT1x64    = "PIT 1x64"
	MPITAuto    = "PIT auto"
	MPITKernel  = "PIT 32x1 kernel"
	MBlockKern  = "block 32x64 kernel"
	MIndex1     = "PIT index, 1 worker"
	MIndexN     = "PIT index, all workers"
	MIndexAtom  = "PIT index, atomic"
	MTriton     = "block layout + sorted LUT"
	MCSRConv    = "CSR conversion"
	MBCSRConv   = "BCSR conversion"
	MLoop       = "loop"
	MCap125     = "capacity 1.25"
	MCap2       = "capacity 2.0"
	MPadded     = "block padded"
	MAllExperts = "all experts masked"
	MPIT        = "PIT"
	MPITIndex   = "PIT index only"
)

func seedOf(base uint64, parts ...int) uint64 {
	s := base*1_000_003 + 17
	for _, p := range parts {
		s = s*1_000_033 + uint64(p+1)
	}
	return s
}

// runChoice runs what Choose picked for a K-axis or row-axis tile, or
// the dense product.
func runChoice(ch pit.Choice, a pit.Matrix, m pit.Mask, b, c pit.Matrix, workers int) pit.Work {
	if ch.Dense {
		return pit.Dense(a, b, c, workers)
	}
	x := pit.BuildIndex(m, ch.Tile, workers)
	var w pit.Work
	if ch.Tile.Rows >= ch.Tile.Cols {
		w = pit.MatmulKIndexed(a, x, b, c, workers)
	} else {
		w = pit.MatmulMIndexed(a, x, b, c, workers)
	}
	return w.Add(pit.Work{IndexReads: x.Reads})
}

// auto is PIT with online micro-tile selection (specs/pit.md §2.7): the
// effective sparsity of every candidate, a table lookup, then the pick.
// The choice is returned for the row's note; the selection's pass over
// the mask is counted in the Work.
func auto(cal *Calibration, a pit.Matrix, m pit.Mask, b, c pit.Matrix, workers int) (pit.Work, pit.Choice) {
	ch := pit.Choose(m, cal.Table, CalibrationTiles)
	w := runChoice(ch, a, m, b, c, workers)
	w.IndexReads += int64(m.Rows) * int64(m.Cols)
	return w, ch
}

// e1 is Fig. 15 on CPU: an N³ product whose left operand has a random
// mask of each granularity and sparsity, by every method.
func e1(cfg Config, cal *Calibration, hook func(int, int)) ([]Row, error) {
	n, w := cfg.N, cfg.Workers
	b, c := pit.RandomMatrix(seedOf(cfg.Seed, 1), n, n), pit.NewMatrix(n, n)
	var rows []Row
	total := len(Patterns) * len(E1Sparsities)
	for pi, g := range Patterns {
		for si, s := range E1Sparsities {
			mask := pit.RandomMask(seedOf(cfg.Seed, 1, pi, si), n, n, g, s)
			a := pit.Masked(pit.RandomMatrix(seedOf(cfg.Seed, 2, pi, si), n, n), mask)
			csr, _ := pit.NewCSR(a, mask)
			bcsr, _ := pit.NewBCSR(a, mask, pit.Block32x64, w)
			tuned := pit.TuneBCSR(a, mask, b, pit.StaticBlocks, 1, w)
			static, _ := pit.NewBCSR(a, mask, tuned.Block, w)
			_, ch := auto(cal, a, mask, b, c, w)
			group := g.String()
			cases := []Case{
				{Method: MDense, Run: func() pit.Work { return pit.Dense(a, b, c, w) }},
				{Method: MCSR, Note: "format built beforehand; conversion in E3",
					Run: func() pit.Work { return pit.CSRMatmul(csr, b, c, w) }},
				{Method: MBlock, Note: "format built beforehand",
					Run: func() pit.Work { return pit.BCSRMatmul(bcsr, b, c, w) }},
				{Method: MBlockConv, Run: func() pit.Work {
					x, _ := pit.NewBCSR(a, mask, pit.Block32x64, w)
					return pit.BCSRMatmul(x, b, c, w).Add(pit.Work{IndexReads: x.Index.Reads})
				}},
				{Method: MStatic, Note: fmt.Sprintf("block %s tuned offline in %.3g s over %d shapes", tuned.Block, tuned.TuningSeconds, len(tuned.Trials)),
					Run: func() pit.Work { return pit.BCSRMatmul(static, b, c, w) }},
				{Method: MPIT32x1, Run: func() pit.Work { return pit.MatmulK(a, mask, b, c, w) }},
				{Method: MPIT1x64, Run: func() pit.Work { return pit.MatmulM(a, mask, b, c, w) }},
				{Method: MPITAuto, Note: "picked " + ch.String(), Run: func() pit.Work {
					wk, _ := auto(cal, a, mask, b, c, w)
					return wk
				}},
			}
			for i := range cases {
				cases[i].Group, cases[i].X = group, s
			}
			done := pi*len(E1Sparsities) + si
			rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) {
				hook(done*t+d, total*t)
			})...)
		}
	}
	return rows, nil
}

// e2 is Fig. 16 on CPU: the cost of a fine micro-tile. The same dense
// kernel runs on 32×64 blocks of a 32×64-granular mask and on 32×1
// micro-tiles gathered by SRead from a 32×1-granular mask of the same
// sparsity; both formats are built beforehand, so only the kernels are
// timed.
func e2(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	n, w := cfg.N, cfg.Workers
	b, c := pit.RandomMatrix(seedOf(cfg.Seed, 3), n, n), pit.NewMatrix(n, n)
	var rows []Row
	for si, s := range E2Sparsities {
		mb := pit.RandomMask(seedOf(cfg.Seed, 4, si), n, n, pit.Block32x64, s)
		mk := pit.RandomMask(seedOf(cfg.Seed, 5, si), n, n, pit.Tile32x1, s)
		ab := pit.Masked(pit.RandomMatrix(seedOf(cfg.Seed, 6, si), n, n), mb)
		ak := pit.Masked(pit.RandomMatrix(seedOf(cfg.Seed, 7, si), n, n), mk)
		bcsr, _ := pit.NewBCSR(ab, mb, pit.Block32x64, w)
		xk := pit.BuildIndex(mk, pit.Tile32x1, w)
		cases := []Case{
			{Group: "32x64 vs 32x1", X: s, Method: MBlockKern, Run: func() pit.Work { return pit.BCSRMatmul(bcsr, b, c, w) }},
			{Group: "32x64 vs 32x1", X: s, Method: MPITKernel, Run: func() pit.Work { return pit.MatmulKIndexed(ak, xk, b, c, w) }},
		}
		rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) { hook(si*t+d, len(E2Sparsities)*t) })...)
	}
	return rows, nil
}

// e3 is Fig. 17 on CPU: the cost of finding the non-empty micro-tiles of
// a MaskN² mask online (PIT's unordered parallel index) against the
// ordered conversions of the baselines.
func e3(cfg Config, _ *Calibration, hook func(int, int)) ([]Row, error) {
	n, w := cfg.MaskN, cfg.Workers
	vals := pit.RandomMatrix(seedOf(cfg.Seed, 8), n, n)
	var rows []Row
	total := len(E3Granularities) * len(E1Sparsities)
	for gi, g := range E3Granularities {
		for si, s := range E1Sparsities {
			mask := pit.RandomMask(seedOf(cfg.Seed, 9, gi, si), n, n, g, s)
			idx := func(x pit.Index) pit.Work { return pit.Work{IndexReads: x.Reads, MicroTiles: int64(x.Len())} }
			conv := func(cv pit.Conversion, tiles int) pit.Work {
				return pit.Work{IndexReads: cv.Reads, BytesGathered: cv.BytesWritten, MicroTiles: int64(tiles)}
			}
			cases := []Case{
				{Method: MIndex1, Run: func() pit.Work { return idx(pit.BuildIndex(mask, g, 1)) }},
				{Method: MIndexN, Run: func() pit.Work { return idx(pit.BuildIndex(mask, g, w)) }},
				{Method: MIndexAtom, Run: func() pit.Work { return idx(pit.BuildIndexAtomic(mask, g, w)) }},
				{Method: MTriton, Run: func() pit.Work {
					x, cv := pit.TritonLayout(mask, g)
					return conv(cv, x.Len())
				}},
				{Method: MBCSRConv, Run: func() pit.Work {
					x, cv := pit.NewBCSR(vals, mask, g, w)
					return conv(cv, x.Index.Len())
				}},
			}
			if g == pit.Tile1x1 {
				cases = append(cases, Case{Method: MCSRConv, Run: func() pit.Work {
					x, cv := pit.NewCSR(vals, mask)
					return conv(cv, x.NNZ())
				}})
			}
			for i := range cases {
				cases[i].Group, cases[i].X = g.String(), s
			}
			done := gi*len(E1Sparsities) + si
			rows = append(rows, Measure(cases, cfg.Reps, func(d, t int) { hook(done*t+d, total*t) })...)
		}
	}
	return rows, nil
}
