package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Linear is an affine layer y = x·W + b over a batch of rows: x is n×In,
// W is In×Out (row-major), b has Out elements and y is n×Out. This is
// Haiku's hk.Linear.
type Linear[T Float] struct {
	In, Out int
	W, B    *Param[T]
}

// NewLinear registers the parameters name+".w" (In×Out) and name+".b"
// (Out) in ps, zero-initialised; call Init to draw them.
func NewLinear[T Float](ps *Params[T], name string, in, out int) *Linear[T] {
	return &Linear[T]{In: in, Out: out, W: ps.New(name+".w", in, out), B: ps.New(name+".b", out)}
}

// Init draws W from Haiku's default Linear initialisation, a normal of
// standard deviation 1/√In truncated at ±2σ, and sets b to 0.
func (l *Linear[T]) Init(rng *rand.Rand) {
	TruncatedNormal(rng, l.W.Data, 1/math.Sqrt(float64(l.In)))
	clear(l.B.Data)
}

func (l *Linear[T]) checkRows(op string, x, y Matrix[T]) {
	if x.Cols != l.In || y.Cols != l.Out || x.Rows != y.Rows {
		panic(fmt.Sprintf("nn: Linear %dx%d %s: x %s, y %s", l.In, l.Out, op, x.shape(), y.shape()))
	}
}

// Forward writes y = x·W + b.
func (l *Linear[T]) Forward(x, y Matrix[T]) {
	l.checkRows("Forward", x, y)
	y.check("Linear.Forward", "y")
	b := l.B.Data
	for i := 0; i < y.Rows; i++ {
		copy(y.Row(i), b)
	}
	Gemm(false, false, 1, x, l.W.Matrix(), 1, y)
}

// Backward takes dy = ∂L/∂y for the input x of Forward, adds xᵀ·dy to
// W.Grad and the column sums of dy to B.Grad, and writes dx = dy·Wᵀ
// unless dx.Data is nil (the input needs no gradient). A dx with fewer
// columns than In receives the gradient of the last dx.Cols inputs only.
func (l *Linear[T]) Backward(x, dy, dx Matrix[T]) {
	l.checkRows("Backward", x, dy)
	Gemm(true, false, 1, x, dy, 1, l.W.GradMatrix())
	addColSums(dy, l.B.Grad)
	if dx.Data != nil {
		if dx.Rows != dy.Rows || dx.Cols < 1 || dx.Cols > l.In {
			panic(fmt.Sprintf("nn: Linear %dx%d Backward: dy %s, dx %s", l.In, l.Out, dy.shape(), dx.shape()))
		}
		// dx may hold only the last dx.Cols input columns: their rows of W
		// are the last rows of the row-major In x Out matrix.
		w := l.W.Matrix()
		w = Matrix[T]{Rows: dx.Cols, Cols: l.Out, Data: w.Data[(l.In-dx.Cols)*l.Out:]}
		Gemm(false, true, 1, dy, w, 0, dx)
	}
}

// ones32 is a read-only row of ones for the AVX2 column sums.
var ones32 = func() []float32 {
	v := make([]float32, 1024)
	for i := range v {
		v[i] = 1
	}
	return v
}()

// addColSums adds the column sums of m into s (len(s) == m.Cols), four
// rows at a time so that each s[j] is loaded and stored once per four
// rows.
func addColSums[T Float](m Matrix[T], s []T) {
	c := m.Cols
	s = s[:c]
	if haveAVX2 && is32[T]() && c > 0 && c%8 == 0 {
		// s += Σ_i 1·row_i, row after row, in chunks of len(ones32).
		for lo := 0; lo < m.Rows; lo += len(ones32) {
			n := min(len(ones32), m.Rows-lo)
			axpysStridedAVX2(&ones32[0], &as32(m.Data)[lo*c], &as32(s)[0], n, c, c, 0)
		}
		return
	}
	i := 0
	for ; i+4 <= m.Rows; i += 4 {
		r0 := m.Data[i*c : (i+1)*c]
		r1 := m.Data[(i+1)*c : (i+2)*c]
		r2 := m.Data[(i+2)*c : (i+3)*c]
		r3 := m.Data[(i+3)*c : (i+4)*c]
		r0, r1, r2, r3 = r0[:len(s)], r1[:len(s)], r2[:len(s)], r3[:len(s)]
		for j := range s {
			s[j] += (r0[j] + r1[j]) + (r2[j] + r3[j])
		}
	}
	for ; i < m.Rows; i++ {
		r := m.Data[i*c : (i+1)*c]
		r = r[:len(s)]
		for j, v := range r {
			s[j] += v
		}
	}
}
