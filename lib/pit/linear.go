package pit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// One training step of a linear layer whose weight mask changes every step
// (specs/pit.md §2.1 "Sparse training", §2.6 step 3, §5.5 E8, Fig. 14).
//
// The layout is feature-major, so that the sparse weight is the left
// operand of every product: W is out×in and its mask out×in; the input is
// stored transposed, xt (in×T for T tokens), and so are the output yt and
// the gradients dyt (out×T) and dxt (in×T). With Wm = W⊙mask a step is
//
//	yt  = Wm·xt              forward
//	dxt = Wmᵀ·dyt            input gradient
//	dw  = (dyt·xtᵀ)⊙mask     weight gradient, only on the mask
//
// LinearStepDense, LinearStepPIT and LinearStepBCSR compute the same three
// results (up to rounding) the way PyTorch with masks, PIT and the
// block-sparse baseline do.

// LinearGrads holds the outputs of one step, allocated by the caller:
// Yt (out×T), DXt (in×T) and DW (out×in). A step overwrites all three.
type LinearGrads struct{ Yt, DXt, DW Matrix }

// NewLinearGrads returns zeroed outputs for a layer with in inputs and out
// outputs on tokens tokens.
func NewLinearGrads(in, out, tokens int) LinearGrads {
	return LinearGrads{Yt: NewMatrix(out, tokens), DXt: NewMatrix(in, tokens), DW: NewMatrix(out, in)}
}

// checkLinear panics unless the operands of a step agree, and returns the
// layer's out, in and token count.
func checkLinear(op string, w Matrix, mask Mask, xt, dyt Matrix, g LinearGrads) (out, in, tokens int) {
	w.check(op, "w")
	mask.check(op)
	xt.check(op, "xt")
	dyt.check(op, "dyt")
	g.Yt.check(op, "Yt")
	g.DXt.check(op, "DXt")
	g.DW.check(op, "DW")
	out, in, tokens = w.Rows, w.Cols, xt.Cols
	switch {
	case mask.Rows != out || mask.Cols != in:
		panic(fmt.Sprintf("pit: %s: %dx%d mask for a %s w", op, mask.Rows, mask.Cols, w.shape()))
	case xt.Rows != in:
		panic(fmt.Sprintf("pit: %s: xt is %s, want %d rows for a %s w", op, xt.shape(), in, w.shape()))
	case dyt.Rows != out || dyt.Cols != tokens:
		panic(fmt.Sprintf("pit: %s: dyt is %s, want %dx%d", op, dyt.shape(), out, tokens))
	case g.Yt.Rows != out || g.Yt.Cols != tokens:
		panic(fmt.Sprintf("pit: %s: Yt is %s, want %dx%d", op, g.Yt.shape(), out, tokens))
	case g.DXt.Rows != in || g.DXt.Cols != tokens:
		panic(fmt.Sprintf("pit: %s: DXt is %s, want %dx%d", op, g.DXt.shape(), in, tokens))
	case g.DW.Rows != out || g.DW.Cols != in:
		panic(fmt.Sprintf("pit: %s: DW is %s, want %dx%d", op, g.DW.shape(), out, in))
	}
	return out, in, tokens
}

