package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// subnormal reports whether x is a nonzero float32 below the smallest
// normal number, 2^-126.
func subnormal(x float32) bool {
	b := math.Float32bits(x) & 0x7fffffff
	return b != 0 && b < 0x00800000
}

// TestFlush checks flush on hand-picked values: subnormals become zeros
// of their sign; zeros, normals, infinities and NaN pass unchanged.
func TestFlush(t *testing.T) {
	minSub := math.Float32frombits(1)
	maxSub := math.Float32frombits(0x007fffff)
	minNormal := math.Float32frombits(0x00800000)
	for _, c := range []struct{ in, want float32 }{
		{0, 0}, {minSub, 0}, {maxSub, 0}, {-maxSub, float32(math.Copysign(0, -1))},
		{minNormal, minNormal}, {-minNormal, -minNormal}, {1, 1}, {-2.5, -2.5},
		{float32(math.Inf(1)), float32(math.Inf(1))}, {math.MaxFloat32, math.MaxFloat32},
	} {
		got := flush(c.in)
		if math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("flush(%g) = %g (bits %08x), want %g", c.in, got, math.Float32bits(got), c.want)
		}
	}
	if v := flush(float32(math.NaN())); v == v {
		t.Errorf("flush(NaN) = %g", v)
	}
	if got := flush(-5e-320); math.Float64bits(got) != math.Float64bits(math.Copysign(0, -1)) {
		t.Errorf("flush(-5e-320) = %g in float64", got)
	}
}

// TestKernelsLeaveNoSubnormals feeds the elementwise kernels (AVX2 and Go
// loops) the inputs that produced subnormals before they flushed: GELU
// pre-activations far below zero times small upstream gradients, tanh and
// leaky-ReLU gradients of tiny size, and optimizer moments decaying under
// zero gradients. Nothing they write may be subnormal; gelu and gelu' are
// exactly 0 for x ≤ −9, and NaN still propagates.
func TestKernelsLeaveNoSubnormals(t *testing.T) {
	defer func(h bool) { haveAVX2 = h }(haveAVX2)
	modes := []bool{false}
	if haveAVX2 {
		modes = append(modes, true)
	}
	const n = 4099
	rng := rand.New(rand.NewPCG(11, 11))
	x, dy := make([]float32, n), make([]float32, n)
	Uniform(rng, x, -12, 2)
	for i := range dy {
		dy[i] = float32(math.Pow(10, -40*rng.Float64())) * float32(1-2*rng.IntN(2))
	}
	x[17] = float32(math.NaN())
	dy[5] = math.Float32frombits(3) // a subnormal upstream gradient
	check := func(what string, avx bool, v []float32) {
		t.Helper()
		for i, y := range v {
			if subnormal(y) {
				t.Fatalf("%s (AVX2 %v): element %d = %g (x = %g) is subnormal", what, avx, i, y, x[i])
			}
		}
	}
	for _, avx := range modes {
		haveAVX2 = avx
		y, e, dx := make([]float32, n), make([]float32, n), make([]float32, n)
		geluForward32(x, y, e)
		geluBackward32(x, e, dy, dx)
		check("GELU forward", avx, y)
		check("GELU backward", avx, dx)
		for i, v := range x {
			if v <= -9 && (y[i] != 0 || dx[i] != 0) {
				t.Fatalf("AVX2 %v: gelu(%g) = %g, dx = %g; want 0 below -9", avx, v, y[i], dx[i])
			}
		}
		if y[17] == y[17] || dx[17] == dx[17] {
			t.Errorf("AVX2 %v: NaN input gave gelu %g, dx %g", avx, y[17], dx[17])
		}
		geluBackward32(x, nil, dy, dx)
		check("GELU backward (recomputed e)", avx, dx)
		TanhForward(x, y)
		TanhBackward(y, dy, dx)
		check("tanh backward", avx, dx)
		LeakyReLUForward(1e-3, dy, y)
		check("leaky ReLU forward", avx, y)
		LeakyReLUBackward(1e-3, x, dy, dx)
		check("leaky ReLU backward", avx, dx)

		// A gradient once, then none: m decays by b1 each step and would be
		// subnormal after about 800 steps; Adam's v decays by b2 from g².
		for _, mk := range []func(*Params[float32]) Optimizer[float32]{
			func(ps *Params[float32]) Optimizer[float32] { return NewAdamaxW(ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4) },
			func(ps *Params[float32]) Optimizer[float32] { return NewAdam(ps, 1e-3, 0.9, 0.999, 1e-8) },
		} {
			var ps Params[float32]
			p := ps.New("p", 8*4+3)
			o := mk(&ps)
			for i := range p.Grad {
				p.Grad[i] = 1e-19 * float32(i+1)
			}
			o.Step()
			clear(p.Grad)
			for range 1000 {
				o.Step()
			}
			_, s := o.State()
			for k, v := range s {
				check("optimizer state "+k, avx, v)
			}
			check("parameters", avx, p.Data)
		}
	}
}
