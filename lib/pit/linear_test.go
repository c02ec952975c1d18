package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// linearRef is a step computed by float64 loops: yt = Wm·xt,
// dxt = Wmᵀ·dyt, dw = (dyt·xtᵀ)⊙mask with Wm = w⊙mask.
type linearRef struct{ yt, dxt, dw []float64 }

func referenceStep(w Matrix, mask Mask, xt, dyt Matrix) linearRef {
	out, in, tokens := w.Rows, w.Cols, xt.Cols
	ref := linearRef{make([]float64, out*tokens), make([]float64, in*tokens), make([]float64, out*in)}
	for o := range out {
		for i := range in {
			if !mask.Bits[o*in+i] {
				continue
			}
			v := float64(w.Data[o*in+i])
			var dw float64
			for t := range tokens {
				x, dy := float64(xt.Data[i*tokens+t]), float64(dyt.Data[o*tokens+t])
				ref.yt[o*tokens+t] += v * x
				ref.dxt[i*tokens+t] += v * dy
				dw += dy * x
			}
			ref.dw[o*in+i] = dw
		}
	}
	return ref
}

// garbageGrads returns outputs filled with noise, which a step must
// overwrite.
func garbageGrads(rng *rand.Rand, in, out, tokens int) LinearGrads {
	return LinearGrads{randomMatrix(rng, out, tokens), randomMatrix(rng, in, tokens), randomMatrix(rng, out, in)}
}

// linearMethod is one implementation of the step, at one tile or block.
type linearMethod struct {
	name string
	run  func(w Matrix, m Mask, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion)
}

func linearMethods() []linearMethod {
	ms := []linearMethod{{"dense", func(w Matrix, m Mask, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion) {
		return LinearStepDense(w, m, xt, dyt, g, workers), Conversion{}
	}}}
	for _, tl := range []Tile{Tile32x1, Block32x64, {7, 3}} {
		ms = append(ms, linearMethod{"pit" + tl.String(), func(w Matrix, m Mask, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion) {
			return LinearStepPIT(w, m, tl, xt, dyt, g, workers), Conversion{}
		}})
	}
	for _, bl := range []Tile{Block32x64, Tile16x16, {7, 3}} {
		ms = append(ms, linearMethod{"bcsr" + bl.String(), func(w Matrix, m Mask, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion) {
			return LinearStepBCSR(w, m, bl, xt, dyt, g, workers)
		}})
	}
	return ms
}

// linearMasks returns the masks the step tests sweep at sparsity s:
// magnitude masks at 32×1 and 32×64 and random masks partly true inside
// their tiles.
func linearMasks(rng *rand.Rand, w Matrix, s float64) map[string]Mask {
	return map[string]Mask{
		"mag32x1":     MagnitudeMask(w, Tile32x1, s),
		"mag32x64":    MagnitudeMask(w, Block32x64, s),
		"rand32x1":    randomMask(rng, w.Rows, w.Cols, Tile32x1, s, 0.5),
		"rand8x8fill": randomMask(rng, w.Rows, w.Cols, Tile{8, 8}, s, 0.3),
	}
}

func TestLinearStepMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	const in, out, tokens = 100, 70, 45
	for _, k := range kernels {
		for _, s := range []float64{0, 0.5, 0.9} {
			w := randomMatrix(rng, out, in)
			xt, dyt := randomMatrix(rng, in, tokens), randomMatrix(rng, out, tokens)
			masks := linearMasks(rng, w, s)
			for _, mname := range slices.Sorted(mapKeys(masks)) {
				m := masks[mname]
				ref := referenceStep(w, m, xt, dyt)
				for _, meth := range linearMethods() {
					name := fmt.Sprintf("%s/%s mask %s s=%g", k.name, meth.name, mname, s)
					g := garbageGrads(rng, in, out, tokens)
					var wk Work
					withKernel(k.f, func() { wk, _ = meth.run(w, m, xt, dyt, g, 3) })
					for _, c := range []struct {
						what string
						got  Matrix
						want []float64
					}{{"Yt", g.Yt, ref.yt}, {"DXt", g.DXt, ref.dxt}, {"DW", g.DW, ref.dw}} {
						if e := relErr(c.got.Data, c.want); e > relTol {
							t.Errorf("%s: %s rel err %g", name, c.what, e)
						}
					}
					for i, b := range m.Bits {
						if !b && g.DW.Data[i] != 0 {
							t.Fatalf("%s: DW[%d] = %g outside the mask", name, i, g.DW.Data[i])
						}
					}
					// Edge blocks are executed whole, so only the dense
					// step is bounded by 3·out·in·T; closed forms are in
					// TestLinearWorkClosedForm.
					if wk.UsefulMACs != 3*BuildIndex(m, Tile1x1, 1).NNZ*tokens || wk.UsefulMACs > wk.MACs {
						t.Errorf("%s: work %+v", name, wk)
					}
					if k.name == "GemmGo" {
						// One goroutine computes each output element, in a
						// fixed order: the worker count changes no bit.
						g1 := garbageGrads(rng, in, out, tokens)
						withKernel(k.f, func() { meth.run(w, m, xt, dyt, g1, 1) })
						if !slices.Equal(g.Yt.Data, g1.Yt.Data) || !slices.Equal(g.DXt.Data, g1.DXt.Data) ||
							!slices.Equal(g.DW.Data, g1.DW.Data) {
							t.Errorf("%s: results depend on the worker count", name)
						}
					}
				}
			}
		}
	}
}

