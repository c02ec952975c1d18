package pit

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gridMask is true at (i, j) when a divides i and b divides j.
func gridMask(rows, cols, a, b int) Mask {
	m := Mask{Rows: rows, Cols: cols, Bits: make([]bool, rows*cols)}
	for i := 0; i < rows; i += a {
		for j := 0; j < cols; j += b {
			m.Bits[i*cols+j] = true
		}
	}
	return m
}

// TestEffectiveSparsityClosedForm: on a grid mask with periods a, b and a
// tile R×C where R and a (and C and b) divide one another, and the shape is
// a multiple of everything, a fraction min(1, R/a) of tile rows and
// min(1, C/b) of tile columns hold a true element, so
// s_eff = 1 − min(1, R/a)·min(1, C/b).
func TestEffectiveSparsityClosedForm(t *testing.T) {
	const rows, cols, a, b = 64, 128, 8, 4
	m := gridMask(rows, cols, a, b)
	for _, tl := range []Tile{Tile1x1, Tile32x1, Tile1x64, {4, 2}, {2, 8}, Tile16x16} {
		want := 1 - math.Min(1, float64(tl.Rows)/a)*math.Min(1, float64(tl.Cols)/b)
		if got := EffectiveSparsity(m, tl, 3); math.Abs(got-want) > 1e-12 {
			t.Errorf("tile %v: s_eff %g, want %g", tl, got, want)
		}
	}
}

// TestEffectiveSparsityBrute compares with a brute-force count of the empty
// tiles on random masks, edge tiles included.
func TestEffectiveSparsityBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, sh := range [][2]int{{1, 1}, {100, 70}, {33, 200}} {
		for _, tl := range []Tile{Tile1x1, Tile32x1, Tile1x64, {8, 1}, {3, 5}} {
			for _, s := range sparsities {
				m := randomMask(rng, sh[0], sh[1], Tile{2, 1}, s, 1)
				total := ceilDiv(sh[0], tl.Rows) * ceilDiv(sh[1], tl.Cols)
				want := 1 - float64(len(bruteIndex(m, tl)))/float64(total)
				if got := EffectiveSparsity(m, tl, 2); math.Abs(got-want) > 1e-12 {
					t.Errorf("%v tile %v s=%g: s_eff %g, want %g", sh, tl, s, got, want)
				}
			}
		}
	}
	if got := EffectiveSparsity(Mask{}, Tile32x1, 1); got != 1 {
		t.Errorf("empty mask: s_eff %g, want 1", got)
	}
}

func TestPredictInterpolates(t *testing.T) {
	tb := CostTable{Curves: []CostCurve{{Tile: Tile32x1,
		Points: []CostPoint{{0, 10}, {0.5, 6}, {0.9, 2}, {0.99, 1}}}}}
	for _, c := range []struct{ s, want float64 }{
		{-1, 10}, {0, 10}, {0.25, 8}, {0.5, 6}, {0.7, 4}, {0.99, 1}, {1, 1},
	} {
		got, ok := tb.Predict(Tile32x1, c.s)
		if !ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Predict(%g) = %g, %v; want %g", c.s, got, ok, c.want)
		}
	}
	if _, ok := tb.Predict(Tile1x64, 0.5); ok {
		t.Error("Predict found a curve for a tile not in the table")
	}
}

// handTable is a made-up table shaped like the artifact's V100 database
// (specs/pit.md §2.7 step 1): latency falls linearly with micro-tile
// sparsity from 14 (32×1) or 16 (1×64) at density 1, against a dense 10.
var handTable = CostTable{Dense: 10, Curves: []CostCurve{
	{Tile: Tile32x1, Points: []CostPoint{{0, 14}, {1, 0.4}}},
	{Tile: Tile1x64, Points: []CostPoint{{0, 16}, {1, 0.4}}},
}}

func TestChoose(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	cands := []Tile{Tile1x64, Tile32x1, Tile16x16} // 16×16 has no curve: skipped
	dense := randomMask(rng, 256, 256, Tile1x1, 0, 1)
	if c := Choose(dense, handTable, cands); !c.Dense || c.Predicted != 10 {
		t.Errorf("dense mask: chose %v, want dense", c)
	}
	// A 32×1 pattern at 99 %: s_eff(32×1) ≈ 0.99, s_eff(1×64) ≈ 0.99^64 ≈ 0.53.
	sparse := randomMask(rng, 256, 256, Tile32x1, 0.99, 1)
	c := Choose(sparse, handTable, cands)
	if c.Dense || c.Tile != Tile32x1 || c.Sparsity < 0.97 || c.Predicted > 1 {
		t.Errorf("sparse 32x1 mask: chose %v, want 32x1", c)
	}
	if c := Choose(sparse, handTable, nil); !c.Dense {
		t.Errorf("no candidates: chose %v, want dense", c)
	}
}

// TestCalibrate checks the table's structure on a small problem; the times
// themselves are machine-dependent.
func TestCalibrate(t *testing.T) {
	tiles := []Tile{Tile32x1, Tile1x64}
	tb := Calibrate(256, tiles, []float64{0.9, 0}, 1)
	if tb.N != 256 || !(tb.Dense > 0) || len(tb.Curves) != len(tiles) {
		t.Fatalf("table %+v", tb)
	}
	for i, c := range tb.Curves {
		if c.Tile != tiles[i] || len(c.Points) != 2 || c.Points[0].Sparsity != 0 || c.Points[1].Sparsity != 0.9 {
			t.Errorf("curve %d: %+v", i, c)
		}
		for _, p := range c.Points {
			if !(p.Seconds > 0) {
				t.Errorf("curve %v: point %+v", c.Tile, p)
			}
		}
	}
	_ = Choose(gridMask(256, 256, 32, 1), tb, tiles) // any choice is valid on a measured table
}

// TestEffectiveSparsitiesMatchIndex compares the packed one-pass count
// with the index-based one for shapes whose width is and is not a power of
// two, wider than a word, and masks whose width is not a multiple of 64.
func TestEffectiveSparsitiesMatchIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	tiles := []Tile{Tile1x1, Tile32x1, {16, 1}, {4, 1}, Tile1x64, {1, 32}, {1, 16}, {3, 5}, {2, 100}, {1, 128}, Tile32x32}
	for _, sh := range [][2]int{{1, 1}, {100, 70}, {33, 200}, {64, 256}} {
		for _, s := range sparsities {
			m := randomMask(rng, sh[0], sh[1], Tile{2, 1}, s, 0.7)
			got := EffectiveSparsities(m, tiles, 3)
			for i, tl := range tiles {
				if want := EffectiveSparsity(m, tl, 1); math.Abs(got[i]-want) > 1e-12 {
					t.Errorf("%v tile %v s=%g: packed s_eff %g, index %g", sh, tl, s, got[i], want)
				}
			}
		}
	}
	if got := EffectiveSparsities(Mask{}, []Tile{Tile32x1}, 1); got[0] != 1 {
		t.Errorf("empty mask: %v, want [1]", got)
	}
}
