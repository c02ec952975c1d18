package pitot

import (
	"math/rand/v2"

	"github.com/paperlab/paperlab/lib/nn"
)

// attention is the Attention baseline (specs/pitot.md section 3): a query
// MLP on [d_p; d_w] gives a query q and base predictions ŷ0; a key/value
// MLP on [d_p; d_k] gives a key κ_k and value v_k per interferer; the
// unnormalised attention a = Σ_k v_k <κ_k, q> goes through an output MLP
// whose result is added to ŷ0 when there are interferers.
type attention[T nn.Float] struct {
	ps          *nn.Params[T]
	heads       int
	ad, vd      int
	f           features[T]
	query, kv   *nn.MLP[T]
	out         *nn.MLP[T]
	xq, xkv     nn.Matrix[T]
	a, da       nn.Matrix[T]
	dq, dkv, dy nn.Matrix[T]
	qcopy, kvcp nn.Matrix[T]
}

func newAttention[T nn.Float](c Config, side Side) *attention[T] {
	rows := c.Train.BatchSize
	m := &attention[T]{ps: &nn.Params[T]{}, heads: c.Heads(), ad: c.AttentionDim, vd: c.ValueDim, f: features[T]{side}}
	din := side.PlatformDim + side.WorkloadDim
	m.query = nn.NewMLP[T](m.ps, "query", rows, append(append([]int{din}, c.Hidden...), m.ad+m.heads), nn.GELU)
	m.kv = nn.NewMLP[T](m.ps, "kv", rows*maxInterferers, append(append([]int{din}, c.Hidden...), m.ad+m.vd), nn.GELU)
	m.out = nn.NewMLP[T](m.ps, "out", rows, append(append([]int{m.vd}, c.OutputLayers...), m.heads), nn.GELU)
	m.xq = nn.NewMatrix[T](rows, din)
	m.xkv = nn.NewMatrix[T](rows*maxInterferers, din)
	m.a = nn.NewMatrix[T](rows, m.vd)
	m.da = nn.NewMatrix[T](rows, m.vd)
	m.dy = nn.NewMatrix[T](rows, m.heads)
	m.dq = nn.NewMatrix[T](rows, m.ad+m.heads)
	m.dkv = nn.NewMatrix[T](rows*maxInterferers, m.ad+m.vd)
	m.qcopy = nn.NewMatrix[T](rows, m.ad+m.heads)
	m.kvcp = nn.NewMatrix[T](rows*maxInterferers, m.ad+m.vd)
	return m
}

func (m *attention[T]) Params() *nn.Params[T] { return m.ps }
func (m *attention[T]) Heads() int            { return m.heads }
func (m *attention[T]) Prepare()              {}
func (m *attention[T]) Finish()               {}

// Init initialises the three MLPs from the same random stream, as the
// original does with one key.
func (m *attention[T]) Init(rng *rand.Rand) {
	seed := rng.Uint64()
	m.query.Init(rand.New(rand.NewPCG(seed, 0)))
	m.kv.Init(rand.New(rand.NewPCG(seed, 0)))
	m.out.Init(rand.New(rand.NewPCG(seed, 0)))
}

func (m *attention[T]) Predict(s Samples, out []T) {
	n, h, ad, vd := s.Len(), m.heads, m.ad, m.vd
	x := m.xq.Slice(0, n)
	m.f.fill(x, m.f.platform(s), m.f.workload(s))
	q := m.query.Forward(x)
	copy(m.qcopy.Data[:n*(ad+h)], q.Data[:n*(ad+h)])
	q = m.qcopy.Slice(0, n)
	for i := range n {
		for c := range h {
			out[c*n+i] = q.Data[i*(ad+h)+ad+c]
		}
	}
	k := len(s.Interferers)
	if k == 0 {
		return
	}
	xk := m.xkv.Slice(0, k*n)
	m.f.fill(xk, m.f.platform(s), m.f.interferer(s))
	kvo := m.kv.Forward(xk)
	copy(m.kvcp.Data[:k*n*(ad+vd)], kvo.Data[:k*n*(ad+vd)])
	kv := m.kvcp.Slice(0, k*n)
	a := m.a.Slice(0, n)
	clear(a.Data)
	for j := range k * n {
		i := j % n
		row := kv.Data[j*(ad+vd) : (j+1)*(ad+vd)]
		w := nn.Dot(row[:ad], q.Data[i*(ad+h):i*(ad+h)+ad])
		nn.Axpy(w, row[ad:], a.Data[i*vd:(i+1)*vd])
	}
	y := m.out.Forward(a)
	for i := range n {
		for c := range h {
			out[c*n+i] += y.Data[i*h+c]
		}
	}
}

// Backward must follow the Predict of the same samples.
func (m *attention[T]) Backward(s Samples, dout []T) {
	n, h, ad, vd := s.Len(), m.heads, m.ad, m.vd
	q := m.qcopy.Slice(0, n)
	dq := m.dq.Slice(0, n)
	clear(dq.Data)
	dy := m.dy.Slice(0, n)
	for i := range n {
		for c := range h {
			dq.Data[i*(ad+h)+ad+c] = dout[c*n+i]
			dy.Data[i*h+c] = dout[c*n+i]
		}
	}
	if k := len(s.Interferers); k > 0 {
		dam := m.da.Slice(0, n)
		m.out.Backward(dy, dam)
		kv := m.kvcp.Slice(0, k*n)
		dkv := m.dkv.Slice(0, k*n)
		for j := range k * n {
			i := j % n
			row := kv.Data[j*(ad+vd) : (j+1)*(ad+vd)]
			drow := dkv.Data[j*(ad+vd) : (j+1)*(ad+vd)]
			qi := q.Data[i*(ad+h) : i*(ad+h)+ad]
			dai := dam.Data[i*vd : (i+1)*vd]
			// a_i += v_j <κ_j, q_i>
			w := nn.Dot(row[:ad], qi)
			dw := nn.Dot(dai, row[ad:])
			for c := range vd {
				drow[ad+c] = w * dai[c]
			}
			for c := range ad {
				drow[c] = dw * qi[c]
			}
			nn.Axpy(dw, row[:ad], dq.Data[i*(ad+h):i*(ad+h)+ad])
		}
		m.kv.Backward(dkv, nn.Matrix[T]{})
	}
	m.query.Backward(dq, nn.Matrix[T]{})
}