func mapKeys(m map[string]Mask) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestLinearWorkClosedForm checks the counters of each method against
// their closed forms on an odd shape.
func TestLinearWorkClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	const in, out, tokens = 100, 70, 9
	w, xt, dyt := randomMatrix(rng, out, in), randomMatrix(rng, in, tokens), randomMatrix(rng, out, tokens)
	m := randomMask(rng, out, in, Tile{4, 4}, 0.6, 0.5)
	x := BuildIndex(m, Tile1x1, 1)
	useful := 3 * x.NNZ * tokens
	g := NewLinearGrads(in, out, tokens)

	if wk := LinearStepDense(w, m, xt, dyt, g, 2); wk.MACs != 3*out*in*tokens || wk.UsefulMACs != useful ||
		wk.Gemms != 2*2+2 || wk.BytesGathered != 4*out*in || wk.IndexReads != 0 {
		t.Errorf("dense: work %+v", wk)
	}
	for _, tl := range []Tile{Tile32x1, Block32x64, {7, 3}} {
		x := BuildIndex(m, tl, 1)
		// Forward (MatmulKIndexed) and input gradient (MatmulMIndexed on
		// the transpose) pad the tile along the permuted axis; the weight
		// gradient packs clipped tiles.
		var fwd, dx, dw int64
		for r := range x.TileRows {
			h := int64(min((r+1)*tl.Rows, out) - r*tl.Rows)
			for _, c := range x.RowTiles(r) {
				fwd += h * int64(tl.Cols) * tokens
				dx += int64(tl.Rows*tl.Cols) * tokens
				dw += h * int64(min(int(c+1)*tl.Cols, in)-int(c)*tl.Cols) * tokens
			}
		}
		wk := LinearStepPIT(w, m, tl, xt, dyt, g, 3)
		if wk.MACs != fwd+dx+dw || wk.UsefulMACs != useful || wk.MicroTiles != 3*int64(x.Len()) ||
			wk.IndexReads != out*in {
			t.Errorf("pit %v: work %+v, want MACs %d", tl, wk, fwd+dx+dw)
		}
	}
	for _, bl := range []Tile{Block32x64, Tile16x16, {7, 3}} {
		x := BuildIndex(m, bl, 1)
		var macs int64
		for r := range x.TileRows {
			h := int64(min((r+1)*bl.Rows, out) - r*bl.Rows)
			macs += 3 * int64(len(x.RowTiles(r))) * h * int64(bl.Cols) * tokens
		}
		wk, cv := LinearStepBCSR(w, m, bl, xt, dyt, g, 3)
		if wk.MACs != macs || wk.UsefulMACs != useful || wk.Gemms != 3*int64(x.Len()) {
			t.Errorf("bcsr %v: work %+v, want MACs %d", bl, wk, macs)
		}
		_, lcv := TritonLayout(m, bl)
		if cv.Reads <= lcv.Reads || cv.BytesWritten != lcv.BytesWritten+4*int64(x.Len()*bl.Rows*bl.Cols) {
			t.Errorf("bcsr %v: conversion %+v (layout %+v)", bl, cv, lcv)
		}
	}
}

// TestLinearWorkIgnoresValues: with the mask fixed, other values of w, xt
// and dyt (zeros inside active tiles included) and another worker count
// give the same counters and conversion costs.
func TestLinearWorkIgnoresValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	const in, out, tokens = 100, 70, 20
	m := randomMask(rng, out, in, Tile{8, 8}, 0.5, 0.5)
	zeroed := randomMatrix(rng, out, in)
	for i := range zeroed.Data {
		if i%3 == 0 {
			zeroed.Data[i] = 0
		}
	}
	values := [][3]Matrix{
		{randomMatrix(rng, out, in), randomMatrix(rng, in, tokens), randomMatrix(rng, out, tokens)},
		{zeroed, NewMatrix(in, tokens), randomMatrix(rng, out, tokens)},
		{NewMatrix(out, in), randomMatrix(rng, in, tokens), NewMatrix(out, tokens)},
	}
	for _, meth := range linearMethods() {
		var w0 Work
		var c0 Conversion
		for i, v := range values {
			g := NewLinearGrads(in, out, tokens)
			w, c := meth.run(v[0], m, v[1], v[2], g, 1+2*i)
			if i == 0 {
				w0, c0 = w, c
			} else if w != w0 || c != c0 {
				t.Errorf("%s: work depends on the values: %+v %+v, want %+v %+v", meth.name, w, c, w0, c0)
			}
		}
	}
}

