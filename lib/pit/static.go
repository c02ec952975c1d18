package pit

import (
	"fmt"
	"time"
)

// TuneTrial is one candidate of a static tuning search: the block shape
// and the time of BCSRMatmul with it, the minimum of the timed runs, the
// conversion excluded.
type TuneTrial struct {
	Block   Tile
	Seconds float64
}

// Tuned is the outcome of TuneBCSR, the analogue of SparTA's offline
// per-pattern tuning (specs/pit.md §5.4 "SparTA (static, per-pattern
// tuned)"): the fastest block shape for one mask, every candidate tried,
// and what the search cost.
type Tuned struct {
	Block  Tile        // the fastest block shape for this mask
	Trials []TuneTrial // every candidate, in the order tried
	// TuningSeconds is the wall time of the whole search, conversions and
	// timed runs included: the cost a static compiler pays offline before
	// the first call (specs/pit.md §4.1 H5, TVM's 7.9 hours on BERT).
	TuningSeconds float64
}

// StaticBlocks is the tuning grid of the static baseline, block rows
// {8, 16, 32} × block columns {8, 16, 32, 64} (specs/pit.md §5.4), in
// row-major order of that grid: 8×8, 8×16, 8×32, 8×64, 16×8, … 32×64.
var StaticBlocks = []Tile{
	{8, 8}, {8, 16}, {8, 32}, {8, 64},
	{16, 8}, {16, 16}, {16, 32}, {16, 64},
	{32, 8}, {32, 16}, {32, 32}, {32, 64},
}

// TuneBCSR is the static, per-pattern tuned block-sparse baseline's
// offline search, SparTA at CPU scale (specs/pit.md §5.4, §4.1 H5): for
// each candidate block shape, in order, it converts a under mask with
// NewBCSR (workers goroutines, ≤ 0: GOMAXPROCS) and times BCSRMatmul of
// the result by b into a scratch matrix, keeping the minimum of reps runs
// (reps < 1: 1). It returns the fastest candidate (the first one on a tie)
// with all the trials and the wall time of the whole search.
//
// The times are wall-clock (time.Now), so the choice is not deterministic:
// two searches on one machine may pick different blocks when candidates
// are close. A static compiler pays this search once per pattern; the
// point of the comparison is that a dynamic pattern would pay it on every
// call, whereas PIT only builds an index (specs/pit.md §2.5).
func TuneBCSR(a Matrix, mask Mask, b Matrix, blocks []Tile, reps, workers int) Tuned {
	a.check("TuneBCSR", "a")
	b.check("TuneBCSR", "b")
	mask.check("TuneBCSR")
	if mask.Rows != a.Rows || mask.Cols != a.Cols {
		panic(fmt.Sprintf("pit: TuneBCSR: %dx%d mask for a %s", mask.Rows, mask.Cols, a.shape()))
	}
	if b.Rows != a.Cols {
		panic(fmt.Sprintf("pit: TuneBCSR: a %s times b %s", a.shape(), b.shape()))
	}
	if len(blocks) == 0 {
		panic("pit: TuneBCSR: no candidate blocks")
	}
	for _, bl := range blocks {
		bl.check("TuneBCSR")
	}
	start := time.Now()
	c := NewMatrix(a.Rows, b.Cols)
	tu := Tuned{Trials: make([]TuneTrial, 0, len(blocks))}
	best := -1
	for _, bl := range blocks {
		x, _ := NewBCSR(a, mask, bl, workers)
		sec := fastest(reps, func() { BCSRMatmul(x, b, c, workers) })
		tu.Trials = append(tu.Trials, TuneTrial{Block: bl, Seconds: sec})
		if best < 0 || sec < tu.Trials[best].Seconds {
			best = len(tu.Trials) - 1
		}
	}
	tu.Block = tu.Trials[best].Block
	tu.TuningSeconds = time.Since(start).Seconds()
	return tu
}