// MagnitudeMask is nn_pruning-style magnitude pruning at micro-tile
// granularity t, the mask that sparse training re-derives from the weights
// every step (specs/pit.md §2.1 "Sparse training", §5.5 E8): the tiles of
// w (clipped at its edges) are ranked by the L1 norm of their values, the
// smallest ⌊sparsity·tiles⌋ of them are dropped (ties: the earlier tile in
// row-major tile order is dropped first) and the kept tiles are wholly
// true. The floor allows 1e-9 for the binary rounding of sparsity, so 0.29
// of 100 tiles drops 29. The result depends on the values of w only through
// the ranking and is deterministic. sparsity must lie in [0, 1].
func MagnitudeMask(w Matrix, t Tile, sparsity float64) Mask {
	w.check("MagnitudeMask", "w")
	t.check("MagnitudeMask")
	if !(sparsity >= 0 && sparsity <= 1) {
		panic(fmt.Sprintf("pit: MagnitudeMask: sparsity %g outside [0, 1]", sparsity))
	}
	tr, tc := ceilDiv(w.Rows, t.Rows), ceilDiv(w.Cols, t.Cols)
	norms := make([]float64, tr*tc)
	for i := range w.Rows {
		ns := norms[i/t.Rows*tc : (i/t.Rows+1)*tc]
		for j, v := range w.Row(i) {
			ns[j/t.Cols] += math.Abs(float64(v))
		}
	}
	order := make([]int32, len(norms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(p, q int32) int { return cmp.Compare(norms[p], norms[q]) })
	drop := min(int(math.Floor(sparsity*float64(len(norms))+1e-9)), len(norms))
	keep := make([]bool, len(norms))
	for _, id := range order[drop:] {
		keep[id] = true
	}
	m := Mask{Rows: w.Rows, Cols: w.Cols, Bits: make([]bool, w.Rows*w.Cols)}
	for i := range w.Rows {
		ks := keep[i/t.Rows*tc : (i/t.Rows+1)*tc]
		bits := m.Bits[i*w.Cols : (i+1)*w.Cols]
		for j := range bits {
			bits[j] = ks[j/t.Cols]
		}
	}
	return m
}

// linearStripe is the number of rows (outputs, or inputs for the input
// gradient) one LinearStepDense work item computes.
const linearStripe = denseStripe

// LinearStepDense is the "PyTorch with masks" baseline of the sparse
// training step (specs/pit.md §5.5 E8, Fig. 14): it materialises
// Wm = W⊙mask (every element of w and the mask read) and runs the three
// products as dense GEMMs through Kernel, stripes of rows over workers
// goroutines (≤ 0: GOMAXPROCS): yt by stripes of outputs; dxt by stripes
// of inputs, each packing its out×64 column stripe of Wm (the Matrix type
// has no stride) and calling Kernel with transA; dw by stripes of outputs
// with transB, then zeroed outside the mask. Every output element is
// computed by one Kernel call, so the results do not depend on workers.
//
// MACs = 3·out·in·T, UsefulMACs = 3·nnz(mask)·T; BytesGathered counts the
// packed column stripes of Wm (4·out·in).
func LinearStepDense(w Matrix, mask Mask, xt, dyt Matrix, g LinearGrads, workers int) Work {
	out, in, tokens := checkLinear("LinearStepDense", w, mask, xt, dyt, g)
	wm := NewMatrix(out, in)
	rowStripes, colStripes := ceilDiv(out, linearStripe), ceilDiv(in, linearStripe)
	nnz := make([]int64, rowStripes)
	forEach(rowStripes, workers, func(_, s int) {
		r0, r1 := s*linearStripe, min((s+1)*linearStripe, out)
		for i, b := range mask.Bits[r0*in : r1*in] {
			if b {
				wm.Data[r0*in+i] = w.Data[r0*in+i]
				nnz[s]++
			}
		}
		linearGemm(false, false, wm.Slice(r0, r1), xt, g.Yt.Slice(r0, r1))
	})
	sc := newScratch(workers)
	forEach(colStripes, workers, func(id, s int) {
		c0, c1 := s*linearStripe, min((s+1)*linearStripe, in)
		p := Matrix{out, c1 - c0, grow(&sc[id].a, out*(c1-c0))}
		for i := range out {
			copy(p.Row(i), wm.Row(i)[c0:c1])
		}
		linearGemm(true, false, p, dyt, g.DXt.Slice(c0, c1))
	})
	forEach(rowStripes, workers, func(_, s int) {
		r0, r1 := s*linearStripe, min((s+1)*linearStripe, out)
		d := g.DW.Slice(r0, r1)
		linearGemm(false, true, dyt.Slice(r0, r1), xt, d)
		for i, b := range mask.Bits[r0*in : r1*in] {
			if !b {
				d.Data[i] = 0
			}
		}
	})
	var total int64
	for _, v := range nnz {
		total += v
	}
	macs := 3 * int64(out) * int64(in) * int64(tokens)
	return Work{MACs: macs, UsefulMACs: 3 * total * int64(tokens), BytesGathered: 4 * int64(out) * int64(in),
		Gemms: int64(2*rowStripes + colStripes)}
}

// linearGemm is c = op(a)·op(b) through Kernel, skipping the call when c is
// empty and zeroing c when the reduction is.
func linearGemm(transA, transB bool, a, b, c Matrix) {
	_, k, _ := dims("linear step", transA, transB, a, b, c)
	switch {
	case c.Rows == 0 || c.Cols == 0:
	case k == 0:
		clear(c.Data[:c.Rows*c.Cols])
	default:
		Kernel(transA, transB, 1, a, b, 0, c)
	}
}

// LinearStepPIT is PIT's sparse training step (specs/pit.md §2.6 step 3,
// §5.5 E8): the mask is re-indexed every step with BuildIndex(mask, t,
// workers), counted in IndexReads, and the three products run on the
// micro-tiles of shape t (tall tiles such as 32×1 permute the reduction
// axis `in`):
//
//   - the active tiles of w are copied with the mask applied into a
//     scratch Wm (zero elsewhere), the SRead of the values, so that a
//     mask only partly true inside a tile is honoured;
//   - forward: MatmulKIndexed(Wm, index, xt, Yt), PIT's K permutation;
//   - input gradient: dxt = Wmᵀ·dyt with the transposed index
//     (transposeIndex, the artifact's convert_bcsr_transpose): a tile of w
//     is a tile of wᵀ along its row axis, so this is MatmulMIndexed, whose
//     panels take contiguous row blocks of dyt and accumulate into dxt;
//   - weight gradient (SDD): for each tile row r, in parallel, the rows of
//     xt under its active tiles are gathered into a W′×T panel and one
//     Kernel call with transB gives dyt[r rows]·panelᵀ (h×W′), scattered
//     back tile by tile into dw where the mask is true; the rest of dw is
//     zero.
//
// Each output element is computed by one Kernel call, so the results do
// not depend on workers (≤ 0: GOMAXPROCS). MACs are the executed tile
// products: the forward and the input gradient count tiles padded along
// the permuted axis (as MatmulKIndexed and MatmulMIndexed execute them),
// the weight gradient clipped tiles; with tiles that divide
// the shape MACs = 3·tiles·t.Rows·t.Cols·T. UsefulMACs = 3·nnz(mask)·T,
// MicroTiles and Gemms add up the three products, BytesGathered counts the
// masked copies (Wm and its transpose) and every packed panel.
func LinearStepPIT(w Matrix, mask Mask, t Tile, xt, dyt Matrix, g LinearGrads, workers int) Work {
	_, _, tokens := checkLinear("LinearStepPIT", w, mask, xt, dyt, g)
	t.check("LinearStepPIT")
	x := BuildIndex(mask, t, workers)
	wm, wmT, copied := maskTiles(w, mask, x, workers)
	work := Work{IndexReads: x.Reads, BytesGathered: 8 * copied}
	work = work.Add(MatmulKIndexed(wm, x, xt, g.Yt, workers))
	work = work.Add(pitInputGrad(wmT, x, dyt, g.DXt, workers))
	work = work.Add(pitWeightGrad(mask, x, xt, dyt, g.DW, workers))
	work.UsefulMACs = 3 * x.NNZ * int64(tokens)
	return work
}

// maskTiles returns a copy of w holding w⊙mask on the active tiles of x
// and zero elsewhere, the same copy transposed, and the number of elements
// copied (into each).
func maskTiles(w Matrix, mask Mask, x Index, workers int) (wm, wmT Matrix, copied int64) {
	t := x.Tile
	wm, wmT = NewMatrix(w.Rows, w.Cols), NewMatrix(w.Cols, w.Rows)
	counts := make([]int64, x.TileRows)
	forEach(x.TileRows, workers, func(_, r int) {
		for i := r * t.Rows; i < min((r+1)*t.Rows, w.Rows); i++ {
			src, dst := w.Row(i), wm.Row(i)
			bits := mask.Bits[i*w.Cols : (i+1)*w.Cols]
			for _, c := range x.RowTiles(r) {
				j0, j1 := int(c)*t.Cols, min(int(c+1)*t.Cols, w.Cols)
				for j := j0; j < j1; j++ {
					if bits[j] {
						dst[j] = src[j]
						wmT.Data[j*wmT.Cols+i] = src[j]
					}
				}
				counts[r] += int64(j1 - j0)
			}
		}
	})
	for _, v := range counts {
		copied += v
	}
	return wm, wmT, copied
}

// transposeIndex returns the index of the transposed operand: tile (r, c)
// of x, of shape Rows×Cols, is tile (c, r) of shape Cols×Rows (the
// artifact's convert_bcsr_transpose, specs/pit.md §2.6 step 3).
func transposeIndex(x Index) Index {
	ptr, rows := x.ByCol()
	return Index{Tile: Tile{x.Tile.Cols, x.Tile.Rows}, Rows: x.Cols, Cols: x.Rows,
		TileRows: x.TileCols, TileCols: x.TileRows, RowPtr: ptr, Col: rows, NNZ: x.NNZ}
}

// pitInputGrad writes dxt = wmᵀ·dyt. The transposed weight's micro-tiles
// lie along its row axis (a t.Rows×t.Cols tile of w is a t.Cols×t.Rows
// tile of wᵀ), so this is MatmulMIndexed on wmT with the transposed index:
// for each tile row of w, its active tiles are gathered in groups into
// dense panels, multiplied by that tile row's contiguous block of dyt, and
// accumulated into dxt's rows by SWrite.
func pitInputGrad(wmT Matrix, x Index, dyt, dxt Matrix, workers int) Work {
	return MatmulMIndexed(wmT, transposeIndex(x), dyt, dxt, workers)
}

// pitWeightGrad writes dw = (dyt·xtᵀ)⊙mask on the active tiles of x and
// zero elsewhere, one Kernel call per tile row.
func pitWeightGrad(mask Mask, x Index, xt, dyt, dw Matrix, workers int) Work {
	t, tokens := x.Tile, xt.Cols
	sc := newScratch(workers)
	forEach(x.TileRows, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*t.Rows, min((r+1)*t.Rows, x.Rows)
		clear(dw.Slice(r0, r1).Data)
		cols := x.RowTiles(r)
		if len(cols) == 0 {
			return
		}
		wide := 0
		for _, c := range cols {
			wide += min(int(c+1)*t.Cols, x.Cols) - int(c)*t.Cols
		}
		xp := Matrix{wide, tokens, grow(&s.b, wide*tokens)}
		k := 0
		for _, c := range cols {
			for j := int(c) * t.Cols; j < min(int(c+1)*t.Cols, x.Cols); j++ {
				copy(xp.Row(k), xt.Row(j))
				k++
			}
		}
		cp := Matrix{r1 - r0, wide, grow(&s.c, (r1-r0)*wide)}
		linearGemm(false, true, dyt.Slice(r0, r1), xp, cp)
		off := 0
		for _, c := range cols {
			j0, j1 := int(c)*t.Cols, min(int(c+1)*t.Cols, x.Cols)
			for i := r0; i < r1; i++ {
				src := cp.Row(i - r0)[off : off+j1-j0]
				d := dw.Row(i)[j0:j1]
				for j, b := range mask.Bits[i*x.Cols+j0 : i*x.Cols+j1] {
					if b {
						d[j] = src[j]
					}
				}
			}
			off += j1 - j0
		}
		s.work = s.work.Add(Work{MACs: int64(r1-r0) * int64(wide) * int64(tokens),
			BytesGathered: 4 * int64(wide) * int64(tokens), MicroTiles: int64(len(cols)), Gemms: 1})
	})
	return sumWork(sc)
}

