package nn

import (
	"fmt"
	"math"
)

// Optimizer updates a Params set from its gradients. Both optimizers here
// implement it; their state is exported for checkpoints as named slices.
type Optimizer[T Float] interface {
	// Step applies one update from the current gradients and advances the
	// step count.
	Step()
	// State returns the step count and the state slices keyed by
	// "<slot>/<parameter name>" (e.g. "m/tower.0.w"); the slices are the
	// optimizer's own storage, not copies.
	State() (step int, slots map[string][]T)
	// SetState copies a State into the optimizer. It returns an error
	// naming the key if one is missing or has the wrong length.
	SetState(step int, slots map[string][]T) error
}

// moments is the per-parameter state shared by the optimizers: two slices
// per parameter, the same lengths as the parameters.
type moments[T Float] struct {
	ps     *Params[T]
	names  [2]string // slot names
	a, b   [][]T
	t      int
	params []*Param[T] // ps.List at construction
}

func newMoments[T Float](ps *Params[T], na, nb string) moments[T] {
	m := moments[T]{ps: ps, names: [2]string{na, nb}, params: append([]*Param[T](nil), ps.List...)}
	for _, p := range ps.List {
		m.a = append(m.a, make([]T, len(p.Data)))
		m.b = append(m.b, make([]T, len(p.Data)))
	}
	return m
}

func (m *moments[T]) check(op string) {
	if len(m.ps.List) != len(m.params) {
		panic(fmt.Sprintf("nn: %s: %d parameters now, %d when the optimizer was made", op, len(m.ps.List), len(m.params)))
	}
}

func (m *moments[T]) state() (int, map[string][]T) {
	s := make(map[string][]T, 2*len(m.params))
	for i, p := range m.params {
		s[m.names[0]+"/"+p.Name] = m.a[i]
		s[m.names[1]+"/"+p.Name] = m.b[i]
	}
	return m.t, s
}

func (m *moments[T]) setState(t int, slots map[string][]T) error {
	if t < 0 {
		return fmt.Errorf("nn: optimizer state: step %d", t)
	}
	if len(slots) != 2*len(m.params) {
		return fmt.Errorf("nn: optimizer state: %d slots, want %d (%s and %s of each parameter)", len(slots), 2*len(m.params), m.names[0], m.names[1])
	}
	for i, p := range m.params {
		for k, dst := range [2][]T{m.a[i], m.b[i]} {
			key := m.names[k] + "/" + p.Name
			src, ok := slots[key]
			if !ok {
				return fmt.Errorf("nn: optimizer state: no %q", key)
			}
			if len(src) != len(dst) {
				return fmt.Errorf("nn: optimizer state %q: %d values, want %d", key, len(src), len(dst))
			}
		}
	}
	for i, p := range m.params {
		copy(m.a[i], slots[m.names[0]+"/"+p.Name])
		copy(m.b[i], slots[m.names[1]+"/"+p.Name])
	}
	m.t = t
	return nil
}

// AdamaxW is optax.adamaxw, the optimizer of specs/pitot.md 2.7: Adamax
// (Kingma & Ba 2015, section 7.1) with decoupled weight decay applied to
// every parameter. At step t (from 1), for each parameter θ with gradient
// g:
//
//	m ← b1·m + (1−b1)·g
//	u ← max(b2·u, |g| + eps)
//	θ ← θ − lr·((m/(1−b1^t))/u + wd·θ)
//
// The fields may be changed between steps (e.g. for a schedule).
type AdamaxW[T Float] struct {
	LR, B1, B2, Eps, WeightDecay float64
	// Pair, when set, splits the update in two halves of the parameters'
	// total length and runs them at once (for a run alone on a machine with
	// two or more cores). The update is elementwise, so the result is the
	// same bits either way.
	Pair *Pair
	st   moments[T] // m and u

	k          adamaxwConsts[T] // this step's
	cut, total int
	halves     [2]func()
}

