package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// naiveGemm is the definition of Gemm, in float64.
func naiveGemm[T Float](transA, transB bool, alpha T, a, b Matrix[T], beta T, c Matrix[T]) []float64 {
	at := func(m Matrix[T], tr bool, i, j int) float64 {
		if tr {
			i, j = j, i
		}
		return float64(m.Data[i*m.Cols+j])
	}
	k := a.Cols
	if transA {
		k = a.Rows
	}
	out := make([]float64, c.Rows*c.Cols)
	for i := range c.Rows {
		for j := range c.Cols {
			s := 0.0
			for l := range k {
				s += at(a, transA, i, l) * at(b, transB, l, j)
			}
			out[i*c.Cols+j] = float64(alpha)*s + float64(beta)*float64(c.Data[i*c.Cols+j])
		}
	}
	return out
}

type myFloat float32 // a named element type: Gemm reinterprets its storage

func testGemm[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	const m, k, n = 5, 4, 3
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			a, b := NewMatrix[T](m, k), NewMatrix[T](k, n)
			if ta {
				a = NewMatrix[T](k, m)
			}
			if tb {
				b = NewMatrix[T](n, k)
			}
			c := NewMatrix[T](m, n)
			Uniform(rng, a.Data, -1, 1)
			Uniform(rng, b.Data, -1, 1)
			Uniform(rng, c.Data, -1, 1)
			want := naiveGemm(ta, tb, 0.5, a, b, 2, c)
			Gemm(ta, tb, 0.5, a, b, 2, c)
			for i, w := range want {
				if math.Abs(float64(c.Data[i])-w) > tol {
					t.Fatalf("%T Gemm(transA=%v, transB=%v): c[%d] = %g, want %g", c.Data[0], ta, tb, i, c.Data[i], w)
				}
			}
		}
	}
	// k = 0: c = beta·c, and beta = 0 clears NaNs.
	c := MatrixOf[T](1, 2, []T{1, T(math.NaN())})
	Gemm(false, false, 1, NewMatrix[T](1, 0), NewMatrix[T](0, 2), 0, c)
	if c.Data[0] != 0 || c.Data[1] != 0 {
		t.Errorf("Gemm with k = 0, beta = 0: c = %v, want zeros", c.Data)
	}
}

func TestGemm(t *testing.T) {
	// Tolerances: float32 products of ≤ 4 terms of size ≤ 1 are good to a
	// few 2⁻²⁴ ≈ 6e-8; float64 to a few 1e-16.
	testGemm[float32](t, 1e-6)
	testGemm[float64](t, 1e-14)
	testGemm[myFloat](t, 1e-6)
}

