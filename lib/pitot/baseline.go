package pitot

import "math"

// Baseline fitting limits (specs/pitot.md 2.3).
const (
	baselineTol     = 1e-4
	baselineMaxIter = 20000
)

// FitBaseline fits the linear-scaling baseline C̄_pw = a_p + b_w to the
// observations (w[i], p[i], y[i]) in log space by alternating exact block
// updates from a = b = 0 (specs/pitot.md 2.3):
//
//	a_p ← Σ_w (y_pw − b_w) / max(1, n_p),  b_w ← Σ_p (y_pw − a_p) / max(1, m_w)
//
// until ‖Δa‖₁ + ‖Δb‖₁ < 1e-4 or 20,000 rounds. It returns the fit, the
// rounds taken and whether it converged.
func FitBaseline(w, p []int, y []float64, workloads, platforms int) (a, b []float64, rounds int, converged bool) {
	a, b = make([]float64, platforms), make([]float64, workloads)
	np, nw := make([]float64, platforms), make([]float64, workloads)
	for i := range y {
		np[p[i]]++
		nw[w[i]]++
	}
	sa, sb := make([]float64, platforms), make([]float64, workloads)
	for rounds = 1; rounds <= baselineMaxIter; rounds++ {
		clear(sa)
		for i, v := range y {
			sa[p[i]] += v - b[w[i]]
		}
		delta := 0.0
		for j := range a {
			na := sa[j] / math.Max(1, np[j])
			delta += math.Abs(na - a[j])
			a[j] = na
		}
		clear(sb)
		for i, v := range y {
			sb[w[i]] += v - a[p[i]]
		}
		for j := range b {
			nb := sb[j] / math.Max(1, nw[j])
			delta += math.Abs(nb - b[j])
			b[j] = nb
		}
		if delta < baselineTol {
			return a, b, rounds, true
		}
	}
	return a, b, baselineMaxIter, false
}
