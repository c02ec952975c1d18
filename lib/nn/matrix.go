package nn

import (
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Float is the element type of the engine: float32 for training, float64
// for gradient checks.
type Float interface{ ~float32 | ~float64 }

// Matrix is a row-major dense matrix: element (i, j) is Data[i*Cols+j].
// A Matrix is a view; copies share Data.
type Matrix[T Float] struct {
	Rows, Cols int
	Data       []T
}

// NewMatrix returns a zeroed rows×cols matrix.
func NewMatrix[T Float](rows, cols int) Matrix[T] {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("nn: NewMatrix(%d, %d): negative dimension", rows, cols))
	}
	return Matrix[T]{Rows: rows, Cols: cols, Data: make([]T, rows*cols)}
}

// MatrixOf wraps data as a rows×cols matrix; it panics unless
// len(data) == rows*cols.
func MatrixOf[T Float](rows, cols int, data []T) Matrix[T] {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		panic(fmt.Sprintf("nn: MatrixOf(%d, %d): %d elements", rows, cols, len(data)))
	}
	return Matrix[T]{Rows: rows, Cols: cols, Data: data}
}

// Row returns row i as a slice of length Cols sharing m's storage.
func (m Matrix[T]) Row(i int) []T {
	return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols]
}

// Slice returns rows r0..r1-1 of m as a view.
func (m Matrix[T]) Slice(r0, r1 int) Matrix[T] {
	if r0 < 0 || r1 < r0 || r1 > m.Rows {
		panic(fmt.Sprintf("nn: Slice(%d, %d) of a %dx%d matrix", r0, r1, m.Rows, m.Cols))
	}
	return Matrix[T]{Rows: r1 - r0, Cols: m.Cols, Data: m.Data[r0*m.Cols : r1*m.Cols : r1*m.Cols]}
}

// Zero sets every element of m to 0.
func (m Matrix[T]) Zero() { clear(m.Data[:m.Rows*m.Cols]) }

// shape gives the shape for messages, as in "249x128".
func (m Matrix[T]) shape() string { return fmt.Sprintf("%dx%d", m.Rows, m.Cols) }

// check panics unless m holds Rows*Cols elements.
func (m Matrix[T]) check(op, name string) {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) < m.Rows*m.Cols {
		panic(fmt.Sprintf("nn: %s: %s is %s with only %d elements", op, name, m.shape(), len(m.Data)))
	}
}

// Gemm computes c = alpha*op(a)*op(b) + beta*c, where op(x) is x or xᵀ as
// transA and transB say. It calls blas32.Gemm or blas64.Gemm according to
// T, so whatever implementation blas32.Use or blas64.Use installed runs
// the product. With beta == 0, c is overwritten (NaNs in c do not
// propagate). c must not share storage with a or b.
//
// In float32 no element of c is left subnormal: a BLAS that says it runs
// with flush-to-zero (a FlushesSubnormals method returning true, as
// lib/backend's OpenBLAS does) is trusted; after any other, Gemm flushes c
// itself (see the package doc, Subnormals).
func Gemm[T Float](transA, transB bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if transB {
		kb, n = n, kb
	}
	if kb != k || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("nn: Gemm: op(a) %dx%d times op(b) %dx%d into c %s", m, k, kb, n, c.shape()))
	}
	a.check("Gemm", "a")
	b.check("Gemm", "b")
	c.check("Gemm", "c")
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(beta, c.Data[:m*n])
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if unsafe.Sizeof(alpha) == 4 {
		ga, gb, gc := gen32(a), gen32(b), gen32(c)
		obs := gemmObserver.Load()
		if obs != nil {
			(*obs)(GemmCall{TransA: transA, TransB: transB, M: m, N: n, K: k, Alpha: float32(alpha), Beta: float32(beta), A: ga.Data, B: gb.Data, C: gc.Data})
		}
		blas32.Gemm(ta, tb, float32(alpha), ga, gb, float32(beta), gc)
		if f, ok := blas32.Implementation().(interface{ FlushesSubnormals() bool }); !ok || !f.FlushesSubnormals() {
			flushAll(gc.Data[:m*n])
		}
		if obs != nil {
			(*obs)(GemmCall{TransA: transA, TransB: transB, M: m, N: n, K: k, Alpha: float32(alpha), Beta: float32(beta), A: ga.Data, B: gb.Data, C: gc.Data, Done: true})
		}
	} else {
		blas64.Gemm(ta, tb, float64(alpha), gen64(a), gen64(b), float64(beta), gen64(c))
	}
}

// GemmCall describes one float32 product c = alpha*op(a)*op(b) + beta*c
// that Gemm runs: op(a) is M×K, op(b) K×N, c M×N, all row-major without
// padding. A, B and C are the operands' storage, not copies: an observer
// may read them during the call and must not keep or change them.
type GemmCall struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	A, B, C        []float32
	// Done is false for the call made before the product (C holds its
	// input, which matters when Beta != 0) and true for the call made after
	// it (C holds the result).
	Done bool
}

var gemmObserver atomic.Pointer[func(GemmCall)]

// ObserveGemm installs f to be called twice around every float32 product
// Gemm runs, before it and after it, and returns the observer it replaces
// (nil if none). ObserveGemm(nil) removes the observer. f runs on the
// goroutine that called Gemm, so it must be safe for concurrent use when
// products run concurrently (a Pitot step runs two lanes at once). With no
// observer installed a product pays one atomic load.
//
// It serves diagnostics that must see the real operands of a training
// step: the subnormal-operand check of lib/train and the GEMM floor of
// `make bench` (see the package doc, section Subnormals).
func ObserveGemm(f func(GemmCall)) func(GemmCall) {
	var p *func(GemmCall)
	if f != nil {
		p = &f
	}
	if old := gemmObserver.Swap(p); old != nil {
		return *old
	}
	return nil
}

// flushAll replaces every subnormal of x by a zero of its sign (see
// flush).
func flushAll(x []float32) {
	for i, v := range x {
		if b := math.Float32bits(v); b&0x7fffffff <= 0x007fffff && b&0x7fffffff != 0 {
			x[i] = math.Float32frombits(b & 0x80000000)
		}
	}
}

// scale multiplies x by beta in place (beta == 0 writes zeros).
func scale[T Float](beta T, x []T) {
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

// gen32 views m as a blas32.General. It is called only when T is 4 bytes
// wide, so T's underlying type is float32 and the storage is reinterpreted
// in place (this also serves named ~float32 types, and unlike a type
// switch on any(m.Data) it never boxes the slice header).
func gen32[T Float](m Matrix[T]) blas32.General {
	n := m.Rows * m.Cols
	d := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(m.Data))), n)
	return blas32.General{Rows: m.Rows, Cols: m.Cols, Stride: m.Cols, Data: d}
}

// gen64 views m as a blas64.General; T is 8 bytes wide (see gen32).
func gen64[T Float](m Matrix[T]) blas64.General {
	n := m.Rows * m.Cols
	d := unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(m.Data))), n)
	return blas64.General{Rows: m.Rows, Cols: m.Cols, Stride: m.Cols, Data: d}
}
