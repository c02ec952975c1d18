package pit

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Tile is a micro-tile shape, Rows×Cols elements of an operand
// (specs/pit.md §2.2): extent 1 along the permuted axis and the dense
// tile's extent along the other.
type Tile struct{ Rows, Cols int }

// The micro-tile shapes used in the paper's artifact (specs/pit.md §2.1,
// §2.4): 32×1 strips along the reduction axis (activation sparsity, PIT-K),
// 1×64 row segments along the row axis (PIT-M), 1×1 elements (the
// cuSPARSE comparison), and the 16×16 and 32×32 blocks of block-sparse
// attention.
var (
	Tile32x1  = Tile{32, 1}
	Tile1x64  = Tile{1, 64}
	Tile1x1   = Tile{1, 1}
	Tile16x16 = Tile{16, 16}
	Tile32x32 = Tile{32, 32}
)

func (t Tile) String() string { return fmt.Sprintf("%dx%d", t.Rows, t.Cols) }

func (t Tile) check(op string) {
	if t.Rows < 1 || t.Cols < 1 {
		panic(fmt.Sprintf("pit: %s: micro-tile %s must be at least 1x1", op, t))
	}
}

// Mask marks the elements of a Rows×Cols operand that may be non-zero:
// element (i, j) is Bits[i*Cols+j].
type Mask struct {
	Rows, Cols int
	Bits       []bool
}

// MaskOf returns the mask of the non-zero elements of m.
func MaskOf(m Matrix) Mask {
	k := Mask{Rows: m.Rows, Cols: m.Cols, Bits: make([]bool, m.Rows*m.Cols)}
	for i, v := range m.Data[:m.Rows*m.Cols] {
		k.Bits[i] = v != 0
	}
	return k
}

func (m Mask) check(op string) {
	if m.Rows < 0 || m.Cols < 0 || len(m.Bits) < m.Rows*m.Cols {
		panic(fmt.Sprintf("pit: %s: mask is %dx%d with only %d elements", op, m.Rows, m.Cols, len(m.Bits)))
	}
}

// Index lists the non-empty micro-tiles of a mask, CSR-like over tile rows
// (specs/pit.md §2.5): the tile columns of tile row r are
// Col[RowPtr[r]:RowPtr[r+1]]. Tile (r, c) covers rows r·Tile.Rows… and
// columns c·Tile.Cols… of the operand, clipped at its edges.
//
// PIT needs no order within a row (§2.3); BuildIndex returns columns in
// ascending order anyway, because each tile row is scanned by one worker
// from left to right, so an index does not depend on the worker count.
type Index struct {
	Tile               Tile
	Rows, Cols         int // shape of the mask
	TileRows, TileCols int // ⌈Rows/Tile.Rows⌉, ⌈Cols/Tile.Cols⌉
	RowPtr             []int32
	Col                []int32
	NNZ                int64 // true elements of the mask
	Reads              int64 // mask elements read to build the index
}

// Len is the number of non-empty micro-tiles.
func (x Index) Len() int { return len(x.Col) }

// RowTiles returns the tile columns of the non-empty micro-tiles in tile
// row r.
func (x Index) RowTiles(r int) []int32 { return x.Col[x.RowPtr[r]:x.RowPtr[r+1]] }

// ByCol returns the index transposed: the tile rows of the non-empty
// micro-tiles in tile column c are row[ptr[c]:ptr[c+1]], ascending. It is
// a counting sort, O(TileCols + Len).
func (x Index) ByCol() (ptr, row []int32) {
	ptr = make([]int32, x.TileCols+1)
	for _, c := range x.Col {
		ptr[c+1]++
	}
	for c := range x.TileCols {
		ptr[c+1] += ptr[c]
	}
	row = make([]int32, len(x.Col))
	next := append([]int32(nil), ptr[:x.TileCols]...)
	for r := range x.TileRows {
		for _, c := range x.RowTiles(r) {
			row[next[c]] = int32(r)
			next[c]++
		}
	}
	return ptr, row
}

// BuildIndex lists the micro-tiles of shape t holding at least one true
// element of m (specs/pit.md §2.5). Workers (≤ 0: GOMAXPROCS) take
// contiguous ranges of tile rows and append to their own lists, so no
// atomics are needed; an exclusive scan of the per-row counts then gives
// RowPtr. Every element of m is read once, row by row.
func BuildIndex(m Mask, t Tile, workers int) Index {
	m.check("BuildIndex")
	t.check("BuildIndex")
	x := Index{Tile: t, Rows: m.Rows, Cols: m.Cols,
		TileRows: ceilDiv(m.Rows, t.Rows), TileCols: ceilDiv(m.Cols, t.Cols)}
	w := clampWorkers(workers, x.TileRows)
	cols := make([][]int32, w)
	counts := make([]int32, x.TileRows)
	nnz := make([]int64, w)
	var wg sync.WaitGroup
	for id := range w {
		lo, hi := id*x.TileRows/w, (id+1)*x.TileRows/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols[id], nnz[id] = scanTileRows(m, t, lo, hi, counts)
		}()
	}
	wg.Wait()
	x.RowPtr = make([]int32, x.TileRows+1)
	for r, n := range counts {
		x.RowPtr[r+1] = x.RowPtr[r] + n
	}
	x.Col = make([]int32, 0, x.RowPtr[x.TileRows])
	for id := range w {
		x.Col = append(x.Col, cols[id]...)
		x.NNZ += nnz[id]
	}
	x.Reads = int64(m.Rows) * int64(m.Cols)
	return x
}

// scanTileRows finds the non-empty micro-tiles of tile rows lo..hi-1,
// writes their counts to counts[r] and returns their columns in order and
// the number of true elements seen.
func scanTileRows(m Mask, t Tile, lo, hi int, counts []int32) ([]int32, int64) {
	tileCols := ceilDiv(m.Cols, t.Cols)
	active := make([]bool, tileCols)
	var out []int32
	var nnz int64
	for r := lo; r < hi; r++ {
		clear(active)
		for i := r * t.Rows; i < min((r+1)*t.Rows, m.Rows); i++ {
			for j, b := range m.Bits[i*m.Cols : (i+1)*m.Cols] {
				if b {
					active[j/t.Cols] = true
					nnz++
				}
			}
		}
		n := len(out)
		for c, a := range active {
			if a {
				out = append(out, int32(c))
			}
		}
		counts[r] = int32(len(out) - n)
	}
	return out, nnz
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// clampWorkers returns the number of goroutines for n items: workers, or
// GOMAXPROCS if workers ≤ 0, at most n and at least 1.
func clampWorkers(workers, n int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return max(1, min(workers, n))
}

// forEach calls f(worker, i) for i in 0..n-1 on up to workers goroutines,
// handing out items one at a time (row blocks differ in cost). worker is
// in 0..w-1 and names per-worker scratch space.
func forEach(n, workers int, f func(worker, i int)) {
	w := clampWorkers(workers, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for id := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(id, i)
			}
		}()
	}
	wg.Wait()
}