// LinearStepBCSR is the block-sparse (Triton, "PyTorch-S") baseline of the
// sparse training step (specs/pit.md §5.4, §5.5 E8). It converts the mask
// on every step, TritonLayout(mask, block) plus packing w⊙mask into the
// blocks as NewBCSR does (both in the returned Conversion: the layout and
// LUT, then the mask elements read and 4 bytes a value written), and runs
// the three products block by block with Kernel: the forward with
// BCSRMatmul; the input gradient, for each block column in parallel,
// accumulating Blockᵀ·dyt[block rows] over its blocks in ascending row
// order; the weight gradient, for each block row in parallel, one
// dyt[block rows]·xt[block cols]ᵀ per block, scattered into dw where the
// mask is true (zero elsewhere). Results do not depend on workers (≤ 0:
// GOMAXPROCS).
//
// The artifact's block is fixed (Block32x64) whatever the pattern, so on a
// fine mask such as 32×1 almost every block is active and MACs approach
// the dense 3·out·in·T (specs/pit.md §2.2, §9 item 5). Every active block
// costs a whole block width, as in BCSRMatmul, and is clipped in height:
// MACs = 3·T·block.Cols·Σ clipped block heights; UsefulMACs =
// 3·nnz(mask)·T.
func LinearStepBCSR(w Matrix, mask Mask, block Tile, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion) {
	checkLinear("LinearStepBCSR", w, mask, xt, dyt, g)
	block.check("LinearStepBCSR")
	x, cv := TritonLayout(mask, block)
	work, packed := LinearStepBlocks(w, mask, x, xt, dyt, g, workers)
	return work, cv.Add(packed)
}

