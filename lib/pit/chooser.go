package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// EffectiveSparsity is the fraction of the micro-tiles of shape t of m
// that hold no true element, the s_eff of specs/pit.md §2.7 step 2 (pool
// the mask with window t, count the empty windows). Edge tiles clipped by
// the mask's border count as tiles. It builds the index on workers
// goroutines (≤ 0: GOMAXPROCS), one pass over the mask; an empty mask
// (no tiles) has sparsity 1.
func EffectiveSparsity(m Mask, t Tile, workers int) float64 {
	return indexSparsity(BuildIndex(m, t, workers))
}

func indexSparsity(x Index) float64 {
	total := x.TileRows * x.TileCols
	if total == 0 {
		return 1
	}
	return 1 - float64(x.Len())/float64(total)
}

// CostPoint is one measured latency: Seconds for a PIT operator at
// micro-tile sparsity Sparsity.
type CostPoint struct{ Sparsity, Seconds float64 }

// CostCurve is the latency of the PIT operator with micro-tile shape Tile
// as a function of micro-tile sparsity, sampled at Points sorted by
// Sparsity.
type CostCurve struct {
	Tile   Tile
	Points []CostPoint
}

// CostTable is the offline database of specs/pit.md §2.7 step 1: per
// micro-tile shape, the latency on one problem size against the micro-tile
// sparsity, plus Dense, the dense kernel's latency on the same problem. A
// table describes one machine and one problem size; Choose compares
// entries of one table only, so the choice holds for other sizes as far
// as all costs scale alike. It is a plain struct so it serialises to JSON.
type CostTable struct {
	N      int // the calibration problem: N×N by N×N
	Dense  float64
	Curves []CostCurve
}

// Predict returns the latency of tile t at micro-tile sparsity s,
// interpolated linearly between the sampled points and clamped to the end
// points outside them (specs/pit.md §2.7: interpolate instead of the
// artifact's round-down). ok is false when the table has no curve for t.
func (tb CostTable) Predict(t Tile, s float64) (seconds float64, ok bool) {
	i := slices.IndexFunc(tb.Curves, func(c CostCurve) bool { return c.Tile == t })
	if i < 0 || len(tb.Curves[i].Points) == 0 {
		return 0, false
	}
	return interpolate(tb.Curves[i].Points, s), true
}

// interpolate evaluates the piecewise-linear curve through p (sorted by
// Sparsity) at s, constant beyond its ends.
func interpolate(p []CostPoint, s float64) float64 {
	if s <= p[0].Sparsity {
		return p[0].Seconds
	}
	for k := 1; k < len(p); k++ {
		if s <= p[k].Sparsity {
			a, b := p[k-1], p[k]
			if b.Sparsity == a.Sparsity {
				return b.Seconds
			}
			f := (s - a.Sparsity) / (b.Sparsity - a.Sparsity)
			return a.Seconds + f*(b.Seconds-a.Seconds)
		}
	}
	return p[len(p)-1].Seconds
}

// Choice is what Choose picked: Dense, or the micro-tile shape Tile, with
// its effective sparsity and predicted latency (seconds on the table's
// problem).
type Choice struct {
	Dense     bool
	Tile      Tile
	Sparsity  float64
	Predicted float64
}

func (c Choice) String() string {
	if c.Dense {
		return fmt.Sprintf("dense (%.3g s)", c.Predicted)
	}
	return fmt.Sprintf("%s (s_eff %.3f, %.3g s)", c.Tile, c.Sparsity, c.Predicted)
}

// Choose is the online kernel selection of specs/pit.md §2.7 step 2: it
// computes the effective sparsity of m for every candidate shape with a
// curve in table (EffectiveSparsities, one pass over m), predicts each
// one's latency at it, and returns the cheapest, or Dense when no
// candidate is strictly cheaper than table.Dense. Candidates without a
// curve are skipped; ties keep the earlier candidate.
func Choose(m Mask, table CostTable, candidates []Tile) Choice {
	var have []Tile
	for _, t := range candidates {
		if _, ok := table.Predict(t, 0); ok {
			have = append(have, t)
		}
	}
	best := Choice{Dense: true, Predicted: table.Dense}
	for i, s := range EffectiveSparsities(m, have, 0) {
		lat, _ := table.Predict(have[i], s)
		if lat < best.Predicted {
			best = Choice{Tile: have[i], Sparsity: s, Predicted: lat}
		}
	}
	return best
}

// Calibrate measures a CostTable on this machine (specs/pit.md §2.7 step
// 1): for each tile and sparsity it times the PIT operator, index build
// included, on an n×n by n×n product whose n×n operand has whole random
// micro-tiles of that shape, a fraction s of them empty; Dense is timed on
// the same product. Each time is the minimum of reps runs (reps < 1: 1);
// Dense is also timed once beside every point and keeps its minimum.
// Tiles at least as tall as wide permute the reduction axis
// (MatmulKIndexed), others the row axis (MatmulMIndexed). Masks come from
// a fixed seed; the times are of course not deterministic.
func Calibrate(n int, tiles []Tile, sparsities []float64, reps int) CostTable {
	rng := rand.New(rand.NewPCG(uint64(n), 27))
	a, b, c := randomDense(rng, n, n), randomDense(rng, n, n), NewMatrix(n, n)
	tb := CostTable{N: n, Dense: fastest(reps, func() { Dense(a, b, c, 0) })}
	for _, t := range tiles {
		t.check("Calibrate")
		curve := CostCurve{Tile: t}
		for _, s := range slices.Sorted(slices.Values(sparsities)) {
			m := tileMask(rng, n, n, t, s)
			sec := fastest(reps, func() { runTiled(a, m, t, b, c) })
			curve.Points = append(curve.Points, CostPoint{Sparsity: s, Seconds: sec})
			// Dense is sampled again beside every point, so that a slow
			// spell of the machine at the start does not inflate it.
			tb.Dense = min(tb.Dense, fastest(1, func() { Dense(a, b, c, 0) }))
		}
		tb.Curves = append(tb.Curves, curve)
	}
	return tb
}

// runTiled runs the PIT operator that permutes the axis along which t has
// extent 1 (the reduction axis for tall tiles).
func runTiled(a Matrix, m Mask, t Tile, b, c Matrix) {
	x := BuildIndex(m, t, 0)
	if t.Rows >= t.Cols {
		MatmulKIndexed(a, x, b, c, 0)
	} else {
		MatmulMIndexed(a, x, b, c, 0)
	}
}

// fastest returns the shortest of reps timings of f, in seconds.
func fastest(reps int, f func()) float64 {
	best := math.Inf(1)
	for range max(reps, 1) {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0).Seconds())
	}
	return best
}

func randomDense(rng *rand.Rand, rows, cols int) Matrix {
	m := NewMatrix(rows, cols)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	return m
}

// tileMask returns a rows×cols mask made of whole micro-tiles of shape t,
// each empty with probability s.
func tileMask(rng *rand.Rand, rows, cols int, t Tile, s float64) Mask {
	m := Mask{Rows: rows, Cols: cols, Bits: make([]bool, rows*cols)}
	for r := 0; r < rows; r += t.Rows {
		for c := 0; c < cols; c += t.Cols {
			if rng.Float64() < s {
				continue
			}
			for i := r; i < min(r+t.Rows, rows); i++ {
				for j := c; j < min(c+t.Cols, cols); j++ {
					m.Bits[i*cols+j] = true
				}
			}
		}
	}
	return m
}
