package pit

import "fmt"

// Mode says how SWrite stores a result (specs/pit.md §2.4).
type Mode int

const (
	Overwrite  Mode = iota // dst = src
	Accumulate             // dst += src, when several tiles reduce into one output
)

// SReadRow gathers micro-tiles of shape t from tile row r of src, at tile
// columns cols (any order), side by side into dst (specs/pit.md §2.4):
// dst is t.Rows × len(cols)·t.Cols and slot s, columns s·t.Cols…, holds
// micro-tile (r, cols[s]). Parts of a micro-tile beyond the edges of src
// are zero-filled. This is the A panel of the reduction-axis permutation
// (32×1 strips). It returns the number of elements copied from src.
func SReadRow(dst, src Matrix, t Tile, r int, cols []int32) int64 {
	t.check("SReadRow")
	if dst.Rows != t.Rows || dst.Cols != len(cols)*t.Cols || len(dst.Data) < dst.Rows*dst.Cols {
		panic(fmt.Sprintf("pit: SReadRow: dst is %s, want %dx%d for %d micro-tiles of %s",
			dst.shape(), t.Rows, len(cols)*t.Cols, len(cols), t))
	}
	var n int64
	for i := range t.Rows {
		si := r*t.Rows + i
		d := dst.Row(i)
		if si >= src.Rows {
			clear(d)
			continue
		}
		s := src.Row(si)
		for slot, c := range cols {
			n += int64(copyClipped(d[slot*t.Cols:(slot+1)*t.Cols], s, int(c)*t.Cols))
		}
	}
	return n
}

// SReadCol gathers micro-tiles of shape t from tile column c of src, at
// tile rows rows (any order), stacked into dst: dst is len(rows)·t.Rows ×
// t.Cols and slot s, rows s·t.Rows…, holds micro-tile (rows[s], c).
// Parts beyond the edges of src are zero-filled. This is the A panel of the
// row-axis permutation (1×64 segments) and, with t.Cols = src.Cols, a
// gather of whole rows. It returns the number of elements copied.
func SReadCol(dst, src Matrix, t Tile, c int, rows []int32) int64 {
	t.check("SReadCol")
	if dst.Cols != t.Cols || dst.Rows != len(rows)*t.Rows || len(dst.Data) < dst.Rows*dst.Cols {
		panic(fmt.Sprintf("pit: SReadCol: dst is %s, want %dx%d for %d micro-tiles of %s",
			dst.shape(), len(rows)*t.Rows, t.Cols, len(rows), t))
	}
	var n int64
	for slot, r := range rows {
		for i := range t.Rows {
			d := dst.Row(slot*t.Rows + i)
			si := int(r)*t.Rows + i
			if si >= src.Rows {
				clear(d)
				continue
			}
			n += int64(copyClipped(d, src.Row(si), c*t.Cols))
		}
	}
	return n
}

// copyClipped copies s[off:off+len(d)] to d, zero-filling what lies past
// the end of s, and returns the number of elements copied.
func copyClipped(d, s []float32, off int) int {
	n := 0
	if off < len(s) {
		n = copy(d, s[off:])
	}
	clear(d[n:])
	return n
}

// SWrite scatters src back into tile column c of dst, the inverse of
// SReadCol: slot s of src (rows s·t.Rows…) goes to micro-tile (rows[s], c)
// of dst, overwriting or accumulating as mode says (specs/pit.md §2.4).
// Parts of a micro-tile beyond the edges of dst are dropped. The rows of
// one call must name distinct micro-tiles for the result not to depend on
// the order; within a call the slots are written in order.
func SWrite(dst Matrix, t Tile, c int, rows []int32, src Matrix, mode Mode) {
	t.check("SWrite")
	if src.Cols != t.Cols || src.Rows != len(rows)*t.Rows || len(src.Data) < src.Rows*src.Cols {
		panic(fmt.Sprintf("pit: SWrite: src is %s, want %dx%d for %d micro-tiles of %s",
			src.shape(), len(rows)*t.Rows, t.Cols, len(rows), t))
	}
	off := c * t.Cols
	if off >= dst.Cols {
		return
	}
	for slot, r := range rows {
		for i := range t.Rows {
			di := int(r)*t.Rows + i
			if di >= dst.Rows {
				break
			}
			d := dst.Row(di)[off:]
			s := src.Row(slot*t.Rows + i)
			s = s[:min(len(s), len(d))]
			if mode == Accumulate {
				for j, v := range s {
					d[j] += v
				}
			} else {
				copy(d, s)
			}
		}
	}
}
