package conformal

import (
	"math"
	"testing"
)

// logs returns ln of each value.
func logs(v ...float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Log(x)
	}
	return out
}

func TestMetricsHand(t *testing.T) {
	// Runtimes t = {1, 2, 4}, one bound Û = 2 for all three.
	y, u := logs(1, 2, 4), logs(2, 2, 2)
	// Predictions t̂ = {2, 2, 8}.
	yhat := logs(2, 2, 8)
	inf := []float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		// y < log Û: 1 < 2 yes, 2 < 2 no (strict), 4 < 2 no.
		{"coverage", Coverage(y, u), 1.0 / 3},
		// |t/Û − 1| = |0.5−1|, |1−1|, |2−1| = 0.5, 0, 1: mean 0.5.
		{"width coded", Width(y, u, Coded), 0.5},
		// max(0, (Û−t)/t) = max(0, 1), 0, max(0, −0.5) = 1, 0, 0: mean 1/3.
		{"width docstring", Width(y, u, Docstring), 1.0 / 3},
		// An infinite bound: |t/∞ − 1| = 1; (∞ − t)/t = ∞.
		{"width coded inf", Width(y, inf, Coded), 1},
		{"width docstring inf", Width(y, inf, Docstring), math.Inf(1)},
		{"coverage inf", Coverage(y, inf), 1},
		// |t/t̂ − 1| = |1/2−1|, |1−1|, |4/8−1| = 0.5, 0, 0.5: mean 1/3.
		{"mape coded", MAPE(y, yhat, Coded), 1.0 / 3},
		// |t̂/t − 1| = |2−1|, 0, |2−1|: mean 2/3.
		{"mape docstring", MAPE(y, yhat, Docstring), 2.0 / 3},
		// Raw scale |(t − t̂)/t| = 1, 0, 1: mean 2/3 (the same quantity as the
		// docstring form, on runtimes instead of logs).
		{"raw mape", RawMAPE([]float64{1, 2, 4}, []float64{2, 2, 8}), 2.0 / 3},
	} {
		if !(c.got == c.want || math.Abs(c.got-c.want) <= tol) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for name, v := range map[string]float64{
		"coverage": Coverage(nil, nil), "width": Width(nil, nil, Coded),
		"mape": MAPE(nil, nil, Coded), "raw mape": RawMAPE(nil, nil),
	} {
		if !math.IsNaN(v) {
			t.Errorf("%s of nothing = %v, want NaN", name, v)
		}
	}
}

func TestMetricsLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Coverage of 2 labels and 1 bound did not panic")
		}
	}()
	Coverage([]float64{1, 2}, []float64{1})
}
