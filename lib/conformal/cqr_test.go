package conformal

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestEvaluateSelectsTighterHead builds a case by hand. Validation labels
// y = 0 (t = 1); head 0 misses by ±1 and ±0.5, head 1 by ±0.1 and ±0.05.
// With n = 4 and α = 0.2 both rules take the largest residual (linear:
// p = 0.8·1.25 = 1; order statistic: k = ⌈5·0.8⌉ = 4), so the margins are
// 1 and 0.1.
func TestEvaluateSelectsTighterHead(t *testing.T) {
	val := Predictions{
		Y:     []float64{0, 0, 0, 0},
		Heads: [][]float64{{-1, 1, -0.5, 0.5}, {-0.1, 0.1, -0.05, 0.05}},
	}
	test := Predictions{
		Y:     []float64{0, math.Ln2},
		Heads: [][]float64{{0, 0}, {0.05, 0.5}},
	}
	e1 := math.Exp(1)
	for _, rule := range []Rule{Linear, OrderStatistic} {
		e, err := Evaluate(val, test, []float64{0.2}, rule)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"margin 0", e.Margin[0][0], 1},
			{"margin 1", e.Margin[0][1], 0.1},
			// Head 0: bounds ŷ+1 = {0, 2, 0.5, 1.5}; |e^{−b} − 1| averaged.
			{"val width 0", e.ValWidth[0][0], (0 - math.Expm1(-2) - math.Expm1(-0.5) - math.Expm1(-1.5)) / 4},
			// Head 1: bounds {0, 0.2, 0.05, 0.15}.
			{"val width 1", e.ValWidth[0][1], (0 - math.Expm1(-0.2) - math.Expm1(-0.05) - math.Expm1(-0.15)) / 4},
			// Head 0 on test: bounds {1, 1}; t/Û = 1/e, 2/e, both below 1:
			// ((1 − 1/e) + (1 − 2/e))/2 = 1 − 1.5/e; both covered.
			{"test width 0", e.WidthRaw[0][0], 1 - 1.5/e1},
			{"test coverage 0", e.CoverageRaw[0][0], 1},
			// Head 1 on test: bounds {0.15, 0.6}; 0 < 0.15 covered, ln 2 ≈ 0.693
			// ≥ 0.6 not; widths 1 − e^{−0.15} and e^{ln 2 − 0.6} − 1.
			{"test width 1", e.WidthRaw[0][1], (-math.Expm1(-0.15) + math.Expm1(math.Ln2-0.6)) / 2},
			{"test coverage 1", e.CoverageRaw[0][1], 0.5},
			// Head 1 is selected (val widths ≈ 0.092 against ≈ 0.509).
			{"width", e.Width[0], e.WidthRaw[0][1]},
			{"coverage", e.Coverage[0], 0.5},
			// MAPE of head 0 on test: |t/t̂ − 1| = |1−1|, |2−1|: 0.5.
			{"mape", e.MAPE, 0.5},
		} {
			if math.Abs(c.got-c.want) > tol {
				t.Errorf("%v: %s = %v, want %v", rule, c.name, c.got, c.want)
			}
		}
		if e.ValBest[0] != 1 {
			t.Errorf("%v: selected head %d, want 1", rule, e.ValBest[0])
		}
	}
}

// TestEvaluateTies: heads 1 and 2 are identical and tighter than head 0,
// so head 1, the first of the tied, is selected; with all heads
// identical, head 0.
func TestEvaluateTies(t *testing.T) {
	loose, tight := []float64{-1, 1, -0.5, 0.5}, []float64{-0.1, 0.1, -0.05, 0.05}
	y := []float64{0, 0, 0, 0}
	for _, c := range []struct {
		heads [][]float64
		want  int
	}{
		{[][]float64{loose, tight, tight}, 1},
		{[][]float64{tight, tight, tight}, 0},
	} {
		p := Predictions{Y: y, Heads: c.heads}
		e, err := Evaluate(p, p, nil, Linear)
		if err != nil {
			t.Fatal(err)
		}
		for a, b := range e.ValBest {
			if b != c.want {
				t.Errorf("α = %v: selected head %d, want %d", Alphas[a], b, c.want)
			}
		}
	}
	// numpy.argmin convention for NaN: the first NaN wins.
	if b := argmin([]float64{1, math.NaN(), 0}); b != 1 {
		t.Errorf("argmin with NaN = %d, want 1", b)
	}
}

// TestEvaluateSingleHead: with one head Evaluate is plain split conformal
// and must agree exactly with Margin, Width and Coverage called directly.
func TestEvaluateSingleHead(t *testing.T) {
	g := rand.New(rand.NewPCG(3, 0))
	draw := func(n int) Predictions {
		p := Predictions{Y: make([]float64, n), Heads: [][]float64{make([]float64, n)}}
		for i := range n {
			p.Heads[0][i] = 5 + g.NormFloat64()
			p.Y[i] = p.Heads[0][i] + 0.1*g.NormFloat64()
		}
		return p
	}
	val, test := draw(500), draw(300)
	e, err := Evaluate(val, test, nil, OrderStatistic)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Width) != len(Alphas) || e.Heads() != 1 {
		t.Fatalf("evaluation for %d alphas and %d heads, want %d and 1", len(e.Width), e.Heads(), len(Alphas))
	}
	for a, alpha := range Alphas {
		m := Margin(Residuals(val.Y, val.Heads[0]), alpha, OrderStatistic)
		b := make([]float64, len(test.Y))
		for i := range b {
			b[i] = test.Heads[0][i] + m
		}
		if e.Margin[a][0] != m || e.Width[a] != Width(test.Y, b, Coded) || e.Coverage[a] != Coverage(test.Y, b) || e.ValBest[a] != 0 {
			t.Errorf("α = %v: Evaluate (m %v, width %v, coverage %v) differs from the direct computation (%v, %v, %v)",
				alpha, e.Margin[a][0], e.Width[a], e.Coverage[a], m, Width(test.Y, b, Coded), Coverage(test.Y, b))
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	ok := Predictions{Y: []float64{0, 1}, Heads: [][]float64{{0, 1}, {1, 0}}}
	for _, c := range []struct {
		name      string
		val, test Predictions
		alphas    []float64
	}{
		{"empty validation", Predictions{Heads: [][]float64{{}, {}}}, ok, nil},
		{"empty test", ok, Predictions{Heads: [][]float64{{}, {}}}, nil},
		{"no heads", Predictions{Y: []float64{0}}, ok, nil},
		{"head length", Predictions{Y: []float64{0, 1}, Heads: [][]float64{{0, 1}, {1}}}, ok, nil},
		{"head count", ok, Predictions{Y: []float64{0}, Heads: [][]float64{{0}}}, nil},
		{"alpha 0", ok, ok, []float64{0.1, 0}},
		{"alpha 1.5", ok, ok, []float64{1.5}},
		{"no alphas", ok, ok, []float64{}},
	} {
		if _, err := Evaluate(c.val, c.test, c.alphas, Linear); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
