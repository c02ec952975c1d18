package conformal

import (
	"fmt"
	"math"
)

// Variant chooses between the metric definitions of Pitot's code and of its
// docstrings (specs 5.2 and 11.3).
type Variant int

const (
	// Coded is what Pitot computes and plots, and the default: the width is
	// relative to the bound and absolute, and MAPE is relative to the
	// prediction.
	Coded Variant = iota
	// Docstring is what Pitot's docstrings describe: the width is the
	// over-provisioning max(0, (Û − t)/t) and MAPE is relative to the truth,
	// |t̂/t − 1|.
	Docstring
)

// Coverage returns the fraction of labels strictly below their bound,
// mean [y_i < log Û_i] (specs 5.2; strict as in Pitot's calibrate.coverage).
// It is NaN for empty input and panics if the lengths differ.
func Coverage(y, logBound []float64) float64 { return coverage(y, logBound, 0) }

// Width returns the "bound tightness" of the upper bounds log Û for labels
// y. Coded (specs 5.2): mean |t/Û − 1| = mean |exp(y − log Û) − 1|, which is
// 1 for an infinite bound. Docstring: mean max(0, (Û − t)/t) =
// mean max(0, exp(log Û − y) − 1), +Inf for an infinite bound. It is NaN
// for empty input and panics if the lengths differ.
func Width(y, logBound []float64, v Variant) float64 { return width(y, logBound, 0, v) }

// MAPE returns the mean absolute percentage error of log predictions ŷ for
// log labels y. Coded (specs 5.2, Pitot's PercentError with log=True):
// mean |t/t̂ − 1| = mean |exp(y − ŷ) − 1|. Docstring: relative to the truth,
// mean |t̂/t − 1| = mean |exp(ŷ − y) − 1|. It is NaN for empty input and
// panics if the lengths differ.
func MAPE(y, yhat []float64, v Variant) float64 {
	check(y, yhat)
	var s float64
	for i := range y {
		d := y[i] - yhat[i]
		if v == Docstring {
			d = -d
		}
		s += math.Abs(math.Expm1(d))
	}
	return s / float64(len(y))
}

// RawMAPE returns mean |(t − t̂)/t| for runtimes and predictions on the raw
// (not log) scale: Pitot's PercentError with log=False, the MAPE of the
// naive-loss ablation (specs 5.2). It is NaN for empty input and panics if
// the lengths differ.
func RawMAPE(t, that []float64) float64 {
	check(t, that)
	var s float64
	for i := range t {
		s += math.Abs((t[i] - that[i]) / t[i])
	}
	return s / float64(len(t))
}

// coverage is Coverage of the bounds yhat + m.
func coverage(y, yhat []float64, m float64) float64 {
	check(y, yhat)
	var c int
	for i := range y {
		if y[i] < yhat[i]+m {
			c++
		}
	}
	return float64(c) / float64(len(y))
}

// width is Width of the bounds yhat + m.
func width(y, yhat []float64, m float64, v Variant) float64 {
	check(y, yhat)
	var s float64
	for i := range y {
		d := y[i] - (yhat[i] + m)
		if v == Docstring {
			s += max(0, math.Expm1(-d))
		} else {
			s += math.Abs(math.Expm1(d))
		}
	}
	return s / float64(len(y))
}

func check(y, yhat []float64) {
	if len(y) != len(yhat) {
		panic(fmt.Sprintf("conformal: %d labels but %d predictions", len(y), len(yhat)))
	}
}