// NewAdamaxW returns AdamaxW over the parameters now in ps, with zeroed
// state. Pitot uses lr 1e-3, b1 0.9, b2 0.999, eps 1e-8, wd 1e-4.
func NewAdamaxW[T Float](ps *Params[T], lr, b1, b2, eps, wd float64) *AdamaxW[T] {
	return &AdamaxW[T]{LR: lr, B1: b1, B2: b2, Eps: eps, WeightDecay: wd, st: newMoments(ps, "m", "u")}
}

// State returns the step count and the slots "m/<name>" and "u/<name>" of
// every parameter (see Optimizer).
func (o *AdamaxW[T]) State() (step int, slots map[string][]T) { return o.st.state() }

// SetState restores a State (see Optimizer).
func (o *AdamaxW[T]) SetState(step int, slots map[string][]T) error {
	return o.st.setState(step, slots)
}

// Step applies one update from the gradients in Grad.
func (o *AdamaxW[T]) Step() {
	st := &o.st
	st.check("AdamaxW.Step")
	st.t++
	b1, b2, eps, wd, lr := T(o.B1), T(o.B2), T(o.Eps), T(o.WeightDecay), T(o.LR)
	o.k = adamaxwConsts[T]{b1, b2, eps, lr, wd, T(1 - math.Pow(o.B1, float64(st.t)))}
	total, cut := st.cut(o.Pair)
	if cut == total {
		o.update(0, total)
		return
	}
	o.cut, o.total = cut, total
	if o.halves[0] == nil { // made once: a step allocates nothing
		o.halves = [2]func(){func() { o.update(0, o.cut) }, func() { o.update(o.cut, o.total) }}
	}
	o.Pair.Both(o.halves[0], o.halves[1])
}

// adamaxwConsts are the constants of one AdamaxW step.
type adamaxwConsts[T Float] struct{ b1, b2, eps, lr, wd, bc T }

// update applies this step's update to elements from..to-1 of the
// parameters laid end to end.
func (o *AdamaxW[T]) update(from, to int) {
	k, st := o.k, &o.st
	st.each(from, to, func(i, lo, hi int) {
		p := st.params[i]
		x, g, m, u := p.Data[lo:hi], p.Grad[lo:hi], st.a[i][lo:hi], st.b[i][lo:hi]
		n := 0
		if b := len(x) / 8; haveAVX2 && is32[T]() && b > 0 {
			adamaxwAVX2(&as32(x)[0], &as32(g)[0], &as32(m)[0], &as32(u)[0], b,
				float32(k.b1), float32(1-k.b1), float32(k.b2), float32(k.eps), float32(k.lr), float32(k.wd), float32(k.bc))
			n = 8 * b
		}
		adamaxwGo(x[n:], g[n:], m[n:], u[n:], k.b1, k.b2, k.eps, k.lr, k.wd, k.bc)
	})
}

// cut returns the parameters' total length and where a Pair splits it:
// at half, on a multiple of 8 elements, with a pair and enough work;
// otherwise at the end.
func (m *moments[T]) cut(pair *Pair) (total, cut int) {
	for _, p := range m.params {
		total += len(p.Data)
	}
	if pair != nil && total >= 4096 {
		return total, total / 2 &^ 7
	}
	return total, total
}

// each calls f(i, lo, hi) for the part lo..hi-1 of parameter i that falls
// in elements from..to-1 of the parameters laid end to end, in order.
func (m *moments[T]) each(from, to int, f func(i, lo, hi int)) {
	off := 0
	for i, p := range m.params {
		lo, hi := max(from-off, 0), min(to-off, len(p.Data))
		if lo < hi {
			f(i, lo, hi)
		}
		off += len(p.Data)
	}
}

