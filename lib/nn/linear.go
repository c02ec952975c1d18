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
// unless dx.Data is nil (the input needs no gradient).
func (l *Linear[T]) Backward(x, dy, dx Matrix[T]) {
	l.checkRows("Backward", x, dy)
	Gemm(true, false, 1, x, dy, 1, l.W.GradMatrix())
	gb := l.B.Grad
	for i := 0; i < dy.Rows; i++ {
		r := dy.Row(i)
		gb := gb[:len(r)]
		for j, v := range r {
			gb[j] += v
		}
	}
	if dx.Data != nil {
		if dx.Rows != dy.Rows || dx.Cols != l.In {
			panic(fmt.Sprintf("nn: Linear %dx%d Backward: dy %s, dx %s", l.In, l.Out, dy.shape(), dx.shape()))
		}
		Gemm(false, true, 1, dy, l.W.Matrix(), 0, dx)
	}
}
