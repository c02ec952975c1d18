package pitot

import (
	"math/rand/v2"

	"github.com/paperlab/paperlab/lib/nn"
)

// twoTower is Pitot (kind "pitot") and PitotIgnore (kind "ignore"). For
// workload w on platform p beside interferers K, head n predicts
// (specs/pitot.md 2.4; paper section 3)
//
//	ŷ_n = C̄_pw + <X_w[n], X_p> + Σ_t S_nt σ(G_nt)
//	S_nt = <X_w[n], V_s[p,t]>,  G_nt = Σ_{k∈K} <X_k[n], V_g[p,t]>
//
// with C̄_pw = a_p + b_w the linear-scaling baseline, X_w the workload
// tower's output (one r-vector per head), [X_p; V_s; V_g] the platform
// tower's output, and σ a leaky ReLU. PitotIgnore keeps only the first two
// terms.
type twoTower[T nn.Float] struct {
	cfg        Config
	ps         *nn.Params[T]
	heads      int
	r, s       int
	slope      T
	interfere  bool
	W, P       int
	wt, pt     *tower[T]
	base, bias *nn.Param[T] // a (P) and b (W); nil without baseline
	concurrent bool         // run the two towers on two goroutines
}

// SetConcurrent makes Prepare and Finish run the workload and platform
// towers on two goroutines. The towers share nothing, so results are
// identical either way; it helps when one run has the machine to itself.
func (m *twoTower[T]) SetConcurrent(on bool) { m.concurrent = on }

func (m *twoTower[T]) both(f, g func()) {
	if !m.concurrent {
		f()
		g()
		return
	}
	done := make(chan struct{})
	go func() { g(); close(done) }()
	f()
	<-done
}

func newTwoTower[T nn.Float](c Config, side Side) *twoTower[T] {
	m := &twoTower[T]{cfg: c, ps: &nn.Params[T]{}, heads: c.Heads(), r: c.MFDim, s: c.IFDim,
		slope: T(c.IFSlope), interfere: c.Kind == KindPitot, W: side.Workloads, P: side.Platforms}
	pout := m.r
	if m.interfere {
		pout += 2 * m.s * m.r
	}
	m.wt = newTower[T](m.ps, "workload", c.Workload, side.Workloads, side.WorkloadDim, side.WorkloadFeatures, m.heads*m.r)
	m.pt = newTower[T](m.ps, "platform", c.Platform, side.Platforms, side.PlatformDim, side.PlatformFeatures, pout)
	if !c.NoBaseline {
		m.base = m.ps.New("baseline.platform", side.Platforms)
		m.bias = m.ps.New("baseline.workload", side.Workloads)
	}
	return m
}

func (m *twoTower[T]) Params() *nn.Params[T] { return m.ps }
func (m *twoTower[T]) Heads() int            { return m.heads }

// Init draws the tower parameters; the platform tower first, then the
// workload tower. The baseline starts at zero: SetBaseline installs the
// fitted linear-scaling model.
func (m *twoTower[T]) Init(rng *rand.Rand) {
	m.pt.init(rng)
	m.wt.init(rng)
}

// SetBaseline sets the linear-scaling baseline C̄_pw = a[p] + b[w].
func (m *twoTower[T]) SetBaseline(a, b []float64) {
	if m.base == nil {
		return
	}
	for i, x := range a {
		m.base.Data[i] = T(x)
	}
	for i, x := range b {
		m.bias.Data[i] = T(x)
	}
}

func (m *twoTower[T]) Prepare() { m.both(m.wt.forward, m.pt.forward) }

func (m *twoTower[T]) act(g T) T {
	if g < 0 && m.slope != 1 {
		return m.slope * g
	}
	return g
}

func (m *twoTower[T]) dact(g T) T {
	if g < 0 && m.slope != 1 {
		return m.slope
	}
	return 1
}

// magnitude returns the interferer's vector and the platform's magnitude
// vector for interference type t (intended form), or, bug-compatibly,
// the target's own embedding and the clamped interferer row of V_g.
func (m *twoTower[T]) magnitude(w, p, k, n, t int) (x, v []T, kx, kv int) {
	r, s := m.r, m.s
	xw, xp := m.wt.Out, m.pt.Out
	if m.cfg.BugCompatIFIndex {
		kp := min(k, m.P-1)
		off := r + s*r + t*r
		return xw.Data[w*xw.Cols+n*r : w*xw.Cols+(n+1)*r], xp.Data[kp*xp.Cols+off : kp*xp.Cols+off+r], w*xw.Cols + n*r, kp*xp.Cols + off
	}
	off := r + s*r + t*r
	return xw.Data[k*xw.Cols+n*r : k*xw.Cols+(n+1)*r], xp.Data[p*xp.Cols+off : p*xp.Cols+off+r], k*xw.Cols + n*r, p*xp.Cols + off
}

