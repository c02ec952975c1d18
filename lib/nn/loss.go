package nn

import (
	"fmt"
	"math"
)

// The losses of specs/pitot.md 2.6 over a batch of n predictions p and
// targets y. Each returns the mean loss over the batch and, unless dp is
// nil, writes dp[i] = scale·∂(mean loss)/∂p[i], so a caller weighting
// several objectives (specs/pitot.md 2.1) passes its weight as scale. The
// mean is accumulated in float64.

func checkLoss[T Float](op string, p, y, dp []T) {
	if len(y) != len(p) || (dp != nil && len(dp) != len(p)) {
		panic(fmt.Sprintf("nn: %s: %d predictions, %d targets, %d gradients", op, len(p), len(y), len(dp)))
	}
}

// Squared returns mean((y − p)²); ∂/∂p[i] = 2(p[i] − y[i])/n.
func Squared[T Float](p, y, dp []T, scale T) T {
	checkLoss("Squared", p, y, dp)
	if len(p) == 0 {
		return 0
	}
	y = y[:len(p)]
	g := 2 * scale / T(len(p))
	var sum float64
	for i, v := range p {
		e := v - y[i]
		sum += float64(e * e)
		if dp != nil {
			dp[i] = g * e
		}
	}
	return T(sum / float64(len(p)))
}

// Pinball returns the mean pinball loss in the "conformal convention" of
// specs/pitot.md 2.6: with e = p − y, (1−alpha)·(−e) for e < 0 and
// alpha·e for e ≥ 0, where alpha = 1 − q/100 for target quantile q (so
// under-prediction costs 1−alpha). The subgradient at e = 0 is alpha, as
// JAX's for the jnp.where form.
func Pinball[T Float](alpha T, p, y, dp []T, scale T) T {
	checkLoss("Pinball", p, y, dp)
	if len(p) == 0 {
		return 0
	}
	y = y[:len(p)]
	gPos := alpha * scale / T(len(p))
	gNeg := -(1 - alpha) * scale / T(len(p))
	var sum float64
	for i, v := range p {
		e := v - y[i]
		if e < 0 {
			sum += float64(-(1 - alpha) * e)
			if dp != nil {
				dp[i] = gNeg
			}
		} else {
			sum += float64(alpha * e)
			if dp != nil {
				dp[i] = gPos
			}
		}
	}
	return T(sum / float64(len(p)))
}

// PercentError returns the mean relative error of specs/pitot.md 2.6. With
// log true, p and y are log-runtimes and the error is |exp(y − p) − 1| =
// |t/t̂ − 1| (relative to the prediction); with log false they are raw
// runtimes and the error is |(y − p)/y|. The subgradient at the kink
// (p = y) is 0, as JAX's for jnp.abs.
func PercentError[T Float](log bool, p, y, dp []T, scale T) T {
	checkLoss("PercentError", p, y, dp)
	if len(p) == 0 {
		return 0
	}
	y = y[:len(p)]
	g := scale / T(len(p))
	var sum float64
	for i, v := range p {
		var r, d float64 // r: signed error; d: ∂r/∂p
		if log {
			q := math.Exp(float64(y[i] - v))
			r, d = q-1, -q
		} else {
			yi := float64(y[i])
			r, d = (yi-float64(v))/yi, -1/yi
		}
		sum += math.Abs(r)
		if dp != nil {
			switch {
			case r > 0:
				dp[i] = g * T(d)
			case r < 0:
				dp[i] = -g * T(d)
			default:
				dp[i] = 0
			}
		}
	}
	return T(sum / float64(len(p)))
}
