package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// maskNNZ counts the true elements of m.
func maskNNZ(m Mask) int64 {
	var n int64
	for _, b := range m.Bits {
		if b {
			n++
		}
	}
	return n
}

// attnOps runs the three attention operators on a Longformer problem:
// dense, block-sparse over a 32×32 cover built from the mask, and PIT's
// band plus gathered globals.
var attnOps = []struct {
	name string
	f    func(q, k, v Matrix, window int, globals []int32, mask Mask, out Matrix, workers int) Work
}{
	{"AttentionDense", func(q, k, v Matrix, _ int, _ []int32, mask Mask, out Matrix, workers int) Work {
		return AttentionDense(q, k, v, mask, out, workers)
	}},
	{"AttentionBlocks", func(q, k, v Matrix, _ int, _ []int32, mask Mask, out Matrix, workers int) Work {
		return AttentionBlocks(q, k, v, BuildIndex(mask, Tile32x32, workers), mask, out, workers)
	}},
	{"AttentionLongformerPIT", func(q, k, v Matrix, window int, globals []int32, _ Mask, out Matrix, workers int) Work {
		return AttentionLongformerPIT(q, k, v, window, globals, out, workers)
	}},
}

func TestAttentionLongformer(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	const d, window = 16, 20
	for _, L := range []int{70, 130} {
		globals := LongformerGlobals(uint64(L), L, 0.05)
		mask := LongformerMask(L, window, globals)
		nnz := maskNNZ(mask)
		q, k, v := randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d)
		want := AttentionReference(q, k, v, mask)
		for _, kr := range kernels {
			for _, op := range attnOps {
				name := fmt.Sprintf("%s/%s L=%d", kr.name, op.name, L)
				o1, o3 := randomMatrix(rng, L, d), randomMatrix(rng, L, d) // garbage: must be overwritten
				var w1, w3 Work
				withKernel(kr.f, func() {
					w1 = op.f(q, k, v, window, globals, mask, o1, 1)
					w3 = op.f(q, k, v, window, globals, mask, o3, 3)
				})
				if e := relErr(o1.Data, want); e > relTol {
					t.Errorf("%s: rel err %g", name, e)
				}
				if !slices.Equal(o1.Data, o3.Data) || w1 != w3 {
					t.Errorf("%s: result or work depends on the worker count", name)
				}
				if w1.UsefulMACs != 2*nnz*d || w1.UsefulMACs > w1.MACs {
					t.Errorf("%s: work %+v for nnz %d", name, w1, nnz)
				}
			}
		}
	}
}

// TestAttentionLongformerVariants sweeps windows and global sets, edge
// cases included (no globals, no window, globals at the end).
func TestAttentionLongformerVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	const d = 8
	cases := []struct {
		L, window int
		globals   []int32
	}{
		{45, 5, nil}, {45, 0, []int32{0, 44}}, {96, 33, []int32{3, 31, 32, 95}},
		{33, 100, []int32{32}}, {1, 1, nil}, {64, 1, []int32{0}},
	}
	for _, c := range cases {
		mask := LongformerMask(c.L, c.window, c.globals)
		q, k, v := randomMatrix(rng, c.L, d), randomMatrix(rng, c.L, d), randomMatrix(rng, c.L, d)
		want := AttentionReference(q, k, v, mask)
		for _, op := range attnOps {
			out := randomMatrix(rng, c.L, d)
			w := op.f(q, k, v, c.window, c.globals, mask, out, 2)
			if e := relErr(out.Data, want); e > relTol {
				t.Errorf("%s L=%d window=%d globals=%v: rel err %g", op.name, c.L, c.window, c.globals, e)
			}
			if w.UsefulMACs != 2*maskNNZ(mask)*d {
				t.Errorf("%s L=%d window=%d globals=%v: UsefulMACs %d, nnz %d", op.name, c.L, c.window, c.globals, w.UsefulMACs, maskNNZ(mask))
			}
		}
	}
}

func TestAttentionBlockStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	const d = 16
	for _, L := range []int{70, 130} {
		for _, density := range []float64{0, 0.3, 1} {
			for _, tl := range []Tile{Tile32x32, Tile16x16} {
				mask := BlockStructureMask(uint64(L), L, tl.Rows, density)
				q, k, v := randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d)
				want := AttentionReference(q, k, v, mask)
				x := BuildIndex(mask, tl, 2)
				for _, kr := range kernels {
					name := fmt.Sprintf("%s L=%d density=%g tile %v", kr.name, L, density, tl)
					o1, o3, od := randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d)
					var w1, w3 Work
					withKernel(kr.f, func() {
						w1 = AttentionBlocks(q, k, v, x, mask, o1, 1)
						w3 = AttentionBlocks(q, k, v, x, mask, o3, 3)
						AttentionDense(q, k, v, mask, od, 2)
					})
					if e := relErr(o1.Data, want); e > relTol {
						t.Errorf("%s: AttentionBlocks rel err %g", name, e)
					}
					if e := relErr(od.Data, want); e > relTol {
						t.Errorf("%s: AttentionDense rel err %g", name, e)
					}
					if !slices.Equal(o1.Data, o3.Data) || w1 != w3 {
						t.Errorf("%s: result or work depends on the worker count", name)
					}
					if w1.MicroTiles != int64(x.Len()) || w1.Gemms != 2*int64(x.Len()) || w1.UsefulMACs != 2*maskNNZ(mask)*d {
						t.Errorf("%s: work %+v for %d blocks", name, w1, x.Len())
					}
				}
				// Permutation invariance of the key axis (specs/pit.md §2.3
				// item 3): shuffled block columns give the same output.
				y := x
				y.Col = slices.Clone(x.Col)
				for r := range y.TileRows {
					row := y.RowTiles(r)
					rng.Shuffle(len(row), func(i, j int) { row[i], row[j] = row[j], row[i] })
				}
				o1, o2 := NewMatrix(L, d), NewMatrix(L, d)
				AttentionBlocks(q, k, v, x, mask, o1, 2)
				AttentionBlocks(q, k, v, y, mask, o2, 2)
				ref := make([]float64, len(o1.Data))
				for i, f := range o1.Data {
					ref[i] = float64(f)
				}
				if e := relErr(o2.Data, ref); e > 1e-5 {
					t.Errorf("L=%d density=%g tile %v: shuffled index: rel err %g", L, density, tl, e)
				}
			}
		}
	}
}

// TestAttentionEmptyRow: a query with no allowed key gets a zero row.
func TestAttentionEmptyRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(57, 58))
	const L, d, empty = 70, 16, 40
	mask := BlockStructureMask(3, L, 32, 0.5)
	clear(mask.Bits[empty*L : (empty+1)*L])
	q, k, v := randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d)
	want := AttentionReference(q, k, v, mask)
	for _, x := range want[empty*d : (empty+1)*d] {
		if x != 0 {
			t.Fatalf("reference row %d is not zero", empty)
		}
	}
	for _, kr := range kernels {
		od, ob := randomMatrix(rng, L, d), randomMatrix(rng, L, d)
		withKernel(kr.f, func() {
			AttentionDense(q, k, v, mask, od, 2)
			AttentionBlocks(q, k, v, BuildIndex(mask, Tile32x32, 2), mask, ob, 2)
		})
		for name, out := range map[string]Matrix{"AttentionDense": od, "AttentionBlocks": ob} {
			if slices.ContainsFunc(out.Row(empty), func(x float32) bool { return x != 0 }) {
				t.Errorf("%s %s: row %d with no allowed key is %v", kr.name, name, empty, out.Row(empty))
			}
			if e := relErr(out.Data, want); e > relTol {
				t.Errorf("%s %s: rel err %g", kr.name, name, e)
			}
		}
	}
	// An all-false mask: every row is zero, and nothing is useful.
	none := Mask{Rows: L, Cols: L, Bits: make([]bool, L*L)}
	out := randomMatrix(rng, L, d)
	w := AttentionDense(q, k, v, none, out, 2)
	if slices.ContainsFunc(out.Data, func(x float32) bool { return x != 0 }) || w.UsefulMACs != 0 || w.MACs != 2*L*L*d {
		t.Errorf("all-false mask: work %+v, non-zero output", w)
	}
	out = randomMatrix(rng, L, d)
	w = AttentionBlocks(q, k, v, BuildIndex(none, Tile32x32, 2), none, out, 2)
	if slices.ContainsFunc(out.Data, func(x float32) bool { return x != 0 }) || w != (Work{}) {
		t.Errorf("all-false mask, blocks: work %+v, non-zero output", w)
	}
}

