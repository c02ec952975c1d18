package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	_ "github.com/paperlab/paperlab/lib/backend" // OpenBLAS under -tags openblas
)

// relTol bounds ‖got − want‖/‖want‖ for float32 products against a
// float64 reference: the 1e-4 (specs/pit.md §5.3), well above the
// ~1e-6 rounding of K ≤ 300 float32 sums.
const relTol = 1e-4

// sparsities are the fractions of false mask elements the tests sweep.
var sparsities = []float64{0, 0.5, 0.9, 0.99, 1}

// randomMask returns a rows×cols mask whose micro-tiles of shape t are
// active with probability 1−s; inside an active tile each element is true
// with probability fill (fill = 1: whole tiles).
func randomMask(rng *rand.Rand, rows, cols int, t Tile, s, fill float64) Mask {
	m := Mask{Rows: rows, Cols: cols, Bits: make([]bool, rows*cols)}
	for r := 0; r < rows; r += t.Rows {
		for c := 0; c < cols; c += t.Cols {
			if rng.Float64() < s {
				continue
			}
			for i := r; i < min(r+t.Rows, rows); i++ {
				for j := c; j < min(c+t.Cols, cols); j++ {
					m.Bits[i*cols+j] = rng.Float64() < fill
				}
			}
		}
	}
	return m
}

func randomMatrix(rng *rand.Rand, rows, cols int) Matrix {
	m := NewMatrix(rows, cols)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	return m
}

// masked returns a with the elements outside mask set to zero.
func masked(a Matrix, m Mask) Matrix {
	out := NewMatrix(a.Rows, a.Cols)
	for i, b := range m.Bits {
		if b {
			out.Data[i] = a.Data[i]
		}
	}
	return out
}

// naive is c = a·b in float64, the reference.
func naive(a, b Matrix) []float64 {
	c := make([]float64, a.Rows*b.Cols)
	for i := range a.Rows {
		for p := range a.Cols {
			v := float64(a.Data[i*a.Cols+p])
			for j := range b.Cols {
				c[i*b.Cols+j] += v * float64(b.Data[p*b.Cols+j])
			}
		}
	}
	return c
}

// relErr is ‖got − want‖₂/‖want‖₂ (the absolute error when want is 0).
func relErr(got []float32, want []float64) float64 {
	var d, w float64
	for i, v := range want {
		d += (float64(got[i]) - v) * (float64(got[i]) - v)
		w += v * v
	}
	if w == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / w)
}

// kernels are the dense kernels every operator is checked with.
var kernels = []struct {
	name string
	f    GemmFunc
}{{"GemmGo", GemmGo}, {"Gemm", Gemm}}

// withKernel runs f with Kernel set to k.
func withKernel(k GemmFunc, f func()) {
	old := Kernel
	Kernel = k
	defer func() { Kernel = old }()
	f()
}

func TestGemmKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range kernels {
		for _, sh := range [][3]int{{1, 1, 1}, {7, 130, 5}, {33, 257, 129}, {64, 64, 64}} {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					m, kk, n := sh[0], sh[1], sh[2]
					a, b := randomMatrix(rng, m, kk), randomMatrix(rng, kk, n)
					c := randomMatrix(rng, m, n)
					want := naive(a, b)
					for i := range want {
						want[i] = 0.5*want[i] + 2*float64(c.Data[i])
					}
					if ta {
						a = transpose(a)
					}
					if tb {
						b = transpose(b)
					}
					k.f(ta, tb, 0.5, a, b, 2, c)
					if e := relErr(c.Data, want); e > relTol {
						t.Errorf("%s %v trans=%v,%v: rel err %g", k.name, sh, ta, tb, e)
					}
				}
			}
		}
	}
}

// bruteIndex lists the non-empty tiles (r, c) of m in row-major order.
func bruteIndex(m Mask, t Tile) [][2]int32 {
	var out [][2]int32
	for r := 0; r < ceilDiv(m.Rows, t.Rows); r++ {
		for c := 0; c < ceilDiv(m.Cols, t.Cols); c++ {
			any := false
			for i := r * t.Rows; i < min((r+1)*t.Rows, m.Rows); i++ {
				for j := c * t.Cols; j < min((c+1)*t.Cols, m.Cols); j++ {
					any = any || m.Bits[i*m.Cols+j]
				}
			}
			if any {
				out = append(out, [2]int32{int32(r), int32(c)})
			}
		}
	}
	return out
}

func TestBuildIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tiles := []Tile{Tile32x1, Tile1x64, Tile1x1, Tile16x16, Tile32x32}
	for _, sh := range [][2]int{{1, 1}, {64, 128}, {100, 70}, {33, 200}} {
		for _, tl := range tiles {
			for _, s := range sparsities {
				for _, workers := range []int{1, 3} {
					// Element-wise masks: fill = 1−s inside every tile.
					m := randomMask(rng, sh[0], sh[1], Tile1x1, s, 1)
					x := BuildIndex(m, tl, workers)
					var got [][2]int32
					for r := range x.TileRows {
						for _, c := range x.RowTiles(r) {
							got = append(got, [2]int32{int32(r), c})
						}
					}
					want := bruteIndex(m, tl)
					if !slices.Equal(got, want) {
						t.Fatalf("%v tile %v s=%g workers=%d: index %v, want %v", sh, tl, s, workers, got, want)
					}
					var nnz int64
					for _, b := range m.Bits {
						if b {
							nnz++
						}
					}
					if x.NNZ != nnz || x.Reads != int64(sh[0]*sh[1]) {
						t.Errorf("%v tile %v s=%g: NNZ %d Reads %d, want %d %d", sh, tl, s, x.NNZ, x.Reads, nnz, sh[0]*sh[1])
					}
					ptr, rows := x.ByCol()
					for c := range x.TileCols {
						for _, r := range rows[ptr[c]:ptr[c+1]] {
							if !slices.Contains(x.RowTiles(int(r)), int32(c)) {
								t.Fatalf("%v tile %v: ByCol lists (%d, %d), not in the index", sh, tl, r, c)
							}
						}
					}
					if len(rows) != x.Len() {
						t.Fatalf("%v tile %v: ByCol has %d tiles, index %d", sh, tl, len(rows), x.Len())
					}
				}
			}
		}
	}
}

func TestSReadSWriteRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{64, 128}, {45, 70}} {
		for _, tl := range []Tile{Tile1x64, Tile16x16, Tile32x1, Tile1x1} {
			a := randomMatrix(rng, sh[0], sh[1])
			m := randomMask(rng, sh[0], sh[1], tl, 0.5, 1)
			am := masked(a, m)
			x := BuildIndex(m, tl, 2)
			ptr, rows := x.ByCol()
			back := NewMatrix(a.Rows, a.Cols)
			twice := NewMatrix(a.Rows, a.Cols)
			for c := range x.TileCols {
				list := rows[ptr[c]:ptr[c+1]]
				p := NewMatrix(len(list)*tl.Rows, tl.Cols)
				SReadCol(p, a, tl, c, list)
				SWrite(back, tl, c, list, p, Overwrite)
				SWrite(twice, tl, c, list, p, Accumulate)
				SWrite(twice, tl, c, list, p, Accumulate)
			}
			for i, v := range am.Data {
				if back.Data[i] != v || twice.Data[i] != 2*v {
					t.Fatalf("%v tile %v: element %d: overwrite %g, accumulate twice %g, want %g",
						sh, tl, i, back.Data[i], twice.Data[i], v)
				}
			}
			// SReadRow: slot s of tile row r holds micro-tile (r, cols[s]).
			for r := range x.TileRows {
				cols := x.RowTiles(r)
				p := NewMatrix(tl.Rows, len(cols)*tl.Cols)
				SReadRow(p, a, tl, r, cols)
				for s, c := range cols {
					for i := range tl.Rows {
						for j := range tl.Cols {
							si, sj := r*tl.Rows+i, int(c)*tl.Cols+j
							want := float32(0)
							if si < a.Rows && sj < a.Cols {
								want = a.Data[si*a.Cols+sj]
							}
							if got := p.Data[i*p.Cols+s*tl.Cols+j]; got != want {
								t.Fatalf("%v tile %v: SReadRow (%d,%d) slot %d [%d,%d] = %g, want %g", sh, tl, r, c, s, i, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// operators are the PIT operators with the tile their masks are drawn at.
var operators = []struct {
	name string
	tile Tile
	f    func(a Matrix, m Mask, b, c Matrix, workers int) Work
}{{"MatmulK", Tile32x1, MatmulK}, {"MatmulM", Tile1x64, MatmulM}}

func TestOperatorsMatchDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{{64, 128, 32}, {100, 70, 33}, {31, 200, 17}, {128, 256, 64}}
	for _, k := range kernels {
		for _, op := range operators {
			for _, sh := range shapes {
				for _, s := range sparsities {
					for _, fill := range []float64{1, 0.5} {
						m := randomMask(rng, sh[0], sh[1], op.tile, s, fill)
						a := masked(randomMatrix(rng, sh[0], sh[1]), m)
						b := randomMatrix(rng, sh[1], sh[2])
						c := randomMatrix(rng, sh[0], sh[2]) // garbage: must be overwritten
						var w Work
						withKernel(k.f, func() { w = op.f(a, m, b, c, 3) })
						name := fmt.Sprintf("%s/%s %v s=%g fill=%g", k.name, op.name, sh, s, fill)
						if e := relErr(c.Data, naive(a, b)); e > relTol {
							t.Errorf("%s: rel err %g", name, e)
						}
						if w.UsefulMACs > w.MACs || w.MACs > int64(sh[0]*sh[1]*sh[2]) && s > 0.5 {
							t.Errorf("%s: work %+v", name, w)
						}
					}
				}
			}
		}
	}
}

func TestDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a, b, c := randomMatrix(rng, 130, 70), randomMatrix(rng, 70, 40), NewMatrix(130, 40)
	for _, k := range kernels {
		var w Work
		withKernel(k.f, func() { w = Dense(a, b, c, 2) })
		if e := relErr(c.Data, naive(a, b)); e > relTol || w.MACs != 130*70*40 {
			t.Errorf("%s Dense: rel err %g, work %+v", k.name, e, w)
		}
	}
}

// TestWorkIgnoresValues: the same mask with other values (zeros inside
// non-empty tiles included) gives the same counters.
func TestWorkIgnoresValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const rows, cols, n = 96, 192, 40
	for _, op := range operators {
		m := randomMask(rng, rows, cols, op.tile, 0.7, 1)
		a1 := masked(randomMatrix(rng, rows, cols), m)
		a2 := masked(randomMatrix(rng, rows, cols), m)
		for i := range a2.Data {
			if i%3 == 0 {
				a2.Data[i] = 0 // zeros inside active micro-tiles
			}
		}
		zero := NewMatrix(rows, cols)
		b, c := randomMatrix(rng, cols, n), NewMatrix(rows, n)
		w1 := op.f(a1, m, b, c, 2)
		w2 := op.f(a2, m, b, c, 1)
		w3 := op.f(zero, m, b, c, 4)
		if w1 != w2 || w1 != w3 {
			t.Errorf("%s: work depends on the values: %+v, %+v, %+v", op.name, w1, w2, w3)
		}
		x := BuildIndex(m, op.tile, 2)
		if w1.MicroTiles != int64(x.Len()) || w1.UsefulMACs != x.NNZ*n || w1.IndexReads != rows*cols {
			t.Errorf("%s: work %+v for %d tiles, %d nnz", op.name, w1, x.Len(), x.NNZ)
		}
	}
	// MatmulK on whole 32×1 tiles: MACs = tiles·32·N exactly (rows multiple of 32).
	m := randomMask(rng, rows, cols, Tile32x1, 0.9, 1)
	w := MatmulK(NewMatrix(rows, cols), m, NewMatrix(cols, n), NewMatrix(rows, n), 2)
	if w.MACs != w.MicroTiles*32*n || w.MACs != w.UsefulMACs {
		t.Errorf("MatmulK whole tiles: %+v", w)
	}
}

// TestPermutationInvariance: any order of an index row gives the same
// product up to rounding (specs/pit.md §2.3).
func TestPermutationInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m := randomMask(rng, 96, 300, Tile32x1, 0.8, 1)
	a := masked(randomMatrix(rng, 96, 300), m)
	b := randomMatrix(rng, 300, 50)
	x := BuildIndex(m, Tile32x1, 2)
	c1, c2 := NewMatrix(96, 50), NewMatrix(96, 50)
	MatmulKIndexed(a, x, b, c1, 2)
	x.Col = slices.Clone(x.Col)
	for r := range x.TileRows {
		row := x.RowTiles(r)
		rng.Shuffle(len(row), func(i, j int) { row[i], row[j] = row[j], row[i] })
	}
	MatmulKIndexed(a, x, b, c2, 2)
	want := make([]float64, len(c1.Data))
	for i, v := range c1.Data {
		want[i] = float64(v)
	}
	if e := relErr(c2.Data, want); e > 1e-5 {
		t.Errorf("shuffled index: rel err %g", e)
	}
}

func TestShapePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !containsAll(fmt.Sprint(r), "4x5", "6x3") {
			t.Errorf("panic %v, want one naming both shapes", r)
		}
	}()
	GemmGo(false, false, 1, NewMatrix(4, 5), NewMatrix(6, 3), 0, NewMatrix(4, 3))
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
