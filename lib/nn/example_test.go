package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paperlab/paperlab/lib/nn"
)

// ExampleMLP fits y = sin(3x₀)·x₁ on 64 fixed points with a float32
// [2, 32, 32, 1] GELU MLP and AdamaxW, full batch: forward, loss with its
// gradient, backward, optimizer step.
func ExampleMLP() {
	const n = 64
	rng := rand.New(rand.NewPCG(1, 2)) // explicit seed: the same run every time
	x := nn.NewMatrix[float32](n, 2)
	y := make([]float32, n)
	nn.Uniform(rng, x.Data, -1, 1)
	for i := range n {
		y[i] = float32(math.Sin(3*float64(x.Row(i)[0])) * float64(x.Row(i)[1]))
	}

	var ps nn.Params[float32]
	mlp := nn.NewMLP(&ps, "mlp", n, []int{2, 32, 32, 1}, nn.GELU)
	mlp.Init(rng)
	opt := nn.NewAdamaxW(&ps, 1e-2, 0.9, 0.999, 1e-8, 1e-4)
	dp := nn.NewMatrix[float32](n, 1)

	for step := range 1001 {
		ps.ZeroGrad()
		p := mlp.Forward(x) // n×1: its Data are the predictions
		loss := nn.Squared(p.Data, y, dp.Data, 1)
		mlp.Backward(dp, nn.Matrix[float32]{}) // no gradient for x
		opt.Step()
		if step%250 == 0 {
			fmt.Printf("step %4d: mean squared error %.1e\n", step, loss)
		}
	}
	fmt.Println(ps.Len(), "parameters")
	// Output:
	// step    0: mean squared error 1.9e-01
	// step  250: mean squared error 1.0e-03
	// step  500: mean squared error 2.7e-04
	// step  750: mean squared error 1.4e-04
	// step 1000: mean squared error 8.4e-05
	// 1185 parameters
}