// TestAttentionWorkIgnoresValues: other q, k, v with the same mask give the
// same counters.
func TestAttentionWorkIgnoresValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(59, 60))
	const L, d, window = 130, 16, 20
	globals := LongformerGlobals(9, L, 0.05)
	mask := LongformerMask(L, window, globals)
	zero := NewMatrix(L, d)
	for _, op := range attnOps {
		q, k, v := randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d)
		out := NewMatrix(L, d)
		w1 := op.f(q, k, v, window, globals, mask, out, 2)
		w2 := op.f(randomMatrix(rng, L, d), randomMatrix(rng, L, d), randomMatrix(rng, L, d), window, globals, mask, out, 1)
		w3 := op.f(zero, zero, zero, window, globals, mask, out, 4)
		if w1 != w2 || w1 != w3 {
			t.Errorf("%s: work depends on the values: %+v, %+v, %+v", op.name, w1, w2, w3)
		}
	}
}

// TestAttentionBlockCounts checks the counters against hand counts.
func TestAttentionBlockCounts(t *testing.T) {
	const d = 4
	q := NewMatrix(64, d)
	// L = 64, window 1 (the diagonal only), no globals: the band is the 2
	// diagonal 32×32 blocks; block (0, 1) is at distance 32 − 31 = 1.
	w := AttentionLongformerPIT(q, q, q, 1, nil, NewMatrix(64, d), 2)
	want := Work{MACs: 2 * 2 * 32 * 32 * d, UsefulMACs: 2 * 64 * d, MicroTiles: 2, Gemms: 4}
	if w != want {
		t.Errorf("L=64 window 1: %+v, want %+v", w, want)
	}
	mask := LongformerMask(64, 1, nil)
	x := BuildIndex(mask, Tile32x32, 2)
	if wb := AttentionBlocks(q, q, q, x, mask, NewMatrix(64, d), 2); wb != want {
		t.Errorf("L=64 window 1, blocks: %+v, want %+v", wb, want)
	}
	// Window 2 reaches across the block border: all 4 blocks. nnz = 64 +
	// 2·63 (the two off-diagonals).
	w = AttentionLongformerPIT(q, q, q, 2, nil, NewMatrix(64, d), 2)
	want = Work{MACs: 2 * 4 * 32 * 32 * d, UsefulMACs: 2 * (64 + 2*63) * d, MicroTiles: 4, Gemms: 8}
	if w != want {
		t.Errorf("L=64 window 2: %+v, want %+v", w, want)
	}
	// L = 70, window 1: blocks (0,0), (1,1) and the 6×6 edge block (2,2).
	q70 := NewMatrix(70, d)
	w = AttentionLongformerPIT(q70, q70, q70, 1, nil, NewMatrix(70, d), 2)
	want = Work{MACs: 2 * (32*32 + 32*32 + 6*6) * d, UsefulMACs: 2 * 70 * d, MicroTiles: 3, Gemms: 6}
	if w != want {
		t.Errorf("L=70 window 1: %+v, want %+v", w, want)
	}
	// L = 64, window 1, global token 0: 2 band blocks; the global key column
	// for all 64 rows and the global row against all 64 keys; nnz = 64 (row
	// 0) + 63·2 (diagonal and column 0). Gathered: one row each of k, v, q.
	// Gemms: 4 band, 2 per block row for the global column, 2 for the
	// global rows.
	w = AttentionLongformerPIT(q, q, q, 1, []int32{0}, NewMatrix(64, d), 2)
	want = Work{MACs: 2*2*32*32*d + 2*64*d + 2*64*d, UsefulMACs: 2 * (64 + 63*2) * d,
		BytesGathered: 3 * 4 * d, MicroTiles: 2 + 1 + 1, Gemms: 4 + 2*2 + 2}
	if w != want {
		t.Errorf("L=64 window 1 global {0}: %+v, want %+v", w, want)
	}
	if n := maskNNZ(LongformerMask(64, 1, []int32{0})); n != 64+63*2 {
		t.Errorf("LongformerMask nnz %d, want %d", n, 64+63*2)
	}
	// Dense: all L·L scores whatever the mask; 2 stripes of 32, 2 Gemms each.
	w = AttentionDense(q, q, q, mask, NewMatrix(64, d), 2)
	want = Work{MACs: 2 * 64 * 64 * d, UsefulMACs: 2 * 64 * d, Gemms: 4}
	if w != want {
		t.Errorf("dense L=64: %+v, want %+v", w, want)
	}
}

