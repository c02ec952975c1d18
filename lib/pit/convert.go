package pit

import (
	"cmp"
	"slices"
	"sync/atomic"
)

// TritonLayout is the block-sparse baseline's per-call conversion, the
// "PyTorch-S Convert" bar of the index-build experiment (specs/pit.md
// §2.5 last paragraph, §5.5 E3, Fig. 17): Triton pools the mask into a
// block layout with a ones-kernel convolution and then builds an ordered
// lookup table on the host. Here, on one goroutine:
//
//  1. pooling: every element of m is read, row by row, into a dense
//     TileRows×TileCols boolean layout; a block is appended to the table,
//     as a (row, col) pair, when its layout cell first turns true. That is
//     discovery order, which for blocks taller than one row is not the
//     order of the blocks within a block row;
//  2. the table is sorted by (row, col) with slices.SortFunc, the ordered
//     LUT, and RowPtr and Col are derived from it.
//
// The result equals BuildIndex(m, block, 1), field by field: same RowPtr,
// columns ascending within a row, same NNZ and Reads. The Conversion counts
// the mask elements read and the bytes written: the layout (one byte a
// block), the table (8 bytes a pair) and RowPtr and Col (4 bytes an entry).
// Contrast BuildIndexAtomic, PIT's unordered build, which needs no layout
// and no sort.
func TritonLayout(m Mask, block Tile) (Index, Conversion) {
	m.check("TritonLayout")
	block.check("TritonLayout")
	x := Index{Tile: block, Rows: m.Rows, Cols: m.Cols,
		TileRows: ceilDiv(m.Rows, block.Rows), TileCols: ceilDiv(m.Cols, block.Cols)}
	layout := make([]bool, x.TileRows*x.TileCols)
	var lut [][2]int32
	for i := range m.Rows {
		cells := layout[i/block.Rows*x.TileCols : (i/block.Rows+1)*x.TileCols]
		for j, b := range m.Bits[i*m.Cols : (i+1)*m.Cols] {
			if !b {
				continue
			}
			x.NNZ++
			if c := j / block.Cols; !cells[c] {
				cells[c] = true
				lut = append(lut, [2]int32{int32(i / block.Rows), int32(c)})
			}
		}
	}
	slices.SortFunc(lut, func(p, q [2]int32) int {
		if c := cmp.Compare(p[0], q[0]); c != 0 {
			return c
		}
		return cmp.Compare(p[1], q[1])
	})
	x.RowPtr = make([]int32, x.TileRows+1)
	x.Col = make([]int32, len(lut))
	for s, p := range lut {
		x.RowPtr[p[0]+1]++
		x.Col[s] = p[1]
	}
	for r := range x.TileRows {
		x.RowPtr[r+1] += x.RowPtr[r]
	}
	x.Reads = int64(m.Rows) * int64(m.Cols)
	cv := Conversion{Reads: x.Reads,
		BytesWritten: int64(len(layout)) + 8*int64(len(lut)) + 4*int64(len(x.RowPtr)+len(x.Col))}
	return x, cv
}

// BuildIndexAtomic is the artifact's index build taken literally
// (specs/pit.md §2.5, convert_bcsr_kernel_1/2), for the index-build
// experiment (§5.5 E3). Pass 1: the micro-tiles are cut into a grid of
// bands, up to workers (≤ 0: GOMAXPROCS) bands of tile rows times up to
// workers bands of tile columns, handed out to workers goroutines, so that
// several goroutines scan parts of the same tile row at once; each active
// micro-tile takes a slot in its row with an atomic fetch-add on the row's
// counter and writes its tile column there, in a per-row scratch of
// capacity TileCols. Pass 2: an exclusive scan of the counters gives
// RowPtr and the scratch rows are copied into Col.
//
// The set of tile columns of each row is what BuildIndex gives, and so are
// NNZ and Reads (every element read once), but their order within a row
// is whatever the race left and may differ from run to run: PIT needs no
// order (§2.3). Operators give the same result up to rounding on such an
// index; use BuildIndex where bit-reproducible output matters.
func BuildIndexAtomic(m Mask, t Tile, workers int) Index {
	m.check("BuildIndexAtomic")
	t.check("BuildIndexAtomic")
	x := Index{Tile: t, Rows: m.Rows, Cols: m.Cols,
		TileRows: ceilDiv(m.Rows, t.Rows), TileCols: ceilDiv(m.Cols, t.Cols)}
	w := clampWorkers(workers, x.TileRows*x.TileCols)
	rb, cb := clampWorkers(w, x.TileRows), clampWorkers(w, x.TileCols)
	counts := make([]atomic.Int32, x.TileRows)
	scratch := make([]int32, x.TileRows*x.TileCols)
	nnz := make([]int64, w)
	active := make([][]bool, w)
	forEach(rb*cb, w, func(id, item int) {
		// Consecutive items are column bands of one row band, so the
		// goroutines meet on the same row counters.
		lo, hi := item/cb*x.TileRows/rb, (item/cb+1)*x.TileRows/rb
		clo, chi := item%cb*x.TileCols/cb, (item%cb+1)*x.TileCols/cb
		if active[id] == nil {
			active[id] = make([]bool, x.TileCols)
		}
		act := active[id][clo:chi]
		j0, j1 := clo*t.Cols, min(chi*t.Cols, m.Cols)
		for r := lo; r < hi; r++ {
			clear(act)
			for i := r * t.Rows; i < min((r+1)*t.Rows, m.Rows); i++ {
				for j, b := range m.Bits[i*m.Cols+j0 : i*m.Cols+j1] {
					if b {
						act[j/t.Cols] = true
						nnz[id]++
					}
				}
			}
			for c, a := range act {
				if a {
					slot := counts[r].Add(1) - 1
					scratch[r*x.TileCols+int(slot)] = int32(clo + c)
				}
			}
		}
	})
	x.RowPtr = make([]int32, x.TileRows+1)
	for r := range x.TileRows {
		x.RowPtr[r+1] = x.RowPtr[r] + counts[r].Load()
	}
	x.Col = make([]int32, x.RowPtr[x.TileRows])
	forEach(x.TileRows, w, func(_, r int) {
		copy(x.Col[x.RowPtr[r]:x.RowPtr[r+1]], scratch[r*x.TileCols:])
	})
	for _, v := range nnz {
		x.NNZ += v
	}
	x.Reads = int64(m.Rows) * int64(m.Cols)
	return x
}
