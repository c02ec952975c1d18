package conformal

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tol is the tolerance of hand-computed margins: they are sums of a few
// decimals, exact to a few ulps.
const tol = 1e-12

func TestMarginHand(t *testing.T) {
	// 1..10 shuffled, so Margin must sort (and must not keep the sort).
	ten := []float64{3, 1, 4, 10, 5, 9, 2, 6, 8, 7}
	nine := []float64{9, 1, 8, 2, 7, 3, 6, 4, 5}
	// Linear: level p = (1−α)(1+1/n), clipped to 1; 0-based position
	// h = (n−1)p; margin x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]) with x = sorted.
	// OrderStatistic: k = ⌈(n+1)(1−α)⌉, margin x_(k) (1-based), +Inf if k > n.
	for _, c := range []struct {
		name  string
		r     []float64
		alpha float64
		rule  Rule
		want  float64
	}{
		// n = 10, α = 0.1: p = 0.9·1.1 = 0.99, h = 9·0.99 = 8.91: 9 + 0.91.
		{"n10 a.1 linear", ten, 0.1, Linear, 9.91},
		// α = 0.25: p = 0.75·1.1 = 0.825, h = 7.425: 8 + 0.425.
		{"n10 a.25 linear", ten, 0.25, Linear, 8.425},
		// α = 0.5: p = 0.55, h = 4.95: 5 + 0.95.
		{"n10 a.5 linear", ten, 0.5, Linear, 5.95},
		// α = 0.05: p = 0.95·1.1 = 1.045, clipped to 1: the largest, 10.
		{"n10 a.05 linear clipped", ten, 0.05, Linear, 10},
		// α = 0.1: k = ⌈11·0.9⌉ = ⌈9.9⌉ = 10.
		{"n10 a.1 order", ten, 0.1, OrderStatistic, 10},
		// α = 0.25: k = ⌈11·0.75⌉ = ⌈8.25⌉ = 9.
		{"n10 a.25 order", ten, 0.25, OrderStatistic, 9},
		// α = 0.5: k = ⌈5.5⌉ = 6.
		{"n10 a.5 order", ten, 0.5, OrderStatistic, 6},
		// α = 0.05: k = ⌈11·0.95⌉ = ⌈10.45⌉ = 11 > 10: no finite bound.
		{"n10 a.05 order inf", ten, 0.05, OrderStatistic, math.Inf(1)},
		// n = 9, α = 0.7: k = ⌈10·0.3⌉ = 3, although 10·(1−0.7) is
		// 3.0000000000000004 in floating point (a plain Ceil gives 4).
		{"n9 a.7 order near-integer", nine, 0.7, OrderStatistic, 3},
		// n = 9, α = 0.7: p = 0.3·10/9 = 1/3, h = 8/3: 3 + 2/3.
		{"n9 a.7 linear", nine, 0.7, Linear, 11.0 / 3},
		// n = 1: k = ⌈2·0.9⌉ = 2 > 1; p = 0.9·2 clipped to 1.
		{"n1 order", []float64{-2}, 0.1, OrderStatistic, math.Inf(1)},
		{"n1 linear", []float64{-2}, 0.1, Linear, -2},
		// Negative residuals (a head above every label) give a negative
		// margin: {−10..−1}, α = 0.25, linear: −3 + 0.425.
		{"negative", []float64{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10}, 0.25, Linear, -2.575},
	} {
		in := slices.Clone(c.r)
		got := Margin(c.r, c.alpha, c.rule)
		if !(got == c.want || math.Abs(got-c.want) <= tol) {
			t.Errorf("%s: Margin = %v, want %v", c.name, got, c.want)
		}
		if !slices.Equal(in, c.r) {
			t.Errorf("%s: Margin modified its input: %v", c.name, c.r)
		}
		s := slices.Sorted(slices.Values(c.r))
		if g := MarginSorted(s, c.alpha, c.rule); g != got {
			t.Errorf("%s: MarginSorted = %v, Margin = %v", c.name, g, got)
		}
	}
}

