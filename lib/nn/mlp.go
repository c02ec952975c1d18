package nn

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// MLP is a multi-layer perceptron Linear → act → Linear → act → … →
// Linear, with no activation after the last layer (hk.nets.MLP with
// activate_final=False). It owns buffers for at most Rows input rows, so
// Forward and Backward allocate nothing; a batch may have fewer rows.
type MLP[T Float] struct {
	Layers []*Linear[T]
	// Act is the activation of the hidden layers; it may be changed
	// between steps.
	Act Activation
	// Slope is the negative slope of LeakyReLU; NewMLP sets it to 0.01,
	// jax.nn.leaky_relu's default.
	Slope T
	// Rows is the largest number of input rows.
	Rows int

	z  []Matrix[T] // pre-activations of the hidden layers
	h  []Matrix[T] // activations of the hidden layers (inputs of the next layer)
	e  []Matrix[T] // GELU in float32: e^(−2u), kept for the backward pass
	dh []Matrix[T] // gradients w.r.t. the hidden activations
	y  Matrix[T]   // output
	x  Matrix[T]   // input of the last Forward
	n  int         // rows of the last Forward
}

// NewMLP registers the layers of an MLP with layer sizes sizes = [in, h1,
// …, out] (at least two) in ps, as name+".0", name+".1", … (parameters
// name+".0.w", name+".0.b", …), and allocates buffers for rows input rows.
// Call Init to draw the parameters.
func NewMLP[T Float](ps *Params[T], name string, rows int, sizes []int, act Activation) *MLP[T] {
	if len(sizes) < 2 || rows < 0 {
		panic(fmt.Sprintf("nn: NewMLP %q: sizes %v, rows %d", name, sizes, rows))
	}
	m := &MLP[T]{Act: act, Slope: 0.01, Rows: rows}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(ps, name+"."+strconv.Itoa(i), sizes[i], sizes[i+1]))
	}
	for _, w := range sizes[1 : len(sizes)-1] {
		m.z = append(m.z, NewMatrix[T](rows, w))
		m.h = append(m.h, NewMatrix[T](rows, w))
		if is32[T]() {
			m.e = append(m.e, NewMatrix[T](rows, w))
		}
		m.dh = append(m.dh, NewMatrix[T](rows, w))
	}
	m.y = NewMatrix[T](rows, sizes[len(sizes)-1])
	return m
}

// In returns the input width.
func (m *MLP[T]) In() int { return m.Layers[0].In }

// Out returns the output width.
func (m *MLP[T]) Out() int { return m.Layers[len(m.Layers)-1].Out }

// Init draws every layer's parameters (Linear.Init), first layer first.
func (m *MLP[T]) Init(rng *rand.Rand) {
	for _, l := range m.Layers {
		l.Init(rng)
	}
}

// Forward evaluates the MLP on the x.Rows ≤ Rows rows of x and returns the
// output, x.Rows×Out, a view of a buffer that stays valid until the next
// Forward. It keeps x (by reference: do not change it before Backward) and
// the intermediate values Backward needs.
func (m *MLP[T]) Forward(x Matrix[T]) Matrix[T] {
	n := x.Rows
	if x.Cols != m.In() || n > m.Rows {
		panic(fmt.Sprintf("nn: MLP %d->%d for %d rows: Forward of x %s", m.In(), m.Out(), m.Rows, x.shape()))
	}
	m.x, m.n = x, n
	in := x
	last := len(m.Layers) - 1
	for i, l := range m.Layers[:last] {
		z := m.z[i].Slice(0, n)
		l.Forward(in, z)
		m.activate(i, z, m.h[i].Slice(0, n))
		in = m.hidden(i)
	}
	y := m.y.Slice(0, n)
	m.Layers[last].Forward(in, y)
	return y
}

// hidden returns the output of hidden layer i for the rows of the last
// Forward: the activations, or the pre-activations for Identity.
func (m *MLP[T]) hidden(i int) Matrix[T] {
	if m.Act == Identity {
		return m.z[i].Slice(0, m.n)
	}
	return m.h[i].Slice(0, m.n)
}

func (m *MLP[T]) activate(i int, z, h Matrix[T]) {
	nz := z.Rows * z.Cols
	zd, hd := z.Data[:nz], h.Data[:nz]
	switch m.Act {
	case GELU:
		if m.e != nil {
			geluForward32(as32(zd), as32(hd), as32(m.e[i].Data[:nz]))
		} else {
			GELUForward(zd, hd)
		}
	case Tanh:
		TanhForward(zd, hd)
	case LeakyReLU:
		LeakyReLUForward(m.Slope, zd, hd)
	case Identity:
	default:
		panic(fmt.Sprintf("nn: MLP: unknown %v", m.Act))
	}
}

// Backward takes dy = ∂L/∂y for the output of the last Forward (same rows),
// adds the parameter gradients into each layer's Grad, and writes
// dx = ∂L/∂x unless dx.Data is nil. dx may have fewer columns than the
// input: it then receives the gradient of the last dx.Cols input columns
// only (e.g. learned features appended to fixed ones), at a fraction of the
// cost. dy is not modified.
func (m *MLP[T]) Backward(dy, dx Matrix[T]) {
	n := m.n
	if dy.Rows != n || dy.Cols != m.Out() {
		panic(fmt.Sprintf("nn: MLP %d->%d Backward: dy %s after Forward of %d rows", m.In(), m.Out(), dy.shape(), n))
	}
	g := dy
	for i := len(m.Layers) - 1; i > 0; i-- {
		dh := m.dh[i-1].Slice(0, n)
		m.Layers[i].Backward(m.hidden(i-1), g, dh)
		m.deactivate(i-1, dh)
		g = dh
	}
	m.Layers[0].Backward(m.x, g, dx)
}

// deactivate turns dh = ∂L/∂h of hidden layer i into ∂L/∂z in place.
func (m *MLP[T]) deactivate(i int, dh Matrix[T]) {
	nz := dh.Rows * dh.Cols
	d := dh.Data[:nz]
	z := m.z[i].Data[:nz]
	switch m.Act {
	case GELU:
		if m.e != nil {
			geluBackward32(as32(z), as32(m.e[i].Data[:nz]), as32(d), as32(d))
		} else {
			GELUBackward(z, d, d)
		}
	case Tanh:
		TanhBackward(m.h[i].Data[:nz], d, d)
	case LeakyReLU:
		LeakyReLUBackward(m.Slope, z, d, d)
	}
}
