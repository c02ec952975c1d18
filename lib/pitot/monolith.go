package pitot

import (
	"math/rand/v2"

	"github.com/paperlab/paperlab/lib/nn"
)

// maxInterferers is the largest interferer set (4-way interference).
const maxInterferers = 3

// features gathers per-sample inputs from the side information.
type features[T nn.Float] struct {
	side Side
}

// fill writes [d_p; d_w; d_k...] for each sample row into x (rows x cols).
func (f features[T]) fill(x nn.Matrix[T], parts ...func(i int) (table []float32, dim, row int)) {
	for i := range x.Rows {
		dst := x.Data[i*x.Cols : (i+1)*x.Cols]
		off := 0
		for _, part := range parts {
			table, dim, row := part(i)
			for j, v := range table[row*dim : (row+1)*dim] {
				dst[off+j] = T(v)
			}
			off += dim
		}
	}
}

func (f features[T]) platform(s Samples) func(int) ([]float32, int, int) {
	return func(i int) ([]float32, int, int) {
		return f.side.PlatformFeatures, f.side.PlatformDim, s.Platform[i%s.Len()]
	}
}

func (f features[T]) workload(s Samples) func(int) ([]float32, int, int) {
	return func(i int) ([]float32, int, int) {
		return f.side.WorkloadFeatures, f.side.WorkloadDim, s.Workload[i%s.Len()]
	}
}

// interferer returns the features of the interferer of row i, where rows
// run over (slot, sample) pairs: row i is slot i / n of sample i % n.
func (f features[T]) interferer(s Samples) func(int) ([]float32, int, int) {
	return func(i int) ([]float32, int, int) {
		n := s.Len()
		return f.side.WorkloadFeatures, f.side.WorkloadDim, s.Interferers[i/n][i%n]
	}
}

// monolith is the "Neural Network" baseline (specs/pitot.md section 3):
// ŷ = f_mf([d_p; d_w]) + Σ_{k∈K} f_if([d_p; d_w; d_k]) with two GELU MLPs
// on the raw side information, no baseline and no learned features.
type monolith[T nn.Float] struct {
	ps        *nn.Params[T]
	heads     int
	f         features[T]
	mf, inter *nn.MLP[T]
	xmf, xif  nn.Matrix[T]
	dif       nn.Matrix[T]
}

func newMonolith[T nn.Float](c Config, side Side) *monolith[T] {
	rows := c.Train.BatchSize
	m := &monolith[T]{ps: &nn.Params[T]{}, heads: c.Heads(), f: features[T]{side}}
	din := side.PlatformDim + side.WorkloadDim
	m.mf = nn.NewMLP[T](m.ps, "mf", rows, append(append([]int{din}, c.Hidden...), m.heads), nn.GELU)
	m.inter = nn.NewMLP[T](m.ps, "if", rows*maxInterferers, append(append([]int{din + side.WorkloadDim}, c.Hidden...), m.heads), nn.GELU)
	m.xmf = nn.NewMatrix[T](rows, din)
	m.xif = nn.NewMatrix[T](rows*maxInterferers, din+side.WorkloadDim)
	m.dif = nn.NewMatrix[T](rows*maxInterferers, m.heads)
	return m
}

func (m *monolith[T]) Params() *nn.Params[T] { return m.ps }
func (m *monolith[T]) Heads() int            { return m.heads }
func (m *monolith[T]) Prepare()              {}
func (m *monolith[T]) Finish()               {}

// Init initialises both MLPs from the same random stream, as the original
// initialises both from one key.
func (m *monolith[T]) Init(rng *rand.Rand) {
	seed := rng.Uint64()
	m.mf.Init(rand.New(rand.NewPCG(seed, 0)))
	m.inter.Init(rand.New(rand.NewPCG(seed, 0)))
}

func (m *monolith[T]) Predict(s Samples, out []T) {
	n := s.Len()
	x := m.xmf.Slice(0, n)
	m.f.fill(x, m.f.platform(s), m.f.workload(s))
	y := m.mf.Forward(x)
	h := m.heads
	for i := range n {
		for c := range h {
			out[c*n+i] = y.Data[i*h+c]
		}
	}
	if k := len(s.Interferers); k > 0 {
		xi := m.xif.Slice(0, k*n)
		m.f.fill(xi, m.f.platform(s), m.f.workload(s), m.f.interferer(s))
		yi := m.inter.Forward(xi)
		for j := range k * n {
			for c := range h {
				out[c*n+j%n] += yi.Data[j*h+c]
			}
		}
	}
}

// Backward must follow the Predict of the same samples.
func (m *monolith[T]) Backward(s Samples, dout []T) {
	n, h := s.Len(), m.heads
	d := m.dif.Slice(0, n)
	for i := range n {
		for c := range h {
			d.Data[i*h+c] = dout[c*n+i]
		}
	}
	m.mf.Backward(d, nn.Matrix[T]{})
	if k := len(s.Interferers); k > 0 {
		d := m.dif.Slice(0, k*n)
		for j := range k * n {
			for c := range h {
				d.Data[j*h+c] = dout[c*n+j%n]
			}
		}
		m.inter.Backward(d, nn.Matrix[T]{})
	}
}
