package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Param is one named parameter tensor and its gradient. Data and Grad have
// the same length, the product of Shape, and are stored row-major.
type Param[T Float] struct {
	Name  string
	Shape []int
	Data  []T
	Grad  []T
}

// Matrix views a 2-d parameter (or a 1-d one as a single row) as a Matrix
// of its values.
func (p *Param[T]) Matrix() Matrix[T] {
	r, c := p.dims()
	return Matrix[T]{Rows: r, Cols: c, Data: p.Data}
}

// GradMatrix views the gradient like Matrix views the values.
func (p *Param[T]) GradMatrix() Matrix[T] {
	r, c := p.dims()
	return Matrix[T]{Rows: r, Cols: c, Data: p.Grad}
}

func (p *Param[T]) dims() (rows, cols int) {
	switch len(p.Shape) {
	case 1:
		return 1, p.Shape[0]
	case 2:
		return p.Shape[0], p.Shape[1]
	}
	panic(fmt.Sprintf("nn: parameter %q has shape %v, not 1-d or 2-d", p.Name, p.Shape))
}

// Params is an ordered set of parameters. Layers register theirs with New;
// optimizers and checkpoints walk List in order.
type Params[T Float] struct {
	List []*Param[T]
}

// New registers a zero-initialised parameter of the given shape (a scalar
// when shape is empty). It panics if name is already registered or a
// dimension is negative.
func (p *Params[T]) New(name string, shape ...int) *Param[T] {
	if p.Get(name) != nil {
		panic(fmt.Sprintf("nn: parameter %q registered twice", name))
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("nn: parameter %q has shape %v", name, shape))
		}
		n *= d
	}
	q := &Param[T]{Name: name, Shape: append([]int(nil), shape...), Data: make([]T, n), Grad: make([]T, n)}
	p.List = append(p.List, q)
	return q
}

// Get returns the parameter called name, or nil.
func (p *Params[T]) Get(name string) *Param[T] {
	for _, q := range p.List {
		if q.Name == name {
			return q
		}
	}
	return nil
}

// ZeroGrad sets every gradient to 0.
func (p *Params[T]) ZeroGrad() {
	for _, q := range p.List {
		clear(q.Grad)
	}
}

// Len returns the total number of scalars in the parameters.
func (p *Params[T]) Len() int {
	n := 0
	for _, q := range p.List {
		n += len(q.Data)
	}
	return n
}

// CopyFrom copies the values (not the gradients) of src, which must hold
// parameters of the same names and lengths in the same order; used to keep
// a best-so-far copy of a model. It panics otherwise.
func (p *Params[T]) CopyFrom(src *Params[T]) {
	if len(p.List) != len(src.List) {
		panic(fmt.Sprintf("nn: CopyFrom: %d parameters from %d", len(p.List), len(src.List)))
	}
	for i, q := range p.List {
		s := src.List[i]
		if q.Name != s.Name || len(q.Data) != len(s.Data) {
			panic(fmt.Sprintf("nn: CopyFrom: parameter %d is %q (%d) here, %q (%d) in the source", i, q.Name, len(q.Data), s.Name, len(s.Data)))
		}
		copy(q.Data, s.Data)
	}
}

// TruncatedNormal fills x with draws of a normal of mean 0 and standard
// deviation stddev truncated at ±2·stddev (draws outside are redrawn), as
// Haiku's hk.initializers.TruncatedNormal. As in Haiku, stddev is not
// corrected for the truncation: the sample standard deviation is about
// 0.8796·stddev. The result depends only on rng's state.
func TruncatedNormal[T Float](rng *rand.Rand, x []T, stddev float64) {
	for i := range x {
		z := rng.NormFloat64()
		for math.Abs(z) > 2 {
			z = rng.NormFloat64()
		}
		x[i] = T(z * stddev)
	}
}

// Uniform fills x with draws from the uniform distribution on [lo, hi)
// (rounding to float32 can give hi itself).
func Uniform[T Float](rng *rand.Rand, x []T, lo, hi float64) {
	for i := range x {
		x[i] = T(lo + (hi-lo)*rng.Float64())
	}
}