func (m *twoTower[T]) Predict(smp Samples, out []T) {
	r, s := m.r, m.s
	xw, xp := m.wt.Out, m.pt.Out
	inter := m.interfere && len(smp.Interferers) > 0
	for i := range smp.Len() {
		w, p := smp.Workload[i], smp.Platform[i]
		var c T
		if m.base != nil {
			c = m.base.Data[p] + m.bias.Data[w]
		}
		prow := xp.Data[p*xp.Cols:]
		for n := range m.heads {
			x := xw.Data[w*xw.Cols+n*r : w*xw.Cols+(n+1)*r]
			y := c + nn.Dot(x, prow[:r])
			if inter {
				for t := range s {
					S := nn.Dot(x, prow[r+t*r:r+(t+1)*r])
					var G T
					for _, ks := range smp.Interferers {
						a, b, _, _ := m.magnitude(w, p, ks[i], n, t)
						G += nn.Dot(a, b)
					}
					y += S * m.act(G)
				}
			}
			out[n*smp.Len()+i] = y
		}
	}
}

func (m *twoTower[T]) Backward(smp Samples, dout []T) {
	r, s := m.r, m.s
	xw, xp := m.wt.Out, m.pt.Out
	dxw, dxp := m.wt.DOut, m.pt.DOut
	inter := m.interfere && len(smp.Interferers) > 0
	for i := range smp.Len() {
		w, p := smp.Workload[i], smp.Platform[i]
		prow := xp.Data[p*xp.Cols : (p+1)*xp.Cols]
		dprow := dxp.Data[p*xp.Cols : (p+1)*xp.Cols]
		for n := range m.heads {
			g := dout[n*smp.Len()+i]
			if g == 0 {
				continue
			}
			if m.base != nil {
				m.base.Grad[p] += g
				m.bias.Grad[w] += g
			}
			x := xw.Data[w*xw.Cols+n*r : w*xw.Cols+(n+1)*r]
			dx := dxw.Data[w*xw.Cols+n*r : w*xw.Cols+(n+1)*r]
			nn.Axpy(g, prow[:r], dx)
			nn.Axpy(g, x, dprow[:r])
			if !inter {
				continue
			}
			for t := range s {
				vs := prow[r+t*r : r+(t+1)*r]
				S := nn.Dot(x, vs)
				var G T
				for _, ks := range smp.Interferers {
					a, b, _, _ := m.magnitude(w, p, ks[i], n, t)
					G += nn.Dot(a, b)
				}
				// y += S σ(G): dS = g σ(G), dG = g S σ'(G).
				dS := g * m.act(G)
				nn.Axpy(dS, vs, dx)
				nn.Axpy(dS, x, dprow[r+t*r:r+(t+1)*r])
				dG := g * S * m.dact(G)
				for _, ks := range smp.Interferers {
					a, b, ia, ib := m.magnitude(w, p, ks[i], n, t)
					nn.Axpy(dG, b, dxw.Data[ia:ia+r])
					nn.Axpy(dG, a, dxp.Data[ib:ib+r])
				}
			}
		}
	}
}

func (m *twoTower[T]) Finish() { m.both(m.wt.backward, m.pt.backward) }

// Embeddings are the learned representations of a two-tower model, read
// after Prepare (specs/pitot.md 2.2 and 5.3 `_embeddings.npz`): workload
// embeddings X_w (one r-vector per head), platform embeddings X_p, and the
// interference susceptibility V_s and magnitude V_g (s r-vectors each; nil
// for PitotIgnore).
type Embeddings struct {
	Heads, R, S int
	Xw          [][]float32 // [workload][head*r]
	Xp          [][]float32 // [platform][r]
	Vs, Vg      [][]float32 // [platform][t*r]
}

// EmbeddingsOf returns the embeddings of a prepared Pitot or PitotIgnore
// model, and false for models without towers (Monolith, Attention).
func EmbeddingsOf(m Model[float32]) (*Embeddings, bool) {
	t, ok := m.(*twoTower[float32])
	if !ok {
		return nil, false
	}
	e := &Embeddings{Heads: t.heads, R: t.r, S: t.s}
	xw, xp := t.wt.Out, t.pt.Out
	for i := range t.W {
		e.Xw = append(e.Xw, append([]float32(nil), xw.Row(i)...))
	}
	for p := range t.P {
		row := xp.Row(p)
		e.Xp = append(e.Xp, append([]float32(nil), row[:t.r]...))
		if t.interfere {
			e.Vs = append(e.Vs, append([]float32(nil), row[t.r:t.r+t.s*t.r]...))
			e.Vg = append(e.Vg, append([]float32(nil), row[t.r+t.s*t.r:]...))
		}
	}
	return e, true
}
