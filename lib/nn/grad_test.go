package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checks: every backward pass against float64 central
// differences.
//
// Step and tolerance: with h = 1e-6 the central difference has truncation
// error h²·|f⁽³⁾|/6 ≈ 1e-13 for the smooth functions here (|f⁽³⁾| ≲ 10)
// and rounding error ≈ 2⁻⁵²·|f|/h ≈ 2e-10·|f|; the test functions have
// |f| ≲ 50, so the numerical gradient is good to about 1e-8. gradTol =
// 1e-6, relative to max(1, |gradient|), leaves two orders of margin and
// still fails on any wrong formula (those are off by O(1)). Inputs are
// kept more than 1e-3 away from kinks (LeakyReLU at 0, Pinball at e = 0,
// PercentError at p = y) so that the difference never straddles one.
const (
	gradStep = 1e-6
	gradTol  = 1e-6
)

// numGrad returns the central differences of f with respect to each
// element of x (restored afterwards).
func numGrad(f func() float64, x []float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + gradStep
		fp := f()
		x[i] = old - gradStep
		fm := f()
		x[i] = old
		g[i] = (fp - fm) / (2 * gradStep)
	}
	return g
}

// checkGrad compares an analytic gradient with f's central differences
// with respect to x.
func checkGrad(t *testing.T, name string, f func() float64, x, analytic []float64) {
	t.Helper()
	if len(x) != len(analytic) {
		t.Fatalf("%s: %d values, %d gradients", name, len(x), len(analytic))
	}
	num := numGrad(f, x)
	worst, at := 0.0, -1
	for i := range num {
		e := math.Abs(num[i]-analytic[i]) / max(1, math.Abs(num[i]), math.Abs(analytic[i]))
		if e > worst || math.IsNaN(e) {
			worst, at = e, i
		}
	}
	if worst > gradTol || math.IsNaN(worst) {
		t.Errorf("%s: gradient %d: analytic %.10g, numeric %.10g (relative error %.2g > %g)", name, at, analytic[at], num[at], worst, gradTol)
	}
}

// randMatrix returns a rows×cols float64 matrix with entries uniform on
// [lo, hi).
func randMatrix(rng *rand.Rand, rows, cols int, lo, hi float64) Matrix[float64] {
	m := NewMatrix[float64](rows, cols)
	Uniform(rng, m.Data, lo, hi)
	return m
}

// project returns ⟨r, y⟩, the scalar loss whose gradient w.r.t. y is r.
func project(r, y []float64) float64 {
	s := 0.0
	for i := range r {
		s += r[i] * y[i]
	}
	return s
}

func TestLinearGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ps Params[float64]
	l := NewLinear(&ps, "lin", 4, 3)
	l.Init(rng)
	Uniform(rng, l.B.Data, -1, 1) // nonzero bias, so that b matters
	x := randMatrix(rng, 5, 4, -2, 2)
	r := randMatrix(rng, 5, 3, -1, 1)
	y := NewMatrix[float64](5, 3)
	f := func() float64 { l.Forward(x, y); return project(r.Data, y.Data) }

	// Forward against the definition.
	f()
	for i := range 5 {
		for j := range 3 {
			want := l.B.Data[j]
			for k := range 4 {
				want += x.Row(i)[k] * l.W.Data[k*3+j]
			}
			if math.Abs(y.Row(i)[j]-want) > 1e-14 {
				t.Errorf("y[%d,%d] = %g, want %g", i, j, y.Row(i)[j], want)
			}
		}
	}

	ps.ZeroGrad()
	dx := NewMatrix[float64](5, 4)
	l.Backward(x, r, dx)
	checkGrad(t, "Linear W", f, l.W.Data, l.W.Grad)
	checkGrad(t, "Linear b", f, l.B.Data, l.B.Grad)
	checkGrad(t, "Linear x", f, x.Data, dx.Data)

	// A narrower dx receives the gradient of the last input columns.
	tail := NewMatrix[float64](5, 2)
	l.Backward(x, r, tail)
	for i := range 5 {
		for j := range 2 {
			if d := tail.Row(i)[j] - dx.Row(i)[2+j]; math.Abs(d) > 1e-14 {
				t.Fatalf("partial dx[%d,%d] = %g, want %g", i, j, tail.Row(i)[j], dx.Row(i)[2+j])
			}
		}
	}
	ps.ZeroGrad()
	l.Backward(x, r, dx)

	// Parameter gradients accumulate; dx is overwritten; a nil dx is skipped.
	w0 := append([]float64(nil), l.W.Grad...)
	l.Backward(x, r, Matrix[float64]{})
	for i, g := range l.W.Grad {
		if math.Abs(g-2*w0[i]) > 1e-12 {
			t.Fatalf("W.Grad[%d] = %g after two Backward, want %g", i, g, 2*w0[i])
		}
	}
}

func TestActivationGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 200)
	Uniform(rng, x, -5, 5)
	for i := range x {
		if math.Abs(x[i]) < 1e-3 { // away from LeakyReLU's kink
			x[i] += 2e-3
		}
	}
	r := make([]float64, len(x))
	Uniform(rng, r, -1, 1)
	y := make([]float64, len(x))
	dx := make([]float64, len(x))
	const slope = 0.1
	for _, c := range []struct {
		name     string
		forward  func()
		backward func()
	}{
		{"GELU", func() { GELUForward(x, y) }, func() { GELUBackward(x, r, dx) }},
		{"Tanh", func() { TanhForward(x, y) }, func() { TanhForward(x, y); TanhBackward(y, r, dx) }},
		{"LeakyReLU", func() { LeakyReLUForward(slope, x, y) }, func() { LeakyReLUBackward(slope, x, r, dx) }},
	} {
		c.backward()
		checkGrad(t, c.name, func() float64 { c.forward(); return project(r, y) }, x, dx)
	}

	// Backward may write in place over dy.
	d := append([]float64(nil), r...)
	GELUBackward(x, d, d)
	GELUBackward(x, r, dx)
	for i := range d {
		if d[i] != dx[i] {
			t.Fatalf("GELUBackward in place: dx[%d] = %g, want %g", i, d[i], dx[i])
		}
	}
}

func TestGatherGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := randMatrix(rng, 6, 3, -1, 1)
	idx := []int{2, 0, 2, 5, 2} // repeats accumulate
	r := randMatrix(rng, len(idx), 3, -1, 1)
	dst := NewMatrix[float64](len(idx), 3)
	f := func() float64 { GatherRows(src, idx, dst); return project(r.Data, dst.Data) }
	f()
	for i, k := range idx {
		for j := range 3 {
			if dst.Row(i)[j] != src.Row(k)[j] {
				t.Fatalf("GatherRows: dst[%d,%d] = %g, want src[%d,%d] = %g", i, j, dst.Row(i)[j], k, j, src.Row(k)[j])
			}
		}
	}
	dsrc := NewMatrix[float64](6, 3)
	ScatterAddRows(r, idx, dsrc)
	checkGrad(t, "GatherRows", f, src.Data, dsrc.Data)
}

func TestRowDotsGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a := randMatrix(rng, 5, 7, -1, 1) // 7 columns: the unrolled dot's tail
	b := randMatrix(rng, 5, 7, -1, 1)
	r := make([]float64, 5)
	Uniform(rng, r, -1, 1)
	out := make([]float64, 5)
	f := func() float64 { RowDots(a, b, out); return project(r, out) }
	da, db := NewMatrix[float64](5, 7), NewMatrix[float64](5, 7)
	RowDotsBackward(a, b, r, da, db)
	checkGrad(t, "RowDots a", f, a.Data, da.Data)
	checkGrad(t, "RowDots b", f, b.Data, db.Data)

	// The same matrix on both sides: ⟨a, a⟩, gradient 2a accumulated twice
	// into one buffer.
	f2 := func() float64 { RowDots(a, a, out); return project(r, out) }
	daa := NewMatrix[float64](5, 7)
	RowDotsBackward(a, a, r, daa, daa)
	checkGrad(t, "RowDots a, a", f2, a.Data, daa.Data)
}

func TestLossGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 64
	p, y, dp := make([]float64, n), make([]float64, n), make([]float64, n)
	Uniform(rng, p, 1, 3)
	Uniform(rng, y, 1, 3)
	for i := range p {
		if math.Abs(p[i]-y[i]) < 1e-3 { // away from the kinks
			p[i] += 2e-3
		}
	}
	const scale = 0.7
	for _, c := range []struct {
		name string
		loss func(dp []float64, scale float64) float64
		want func(p, y float64) float64 // per-sample loss
	}{
		{"Squared", func(dp []float64, s float64) float64 { return Squared(p, y, dp, s) },
			func(p, y float64) float64 { return (y - p) * (y - p) }},
		{"Pinball 0.1", func(dp []float64, s float64) float64 { return Pinball(0.1, p, y, dp, s) },
			func(p, y float64) float64 { return pinball(0.1, p, y) }},
		{"Pinball 0.5", func(dp []float64, s float64) float64 { return Pinball(0.5, p, y, dp, s) },
			func(p, y float64) float64 { return pinball(0.5, p, y) }},
		{"PercentError log", func(dp []float64, s float64) float64 { return PercentError(true, p, y, dp, s) },
			func(p, y float64) float64 { return math.Abs(math.Exp(y-p) - 1) }},
		{"PercentError raw", func(dp []float64, s float64) float64 { return PercentError(false, p, y, dp, s) },
			func(p, y float64) float64 { return math.Abs((y - p) / y) }},
	} {
		got := c.loss(dp, scale)
		want := 0.0
		for i := range p {
			want += c.want(p[i], y[i])
		}
		want /= n
		if math.Abs(got-want) > 1e-14*max(1, want) {
			t.Errorf("%s = %.16g, want %.16g", c.name, got, want)
		}
		g := make([]float64, n)
		for i := range dp {
			g[i] = dp[i] / scale
		}
		checkGrad(t, c.name, func() float64 { return c.loss(nil, 1) }, p, g)
	}
}

// pinball is the conformal-convention pinball loss written out
// independently of Pinball.
func pinball(alpha, p, y float64) float64 {
	e := p - y
	if e < 0 {
		return (1 - alpha) * -e
	}
	return alpha * e
}

func TestLossKinks(t *testing.T) {
	// Subgradients at the kinks: Pinball takes the e ≥ 0 side (alpha);
	// PercentError takes 0.
	p, y, dp := []float64{2, 2}, []float64{2, 2}, []float64{9, 9}
	Pinball(0.25, p, y, dp, 1)
	if dp[0] != 0.25/2 {
		t.Errorf("Pinball at e = 0: dp = %g, want alpha/n = %g", dp[0], 0.25/2)
	}
	for _, log := range []bool{true, false} {
		if l := PercentError(log, p, y, dp, 1); l != 0 || dp[0] != 0 {
			t.Errorf("PercentError(log=%v) at p = y: loss %g, dp %g, want 0, 0", log, l, dp[0])
		}
	}
}

func TestMLPGrad(t *testing.T) {
	for _, act := range []Activation{GELU, Tanh, LeakyReLU, Identity} {
		t.Run(act.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(act)))
			var ps Params[float64]
			m := NewMLP(&ps, "mlp", 7, []int{4, 6, 5, 3}, act)
			m.Init(rng)
			for _, l := range m.Layers {
				Uniform(rng, l.B.Data, -0.5, 0.5)
			}
			m.Slope = 0.1
			x := randMatrix(rng, 5, 4, -2, 2) // fewer rows than the buffers
			r := randMatrix(rng, 5, 3, -1, 1)
			f := func() float64 { return project(r.Data, m.Forward(x).Data) }
			f()
			ps.ZeroGrad()
			dx := NewMatrix[float64](5, 4)
			m.Backward(r, dx)
			for _, p := range ps.List {
				checkGrad(t, p.Name, f, p.Data, p.Grad)
			}
			checkGrad(t, "x", f, x.Data, dx.Data)
		})
	}
}

