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
	pair       *nn.Pair     // runs the two towers at once; nil: serially
	fwd, bwd   [2]func()    // the towers' forward and backward passes
	lanes      [2]*lane[T]
}

// SetPair makes Prepare and Finish run the workload and platform towers
// at once, on the caller and on p's helper goroutine (nil: one after the
// other). The towers share nothing, so results are identical either way;
// it helps when one run has the machine to itself.
func (m *twoTower[T]) SetPair(p *nn.Pair) { m.pair = p }

func (m *twoTower[T]) both(f, g func()) { m.pair.Both(f, g) }

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
	m.lanes = newLanes(m)
	// Method values made once, so that a step allocates nothing.
	m.fwd = [2]func(){m.wt.forward, m.pt.forward}
	m.bwd = [2]func(){m.wt.backward, m.pt.backward}
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

func (m *twoTower[T]) Prepare() { m.both(m.fwd[0], m.fwd[1]) }

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

// magnitude returns the offsets, in the towers' outputs, of the
// interferer's embedding for head n (ia, r values) and of the platform's
// magnitude vectors V_g (ib, s rows of r) for interferer k of workload w on
// platform p (intended form); bug-compatibly, the target's own embedding and
// the V_g rows of the clamped interferer index (specs/pitot.md 2.5).
func (m *twoTower[T]) magnitude(w, p, k, n int) (ia, ib int) {
	r, s := m.r, m.s
	cw, cp := m.wt.Out.Cols, m.pt.Out.Cols
	if m.cfg.BugCompatIFIndex {
		return w*cw + n*r, min(k, m.P-1)*cp + r + s*r
	}
	return k*cw + n*r, p*cp + r + s*r
}

// Predict and Backward on the model itself run on lane 0.
func (m *twoTower[T]) Predict(smp Samples, out []T)   { m.lanes[0].Predict(smp, out) }
func (m *twoTower[T]) Backward(smp Samples, dout []T) { m.lanes[0].Backward(smp, dout) }

// Lanes returns the model's two lanes (see Laned).
func (m *twoTower[T]) Lanes() []Lane[T] { return []Lane[T]{m.lanes[0], m.lanes[1]} }

// lane is one share of the per-sample work of a two-tower model. Lane 0
// accumulates into the towers' output gradients and the baseline's
// gradients; lane 1 into its own buffers, which Finish adds to lane 0's.
// Predict keeps S and G of every sample for the Backward that follows.
type lane[T nn.Float] struct {
	m            *twoTower[T]
	dxw, dxp     nn.Matrix[T]
	dbase, dbias []T
	used         bool
	cacheS       []T // [head][sample][t]
	cacheG       []T
	scratch      []T
}

func newLanes[T nn.Float](m *twoTower[T]) [2]*lane[T] {
	l0 := &lane[T]{m: m, dxw: m.wt.DOut, dxp: m.pt.DOut}
	if m.base != nil {
		l0.dbase, l0.dbias = m.base.Grad, m.bias.Grad
	}
	l1 := &lane[T]{m: m, dxw: nn.NewMatrix[T](m.W, m.wt.out), dxp: nn.NewMatrix[T](m.P, m.pt.out)}
	if m.base != nil {
		l1.dbase, l1.dbias = make([]T, m.P), make([]T, m.W)
	}
	return [2]*lane[T]{l0, l1}
}

// merge adds lane 1's gradients into lane 0's and clears them.
func (m *twoTower[T]) merge() {
	l0, l1 := m.lanes[0], m.lanes[1]
	if !l1.used {
		return
	}
	nn.Axpy(1, l1.dxw.Data, l0.dxw.Data)
	nn.Axpy(1, l1.dxp.Data, l0.dxp.Data)
	clear(l1.dxw.Data)
	clear(l1.dxp.Data)
	if l1.dbase != nil {
		nn.Axpy(1, l1.dbase, l0.dbase)
		nn.Axpy(1, l1.dbias, l0.dbias)
		clear(l1.dbase)
		clear(l1.dbias)
	}
	l1.used = false
}