// TestLinearCoverage is Fig. 14's point in counters (specs/pit.md §2.2,
// §9 item 5): on a 32×1-granular magnitude mask at 0.9, PIT with 32×1
// micro-tiles executes exactly the kept tiles, about 10 % of the dense
// MACs, while 32×64 blocks cover nearly everything.
func TestLinearCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(67, 68))
	const in, out, tokens = 1024, 256, 4
	w := randomMatrix(rng, out, in)
	xt, dyt := NewMatrix(in, tokens), NewMatrix(out, tokens)
	m := MagnitudeMask(w, Tile32x1, 0.9)
	g := NewLinearGrads(in, out, tokens)
	dense := int64(3 * out * in * tokens)
	tiles := int64(out / 32 * in)
	kept := tiles - int64(math.Floor(0.9*float64(tiles)))
	pit := LinearStepPIT(w, m, Tile32x1, xt, dyt, g, 0)
	if want := 3 * kept * 32 * tokens; pit.MACs != want || pit.MACs != pit.UsefulMACs {
		t.Errorf("pit 32x1: work %+v, want MACs %d", pit, want)
	}
	if f := float64(pit.MACs) / float64(dense); f < 0.1 || f > 0.1+1/float64(tiles) {
		t.Errorf("pit 32x1: %.4f of dense MACs, want 0.1", f)
	}
	// Kept tiles fall in random places: a 32×64 block (64 tiles) is empty
	// with probability ≈ 0.9^64 ≈ 0.0012, so ≥ 90 % of the 128 blocks are
	// active beyond any doubt.
	bcsr, _ := LinearStepBCSR(w, m, Block32x64, xt, dyt, g, 0)
	if bcsr.MACs < 9*dense/10 || bcsr.MACs > dense || bcsr.UsefulMACs != pit.UsefulMACs {
		t.Errorf("bcsr 32x64: work %+v, want MACs in [0.9, 1]·%d", bcsr, dense)
	}
	if bcsr.MACs < 8*pit.MACs {
		t.Errorf("bcsr 32x64 executes %d MACs, only %.1f× PIT's", bcsr.MACs, float64(bcsr.MACs)/float64(pit.MACs))
	}
}

func TestMagnitudeMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(69, 70))
	const out, in = 70, 100
	w := randomMatrix(rng, out, in)
	for _, tl := range []Tile{Tile32x1, Block32x64, {7, 3}, Tile1x1} {
		tr, tc := ceilDiv(out, tl.Rows), ceilDiv(in, tl.Cols)
		n := tr * tc
		norm := func(r, c int) float64 {
			var s float64
			for i := r * tl.Rows; i < min((r+1)*tl.Rows, out); i++ {
				for j := c * tl.Cols; j < min((c+1)*tl.Cols, in); j++ {
					s += math.Abs(float64(w.Data[i*in+j]))
				}
			}
			return s
		}
		for _, s := range []float64{0, 0.29, 0.5, 0.9, 1} {
			m := MagnitudeMask(w, tl, s)
			name := fmt.Sprintf("tile %v s=%g", tl, s)
			if again := MagnitudeMask(w, tl, s); !slices.Equal(m.Bits, again.Bits) {
				t.Fatalf("%s: not deterministic", name)
			}
			x := BuildIndex(m, tl, 1)
			if want := n - int(math.Floor(s*float64(n)+1e-9)); x.Len() != want {
				t.Errorf("%s: keeps %d tiles, want %d", name, x.Len(), want)
			}
			// Kept tiles are whole, and none is lighter than a dropped one.
			var area int64
			keptMin, droppedMax := math.Inf(1), math.Inf(-1)
			for r := range tr {
				for c := range tc {
					if slices.Contains(x.RowTiles(r), int32(c)) {
						area += int64((min((r+1)*tl.Rows, out) - r*tl.Rows) * (min((c+1)*tl.Cols, in) - c*tl.Cols))
						keptMin = min(keptMin, norm(r, c))
					} else {
						droppedMax = max(droppedMax, norm(r, c))
					}
				}
			}
			if x.NNZ != area {
				t.Errorf("%s: %d true elements, kept tiles cover %d", name, x.NNZ, area)
			}
			if keptMin < droppedMax {
				t.Errorf("%s: kept a tile of norm %g, dropped one of %g", name, keptMin, droppedMax)
			}
		}
	}
}