// adamaxwGo is the AdamaxW update of x with gradient g, first moment m
// and infinity norm u, and bias correction bc = 1 − b1^t.
func adamaxwGo[T Float](x, g, m, u []T, b1, b2, eps, lr, wd, bc T) {
	c1 := 1 - b1
	g, m, u = g[:len(x)], m[:len(x)], u[:len(x)]
	for j, gj := range g {
		mj := flush(b1*m[j] + c1*gj)
		uj := b2 * u[j]
		ag := gj
		if ag < 0 {
			ag = -ag
		}
		if a := ag + eps; a > uj {
			uj = a
		}
		m[j], u[j] = mj, uj
		x[j] -= lr * ((mj/bc)/uj + wd*x[j])
	}
}

// Adam is optax.adam (Kingma & Ba 2015, Algorithm 1), the optimizer of the
// older Pitot (specs/pitot.md 8.3). At step t (from 1):
//
//	m ← b1·m + (1−b1)·g
//	v ← b2·v + (1−b2)·g²
//	θ ← θ − lr·(m/(1−b1^t)) / (√(v/(1−b2^t)) + eps)
//
// The fields may be changed between steps.
type Adam[T Float] struct {
	LR, B1, B2, Eps float64
	st              moments[T] // m and v
}

// NewAdam returns Adam over the parameters now in ps, with zeroed state
// (optax's defaults are b1 0.9, b2 0.999, eps 1e-8).
func NewAdam[T Float](ps *Params[T], lr, b1, b2, eps float64) *Adam[T] {
	return &Adam[T]{LR: lr, B1: b1, B2: b2, Eps: eps, st: newMoments(ps, "m", "v")}
}

// State returns the step count and the slots "m/<name>" and "v/<name>" of
// every parameter (see Optimizer).
func (o *Adam[T]) State() (step int, slots map[string][]T) { return o.st.state() }

// SetState restores a State (see Optimizer).
func (o *Adam[T]) SetState(step int, slots map[string][]T) error {
	return o.st.setState(step, slots)
}

// Step applies one update from the gradients in Grad.
func (o *Adam[T]) Step() {
	st := &o.st
	st.check("Adam.Step")
	st.t++
	b1, b2, eps, lr := T(o.B1), T(o.B2), T(o.Eps), T(o.LR)
	bc1 := T(1 - math.Pow(o.B1, float64(st.t)))
	bc2 := T(1 - math.Pow(o.B2, float64(st.t)))
	for i, p := range st.params {
		x, g, m, v := p.Data, p.Grad[:len(p.Data)], st.a[i][:len(p.Data)], st.b[i][:len(p.Data)]
		n := 0
		if b := len(x) / 8; haveAVX2 && is32[T]() && b > 0 {
			adamAVX2(&as32(x)[0], &as32(g)[0], &as32(m)[0], &as32(v)[0], b,
				float32(b1), float32(1-b1), float32(b2), float32(1-b2), float32(eps), float32(lr), float32(bc1), float32(bc2))
			n = 8 * b
		}
		adamGo(x[n:], g[n:], m[n:], v[n:], b1, b2, eps, lr, bc1, bc2)
	}
}

// adamGo is the Adam update of x with gradient g and moments m and v, and
// bias corrections bc1 = 1 − b1^t and bc2 = 1 − b2^t.
func adamGo[T Float](x, g, m, v []T, b1, b2, eps, lr, bc1, bc2 T) {
	c1, c2 := 1-b1, 1-b2
	g, m, v = g[:len(x)], m[:len(x)], v[:len(x)]
	for j, gj := range g {
		mj := flush(b1*m[j] + c1*gj)
		vj := flush(b2*v[j] + c2*gj*gj)
		m[j], v[j] = mj, vj
		x[j] -= lr * (mj / bc1) / (sqrt(vj/bc2) + eps)
	}
}

// sqrt is math.Sqrt in T (for float32 the compiler emits SQRTSS).
func sqrt[T Float](x T) T {
	return T(math.Sqrt(float64(x)))
}
