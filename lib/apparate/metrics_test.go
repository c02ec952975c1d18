package apparate

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestPercentile(t *testing.T) {
	// Expected values are np.percentile(x, q) (linear method), worked by
	// hand: position q/100·(n−1) in the sorted values.
	for _, tc := range []struct {
		x    []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 25, 1.75},   // pos 0.75
		{[]float64{1, 2, 3, 4}, 50, 2.5},    // pos 1.5
		{[]float64{1, 2, 3, 4}, 95, 3.85},   // pos 2.85
		{[]float64{4, 1, 3, 2}, 95, 3.85},   // order does not matter
		{[]float64{1, 2, 3, 4}, 0, 1},       //
		{[]float64{1, 2, 3, 4}, 100, 4},     //
		{[]float64{7}, 37, 7},               // one value
		{[]float64{10, 20, 30}, 50, 20},     // pos 1
		{[]float64{0, 10}, 10, 1},           // pos 0.1
		{[]float64{5, 5, 5, 9}, 90, 7.8},    // pos 2.7: 5 + 0.7·4
		{[]float64{-3, -1, 2}, 25, -2},      // pos 0.5
		{[]float64{2.83, 2.94}, 95, 2.9345}, // Fig. 13-like pair
	} {
		const tol = 1e-12 // a few ulps of values near 10
		if got := Percentile(tc.x, tc.q); math.Abs(got-tc.want) > tol {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.x, tc.q, got, tc.want)
		}
	}
	x := []float64{3, 1, 2}
	Percentile(x, 50)
	if !slices.Equal(x, []float64{3, 1, 2}) {
		t.Errorf("Percentile reordered its input: %v", x)
	}
	if !math.IsNaN(Percentile(nil, 50)) || !math.IsNaN(Percentile([]float64{1, math.NaN()}, 50)) {
		t.Error("Percentile of empty or NaN input is not NaN")
	}
}

func TestPercentilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Percentile(x, 101) did not panic")
		}
	}()
	Percentile([]float64{1}, 101)
}

func TestMedianWin(t *testing.T) {
	const tol = 1e-12
	app := []float64{1, 1, 2, 9}   // median 1.5
	van := []float64{3, 3, 3, 3.1} // median 3
	if got := MedianWin(app, van); math.Abs(got-50) > tol {
		t.Errorf("MedianWin = %v, want 50", got)
	}
	// p95: app pos 2.85 → 2 + 0.85·7 = 7.95; van 3 + 0.85·0.1 = 3.085.
	if got, want := P95Win(app, van), 100*(1-7.95/3.085); math.Abs(got-want) > 1e-9 {
		t.Errorf("P95Win = %v, want %v", got, want)
	}
	if got := Win(app, van, 50); math.Abs(got-50) > tol {
		t.Errorf("Win(50) = %v, want 50", got)
	}
	// p25: app pos 0.75 → 1; van 3: 2 ms faster.
	if got := AbsWin(app, van, 25); math.Abs(got-2) > tol {
		t.Errorf("AbsWin(25) = %v, want 2", got)
	}
}

// TestCVMedianWinDiscrete checks the structural prediction of specs 4.12:
// with every frame served alone on arrival (q = 0, V constant), the median
// win is 1 − X_j/V when the median frame exits at ramp j.
func TestCVMedianWinDiscrete(t *testing.T) {
	const v, x = 2.83, 1.10 // ms: vanilla and the exit at the median frame's ramp
	s := &Schedule{}
	inference := []float64{x, x, x, v + 0.11, x}
	for range inference {
		s.Requests = append(s.Requests, Request{Vanilla: v})
	}
	van, app, _ := Aligned(s, inference, nil)
	if got, want := MedianWin(app, van), 100*(1-x/v); math.Abs(got-want) > 1e-9 {
		t.Errorf("median win %v, want %v", got, want)
	}
	if p := Percentile(van, 95); p != v {
		t.Errorf("vanilla p95 %v, want V = %v", p, v)
	}
}

func TestEndToEnd(t *testing.T) {
	s := &Schedule{Requests: []Request{
		{Queue: 0, Vanilla: 10},
		{Dropped: true},
		{Queue: 2, Vanilla: 12},
		{Queue: 1, Vanilla: 12},
		{Queue: 5, Vanilla: 20},
	}}
	if got, want := VanillaLatencies(s), []float64{10, 14, 13, 25}; !slices.Equal(got, want) {
		t.Errorf("VanillaLatencies = %v, want %v", got, want)
	}
	// Three inference latencies: the dropped request is skipped and the
	// fourth served request has none.
	if got, want := EndToEnd(s, []float64{3, 4, 5}), []float64{3, 6, 6}; !slices.Equal(got, want) {
		t.Errorf("EndToEnd = %v, want %v", got, want)
	}
	// More latencies than served requests: cut at the served ones.
	if got, want := EndToEnd(s, []float64{1, 1, 1, 1, 1, 1}), []float64{1, 3, 2, 6}; !slices.Equal(got, want) {
		t.Errorf("EndToEnd (long) = %v, want %v", got, want)
	}
	van, app, opt := Aligned(s, []float64{3, 4, 5}, []float64{1, 1})
	if !slices.Equal(van, []float64{10, 14}) || !slices.Equal(app, []float64{3, 6}) || !slices.Equal(opt, []float64{1, 3}) {
		t.Errorf("Aligned = %v, %v, %v", van, app, opt)
	}
}

func TestSummarize(t *testing.T) {
	b := Summarize([]float64{81.5, -2.1, 81.5, 70, 90})
	if b != (Bar{Median: 81.5, Min: -2.1, Max: 90}) {
		t.Errorf("Summarize = %+v", b)
	}
	// Even count: median of the two middle values.
	if got := Summarize([]float64{1, 4, 2, 3}).Median; got != 2.5 {
		t.Errorf("median of 1..4 = %v", got)
	}
	// A single video: zero-length error bars, floored to ±2 pp for display.
	one := Summarize([]float64{65.4})
	const tol = 1e-12 // 65.4 − 2 is not exact in binary
	if f := one.Floor(ErrorBarFloor); f.Median != 65.4 || math.Abs(f.Min-63.4) > tol || math.Abs(f.Max-67.4) > tol {
		t.Errorf("floored bar %+v", f)
	}
	// Long halves are kept.
	if f := b.Floor(ErrorBarFloor); f.Min != -2.1 || f.Max != 90 {
		t.Errorf("floor changed long halves: %+v", f)
	}
	if e := Summarize(nil); !math.IsNaN(e.Median) {
		t.Errorf("Summarize(nil) = %+v", e)
	}
}

func TestCDF(t *testing.T) {
	x := []float64{3, 1, 2, 2}
	xs, ps := CDF(x)
	if !slices.Equal(xs, []float64{1, 2, 2, 3}) || !slices.Equal(ps, []float64{0.25, 0.5, 0.75, 1}) {
		t.Errorf("CDF = %v, %v", xs, ps)
	}
	if !slices.Equal(x, []float64{3, 1, 2, 2}) {
		t.Errorf("CDF reordered its input: %v", x)
	}
}

func ExamplePercentile() {
	x := []float64{1, 2, 3, 4}
	for _, q := range []float64{25, 50, 95} {
		fmt.Printf("p%v = %.2f\n", q, Percentile(x, q))
	}
	// Output:
	// p25 = 1.75
	// p50 = 2.50
	// p95 = 3.85
}
