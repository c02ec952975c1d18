package pit

import "fmt"

// Conversion counts the cost of converting an operand into a sparse
// format, which the artifact's block-sparse baselines pay on every call
// and report apart from the kernel as "Convert" (specs/pit.md §5.4). Like
// Work it depends on the mask and the shapes only.
type Conversion struct {
	Reads        int64 // mask elements read
	BytesWritten int64 // bytes of values and indices written into the format
}

// Add returns v + u, field by field.
func (v Conversion) Add(u Conversion) Conversion {
	return Conversion{v.Reads + u.Reads, v.BytesWritten + u.BytesWritten}
}

// CSR is an element-wise compressed sparse row matrix, the analogue of the
// cuSPARSE and Sputnik baselines (specs/pit.md §5.4): the stored elements
// of row i are at columns Col[RowPtr[i]:RowPtr[i+1]] (ascending) with
// values Val[RowPtr[i]:RowPtr[i+1]].
type CSR struct {
	Rows, Cols int
	RowPtr     []int32
	Col        []int32
	Val        []float32
}

// NNZ is the number of stored elements.
func (x CSR) NNZ() int { return len(x.Col) }

// NewCSR stores the elements of a where mask is true, whatever their value
// (a zero under a true mask bit is stored too), so the format and its cost
// depend on the mask only. Use MaskOf(a) to store the non-zeros of a. The
// whole mask is read once, row by row.
func NewCSR(a Matrix, mask Mask) (CSR, Conversion) {
	a.check("NewCSR", "a")
	mask.check("NewCSR")
	if mask.Rows != a.Rows || mask.Cols != a.Cols {
		panic(fmt.Sprintf("pit: NewCSR: %dx%d mask for a %s matrix", mask.Rows, mask.Cols, a.shape()))
	}
	x := CSR{Rows: a.Rows, Cols: a.Cols, RowPtr: make([]int32, a.Rows+1)}
	for i := range a.Rows {
		row := a.Row(i)
		for j, b := range mask.Bits[i*a.Cols : (i+1)*a.Cols] {
			if b {
				x.Col = append(x.Col, int32(j))
				x.Val = append(x.Val, row[j])
			}
		}
		x.RowPtr[i+1] = int32(len(x.Col))
	}
	// Values and column indices are 4 bytes each, plus the row pointers.
	written := 8*int64(len(x.Col)) + 4*int64(len(x.RowPtr))
	return x, Conversion{Reads: int64(a.Rows) * int64(a.Cols), BytesWritten: written}
}

// Dense returns x as a dense matrix, zero outside the stored elements.
func (x CSR) Dense() Matrix {
	m := NewMatrix(x.Rows, x.Cols)
	for i := range x.Rows {
		row := m.Row(i)
		for p := x.RowPtr[i]; p < x.RowPtr[i+1]; p++ {
			row[x.Col[p]] = x.Val[p]
		}
	}
	return m
}

// csrStripe is the number of rows of c one CSRMatmul work item computes.
const csrStripe = 16

// CSRMatmul computes c = a·b for a CSR a and a dense b, row by row in
// Gustavson's order: row i of c is the sum over the stored a[i,p] of
// a[i,p]·(row p of b), an axpy per stored element (specs/pit.md §5.4).
// Stripes of rows run on workers goroutines (≤ 0: GOMAXPROCS); each row is
// summed by one goroutine in column order, so c does not depend on the
// worker count. MACs = UsefulMACs = nnz·N: no zero of a is multiplied
// beyond those the caller stored.
func CSRMatmul(a CSR, b, c Matrix, workers int) Work {
	b.check("CSRMatmul", "b")
	c.check("CSRMatmul", "c")
	if b.Rows != a.Cols || c.Rows != a.Rows || c.Cols != b.Cols {
		panic(fmt.Sprintf("pit: CSRMatmul: a %dx%d times b %s into c %s", a.Rows, a.Cols, b.shape(), c.shape()))
	}
	forEach(ceilDiv(a.Rows, csrStripe), workers, func(_, s int) {
		for i := s * csrStripe; i < min((s+1)*csrStripe, a.Rows); i++ {
			csrRow(a, b, c.Row(i), i)
		}
	})
	macs := int64(a.NNZ()) * int64(b.Cols)
	return Work{MACs: macs, UsefulMACs: macs}
}

// csrRow writes row i of a·b to ci.
func csrRow(a CSR, b Matrix, ci []float32, i int) {
	clear(ci)
	for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
		v := a.Val[p]
		bp := b.Row(int(a.Col[p]))
		bp = bp[:len(ci)]
		for j, x := range bp {
			ci[j] += v * x
		}
	}
}