// TestFloat32 checks that float32 agrees with float64 for an MLP of
// Pitot's workload-tower shape, forward and backward (the float32 GELU
// runs its own kernels, which the float64 gradient checks do not reach).
// float32 rounding (2⁻²⁴ ≈ 6e-8 per operation) accumulated over sums of
// ≤ 249 terms gives errors of a few 1e-6 at most (measured: below 1e-6);
// tol32 = 1e-5, relative to max(1, |y|) for outputs and to the largest
// gradient of each parameter for gradients.
func TestFloat32(t *testing.T) {
	const tol32 = 1e-5
	sizes, rows := []int{142, 128, 128, 32}, 249
	if testing.Short() {
		sizes, rows = []int{20, 16, 16, 8}, 40
	}
	for _, act := range []Activation{GELU, Tanh, LeakyReLU} {
		var p32 Params[float32]
		var p64 Params[float64]
		m32 := NewMLP(&p32, "m", rows, sizes, act)
		m64 := NewMLP(&p64, "m", rows, sizes, act)
		m32.Init(rand.New(rand.NewPCG(1, 1)))
		for i, p := range p64.List { // the same numbers in both
			for j := range p.Data {
				p.Data[j] = float64(p32.List[i].Data[j])
			}
		}
		rng := rand.New(rand.NewPCG(2, 2))
		x64 := randMatrix(rng, rows, sizes[0], -1, 1)
		dy64 := randMatrix(rng, rows, sizes[len(sizes)-1], -1, 1)
		x32, dy32 := NewMatrix[float32](rows, sizes[0]), NewMatrix[float32](rows, sizes[len(sizes)-1])
		for i, v := range x64.Data {
			x32.Data[i] = float32(v)
			x64.Data[i] = float64(x32.Data[i])
		}
		for i, v := range dy64.Data {
			dy32.Data[i] = float32(v)
			dy64.Data[i] = float64(dy32.Data[i])
		}
		y32, y64 := m32.Forward(x32), m64.Forward(x64)
		worst := 0.0
		for i, v := range y64.Data {
			worst = max(worst, math.Abs(float64(y32.Data[i])-v)/max(1, math.Abs(v)))
		}
		if worst > tol32 {
			t.Errorf("%v: float32 forward differs from float64 by %.2g > %g", act, worst, tol32)
		}
		t.Logf("%v %v: float32 vs float64 forward: %.2g", act, sizes, worst)

		m32.Backward(dy32, Matrix[float32]{})
		m64.Backward(dy64, Matrix[float64]{})
		worst = 0
		for i, p := range p64.List {
			scale := 0.0
			for _, g := range p.Grad {
				scale = max(scale, math.Abs(g))
			}
			for j, g := range p.Grad {
				worst = max(worst, math.Abs(float64(p32.List[i].Grad[j])-g)/scale)
			}
		}
		if worst > tol32 {
			t.Errorf("%v: float32 gradients differ from float64 by %.2g > %g", act, worst, tol32)
		}
		t.Logf("%v %v: float32 vs float64 gradients: %.2g", act, sizes, worst)
	}
}

// TestGELU32 checks the float32 GELU (forward and backward) against the
// float64 formula with math.Tanh on a dense grid over [−12, 12] and at
// extreme inputs. The float32 result carries the rounding of its input
// arithmetic (u = √(2/π)(x + 0.044715x³) has relative error ≈ 2e-7, and
// e^(−2u) then ≈ 2|u|·2e-7), so gelu32Tol = 1e-6 is relative to
// max(1, |y|) (absolute for |y| < 1, where relative error is meaningless
// near y = 0).
func TestGELU32(t *testing.T) {
	var xs []float32
	for x := -12.0; x <= 12; x += 1.0 / 1024 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, -math.MaxFloat32, -1e30, -100, -20, -1e-30, 0, 1e-30, 20, 100, 1e30, math.MaxFloat32)
	x64 := make([]float64, len(xs))
	for i, v := range xs {
		x64[i] = float64(v)
	}
	y32, d32 := make([]float32, len(xs)), make([]float32, len(xs))
	y64, d64 := make([]float64, len(xs)), make([]float64, len(xs))
	ones32, ones64 := make([]float32, len(xs)), make([]float64, len(xs))
	for i := range ones32 {
		ones32[i], ones64[i] = 1, 1
	}
	GELUForward(x64, y64)
	GELUBackward(x64, ones64, d64)
	e, dE := make([]float32, len(xs)), make([]float32, len(xs))
	yE := make([]float32, len(xs))
	kernels := []bool{false}
	if haveAVX2 {
		kernels = append(kernels, true)
	}
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	for _, avx := range kernels {
		haveAVX2 = avx
		GELUForward(xs, y32)
		GELUBackward(xs, ones32, d32)
		geluForward32(xs, yE, e)
		geluBackward32(xs, e, ones32, dE)
		checkGELU32(t, avx, xs, y32, d32, yE, dE, y64, d64)
	}
}