// TestMagnitudeMaskHand works small cases by hand, an edge tile and ties
// included.
func TestMagnitudeMaskHand(t *testing.T) {
	// 2×2 tiles of a 3×4 matrix; tile norms (0,0) 3, (0,1) 5, (1,0) 9, (1,1) 1.
	w := Matrix{3, 4, []float32{
		1, 1, 0, 5,
		1, 0, 0, 0,
		0, -9, 0.5, 0.5,
	}}
	bits := func(s string) []bool {
		b := make([]bool, len(s))
		for i := range s {
			b[i] = s[i] == '1'
		}
		return b
	}
	for _, c := range []struct {
		s    float64
		want string
	}{
		{0, "111111111111"},
		{0.25, "111111111100"}, // drops (1,1)
		{0.5, "001100111100"},  // drops (1,1) and (0,0)
		{0.74, "001100111100"}, // ⌊2.96⌋ = 2
		{0.75, "000000001100"}, // keeps (1,0) only
		{1, "000000000000"},
	} {
		if m := MagnitudeMask(w, Tile{2, 2}, c.s); !slices.Equal(m.Bits, bits(c.want)) {
			t.Errorf("s=%g: mask %v, want %s", c.s, m.Bits, c.want)
		}
	}
	// Ties: all norms equal, the earlier tiles go first.
	if m := MagnitudeMask(NewMatrix(2, 4), Tile1x1, 0.5); !slices.Equal(m.Bits, bits("00001111")) {
		t.Errorf("ties: mask %v", m.Bits)
	}
	for _, s := range []float64{-0.1, 1.5, math.NaN()} {
		func() {
			defer func() {
				if r := recover(); r == nil || !containsAll(fmt.Sprint(r), "pit: MagnitudeMask", "sparsity") {
					t.Errorf("s=%g: panic %v", s, r)
				}
			}()
			MagnitudeMask(w, Tile{2, 2}, s)
		}()
	}
}

func TestLinearStepPanics(t *testing.T) {
	const in, out, tokens = 6, 4, 3
	w, xt, dyt := NewMatrix(out, in), NewMatrix(in, tokens), NewMatrix(out, tokens)
	m := Mask{out, in, make([]bool, out*in)}
	g := NewLinearGrads(in, out, tokens)
	for _, c := range []struct {
		f    func()
		want []string
	}{
		{func() { LinearStepDense(w, m, NewMatrix(in+1, tokens), dyt, g, 1) }, []string{"pit: LinearStepDense", "xt", "7x3"}},
		{func() { LinearStepPIT(w, Mask{in, out, m.Bits}, Tile32x1, xt, dyt, g, 1) }, []string{"pit: LinearStepPIT", "mask", "6x4"}},
		{func() { LinearStepBCSR(w, m, Block32x64, xt, NewMatrix(out, tokens+1), g, 1) }, []string{"pit: LinearStepBCSR", "dyt", "4x4"}},
		{func() { LinearStepDense(w, m, xt, dyt, NewLinearGrads(out, in, tokens), 1) }, []string{"pit: LinearStepDense", "Yt"}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !containsAll(fmt.Sprint(r), c.want...) {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestLinearStepBlocksOnlineIndex: the block step on PIT's online index
// gives exactly what the block-sparse baseline gives on its sorted layout
// (the two indexes are equal), and packs as much.
func TestLinearStepBlocksOnlineIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	const in, out, tokens = 100, 70, 13
	w, xt, dyt := randomMatrix(rng, out, in), randomMatrix(rng, in, tokens), randomMatrix(rng, out, tokens)
	m := randomMask(rng, out, in, Tile{8, 8}, 0.7, 0.6)
	g1, g2 := NewLinearGrads(in, out, tokens), NewLinearGrads(in, out, tokens)
	w1, _ := LinearStepBCSR(w, m, Block32x64, xt, dyt, g1, 2)
	w2, cv := LinearStepBlocks(w, m, BuildIndex(m, Block32x64, 2), xt, dyt, g2, 2)
	if w1 != w2 {
		t.Errorf("work: baseline %+v, online index %+v", w1, w2)
	}
	if !slices.Equal(g1.Yt.Data, g2.Yt.Data) || !slices.Equal(g1.DXt.Data, g2.DXt.Data) || !slices.Equal(g1.DW.Data, g2.DW.Data) {
		t.Error("results differ between the sorted layout and the online index")
	}
	if cv.Reads == 0 || cv.BytesWritten == 0 {
		t.Errorf("packing not counted: %+v", cv)
	}
}
