package conformal_test

import (
	"fmt"
	"math"

	"github.com/paperlab/paperlab/lib/conformal"
)

// A scheduler bounds the runtime of a new job from the model's prediction
// and the model's errors on 20 jobs it has already run (and the model did
// not train on). Everything is in log space: residual = ln t − ln t̂.
func ExampleMargin() {
	measured := []float64{1040, 2210, 530, 980, 4100, 760, 1500, 3050, 620, 1210,
		880, 2600, 450, 1720, 990, 3900, 700, 1330, 2050, 560} // µs
	predicted := []float64{1000, 2000, 500, 1000, 4000, 800, 1400, 3000, 600, 1250,
		900, 2400, 470, 1600, 1000, 4000, 650, 1300, 2000, 600} // µs
	y, yhat := make([]float64, 20), make([]float64, 20)
	for i := range y {
		y[i], yhat[i] = math.Log(measured[i]), math.Log(predicted[i])
	}
	r := conformal.Residuals(y, yhat)

	// 95 % upper bound (α = 0.05), Pitot's rule: the type-7 quantile of the
	// residuals at level 0.95·(1 + 1/20) = 0.9975, position 19·0.9975 =
	// 18.9525 (0-based) between the two largest, ln(2600/2400) = 0.0800 and
	// ln(2210/2000) = 0.0998: 0.0800 + 0.9525·0.0198 = 0.0989.
	m := conformal.Margin(r, 0.05, conformal.Linear)
	tHat := 1800.0 // µs, the model's prediction for the new job
	fmt.Printf("margin %.4f: runtime below %.0f µs with probability 95 %%\n", m, tHat*math.Exp(m))

	// The finite-sample rule takes the ⌈21·0.95⌉ = 20th smallest, the
	// largest: 1800·1.105.
	m = conformal.Margin(r, 0.05, conformal.OrderStatistic)
	fmt.Printf("order statistic: %.0f µs\n", tHat*math.Exp(m))
	// Output:
	// margin 0.0989: runtime below 1987 µs with probability 95 %
	// order statistic: 1989 µs
}