func (l *lane[T]) Predict(smp Samples, out []T) {
	m := l.m
	r, s := m.r, m.s
	xw, xp := m.wt.Out, m.pt.Out
	inter := m.interfere && len(smp.Interferers) > 0
	n := smp.Len()
	rows := 1
	if inter {
		rows += s
		l.cacheS = grow(l.cacheS, m.heads*n*s)
		l.cacheG = grow(l.cacheG, m.heads*n*s)
	}
	l.scratch = grow(l.scratch, 2+2*s)
	d, tmp := l.scratch[:rows], l.scratch[1+s:1+2*s]
	for i := range n {
		w, p := smp.Workload[i], smp.Platform[i]
		var c T
		if m.base != nil {
			c = m.base.Data[p] + m.bias.Data[w]
		}
		block := xp.Data[p*xp.Cols : p*xp.Cols+rows*r] // X_p, then V_s
		for h := range m.heads {
			x := xw.Data[w*xw.Cols+h*r : w*xw.Cols+(h+1)*r]
			nn.DotRows(x, block, d) // <X_w, X_p>, then S_t
			y := c + d[0]
			if inter {
				S, G := l.cacheS[(h*n+i)*s:(h*n+i+1)*s], l.cacheG[(h*n+i)*s:(h*n+i+1)*s]
				copy(S, d[1:])
				clear(G)
				for _, ks := range smp.Interferers {
					ia, ib := m.magnitude(w, p, ks[i], h)
					nn.DotRows(xw.Data[ia:ia+r], xp.Data[ib:ib+s*r], tmp)
					for t, v := range tmp {
						G[t] += v
					}
				}
				for t := range s {
					y += S[t] * m.act(G[t])
				}
			}
			out[h*n+i] = y
		}
	}
}

func (l *lane[T]) Backward(smp Samples, dout []T) {
	m := l.m
	r, s := m.r, m.s
	xw, xp := m.wt.Out, m.pt.Out
	dxw, dxp := l.dxw, l.dxp
	inter := m.interfere && len(smp.Interferers) > 0
	n := smp.Len()
	rows := 1
	if inter {
		rows += s
	}
	l.used = true
	l.scratch = grow(l.scratch, 2+2*s)
	coef, dG := l.scratch[:rows], l.scratch[1+s:1+2*s]
	for i := range n {
		w, p := smp.Workload[i], smp.Platform[i]
		block := xp.Data[p*xp.Cols : p*xp.Cols+rows*r]
		dblock := dxp.Data[p*xp.Cols : p*xp.Cols+rows*r]
		for h := range m.heads {
			g := dout[h*n+i]
			if g == 0 {
				continue
			}
			if m.base != nil {
				l.dbase[p] += g
				l.dbias[w] += g
			}
			x := xw.Data[w*xw.Cols+h*r : w*xw.Cols+(h+1)*r]
			coef[0] = g
			if inter {
				// y += Σ_t S_t σ(G_t): dS_t = g σ(G_t), dG_t = g S_t σ'(G_t).
				S, G := l.cacheS[(h*n+i)*s:(h*n+i+1)*s], l.cacheG[(h*n+i)*s:(h*n+i+1)*s]
				for t := range s {
					coef[1+t] = g * m.act(G[t])
					dG[t] = g * S[t] * m.dact(G[t])
				}
			}
			nn.AxpyRows(coef, block, dxw.Data[w*xw.Cols+h*r:w*xw.Cols+(h+1)*r])
			nn.OuterAdd(coef, x, dblock)
			if !inter {
				continue
			}
			for _, ks := range smp.Interferers {
				ia, ib := m.magnitude(w, p, ks[i], h)
				nn.AxpyRows(dG, xp.Data[ib:ib+s*r], dxw.Data[ia:ia+r])
				nn.OuterAdd(dG, xw.Data[ia:ia+r], dxp.Data[ib:ib+s*r])
			}
		}
	}
}

func grow[T any](v []T, n int) []T {
	if cap(v) < n {
		return make([]T, n)
	}
	return v[:n]
}

func (m *twoTower[T]) Finish() {
	m.merge()
	m.both(m.bwd[0], m.bwd[1])
}

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