func TestShapePanics(t *testing.T) {
	var ps Params[float32]
	l := NewLinear(&ps, "l", 3, 2)
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"Gemm", "op(a) 2x3 times op(b) 2x2", func() {
			Gemm(false, false, 1, NewMatrix[float32](2, 3), NewMatrix[float32](2, 2), 0, NewMatrix[float32](2, 2))
		}},
		{"Linear", "x 4x2, y 4x2", func() { l.Forward(NewMatrix[float32](4, 2), NewMatrix[float32](4, 2)) }},
		{"GatherRows", "index 7 out of range for a 3x2 table", func() {
			GatherRows(NewMatrix[float32](3, 2), []int{0, 7}, NewMatrix[float32](2, 2))
		}},
		{"duplicate", `"l.w" registered twice`, func() { ps.New("l.w", 1) }},
		{"MLP rows", "for 4 rows: Forward of x 5x3", func() {
			var ps Params[float32]
			NewMLP(&ps, "m", 4, []int{3, 2}, GELU).Forward(NewMatrix[float32](5, 3))
		}},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("%s: no panic", c.name)
				} else if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Errorf("%s: panic %q, want it to mention %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

func TestParams(t *testing.T) {
	var ps Params[float32]
	NewMLP(&ps, "tower", 1, []int{142, 128, 128, 32}, GELU)
	u := ps.New("tower.features", 249, 1)
	// The workload tower of specs/pitot.md 2.8: 39,193 parameters.
	if n := ps.Len(); n != 39193 {
		t.Errorf("Len = %d, want 39193", n)
	}
	if ps.Get("tower.1.w") == nil || ps.Get("tower.features") != u || ps.Get("nope") != nil {
		t.Error("Get does not find the registered parameters")
	}
	names := []string{}
	for _, p := range ps.List {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "tower.0.w tower.0.b tower.1.w tower.1.b tower.2.w tower.2.b tower.features" {
		t.Errorf("order %s", got)
	}
	u.Grad[3] = 1
	ps.ZeroGrad()
	if u.Grad[3] != 0 {
		t.Error("ZeroGrad left a gradient")
	}

	var best Params[float32]
	NewMLP(&best, "tower", 1, []int{142, 128, 128, 32}, GELU)
	best.New("tower.features", 249, 1)
	u.Data[5] = 3
	best.CopyFrom(&ps)
	if best.Get("tower.features").Data[5] != 3 {
		t.Error("CopyFrom did not copy")
	}
}

// TestTruncatedNormal checks the support and the standard deviation of
// Haiku's truncated normal. For a standard normal truncated at ±2 the
// variance is 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.77374, so the standard
// deviation is 0.87963σ. With n = 200,000 draws the sample standard
// deviation has a standard error of about 0.0014σ (√(Var(z²))/(2·0.88·√n));
// stdTol = 0.006σ is four standard errors.
func TestTruncatedNormal(t *testing.T) {
	const (
		sigma  = 0.3
		n      = 200000
		stdTol = 0.006 * sigma
	)
	x := make([]float32, n)
	TruncatedNormal(rand.New(rand.NewPCG(42, 0)), x, sigma)
	var s, s2 float64
	for _, v := range x {
		if math.Abs(float64(v)) > 2*sigma {
			t.Fatalf("draw %g outside ±2σ = ±%g", v, 2*sigma)
		}
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean := s / n
	std := math.Sqrt(s2/n - mean*mean)
	want := sigma * math.Sqrt(1-4*phi(2)/(math.Erf(2/math.Sqrt2)))
	if math.Abs(want-0.87963*sigma) > 1e-5 {
		t.Fatalf("truncated std %g, want 0.87963σ", want/sigma)
	}
	if math.Abs(std-want) > stdTol || math.Abs(mean) > stdTol {
		t.Errorf("sample mean %g, std %g; want 0, %g ± %g", mean, std, want, stdTol)
	}
	// Deterministic given the generator.
	y := make([]float32, 10)
	TruncatedNormal(rand.New(rand.NewPCG(42, 0)), y, sigma)
	for i := range y {
		if y[i] != x[i] {
			t.Fatal("TruncatedNormal is not deterministic given the rng")
		}
	}
}

func phi(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }

func TestUniform(t *testing.T) {
	x := make([]float64, 10000)
	Uniform(rand.New(rand.NewPCG(1, 1)), x, -0.01, 0.01)
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -0.01 || hi >= 0.01 || lo > -0.0099 || hi < 0.0099 {
		t.Errorf("Uniform(-0.01, 0.01) spans [%g, %g]", lo, hi)
	}
}

// serialBLAS is gonum's BLAS with a plain serial Sgemm: gonum's
// own GEMM starts worker goroutines (and allocates) on products of 4 or
// more 64×64 blocks, which would hide allocations of this package at
// Pitot's shapes. OpenBLAS allocates nothing on the Go heap.
type serialBLAS struct{ gonum.Implementation }

func (serialBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float32
			for l := range k {
				av, bv := a[i*lda+l], b[l*ldb+j]
				if tA == blas.Trans {
					av = a[l*lda+i]
				}
				if tB == blas.Trans {
					bv = b[j*ldb+l]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// TestNoAllocs checks that a training step (MLP forward and backward at
// Pitot's tower shape, gathers, dot products, a loss, an optimizer step)
// allocates nothing.
func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("a Pitot-shaped step on a naive GEMM")
	}
	saved := blas32.Implementation()
	blas32.Use(serialBLAS{})
	defer blas32.Use(saved)

	var ps Params[float32]
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMLP(&ps, "w", 249, []int{142, 128, 128, 32}, GELU)
	m.Init(rng)
	x := NewMatrix[float32](249, 142)
	Uniform(rng, x.Data, 0, 1)
	idx := make([]int, 512)
	for i := range idx {
		idx[i] = rng.IntN(249)
	}
	g, dg := NewMatrix[float32](512, 32), NewMatrix[float32](512, 32)
	dots, target, dp := make([]float32, 512), make([]float32, 512), make([]float32, 512)
	dy, dx := NewMatrix[float32](249, 32), NewMatrix[float32](249, 142)
	opt := NewAdamaxW(&ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4)
	adam := NewAdam(&ps, 1e-3, 0.9, 0.999, 1e-8)
	for _, act := range []Activation{GELU, Tanh} {
		m.Act = act
		allocs := testing.AllocsPerRun(3, func() {
			ps.ZeroGrad()
			y := m.Forward(x)
			GatherRows(y, idx, g)
			RowDots(g, g, dots)
			Squared(dots, target, dp, 1)
			dg.Zero()
			RowDotsBackward(g, g, dp, dg, dg)
			dy.Zero()
			ScatterAddRows(dg, idx, dy)
			m.Backward(dy, dx)
			opt.Step()
			adam.Step()
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per step, want 0", act, allocs)
		}
	}
}

// TestNoAllocsGonum checks the same with gonum's own BLAS, at shapes small
// enough (fewer than 4 blocks of 64×64 per product) for its serial path.
func TestNoAllocsGonum(t *testing.T) {
	var ps Params[float32]
	m := NewMLP(&ps, "w", 60, []int{30, 64, 64, 8}, GELU)
	m.Init(rand.New(rand.NewPCG(1, 2)))
	x := NewMatrix[float32](60, 30)
	dy := NewMatrix[float32](40, 8)
	opt := NewAdamaxW(&ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4)
	allocs := testing.AllocsPerRun(10, func() {
		m.Forward(x.Slice(0, 40))
		m.Backward(dy, Matrix[float32]{})
		opt.Step()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step, want 0", allocs)
	}
}

// TestDotAxpy checks the exported vector kernels against plain loops, in
// float32 (AVX2 where available, lengths multiple of 8 and not) and float64.
func TestDotAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{8, 32, 13} {
		x, y := make([]float32, n), make([]float32, n+3)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		var want float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
		}
		if got := Dot(x, y); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("Dot(n=%d) = %v, want %v", n, got, want)
		}
		z := append([]float32(nil), y...)
		Axpy(float32(0.5), x, z)
		for i := range z {
			w := y[i]
			if i < n {
				w += 0.5 * x[i]
			}
			if math.Abs(float64(z[i]-w)) > 1e-6 {
				t.Fatalf("Axpy(n=%d)[%d] = %v, want %v", n, i, z[i], w)
			}
		}
	}
	if got := Dot([]float64{1, 2, 3}, []float64{4, 5, 6}); got != 32 {
		t.Errorf("Dot float64 = %v", got)
	}
}