func checkGELU32(t *testing.T, avx bool, xs, y32, d32, yE, dE []float32, y64, d64 []float64) {
	const gelu32Tol = 1e-6
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
	}{{"forward", y32, y64}, {"backward", d32, d64}, {"forward (saving e)", yE, y64}, {"backward from e", dE, d64}} {
		worst, at := 0.0, 0
		for i, w := range c.want {
			g := float64(c.got[i])
			if math.IsNaN(g) || math.IsInf(g, 0) {
				t.Fatalf("GELU %s(%g) = %g", c.name, xs[i], g)
			}
			if e := math.Abs(g-w) / max(1, math.Abs(w)); e > worst {
				worst, at = e, i
			}
		}
		if worst > gelu32Tol {
			t.Errorf("GELU %s (AVX2 %v) at %g: %g, want %g (error %.2g > %g)", c.name, avx, xs[at], c.got[at], c.want[at], worst, gelu32Tol)
		}
		t.Logf("GELU %s (AVX2 %v): worst error %.2g at x = %g", c.name, avx, worst, xs[at])
	}
}

// TestExp32 and TestTanh32 check the float32 kernels over their whole
// useful range against the float64 functions: relative error below 1e-7
// for exp32 (Cephes quotes 1.2e-7 for expf) and 2e-7 for tanh32.
func TestExp32(t *testing.T) {
	worst, at := 0.0, 0.0
	for x := -87.0; x <= 87; x += 1.0 / 4096 {
		z := float32(x)
		w := math.Exp(float64(z))
		if e := math.Abs(float64(exp32(z))-w) / w; e > worst {
			worst, at = e, x
		}
	}
	if worst > 1e-7 {
		t.Errorf("exp32(%g): relative error %.2g > 1e-7", at, worst)
	}
	if exp32(-1000) <= 0 || math.IsInf(float64(exp32(1000)), 0) {
		t.Errorf("exp32 does not clamp: exp32(-1000) = %g, exp32(1000) = %g", exp32(-1000), exp32(1000))
	}
}

func TestTanh32(t *testing.T) {
	worst, at := 0.0, 0.0
	check := func(x float64) {
		z := float32(x)
		w := math.Tanh(float64(z))
		g := float64(tanh32(z))
		e := math.Abs(g - w)
		if w != 0 {
			e /= math.Abs(w)
		}
		if e > worst || math.IsNaN(g) {
			worst, at = e, x
		}
	}
	for x := -20.0; x <= 20; x += 1.0 / 8192 {
		check(x)
	}
	for _, x := range []float64{1e-30, -1e-20, 1e-8, 100, -1e30} {
		check(x)
	}
	if worst > 2e-7 {
		t.Errorf("tanh32(%g): relative error %.2g > 2e-7", at, worst)
	}
	// TanhForward uses it in float32.
	y := []float32{0}
	TanhForward([]float32{0.3}, y)
	if y[0] != tanh32(0.3) {
		t.Errorf("TanhForward(0.3) = %g, want tanh32 %g", y[0], tanh32(0.3))
	}
}

func ExampleActivation_String() {
	fmt.Println(GELU, Tanh, LeakyReLU, Identity)
	// Output: gelu tanh leaky_relu identity
}