// LinearStepBlocks is the block-kernel training step on a given block
// index x of the mask (its tiles are the blocks): the active blocks of w
// are packed with the mask applied, then the forward, input and weight
// gradients run block by block as in LinearStepBCSR, reading xt and dyt
// in place. With an index built online by BuildIndex it is PIT at a
// granularity as coarse as the dense tile, where PIT runs the block
// kernel itself (the artifact's 32×64 case, specs/pit.md §3.1 Fig. 15).
// The returned Conversion counts the packing only.
func LinearStepBlocks(w Matrix, mask Mask, x Index, xt, dyt Matrix, g LinearGrads, workers int) (Work, Conversion) {
	_, _, tokens := checkLinear("LinearStepBlocks", w, mask, xt, dyt, g)
	if x.Rows != w.Rows || x.Cols != w.Cols {
		panic(fmt.Sprintf("pit: LinearStepBlocks: index of a %dx%d mask for a %s weight", x.Rows, x.Cols, w.shape()))
	}
	block := x.Tile
	var cv Conversion
	a := BCSR{Index: x, Val: make([]float32, x.Len()*block.Rows*block.Cols)}
	reads := make([]int64, x.TileRows)
	forEach(x.TileRows, workers, func(_, r int) {
		for s := x.RowPtr[r]; s < x.RowPtr[r+1]; s++ {
			reads[r] += packBlock(a.Block(int(s)), w, mask, block, r, int(x.Col[s]))
		}
	})
	for _, v := range reads {
		cv.Reads += v
	}
	cv.BytesWritten += 4 * int64(len(a.Val))
	work := BCSRMatmul(a, xt, g.Yt, workers)
	work = work.Add(bcsrInputGrad(a, dyt, g.DXt, workers))
	work = work.Add(bcsrWeightGrad(a, mask, xt, dyt, g.DW, workers))
	work.UsefulMACs = 3 * x.NNZ * int64(tokens)
	return work, cv
}

