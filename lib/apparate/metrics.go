package apparate

import (
	"fmt"
	"math"
	"slices"
)

// Percentile returns the q-th percentile (q in [0, 100]) of x as NumPy's
// np.percentile computes it with its default "linear" method (Hyndman and
// Fan type 7): the sorted values are interpolated at position q/100·(n−1),
// with NumPy's two-sided interpolation formula, so results agree with NumPy
// to the last bit. x is not reordered. It returns NaN for an empty x or one
// holding a NaN (NumPy propagates NaN); q outside [0, 100] panics.
func Percentile(x []float64, q float64) float64 {
	if !(q >= 0 && q <= 100) {
		panic(fmt.Sprintf("apparate: percentile %v not in [0, 100]", q))
	}
	s, ok := sortedCopy(x)
	if !ok {
		return math.NaN()
	}
	pos := q / 100 * float64(len(s)-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return lerp(s[i], s[i+1], pos-lo)
}

// lerp interpolates between a and b at t ∈ [0, 1] as NumPy's _lerp does:
// from a for t < 0.5 and from b otherwise, which is exact at both ends.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// median returns np.median(x): the middle value, or the mean of the two
// middle values, which for even lengths may differ from Percentile(x, 50)
// in the last bit. NaN for an empty x or one holding a NaN.
func median(x []float64) float64 {
	s, ok := sortedCopy(x)
	if !ok {
		return math.NaN()
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sortedCopy returns x sorted in a new slice, and false if x is empty or
// holds a NaN.
func sortedCopy(x []float64) ([]float64, bool) {
	if len(x) == 0 || slices.ContainsFunc(x, math.IsNaN) {
		return nil, false
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return s, true
}

// EndToEnd returns the end-to-end latencies L(i) = q_i + inference[i] (ms)
// of the requests s serves, in serving order (FIFO, so the i-th served
// request is the i-th replayed sample), skipping dropped requests and
// stopping at whichever of the two runs out first (specs 4.12). inference
// is a replay's output: Apparate's E_i or the oracle's O_i.
func EndToEnd(s *Schedule, inference []float64) []float64 {
	var out []float64
	for _, r := range s.Requests {
		if len(out) == len(inference) {
			break
		}
		if !r.Dropped {
			out = append(out, r.Queue+inference[len(out)])
		}
	}
	return out
}

// VanillaLatencies returns L_van(i) = q_i + V_i (ms) of every request s
// serves, in serving order (specs 4.12). To compare with EndToEnd, keep the
// same first n requests; Aligned does both.
func VanillaLatencies(s *Schedule) []float64 {
	var out []float64
	for _, r := range s.Requests {
		if !r.Dropped {
			out = append(out, r.Queue+r.Vanilla)
		}
	}
	return out
}

// Aligned returns the end-to-end latencies of one workload as the figures
// use them (specs 4.12, parse_result_file): vanilla, Apparate (inference
// latencies app) and the oracle (opt), all over the first n served
// requests, n the length of the shortest of the served requests, app and,
// unless it is nil, opt. optL is nil when opt is.
func Aligned(s *Schedule, app, opt []float64) (van, appL, optL []float64) {
	van = VanillaLatencies(s)
	n := min(len(van), len(app))
	if opt != nil {
		n = min(n, len(opt))
		optL = EndToEnd(s, opt[:n])
	}
	return van[:n], EndToEnd(s, app[:n]), optL
}

// Win returns the latency win of app over van at the q-th percentile, in
// percent: 100·(1 − p_q(app)/p_q(van)) (specs 4.12). Positive means
// Apparate is faster.
func Win(app, van []float64, q float64) float64 {
	return 100 * (1 - Percentile(app, q)/Percentile(van, q))
}

// MedianWin returns 100·(1 − median(app)/median(van)), the per-workload
// number behind Fig. 12 (specs 4.12), with NumPy's median.
func MedianWin(app, van []float64) float64 {
	return 100 * (1 - median(app)/median(van))
}

// P95Win returns Win(app, van, 95).
func P95Win(app, van []float64) float64 { return Win(app, van, 95) }

// AbsWin returns p_q(van) − p_q(app) in the latencies' unit (ms): the
// absolute p50 and p25 wins printed with Fig. 14 (specs 4.12).
func AbsWin(app, van []float64, q float64) float64 {
	return Percentile(van, q) - Percentile(app, q)
}

// ErrorBarFloor is the smallest half-length (percentage points) of
// Apparate's error bars in Fig. 12: the paper's plotting script floors them
// for visibility (specs 4.12). Apply it with Bar.Floor.
const ErrorBarFloor = 2.0

// Bar is one bar of Fig. 12 or Fig. 13: the median over videos of a
// per-video number, with error bars from Min to Max.
type Bar struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize returns the bar of per-video values (specs 4.12): their median
// (NumPy's) and their minimum and maximum as error bars. An empty input
// gives NaNs.
func Summarize(perVideo []float64) Bar {
	if len(perVideo) == 0 {
		return Bar{math.NaN(), math.NaN(), math.NaN()}
	}
	return Bar{Median: median(perVideo), Min: slices.Min(perVideo), Max: slices.Max(perVideo)}
}

// Floor returns b with each error-bar half at least floor long: Min at most
// Median − floor and Max at least Median + floor. This is a plotting
// convention of the paper's Fig. 12 script for Apparate's bars (use
// ErrorBarFloor), not a statistic; keep the unfloored Bar for numbers.
func (b Bar) Floor(floor float64) Bar {
	b.Min = min(b.Min, b.Median-floor)
	b.Max = max(b.Max, b.Median+floor)
	return b
}

// CDF returns the empirical CDF of x as Fig. 14 draws it (specs 4.12): the
// values sorted ascending against rank/n, ranks counted from 1, so the last
// point is at 1. x is not reordered.
func CDF(x []float64) (xs, ps []float64) {
	xs = slices.Clone(x)
	slices.Sort(xs)
	ps = make([]float64, len(xs))
	for i := range ps {
		ps[i] = float64(i+1) / float64(len(xs))
	}
	return xs, ps
}