func TestLongformerGlobals(t *testing.T) {
	for _, c := range []struct {
		L    int
		frac float64
		n    int
	}{{70, 0.05, 4}, {130, 0.05, 7}, {4096, 0.02, 82}, {10, 0, 1}, {10, 1, 10}, {1, 0.5, 1}} {
		g := LongformerGlobals(5, c.L, c.frac)
		if len(g) != c.n || g[0] != 0 {
			t.Errorf("L=%d frac=%g: %v, want %d positions starting at 0", c.L, c.frac, g, c.n)
		}
		for i := 1; i < len(g); i++ {
			if g[i] <= g[i-1] || int(g[i]) >= c.L {
				t.Fatalf("L=%d: %v not strictly ascending in [0, L)", c.L, g)
			}
		}
		if !slices.Equal(g, LongformerGlobals(5, c.L, c.frac)) {
			t.Errorf("L=%d: not deterministic", c.L)
		}
	}
	if slices.Equal(LongformerGlobals(1, 4096, 0.02), LongformerGlobals(2, 4096, 0.02)) {
		t.Error("different seeds, same globals")
	}
	m := LongformerMask(10, 2, []int32{0, 7})
	for i := range 10 {
		for j := range 10 {
			want := i == 0 || i == 7 || j == 0 || j == 7 || i-j < 2 && j-i < 2
			if m.Bits[i*10+j] != want {
				t.Fatalf("LongformerMask(10, 2, {0, 7}) (%d, %d) = %v", i, j, !want)
			}
		}
	}
}

func TestBlockStructureMask(t *testing.T) {
	const L, b = 100, 16
	m := BlockStructureMask(4, L, b, 0.4)
	if !slices.Equal(m.Bits, BlockStructureMask(4, L, b, 0.4).Bits) {
		t.Fatal("not deterministic")
	}
	active := 0
	for r := 0; r*b < L; r++ {
		for c := 0; c*b < L; c++ {
			var n, size int
			h := min((r+1)*b, L) - r*b
			for i := r * b; i < min((r+1)*b, L); i++ {
				for j := c * b; j < min((c+1)*b, L); j++ {
					size++
					if m.Bits[i*L+j] {
						n++
						if r == c && j > i {
							t.Fatalf("diagonal block (%d, %d) not causal at (%d, %d)", r, c, i, j)
						}
					}
				}
			}
			switch {
			case c > r && n != 0:
				t.Fatalf("block (%d, %d) above the diagonal has %d true", r, c, n)
			case c == r && n != h*(h+1)/2:
				t.Fatalf("diagonal block (%d, %d) has %d true", r, c, n)
			case c < r && n != 0 && n != size:
				t.Fatalf("block (%d, %d) below the diagonal is partly true (%d of %d)", r, c, n, size)
			case c < r && n == size:
				active++
			}
		}
	}
	// 7 block rows: 21 blocks below the diagonal, about 40 % active.
	if active == 0 || active == 21 {
		t.Errorf("%d of 21 lower blocks active at density 0.4", active)
	}
	full := BlockStructureMask(4, L, b, 1)
	for i := range L {
		for j := range L {
			if want := j/b < i/b || j/b == i/b && j <= i; full.Bits[i*L+j] != want {
				t.Fatalf("density 1: (%d, %d) = %v", i, j, full.Bits[i*L+j])
			}
		}
	}
}

func TestAttentionPanics(t *testing.T) {
	q, bad := NewMatrix(10, 4), NewMatrix(10, 5)
	mask := LongformerMask(10, 2, nil)
	cases := []struct {
		name, want string
		f          func()
	}{
		{"AttentionDense", "pit: AttentionDense: k is 10x5", func() { AttentionDense(q, bad, q, mask, q, 1) }},
		{"AttentionDense", "pit: AttentionDense: mask is 9x9", func() { AttentionDense(q, q, q, LongformerMask(9, 2, nil), q, 1) }},
		{"AttentionBlocks", "pit: AttentionBlocks: out is 10x5", func() {
			AttentionBlocks(q, q, q, BuildIndex(mask, Tile32x32, 1), mask, bad, 1)
		}},
		{"AttentionBlocks", "pit: AttentionBlocks: index of a 9x9 mask", func() {
			AttentionBlocks(q, q, q, BuildIndex(LongformerMask(9, 2, nil), Tile32x32, 1), mask, q, 1)
		}},
		{"AttentionLongformerPIT", "pit: AttentionLongformerPIT: v is 10x5", func() { AttentionLongformerPIT(q, q, bad, 2, nil, q, 1) }},
		{"AttentionLongformerPIT", "global token 10 outside [0, 10)", func() { AttentionLongformerPIT(q, q, q, 2, []int32{10}, q, 1) }},
		{"AttentionLongformerPIT", "global token 3 listed twice", func() { AttentionLongformerPIT(q, q, q, 2, []int32{3, 3}, q, 1) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, c.want) {
					t.Errorf("%s: panic %q, want %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}
