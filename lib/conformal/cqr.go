package conformal

import (
	"fmt"
	"math"
	"slices"
)

// Alphas are Pitot's target miscoverages, 0.10, 0.09, …, 0.01: the test
// quantiles 90 … 99 % (specs 5.1), each written as (100 − q)/100 as Pitot
// computes them.
var Alphas = []float64{0.10, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01}

// Predictions are the log labels of one split and the log predictions of
// every output head of a model on it. Heads[j][i] predicts Y[i].
type Predictions struct {
	Y     []float64
	Heads [][]float64
}

// Evaluation holds the metrics of one (objective, run) for A miscoverages
// and N heads (specs 5.1 and 5.2, Pitot's scripts/evaluate.py). Slices
// indexed [a] or [a][j] follow Alphas[a] and head j.
type Evaluation struct {
	Alphas      []float64   // the A miscoverages
	MAPE        float64     // test MAPE of head 0 (Coded)
	Width       []float64   // [A] test width of the head selected on validation
	Coverage    []float64   // [A] test coverage of the selected head
	ValWidth    [][]float64 // [A][N] validation width of each conformalized head
	Margin      [][]float64 // [A][N] margin of each head, calibrated on validation
	WidthRaw    [][]float64 // [A][N] test width of each conformalized head
	CoverageRaw [][]float64 // [A][N] test coverage of each conformalized head
	ValBest     []int       // [A] the selected head: argmin over j of ValWidth[a][j]
}

// Heads returns N, the number of heads evaluated.
func (e *Evaluation) Heads() int {
	if len(e.Margin) == 0 {
		return 0
	}
	return len(e.Margin[0])
}

// Evaluate conformalizes every head of a model and selects one, as Pitot's
// evaluation does (specs 5.1): for each alpha and head j, the margin is
// Margin of the validation residuals val.Y − val.Heads[j] under rule; the
// validation width is the Coded Width of the conformalized head on val;
// the head with the smallest validation width is selected (the first on
// ties; a NaN width counts as smallest, as numpy.argmin does), and its test
// width and coverage are reported. The same validation split serves
// calibration and selection, as in Pitot. MAPE is the Coded MAPE of test
// head 0; for a model trained on raw runtimes (Pitot's naive-loss
// ablation) replace it by RawMAPE of the exponentiated values.
//
// A single head (N = 1) is plain split conformal regression. nil alphas
// mean Alphas. It returns an error for empty splits, heads whose length
// differs from the labels, different head counts in val and test, or an
// alpha outside (0, 1).
func Evaluate(val, test Predictions, alphas []float64, rule Rule) (Evaluation, error) {
	if alphas == nil {
		alphas = Alphas
	}
	if err := checkSplit("validation", val); err != nil {
		return Evaluation{}, err
	}
	if err := checkSplit("test", test); err != nil {
		return Evaluation{}, err
	}
	nh := len(val.Heads)
	if len(test.Heads) != nh {
		return Evaluation{}, fmt.Errorf("conformal: %d heads on validation but %d on test", nh, len(test.Heads))
	}
	if len(alphas) == 0 {
		return Evaluation{}, fmt.Errorf("conformal: no alphas")
	}
	for _, a := range alphas {
		if !(a > 0 && a < 1) {
			return Evaluation{}, fmt.Errorf("conformal: alpha %v outside (0, 1)", a)
		}
	}
	na := len(alphas)
	e := Evaluation{
		Alphas:      slices.Clone(alphas),
		MAPE:        MAPE(test.Y, test.Heads[0], Coded),
		Width:       make([]float64, na),
		Coverage:    make([]float64, na),
		ValWidth:    grid(na, nh),
		Margin:      grid(na, nh),
		WidthRaw:    grid(na, nh),
		CoverageRaw: grid(na, nh),
		ValBest:     make([]int, na),
	}
	r := make([]float64, len(val.Y))
	for j, h := range val.Heads {
		for i := range r {
			r[i] = val.Y[i] - h[i]
		}
		slices.Sort(r)
		for a, alpha := range alphas {
			m := MarginSorted(r, alpha, rule)
			e.Margin[a][j] = m
			e.ValWidth[a][j] = width(val.Y, h, m, Coded)
			e.WidthRaw[a][j] = width(test.Y, test.Heads[j], m, Coded)
			e.CoverageRaw[a][j] = coverage(test.Y, test.Heads[j], m)
		}
	}
	for a := range alphas {
		b := argmin(e.ValWidth[a])
		e.ValBest[a] = b
		e.Width[a] = e.WidthRaw[a][b]
		e.Coverage[a] = e.CoverageRaw[a][b]
	}
	return e, nil
}

func checkSplit(name string, p Predictions) error {
	if len(p.Y) == 0 {
		return fmt.Errorf("conformal: empty %s split", name)
	}
	if len(p.Heads) == 0 {
		return fmt.Errorf("conformal: no heads on the %s split", name)
	}
	for j, h := range p.Heads {
		if len(h) != len(p.Y) {
			return fmt.Errorf("conformal: %s head %d has %d predictions for %d labels", name, j, len(h), len(p.Y))
		}
	}
	return nil
}

// argmin is numpy.argmin: the first smallest value, or the first NaN.
func argmin(v []float64) int {
	b := 0
	for j, x := range v {
		if math.IsNaN(x) {
			return j
		}
		if x < v[b] {
			b = j
		}
	}
	return b
}

func grid(a, n int) [][]float64 {
	flat := make([]float64, a*n)
	g := make([][]float64, a)
	for i := range g {
		g[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return g
}