// TestKernels checks that the AVX2 kernels give exactly what the Go loops
// give: they perform the same float32 operations in the same order, and
// the Go compiler does not fuse multiply-adds on amd64 below GOAMD64=v3
// (see same). Lengths cover the 8-wide blocks and the tails; inputs
// include NaN and extremes.
func TestKernels(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 kernels on this machine or build")
	}
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	compare := func(what string, x, avx, ref []float32) {
		t.Helper()
		for i := range avx {
			if !same(avx[i], ref[i]) {
				t.Fatalf("%s, n=%d, x=%g: %g (AVX2), %g (Go)", what, len(avx), x[i], avx[i], ref[i])
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 64, 71, 31869} {
		x, dy := make([]float32, n), make([]float32, n)
		Uniform(rng, x, -14, 14)
		Uniform(rng, dy, -1, 1)
		for i, v := range []float32{float32(math.NaN()), -math.MaxFloat32, math.MaxFloat32, -10, 10, 0, -9.999, 0.625, -0.625, 1e-30, 50} {
			if i < n {
				x[(i*7919)%n] = v
			}
		}
		type out struct{ y, e, dxE, dx, yNoE, tanh []float32 }
		run := func(avx bool) out {
			haveAVX2 = avx
			o := out{}
			for _, p := range []*[]float32{&o.y, &o.e, &o.dxE, &o.dx, &o.yNoE, &o.tanh} {
				*p = make([]float32, n)
			}
			geluForward32(x, o.y, o.e)
			geluBackward32(x, o.e, dy, o.dxE)
			geluBackward32(x, nil, dy, o.dx)
			geluForward32(x, o.yNoE, nil)
			TanhForward(x, o.tanh)
			return o
		}
		a, g := run(true), run(false)
		if haveAVX512 { // the AVX2 kernels alone, as on a machine without AVX-512
			haveAVX512 = false
			a2 := run(true)
			haveAVX512 = true
			compare("GELU forward (AVX2 only)", x, a2.y, g.y)
			compare("GELU e (AVX2 only)", x, a2.e, g.e)
			compare("GELU forward without e (AVX2 only)", x, a2.yNoE, g.y)
		}
		compare("GELU forward", x, a.y, g.y)
		compare("GELU e", x, a.e, g.e)
		compare("GELU forward without e", x, a.yNoE, g.y)
		compare("GELU backward from e", x, a.dxE, g.dxE)
		compare("GELU backward", x, a.dx, g.dx)
		compare("tanh", x, a.tanh, g.tanh)
	}

	// Row kernels: dot products, their backward, scatter-add.
	for _, c := range []int{8, 32, 40, 12} {
		const rows = 37
		a, b := NewMatrix[float32](rows, c), NewMatrix[float32](rows, c)
		Uniform(rng, a.Data, -1, 1)
		Uniform(rng, b.Data, -1, 1)
		dout := make([]float32, rows)
		Uniform(rng, dout, -1, 1)
		idx := make([]int, rows)
		for i := range idx {
			idx[i] = rng.IntN(5)
		}
		run := func(avx bool) []float32 {
			haveAVX2 = avx
			out := make([]float32, rows)
			RowDots(a, b, out)
			da, db := NewMatrix[float32](rows, c), NewMatrix[float32](rows, c)
			Uniform(rand.New(rand.NewPCG(7, 7)), da.Data, -1, 1)
			RowDotsBackward(a, b, dout, da, db)
			table := NewMatrix[float32](5, c)
			Uniform(rand.New(rand.NewPCG(8, 8)), table.Data, -1, 1)
			ScatterAddRows(a, idx, table)
			return append(append(append(out, da.Data...), db.Data...), table.Data...)
		}
		avx, ref := run(true), run(false)
		compare(fmt.Sprintf("row kernels, %d columns", c), avx, avx, ref)
	}

	// Optimizers: three steps on 8·k+5 parameters, gradients of mixed
	// signs and sizes (and a zero).
	for _, mk := range []func(*Params[float32]) Optimizer[float32]{
		func(ps *Params[float32]) Optimizer[float32] { return NewAdamaxW(ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4) },
		func(ps *Params[float32]) Optimizer[float32] { return NewAdam(ps, 1e-3, 0.9, 0.999, 1e-8) },
	} {
		run := func(avx bool) []float32 {
			haveAVX2 = avx
			var ps Params[float32]
			p := ps.New("p", 8*50+5)
			o := mk(&ps)
			r := rand.New(rand.NewPCG(6, 6))
			Uniform(r, p.Data, -1, 1)
			for range 3 {
				Uniform(r, p.Grad, -1, 1)
				p.Grad[3] *= 1e-6
				p.Grad[10] = 0
				o.Step()
			}
			_, s := o.State()
			out := append([]float32(nil), p.Data...)
			for _, k := range []string{"m/p", "u/p", "v/p"} {
				out = append(out, s[k]...)
			}
			return out
		}
		a, g := run(true), run(false)
		compare(fmt.Sprintf("%T", mk(&Params[float32]{})), a, a, g)
	}
}

// same says whether a and b are equal (NaNs are the same), or, where the
// Go compiler may fuse multiply-adds, within 1e-5 of max(1, |a|, |b|):
// fusing changes u in exp(−2u) by an ulp, which moves e^(−2u) by up to
// 2|u| ulps, and GELU's derivative crosses 0 near x = −0.75, where only
// an absolute bound holds.
func same(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	if !fusedMultiplyAdd {
		return a == b
	}
	d := math.Abs(float64(a) - float64(b))
	return d <= 1e-5*max(1, math.Abs(float64(a)), math.Abs(float64(b)))
}

// TestRowKernels checks DotRows, AxpyRows and OuterAdd against loops of
// Dot and Axpy written out here, and the AVX2 kernels against the Go loops
// bit for bit.
func TestRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, shape := range [][2]int{{1, 8}, {3, 32}, {5, 24}, {2, 5}, {4, 40}} {
		rows, cols := shape[0], shape[1]
		x, m, c := make([]float32, cols), make([]float32, rows*cols), make([]float32, rows)
		Uniform(rng, x, -1, 1)
		Uniform(rng, m, -1, 1)
		Uniform(rng, c, -1, 1)
		type out struct{ dots, y, outer []float32 }
		run := func() out {
			o := out{make([]float32, rows), make([]float32, cols), append([]float32(nil), m...)}
			copy(o.y, x)
			DotRows(x, m, o.dots)
			AxpyRows(c, m, o.y)
			OuterAdd(c, x, o.outer)
			return o
		}
		got := run()
		for i := range rows {
			var want float64
			for j := range cols {
				want += float64(x[j]) * float64(m[i*cols+j])
			}
			if math.Abs(float64(got.dots[i])-want) > 1e-5 {
				t.Errorf("%dx%d DotRows[%d] = %g, want %g", rows, cols, i, got.dots[i], want)
			}
			for j := range cols {
				if w := m[i*cols+j] + c[i]*x[j]; got.outer[i*cols+j] != w {
					t.Errorf("%dx%d OuterAdd[%d,%d] = %g, want %g", rows, cols, i, j, got.outer[i*cols+j], w)
				}
			}
		}
		for j := range cols {
			want := float64(x[j])
			for i := range rows {
				want += float64(c[i]) * float64(m[i*cols+j])
			}
			if math.Abs(float64(got.y[j])-want) > 1e-5 {
				t.Errorf("%dx%d AxpyRows[%d] = %g, want %g", rows, cols, j, got.y[j], want)
			}
		}
		if haveAVX2 {
			haveAVX2 = false
			ref := run()
			haveAVX2 = true
			for k, pair := range [][2][]float32{{got.dots, ref.dots}, {got.y, ref.y}, {got.outer, ref.outer}} {
				for i := range pair[0] {
					if !same(pair[0][i], pair[1][i]) {
						t.Fatalf("%dx%d kernel %d [%d]: %g (AVX2), %g (Go)", rows, cols, k, i, pair[0][i], pair[1][i])
					}
				}
			}
		}
	}
}

// TestColSums checks the AVX2 column sums (bias gradients) against float64
// sums, over more rows than one chunk of ones32.
func TestColSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, shape := range [][2]int{{1, 8}, {249, 128}, {2500, 16}, {7, 5}} {
		m := NewMatrix[float32](shape[0], shape[1])
		Uniform(rng, m.Data, -1, 1)
		s := make([]float32, shape[1])
		for j := range s {
			s[j] = float32(j)
		}
		addColSums(m, s)
		for j := range s {
			want := float64(j)
			for i := range shape[0] {
				want += float64(m.Data[i*shape[1]+j])
			}
			if d := math.Abs(float64(s[j]) - want); d > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("%dx%d column %d: %g, want %g", shape[0], shape[1], j, s[j], want)
			}
		}
	}
}
