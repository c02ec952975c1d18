package pit

import (
	"fmt"
	"math"
)

// Work counts what an operator did (specs/pit.md §5.2, conclusion 2). It
// depends on the shapes and the mask only, never on the values: zeros
// inside a non-empty micro-tile are multiplied and counted like any other
// element.
type Work struct {
	MACs          int64 // multiply-adds executed by the dense kernel
	UsefulMACs    int64 // multiply-adds by a true element of the mask: nnz·N
	BytesGathered int64 // bytes copied by SRead into packed panels
	MicroTiles    int64 // non-empty micro-tiles processed
	Gemms         int64 // dense kernel calls
	IndexReads    int64 // mask elements read to build the index
}

// Add returns w + v, field by field.
func (w Work) Add(v Work) Work {
	return Work{w.MACs + v.MACs, w.UsefulMACs + v.UsefulMACs, w.BytesGathered + v.BytesGathered,
		w.MicroTiles + v.MicroTiles, w.Gemms + v.Gemms, w.IndexReads + v.IndexReads}
}

// Efficiency is UsefulMACs/MACs, the paper's η (specs/pit.md §2.2); 1 when
// nothing was executed.
func (w Work) Efficiency() float64 {
	if w.MACs == 0 {
		return 1
	}
	return float64(w.UsefulMACs) / float64(w.MACs)
}

// denseStripe is the number of rows of c one work item of the row-striped
// operators computes (the sequence-length, MoE and linear baselines).
const denseStripe = 64

// Dense computes c = a·b with Kernel, one contiguous block of rows per
// worker (workers ≤ 0: GOMAXPROCS), each a single call. It is the dense
// baseline: every one of M·K·N multiply-adds is executed (and counted as
// useful). On a 2-core AMD EPYC (Zen 4) VM, 1024³ in float32 with OpenBLAS
// took 12.2 ms this way against 14.2 ms in stripes of 64 rows (each stripe
// repacks b); OpenBLAS's own two threads on one call took 10.7 ms, but
// its idle threads then spin for about 0.1 s and slowed the products that
// followed them by up to 2x, so a baseline timed beside other kernels is
// not measured that way. (BENCHMARKS.md has the figures of the machine at
// hand beside its measured FP32 peak, MeasurePeak.)
func Dense(a, b, c Matrix, workers int) Work {
	m, k, n := dims("Dense", false, false, a, b, c)
	w := clampWorkers(workers, m)
	rows := max(ceilDiv(m, w), 1)
	blocks := ceilDiv(m, rows)
	forEach(blocks, w, func(_, s int) {
		r0, r1 := s*rows, min((s+1)*rows, m)
		Kernel(false, false, 1, a.Slice(r0, r1), b, 0, c.Slice(r0, r1))
	})
	macs := int64(m) * int64(k) * int64(n)
	return Work{MACs: macs, UsefulMACs: macs, Gemms: int64(blocks)}
}

// scratch is one worker's packed panels, grown as needed.
type scratch struct {
	a, b, c []float32
	work    Work
}

func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

func newScratch(workers int) []scratch {
	return make([]scratch, clampWorkers(workers, math.MaxInt32))
}

func sumWork(s []scratch) Work {
	var w Work
	for _, x := range s {
		w = w.Add(x.work)
	}
	return w
}

// checkOperands panics unless a (M×K) matches the index and b (K×N) and c
// (M×N) match a.
func checkOperands(op string, a Matrix, x Index, b, c Matrix) {
	dims(op, false, false, a, b, c)
	if x.Rows != a.Rows || x.Cols != a.Cols {
		panic(fmt.Sprintf("pit: %s: index of a %dx%d mask for a %s operand", op, x.Rows, x.Cols, a.shape()))
	}
}

// MatmulK computes c = a·b for a sparse a whose non-zeros are covered by
// mask (a[i,k] ≠ 0 implies mask true; a's other values inside a non-empty
// micro-tile are used as they are). It builds the 32×1 index online and
// calls MatmulKIndexed; the returned Work includes the index build.
func MatmulK(a Matrix, mask Mask, b, c Matrix, workers int) Work {
	x := BuildIndex(mask, Tile32x1, workers)
	return MatmulKIndexed(a, x, b, c, workers).Add(Work{IndexReads: x.Reads})
}

