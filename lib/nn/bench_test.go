package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"

	_ "github.com/paperlab/paperlab/lib/backend" // installs OpenBLAS when built with -tags openblas
	"github.com/paperlab/paperlab/lib/nn"
)

// Benchmarks at the shapes of a Pitot training step (specs/pitot.md 2.2,
// 2.8): the workload tower [142, 128, 128, 32] over 249 workloads, the
// platform tower [41, 128, 128, 160] over 231 platforms, 512 samples per
// objective. Run with -tags openblas for OpenBLAS (lib/backend); the BLAS
// in use is logged.

func logBLAS(b *testing.B) { b.Logf("BLAS: %T", blas32.Implementation()) }

func randMatrix(rng *rand.Rand, rows, cols int) nn.Matrix[float32] {
	m := nn.NewMatrix[float32](rows, cols)
	nn.Uniform(rng, m.Data, -1, 1)
	return m
}

// BenchmarkGELU is GELU forward and backward on 249×128 (one hidden layer
// of the workload tower) in float32, through the exported functions, and
// with math.Tanh in float64 for comparison.
func BenchmarkGELU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randMatrix(rng, 249, 128).Data
	dy := randMatrix(rng, 249, 128).Data
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			nn.GELUForward(x, y)
			nn.GELUBackward(x, dy, dx)
		}
	})
	b.Run("math.Tanh", func(b *testing.B) {
		const c = 0.7978845608028654
		for b.Loop() {
			for i, v := range x {
				u := float64(v)
				y[i] = float32(0.5 * u * (1 + math.Tanh(c*(u+0.044715*u*u*u))))
			}
			for i, v := range x {
				u := float64(v)
				t := math.Tanh(c * (u + 0.044715*u*u*u))
				dx[i] = dy[i] * float32(0.5*(1+t)+0.5*u*(1-t*t)*c*(1+3*0.044715*u*u))
			}
		}
	})
}

// BenchmarkMLP is forward and backward of the workload tower
// [142, 128, 128, 32] over 249 rows in float32, parameter gradients only
// (the input needs none).
func BenchmarkMLP(b *testing.B) {
	logBLAS(b)
	for _, act := range []nn.Activation{nn.GELU, nn.Tanh} {
		b.Run(act.String(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			var ps nn.Params[float32]
			m := nn.NewMLP(&ps, "w", 249, []int{142, 128, 128, 32}, act)
			m.Init(rng)
			x, dy := randMatrix(rng, 249, 142), randMatrix(rng, 249, 32)
			for b.Loop() {
				m.Forward(x)
				m.Backward(dy, nn.Matrix[float32]{})
			}
		})
	}
}

// BenchmarkAdamaxW is one optimizer step over Pitot's 82,304 parameters.
func BenchmarkAdamaxW(b *testing.B) {
	var ps nn.Params[float32]
	p := ps.New("all", 82304)
	nn.Uniform(rand.New(rand.NewPCG(1, 2)), p.Grad, -1, 1)
	o := nn.NewAdamaxW(&ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4)
	for b.Loop() {
		o.Step()
	}
}

// BenchmarkPitotStep is one matrix-factorisation training step shaped like
// Pitot's (specs/pitot.md 2.1-2.4, the mf objective at 4 × 512 samples,
// without the interference term): both towers over all entities, gathers
// of 2,048 (workload, platform) pairs, dot products, squared loss, the
// backward pass and AdamaxW over all parameters.
func BenchmarkPitotStep(b *testing.B) {
	logBLAS(b)
	const (
		nw, np, batch = 249, 231, 2048
		r             = 32
	)
	rng := rand.New(rand.NewPCG(1, 2))
	var ps nn.Params[float32]
	wt := nn.NewMLP(&ps, "workload", nw, []int{142, 128, 128, r}, nn.GELU)
	pt := nn.NewMLP(&ps, "platform", np, []int{41, 128, 128, 5 * r}, nn.GELU)
	wt.Init(rng)
	pt.Init(rng)
	xw, xp := randMatrix(rng, nw, 142), randMatrix(rng, np, 41)
	iw, ip := make([]int, batch), make([]int, batch)
	for i := range iw {
		iw[i], ip[i] = rng.IntN(nw), rng.IntN(np)
	}
	y := make([]float32, batch)
	nn.Uniform(rng, y, -1, 1)
	// Only the first r columns of the platform output enter ⟨X_w, X_p⟩.
	gw, gp := nn.NewMatrix[float32](batch, r), nn.NewMatrix[float32](batch, r)
	dgw, dgp := nn.NewMatrix[float32](batch, r), nn.NewMatrix[float32](batch, r)
	pred, dp := make([]float32, batch), make([]float32, batch)
	dyw, dyp := nn.NewMatrix[float32](nw, r), nn.NewMatrix[float32](np, 5*r)
	xpr := nn.NewMatrix[float32](np, r)
	opt := nn.NewAdamaxW(&ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4)
	b.ReportMetric(float64(ps.Len()), "params")
	for b.Loop() {
		ps.ZeroGrad()
		ow := wt.Forward(xw)
		op := pt.Forward(xp)
		for i := range np {
			copy(xpr.Row(i), op.Row(i)[:r])
		}
		nn.GatherRows(ow, iw, gw)
		nn.GatherRows(xpr, ip, gp)
		nn.RowDots(gw, gp, pred)
		nn.Squared(pred, y, dp, 1)
		dgw.Zero()
		dgp.Zero()
		nn.RowDotsBackward(gw, gp, dp, dgw, dgp)
		dyw.Zero()
		nn.ScatterAddRows(dgw, iw, dyw)
		xpr.Zero()
		nn.ScatterAddRows(dgp, ip, xpr)
		dyp.Zero()
		for i := range np {
			copy(dyp.Row(i)[:r], xpr.Row(i))
		}
		wt.Backward(dyw, nn.Matrix[float32]{})
		pt.Backward(dyp, nn.Matrix[float32]{})
		opt.Step()
	}
}

// BenchmarkRowDots is RowDots and RowDotsBackward on 2,048 pairs of
// 32-wide rows (one ⟨X_w, X_p⟩ per sample of a Pitot step).
func BenchmarkRowDots(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randMatrix(rng, 2048, 32), randMatrix(rng, 2048, 32)
	dx, dy := nn.NewMatrix[float32](2048, 32), nn.NewMatrix[float32](2048, 32)
	out := make([]float32, 2048)
	for b.Loop() {
		nn.RowDots(x, y, out)
		nn.RowDotsBackward(x, y, out, dx, dy)
	}
}