// byColSlots transposes x like Index.ByCol and also returns, for each
// entry, its position in x.Col (the block's slot in a BCSR).
func byColSlots(x Index) (ptr, rows, slots []int32) {
	ptr = make([]int32, x.TileCols+1)
	for _, c := range x.Col {
		ptr[c+1]++
	}
	for c := range x.TileCols {
		ptr[c+1] += ptr[c]
	}
	rows, slots = make([]int32, len(x.Col)), make([]int32, len(x.Col))
	next := slices.Clone(ptr[:x.TileCols])
	for r := range x.TileRows {
		for s := x.RowPtr[r]; s < x.RowPtr[r+1]; s++ {
			c := x.Col[s]
			rows[next[c]], slots[next[c]] = int32(r), s
			next[c]++
		}
	}
	return ptr, rows, slots
}

// bcsrInputGrad writes dxt = aᵀ·dyt, one Kernel call per block.
func bcsrInputGrad(a BCSR, dyt, dxt Matrix, workers int) Work {
	x, t, tokens := a.Index, a.Index.Tile, dyt.Cols
	ptr, rows, slots := byColSlots(x)
	sc := newScratch(workers)
	forEach(x.TileCols, workers, func(id, kc int) {
		s := &sc[id]
		c0, c1 := kc*t.Cols, min((kc+1)*t.Cols, x.Cols)
		dst := dxt.Slice(c0, c1)
		clear(dst.Data)
		n := ptr[kc+1] - ptr[kc]
		s.work.MicroTiles += int64(n)
		s.work.Gemms += int64(n)
		if n == 0 || tokens == 0 {
			return
		}
		// The last block column is wider than dxt's rows: accumulate in
		// a scratch and keep the rows that exist.
		acc, tail := dst, c1-c0 < t.Cols
		if tail {
			acc = Matrix{t.Cols, tokens, grow(&s.c, t.Cols*tokens)}
			clear(acc.Data)
		}
		for p := ptr[kc]; p < ptr[kc+1]; p++ {
			r := int(rows[p])
			r0, r1 := r*t.Rows, min((r+1)*t.Rows, x.Rows)
			Kernel(true, false, 1, a.Block(int(slots[p])).Slice(0, r1-r0), dyt.Slice(r0, r1), 1, acc)
			s.work.MACs += int64(r1-r0) * int64(t.Cols) * int64(tokens)
		}
		if tail {
			copy(dst.Data, acc.Data)
		}
	})
	return sumWork(sc)
}

