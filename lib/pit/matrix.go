package pit

import (
	"fmt"

	"github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/nn"
)

// Matrix is a row-major float32 matrix: element (i, j) is Data[i*Cols+j].
// A Matrix is a view; copies share Data.
//
// It is a plain non-generic type, not nn.Matrix[float32], so that the
// package stays callable from the project's yaegi scripts (yaegi cannot use
// generics through extracted symbols; DESIGN.md). Gemm hands it to the
// training engine's nn.Gemm as an nn.Matrix view.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zeroed rows×cols matrix.
func NewMatrix(rows, cols int) Matrix {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("pit: NewMatrix(%d, %d): negative dimension", rows, cols))
	}
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// Row returns row i as a slice sharing m's storage.
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols] }

// Slice returns rows r0..r1-1 of m as a view.
func (m Matrix) Slice(r0, r1 int) Matrix {
	if r0 < 0 || r1 < r0 || r1 > m.Rows {
		panic(fmt.Sprintf("pit: Slice(%d, %d) of a %s matrix", r0, r1, m.shape()))
	}
	return Matrix{Rows: r1 - r0, Cols: m.Cols, Data: m.Data[r0*m.Cols : r1*m.Cols : r1*m.Cols]}
}

func (m Matrix) shape() string { return fmt.Sprintf("%dx%d", m.Rows, m.Cols) }

func (m Matrix) check(op, name string) {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) < m.Rows*m.Cols {
		panic(fmt.Sprintf("pit: %s: %s is %s with only %d elements", op, name, m.shape(), len(m.Data)))
	}
}

// GemmFunc is the signature of a dense kernel: c = alpha*op(a)*op(b) +
// beta*c, with op(x) = x or xᵀ as transA and transB say. With beta == 0,
// c is overwritten. c must not share storage with a or b.
type GemmFunc func(transA, transB bool, alpha float32, a, b Matrix, beta float32, c Matrix)

// Kernel is the dense kernel the operators call: Gemm when OpenBLAS is
// installed (its time does not depend on the values), GemmGo otherwise
// (gonum's pure-Go Sgemm skips zeros; see the package doc). Set it before
// calling operators, not concurrently with them.
var Kernel GemmFunc = defaultKernel()

func defaultKernel() GemmFunc {
	if backend.Name() == "openblas" {
		return Gemm
	}
	return GemmGo
}

// dims checks the shapes of a GEMM and returns m, k, n.
func dims(op string, transA, transB bool, a, b, c Matrix) (m, k, n int) {
	a.check(op, "a")
	b.check(op, "b")
	c.check(op, "c")
	m, k = a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if kb != k || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("pit: %s: op(a) %dx%d times op(b) %dx%d into c %s", op, m, k, kb, n, c.shape()))
	}
	return m, k, n
}

// Gemm computes c = alpha*op(a)*op(b) + beta*c through the training
// engine's nn.Gemm, i.e. whatever BLAS blas32.Use installed (OpenBLAS with
// lib/backend and the openblas tag).
func Gemm(transA, transB bool, alpha float32, a, b Matrix, beta float32, c Matrix) {
	dims("Gemm", transA, transB, a, b, c)
	nn.Gemm(transA, transB, alpha, a.nn(), b.nn(), beta, c.nn())
}

// nn views m as the training engine's matrix type.
func (m Matrix) nn() nn.Matrix[float32] { return nn.MatrixOf(m.Rows, m.Cols, m.Data[:m.Rows*m.Cols]) }

// scale multiplies x by beta in place; beta == 0 writes zeros.
func scale(beta float32, x []float32) {
	switch beta {
	case 1:
	case 0:
		clear(x)
	default:
		for i := range x {
			x[i] *= beta
		}
	}
}

// transpose returns a new matrix holding mᵀ.
func transpose(m Matrix) Matrix {
	t := NewMatrix(m.Cols, m.Rows)
	for i := range m.Rows {
		for j, v := range m.Row(i) {
			t.Data[j*t.Cols+i] = v
		}
	}
	return t
}

// Block sizes of GemmGo: a kBlock×nBlock panel of b (64 KiB) stays in L2
// while four rows of a stream past it.
const (
	kBlock = 128
	nBlock = 128
)

// GemmGo computes c = alpha*op(a)*op(b) + beta*c with plain blocked loops
// in pure Go, on one goroutine. It performs all m·k·n multiply-adds
// whatever the values (no zero skipping), so its time depends on the
// shapes only. Transposed operands are copied first.
func GemmGo(transA, transB bool, alpha float32, a, b Matrix, beta float32, c Matrix) {
	m, k, n := dims("GemmGo", transA, transB, a, b, c)
	if m == 0 || n == 0 {
		return
	}
	scale(beta, c.Data[:m*n])
	if k == 0 || alpha == 0 {
		return
	}
	if transA {
		a = transpose(a)
	}
	if transB {
		b = transpose(b)
	}
	for k0 := 0; k0 < k; k0 += kBlock {
		k1 := min(k0+kBlock, k)
		for j0 := 0; j0 < n; j0 += nBlock {
			j1 := min(j0+nBlock, n)
			i := 0
			for ; i+4 <= m; i += 4 {
				rows4(alpha, a, b, c, i, k0, k1, j0, j1)
			}
			for ; i < m; i++ {
				row1(alpha, a, b, c, i, k0, k1, j0, j1)
			}
		}
	}
}

// rows4 adds alpha·a[i:i+4, k0:k1]·b[k0:k1, j0:j1] to c, loading each
// element of b once for four rows of c.
func rows4(alpha float32, a, b, c Matrix, i, k0, k1, j0, j1 int) {
	c0 := c.Data[i*c.Cols+j0 : i*c.Cols+j1]
	c1 := c.Data[(i+1)*c.Cols+j0 : (i+1)*c.Cols+j1]
	c2 := c.Data[(i+2)*c.Cols+j0 : (i+2)*c.Cols+j1]
	c3 := c.Data[(i+3)*c.Cols+j0 : (i+3)*c.Cols+j1]
	c1, c2, c3 = c1[:len(c0)], c2[:len(c0)], c3[:len(c0)]
	for p := k0; p < k1; p++ {
		a0 := alpha * a.Data[i*a.Cols+p]
		a1 := alpha * a.Data[(i+1)*a.Cols+p]
		a2 := alpha * a.Data[(i+2)*a.Cols+p]
		a3 := alpha * a.Data[(i+3)*a.Cols+p]
		bp := b.Data[p*b.Cols+j0 : p*b.Cols+j1]
		bp = bp[:len(c0)]
		for j, v := range bp {
			c0[j] += a0 * v
			c1[j] += a1 * v
			c2[j] += a2 * v
			c3[j] += a3 * v
		}
	}
}

// row1 is rows4 for a single row.
func row1(alpha float32, a, b, c Matrix, i, k0, k1, j0, j1 int) {
	ci := c.Data[i*c.Cols+j0 : i*c.Cols+j1]
	for p := k0; p < k1; p++ {
		ap := alpha * a.Data[i*a.Cols+p]
		bp := b.Data[p*b.Cols+j0 : p*b.Cols+j1]
		bp = bp[:len(ci)]
		for j, v := range bp {
			ci[j] += ap * v
		}
	}
}