// MatmulKIndexed is PIT's permutation of the reduction axis
// (specs/pit.md §2.3 item 1, §5.3 PITMatmulK). For each tile row r of a
// (x.Tile.Rows rows, in parallel) it SReads the non-empty micro-tiles
// (strips of a along k) into a dense Tile.Rows × n·Tile.Cols panel and the
// matching Tile.Cols×N row blocks of b into an n·Tile.Cols × N panel, then
// runs one dense GEMM straight into c's rows: the output is not permuted,
// so SWrite is the identity. Rows of c with no non-empty micro-tile are
// zeroed. Any order of x's columns gives the same c up to rounding.
func MatmulKIndexed(a Matrix, x Index, b, c Matrix, workers int) Work {
	checkOperands("MatmulK", a, x, b, c)
	t, n := x.Tile, b.Cols
	sc := newScratch(workers)
	forEach(x.TileRows, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*t.Rows, min((r+1)*t.Rows, a.Rows)
		cr := c.Slice(r0, r1)
		cols := x.RowTiles(r)
		if len(cols) == 0 {
			clear(cr.Data)
			return
		}
		nk := len(cols) * t.Cols
		ap := Matrix{t.Rows, nk, grow(&s.a, t.Rows*nk)}
		bp := Matrix{nk, n, grow(&s.b, nk*n)}
		got := SReadRow(ap, a, t, r, cols)
		got += SReadCol(bp, b, Tile{t.Cols, n}, 0, cols)
		Kernel(false, false, 1, ap.Slice(0, r1-r0), bp, 0, cr)
		s.work = s.work.Add(Work{MACs: int64(r1-r0) * int64(nk) * int64(n),
			BytesGathered: 4 * got, MicroTiles: int64(len(cols)), Gemms: 1})
	})
	w := sumWork(sc)
	w.UsefulMACs = x.NNZ * int64(n)
	return w
}

// MatmulM computes c = a·b like MatmulK but with 1×64 micro-tiles, the
// sparsity along the row axis, through MatmulMIndexed.
func MatmulM(a Matrix, mask Mask, b, c Matrix, workers int) Work {
	x := BuildIndex(mask, Tile1x64, workers)
	return MatmulMIndexed(a, x, b, c, workers).Add(Work{IndexReads: x.Reads})
}

// groupRows is the height of the dense panels MatmulMIndexed packs: the
// artifact's 32-row dense tile (specs/pit.md §2.4).
const groupRows = 32

// MatmulMIndexed is PIT's permutation of the row axis (specs/pit.md §2.3
// item 2, §5.3 PITMatmulM). For each tile column kb of a (a block of
// Tile.Cols reduction indices), it takes the non-empty micro-tiles in
// groups of about 32 rows, SReads them into a dense panel, multiplies it by
// b's rows kb·Tile.Cols…, and SWrites the product back to c's rows in
// Accumulate mode, since every kb adds into the same rows. Tile columns
// run in order and the groups of one column touch distinct rows of c
// (run in parallel), so the sums are taken in a fixed order and c does not
// depend on the number of workers.
func MatmulMIndexed(a Matrix, x Index, b, c Matrix, workers int) Work {
	checkOperands("MatmulM", a, x, b, c)
	t, n := x.Tile, b.Cols
	clear(c.Data[:c.Rows*c.Cols])
	ptr, rows := x.ByCol()
	g := max(1, groupRows/t.Rows)
	sc := newScratch(workers)
	var extra Work
	for kb := range x.TileCols {
		list := rows[ptr[kb]:ptr[kb+1]]
		if len(list) == 0 {
			continue
		}
		bb, copied := bBlock(b, t.Cols, kb)
		extra.BytesGathered += 4 * copied
		forEach(ceilDiv(len(list), g), workers, func(id, gi int) {
			s := &sc[id]
			grp := list[gi*g : min((gi+1)*g, len(list))]
			h := len(grp) * t.Rows
			ap := Matrix{h, t.Cols, grow(&s.a, h*t.Cols)}
			cp := Matrix{h, n, grow(&s.c, h*n)}
			got := SReadCol(ap, a, t, kb, grp)
			Kernel(false, false, 1, ap, bb, 0, cp)
			SWrite(c, Tile{t.Rows, n}, 0, grp, cp, Accumulate)
			s.work = s.work.Add(Work{MACs: int64(h) * int64(t.Cols) * int64(n),
				BytesGathered: 4 * got, MicroTiles: int64(len(grp)), Gemms: 1})
		})
	}
	w := sumWork(sc).Add(extra)
	w.UsefulMACs = x.NNZ * int64(n)
	return w
}

// bBlock returns rows kb·w…(kb+1)·w of b as a w×N matrix: a view when they
// all exist, else a zero-padded copy (and the number of elements copied).
func bBlock(b Matrix, w, kb int) (Matrix, int64) {
	r0, r1 := kb*w, (kb+1)*w
	if r1 <= b.Rows {
		return b.Slice(r0, r1), 0
	}
	p := NewMatrix(w, b.Cols)
	copy(p.Data, b.Data[r0*b.Cols:b.Rows*b.Cols])
	return p, int64((b.Rows - r0) * b.Cols)
}