func TestMarginInvalid(t *testing.T) {
	for _, c := range []struct {
		name  string
		r     []float64
		alpha float64
	}{
		{"empty", nil, 0.1},
		{"alpha 0", []float64{1, 2}, 0},
		{"alpha 1", []float64{1, 2}, 1},
		{"alpha negative", []float64{1, 2}, -0.1},
		{"alpha NaN", []float64{1, 2}, math.NaN()},
		{"NaN residual", []float64{1, math.NaN(), 2}, 0.1},
	} {
		for _, rule := range []Rule{Linear, OrderStatistic} {
			if m := Margin(c.r, c.alpha, rule); !math.IsNaN(m) {
				t.Errorf("%s, %v: Margin = %v, want NaN", c.name, rule, m)
			}
			if m := Interval(c.r, c.alpha, rule); !math.IsNaN(m) {
				t.Errorf("%s, %v: Interval = %v, want NaN", c.name, rule, m)
			}
		}
	}
}

func TestInterval(t *testing.T) {
	// |r| = 1..10, so the half-widths are the one-sided margins of 1..10
	// above: 8.425 (linear) and 9 (order statistic) at α = 0.25.
	r := []float64{-1, 2, -3, 4, -5, 6, -7, 8, -9, 10}
	in := slices.Clone(r)
	if m := Interval(r, 0.25, Linear); math.Abs(m-8.425) > tol {
		t.Errorf("linear: Interval = %v, want 8.425", m)
	}
	if m := Interval(r, 0.25, OrderStatistic); m != 9 {
		t.Errorf("order statistic: Interval = %v, want 9", m)
	}
	if !slices.Equal(in, r) {
		t.Errorf("Interval modified its input: %v", r)
	}
}

// cdfs are residual distributions with closed-form CDFs, from light to
// heavy tails.
var cdfs = []struct {
	name string
	draw func(*rand.Rand) float64
	cdf  func(float64) float64
}{
	{"uniform", func(g *rand.Rand) float64 { return g.Float64() }, func(x float64) float64 { return min(max(x, 0), 1) }},
	{"gaussian", func(g *rand.Rand) float64 { return g.NormFloat64() }, func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }},
	{"cauchy", func(g *rand.Rand) float64 { return math.Tan(math.Pi * (g.Float64() - 0.5)) }, func(x float64) float64 { return 0.5 + math.Atan(x)/math.Pi }},
}

// TestCoverageMonteCarlo runs split conformal on exchangeable synthetic
// data: per trial, n = 100 calibration residuals and one test residual from
// the same distribution (the prediction is 0, so y = r). The covered
// fraction over trials estimates the marginal coverage P(y < ŷ + m) with
// binomial standard error se = sqrt(α(1−α)/trials) (0.0067 for α = 0.1 and
// 2,000 trials). The order-statistic rule must lie in [1−α, 1−α + 1/(n+1)]
// (Lei et al. 2018, Theorem 2.2) and Pitot's linear rule at or above 1−α,
// each widened by 3 se.
func TestCoverageMonteCarlo(t *testing.T) {
	const trials, n = 2000, 100
	for di, d := range cdfs {
		for _, alpha := range []float64{0.1, 0.05} {
			g := rand.New(rand.NewPCG(1, uint64(di)))
			r := make([]float64, n)
			covered := map[Rule]int{}
			for range trials {
				for i := range r {
					r[i] = d.draw(g)
				}
				slices.Sort(r)
				y := d.draw(g)
				for _, rule := range []Rule{Linear, OrderStatistic} {
					if y < MarginSorted(r, alpha, rule) {
						covered[rule]++
					}
				}
			}
			se := math.Sqrt(alpha * (1 - alpha) / trials)
			lin := float64(covered[Linear]) / trials
			ord := float64(covered[OrderStatistic]) / trials
			if lo, hi := 1-alpha-3*se, 1-alpha+1.0/(n+1)+3*se; ord < lo || ord > hi {
				t.Errorf("%s α=%v: order-statistic coverage %.4f outside [%.4f, %.4f]", d.name, alpha, ord, lo, hi)
			}
			if lo := 1 - alpha - 3*se; lin < lo {
				t.Errorf("%s α=%v: linear coverage %.4f below %.4f", d.name, alpha, lin, lo)
			}
		}
	}
}

