package pit

import "fmt"

// Block32x64 is the fixed block of the block-sparse matmul baseline
// (OpenAI block-sparse / Triton, specs/pit.md §5.4).
var Block32x64 = Tile{32, 64}

// BCSR is a block-sparse cover of a mask (specs/pit.md §2.2 "coverage",
// §5.4): Index lists the blocks of shape Index.Tile holding at least one
// true element, and block s of the index (in Index.Col order) is stored
// row-major, Tile.Rows×Tile.Cols values, at Val[s·Tile.Rows·Tile.Cols…].
// Elements outside the mask, and parts of edge blocks beyond the operand,
// are stored as zeros.
type BCSR struct {
	Index Index
	Val   []float32
}

// Block returns block s as a dense matrix sharing x's storage.
func (x BCSR) Block(s int) Matrix {
	t := x.Index.Tile
	n := t.Rows * t.Cols
	return Matrix{t.Rows, t.Cols, x.Val[s*n : (s+1)*n : (s+1)*n]}
}

// NewBCSR covers mask with blocks of shape block and packs a's values into
// them. The conversion pools the mask to the block layout (BuildIndex on
// workers goroutines, ≤ 0: GOMAXPROCS), then copies each non-empty block,
// reading the mask again inside it to zero what it does not cover.
func NewBCSR(a Matrix, mask Mask, block Tile, workers int) (BCSR, Conversion) {
	a.check("NewBCSR", "a")
	if mask.Rows != a.Rows || mask.Cols != a.Cols {
		panic(fmt.Sprintf("pit: NewBCSR: %dx%d mask for a %s matrix", mask.Rows, mask.Cols, a.shape()))
	}
	x := BCSR{Index: BuildIndex(mask, block, workers)}
	n := block.Rows * block.Cols
	x.Val = make([]float32, x.Index.Len()*n)
	reads := make([]int64, x.Index.TileRows)
	forEach(x.Index.TileRows, workers, func(_, r int) {
		for s := x.Index.RowPtr[r]; s < x.Index.RowPtr[r+1]; s++ {
			reads[r] += packBlock(x.Block(int(s)), a, mask, block, r, int(x.Index.Col[s]))
		}
	})
	cv := Conversion{Reads: x.Index.Reads,
		BytesWritten: 4*int64(len(x.Val)) + 4*int64(len(x.Index.RowPtr)+len(x.Index.Col))}
	for _, v := range reads {
		cv.Reads += v
	}
	return x, cv
}

// packBlock copies block (r, c) of a into dst, zero where the mask is false
// or beyond a's edges, and returns the number of mask elements read.
func packBlock(dst, a Matrix, mask Mask, t Tile, r, c int) int64 {
	var reads int64
	for i := range t.Rows {
		d := dst.Row(i)
		clear(d)
		ai := r*t.Rows + i
		if ai >= a.Rows {
			continue
		}
		j0, j1 := c*t.Cols, min((c+1)*t.Cols, a.Cols)
		bits := mask.Bits[ai*a.Cols+j0 : ai*a.Cols+j1]
		row := a.Row(ai)[j0:j1]
		for j, b := range bits {
			if b {
				d[j] = row[j]
			}
		}
		reads += int64(len(bits))
	}
	return reads
}

// Dense returns the operand x covers: its stored blocks placed back, zero
// elsewhere.
func (x BCSR) Dense() Matrix {
	t := x.Index.Tile
	m := NewMatrix(x.Index.Rows, x.Index.Cols)
	for r := range x.Index.TileRows {
		for s := x.Index.RowPtr[r]; s < x.Index.RowPtr[r+1]; s++ {
			SWrite(m, t, int(x.Index.Col[s]), []int32{int32(r)}, x.Block(int(s)), Overwrite)
		}
	}
	return m
}

// BCSRMatmul computes c = a·b for a block-sparse a, the block-sparse
// baseline (specs/pit.md §5.4): for each block row (in parallel over
// workers, ≤ 0: GOMAXPROCS) it calls Kernel once per stored block, in
// index order, accumulating Block·(matching rows of b) into c's rows. Every
// block costs a full Rows×Cols×N dense tile however few of its elements
// are true (rows past a's edge excepted), which is the coverage waste PIT
// avoids (§2.2): Work.MACs counts the executed block MACs and UsefulMACs
// the mask's nnz·N. The last block column of b is zero-padded once if K is
// not a multiple of the block width; those bytes are BytesGathered.
func BCSRMatmul(a BCSR, b, c Matrix, workers int) Work {
	x, t := a.Index, a.Index.Tile
	b.check("BCSRMatmul", "b")
	c.check("BCSRMatmul", "c")
	if b.Rows != x.Cols || c.Rows != x.Rows || c.Cols != b.Cols {
		panic(fmt.Sprintf("pit: BCSRMatmul: a %dx%d times b %s into c %s", x.Rows, x.Cols, b.shape(), c.shape()))
	}
	tail, copied := bBlock(b, t.Cols, max(x.TileCols-1, 0))
	forEach(x.TileRows, workers, func(_, r int) {
		r0, r1 := r*t.Rows, min((r+1)*t.Rows, x.Rows)
		cr := c.Slice(r0, r1)
		clear(cr.Data)
		for s := x.RowPtr[r]; s < x.RowPtr[r+1]; s++ {
			kc := int(x.Col[s])
			bb := tail
			if kc < x.TileCols-1 {
				bb = b.Slice(kc*t.Cols, (kc+1)*t.Cols)
			}
			Kernel(false, false, 1, a.Block(int(s)).Slice(0, r1-r0), bb, 1, cr)
		}
	})
	var w Work
	for r := range x.TileRows {
		h := int64(min((r+1)*t.Rows, x.Rows) - r*t.Rows)
		w.MACs += int64(len(x.RowTiles(r))) * h * int64(t.Cols) * int64(b.Cols)
	}
	w.UsefulMACs = x.NNZ * int64(b.Cols)
	w.MicroTiles = int64(x.Len())
	w.Gemms = int64(x.Len())
	w.BytesGathered = 4 * copied
	return w
}