// bcsrWeightGrad writes dw = (dyt·xtᵀ)⊙mask on a's blocks, zero elsewhere,
// one Kernel call per block.
func bcsrWeightGrad(a BCSR, mask Mask, xt, dyt, dw Matrix, workers int) Work {
	x, t, tokens := a.Index, a.Index.Tile, xt.Cols
	tail, copied := bBlock(xt, t.Cols, max(x.TileCols-1, 0))
	sc := newScratch(workers)
	forEach(x.TileRows, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*t.Rows, min((r+1)*t.Rows, x.Rows)
		clear(dw.Slice(r0, r1).Data)
		p := Matrix{r1 - r0, t.Cols, grow(&s.c, (r1-r0)*t.Cols)}
		for k := x.RowPtr[r]; k < x.RowPtr[r+1]; k++ {
			kc := int(x.Col[k])
			xb := tail
			if kc < x.TileCols-1 {
				xb = xt.Slice(kc*t.Cols, (kc+1)*t.Cols)
			}
			linearGemm(false, true, dyt.Slice(r0, r1), xb, p)
			j0, j1 := kc*t.Cols, min((kc+1)*t.Cols, x.Cols)
			for i := r0; i < r1; i++ {
				src := p.Row(i - r0)
				d := dw.Row(i)[j0:j1]
				for j, b := range mask.Bits[i*x.Cols+j0 : i*x.Cols+j1] {
					if b {
						d[j] = src[j]
					}
				}
			}
			s.work.MACs += int64(r1-r0) * int64(t.Cols) * int64(tokens)
		}
		n := int64(x.RowPtr[r+1] - x.RowPtr[r])
		s.work.MicroTiles += n
		s.work.Gemms += n
	})
	w := sumWork(sc)
	w.BytesGathered += 4 * copied
	return w
}
