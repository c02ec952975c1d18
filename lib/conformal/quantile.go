package conformal

import (
	"fmt"
	"math"
	"slices"
)

// Rule chooses how a margin is read off n calibration residuals at
// miscoverage α. The guarantees below hold for calibration and test points
// that are exchangeable (for example drawn i.i.d.) and whose residuals have
// no ties.
type Rule int

const (
	// Linear is Pitot's rule and the default (specs 5.1): the quantile of the
	// residuals at level p = (1−α)(1+1/n), clipped to 1, with NumPy's default
	// "linear" interpolation (Hyndman and Fan type 7). With the residuals
	// sorted, r_(1) ≤ … ≤ r_(n), and H = (n−1)p + 1, it is
	// r_(⌊H⌋) + (H−⌊H⌋)·(r_(⌊H⌋+1) − r_(⌊H⌋)).
	//
	// Since H − (n+1)(1−α) = 1 − p lies in [0, 1), the margin lies between
	// r_(k−1) and r_(k+1), k = ⌈(n+1)(1−α)⌉, so the coverage is at least
	// 1 − α − 1/(n+1): the rule can undercover by less than one calibration
	// point. Where p is clipped the margin is r_(n), coverage n/(n+1).
	Linear Rule = iota
	// OrderStatistic is the finite-sample rule of split conformal prediction
	// (Lei et al. 2018, Theorem 2.2): the k-th smallest residual r_(k),
	// k = ⌈(n+1)(1−α)⌉, or +Inf when k > n. Coverage P(r ≤ r_(k)) = k/(n+1)
	// lies in [1−α, 1−α + 1/(n+1)). (n+1)(1−α) within 1e-12 (relative) of an
	// integer counts as that integer, so that α written as a decimal, such
	// as 0.3 with n = 9, gives the index computed by hand (3, not 4).
	OrderStatistic
)

// String names the rule.
func (r Rule) String() string {
	switch r {
	case Linear:
		return "linear"
	case OrderStatistic:
		return "order-statistic"
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// Residuals returns y − ŷ elementwise; it panics if the lengths differ.
func Residuals(y, yhat []float64) []float64 {
	if len(y) != len(yhat) {
		panic(fmt.Sprintf("conformal: %d labels but %d predictions", len(y), len(yhat)))
	}
	r := make([]float64, len(y))
	for i := range y {
		r[i] = y[i] - yhat[i]
	}
	return r
}

// Margin returns the one-sided upper margin m for calibration residuals
// r_i = y_i − ŷ_i at miscoverage alpha, so that log Û = ŷ + m bounds a new
// label y from above with probability about 1 − alpha (see Rule). It does
// not modify residuals. The margin is NaN when residuals is empty, holds a
// NaN, or alpha is outside (0, 1).
func Margin(residuals []float64, alpha float64, rule Rule) float64 {
	s := slices.Clone(residuals)
	slices.Sort(s)
	return MarginSorted(s, alpha, rule)
}

// MarginSorted is Margin for residuals already sorted in ascending order
// (with NaNs first, as slices.Sort and sort.Float64s leave them); it saves
// the sort when many alphas are evaluated on the same residuals. It panics
// on an unknown rule.
func MarginSorted(sorted []float64, alpha float64, rule Rule) float64 {
	n := len(sorted)
	if n == 0 || !(alpha > 0 && alpha < 1) || math.IsNaN(sorted[0]) {
		return math.NaN()
	}
	switch rule {
	case Linear:
		// The same expression as Pitot's calibrate.margin.
		return quantile7(sorted, min((1-alpha)*(1+1/float64(n)), 1))
	case OrderStatistic:
		k := orderIndex(n, alpha)
		if k > n {
			return math.Inf(1)
		}
		return sorted[max(k, 1)-1]
	}
	panic(fmt.Sprintf("conformal: unknown %v", rule))
}

// Interval returns the half-width m of the two-sided split-conformal
// interval [ŷ − m, ŷ + m] at miscoverage alpha: the Margin of the absolute
// residuals |r_i| (Lei et al. 2018, section 2.2). With OrderStatistic a new
// label falls inside with probability in [1−α, 1−α + 1/(n+1)) for
// exchangeable data without ties; with Linear the coverage is at least
// 1 − α − 1/(n+1). Unlike the one-sided margin, m is never negative. It
// does not modify residuals; it is NaN under the conditions of Margin.
func Interval(residuals []float64, alpha float64, rule Rule) float64 {
	s := make([]float64, len(residuals))
	for i, r := range residuals {
		s[i] = math.Abs(r)
	}
	slices.Sort(s)
	return MarginSorted(s, alpha, rule)
}

// orderIndex returns k = ⌈(n+1)(1−α)⌉, treating values within a relative
// 1e-12 of an integer as that integer.
func orderIndex(n int, alpha float64) int {
	x := float64(n+1) * (1 - alpha)
	if r := math.Round(x); math.Abs(x-r) <= 1e-12*x {
		return int(r)
	}
	return int(math.Ceil(x))
}

// quantile7 is numpy.quantile(s, p) with method "linear" for sorted s and
// p in [0, 1], including NumPy's two-sided interpolation formula (_lerp),
// so that results agree to the last bit.
func quantile7(s []float64, p float64) float64 {
	h := float64(len(s)-1) * p
	i := int(math.Floor(h))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	g := h - float64(i)
	a, b := s[i], s[i+1]
	if g == 0 || a == b {
		return a
	}
	d := b - a
	if g >= 0.5 {
		return b - d*(1-g)
	}
	return a + d*g
}