// TestCoverageExact is a sharper version: it averages the exact conditional
// coverage F(m) of each trial's margin m instead of one Bernoulli draw, an
// unbiased estimate of the marginal coverage whose standard error is about
// 0.0002 at n = 100 and 20,000 trials, well below the 1/(n+1) ≈ 0.01 that
// an off-by-one in the order-statistic index would shift it.
//
// Expected values, for continuous F: F(r_(j)) ~ Beta(j, n+1−j), so
// E F(r_(j)) = j/(n+1). The order-statistic rule gives k/(n+1) (1 when
// k > n, m = +Inf). The linear rule's margin lies between r_(⌊H⌋) and
// r_(⌊H⌋+1), H = (n−1)p + 1 (1-based), so its coverage lies in
// [⌊H⌋/(n+1), (⌊H⌋+1)/(n+1)]; for the uniform F(x) = x it is exactly
// H/(n+1). Tolerance: 4 standard errors of the trial mean.
func TestCoverageExact(t *testing.T) {
	trials := 20000
	if testing.Short() {
		trials = 4000
	}
	for _, c := range []struct {
		n     int
		alpha float64
		k     int     // ⌈(n+1)(1−α)⌉
		h     float64 // (n−1)·min(1, (1−α)(1+1/n)) + 1
	}{
		{100, 0.1, 91, 90.991},   // ⌈90.9⌉; p = 0.909, H = 99·0.909 + 1
		{100, 0.05, 96, 95.9905}, // ⌈95.95⌉; p = 0.9595, H = 99·0.9595 + 1
		{19, 0.05, 19, 19},       // 20·0.95 = 19 exactly; p = 1
		{50, 0.01, 51, 50},       // ⌈50.49⌉ > 50: +Inf; p = 1.0098 clipped to 1
	} {
		for di, d := range cdfs {
			g := rand.New(rand.NewPCG(2, uint64(100*c.n+di)))
			r := make([]float64, c.n)
			var sum, sum2 [2]float64
			for range trials {
				for i := range r {
					r[i] = d.draw(g)
				}
				slices.Sort(r)
				for ri, rule := range []Rule{Linear, OrderStatistic} {
					f := d.cdf(MarginSorted(r, c.alpha, rule))
					sum[ri] += f
					sum2[ri] += f * f
				}
			}
			var mean, se [2]float64
			for i := range mean {
				mean[i] = sum[i] / float64(trials)
				v := max(sum2[i]/float64(trials)-mean[i]*mean[i], 0)
				se[i] = math.Sqrt(v / float64(trials))
			}
			n1 := float64(c.n + 1)
			wantOrd := min(float64(c.k)/n1, 1)
			if math.Abs(mean[1]-wantOrd) > 4*se[1]+1e-12 {
				t.Errorf("n=%d α=%v %s: order-statistic coverage %.5f, want %.5f ± %.5f", c.n, c.alpha, d.name, mean[1], wantOrd, 4*se[1])
			}
			lo, hi := math.Floor(c.h)/n1, (math.Floor(c.h)+1)/n1
			if d.name == "uniform" {
				lo, hi = c.h/n1, c.h/n1
			}
			if mean[0] < lo-4*se[0]-1e-12 || mean[0] > hi+4*se[0]+1e-12 {
				t.Errorf("n=%d α=%v %s: linear coverage %.5f outside [%.5f, %.5f] ± %.5f", c.n, c.alpha, d.name, mean[0], lo, hi, 4*se[0])
			}
		}
	}
}
