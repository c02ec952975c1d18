package workload

import (
	"math"
	"slices"

	"github.com/paperlab/paperlab/lib/apparate"
)

// Result is one workload's outcome: how it was made (Settings, Inputs,
// Params) and what it measured (Summary, Metrics). Latencies is set by Run
// and RunAll for a workload they ran, nil for one read back from disk (see
// ReadLatencies).
type Result struct {
	Workload Workload `json:"workload"`
	Settings Settings `json:"config"`
	Inputs   Inputs   `json:"inputs"`
	// Params are the controller parameters with defaults applied, and
	// StartRamps the ramps start-up chose (specs 4.9).
	Params     apparate.Params `json:"params"`
	StartRamps []int           `json:"start_ramps"`
	// Summary is the replay's last log line (specs 4.5 step 8): agreement,
	// mean inference improvement, exit distribution.
	Summary   apparate.Summary `json:"summary"`
	Metrics   Metrics          `json:"metrics"`
	Latencies *Latencies       `json:"-"`
}

// Stats are percentiles and the mean of one latency list, in ms, with
// NumPy's linear interpolation (apparate.Percentile).
type Stats struct {
	P25  float64 `json:"p25_ms"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	Mean float64 `json:"mean_ms"`
}

// Metrics are a workload's figure numbers (specs 4.12) over its aligned
// latencies, and what the vanilla schedule looked like.
type Metrics struct {
	Requests  int     `json:"requests"`      // aligned served requests n
	Dropped   int     `json:"dropped"`       // requests the vanilla schedule dropped
	Batches   int     `json:"batches"`       // batches of the vanilla schedule
	MeanBatch float64 `json:"mean_batch"`    // mean batch size
	MaxBatch  int     `json:"max_batch"`     // largest batch size
	MeanQueue float64 `json:"mean_queue_ms"` // mean queueing delay q of the aligned requests
	Vanilla   Stats   `json:"vanilla"`       // L_van
	Apparate  Stats   `json:"apparate"`      // L_app
	Optimal   Stats   `json:"optimal"`       // L_opt
	// Wins in percent, 100·(1 − p(L_app)/p(L_van)): the median win is
	// Fig. 12's per-video number (NumPy's median); P25 and P95 use
	// Percentile.
	MedianWin        float64 `json:"median_win_pct"`
	OptimalMedianWin float64 `json:"optimal_median_win_pct"`
	P25Win           float64 `json:"p25_win_pct"`
	OptimalP25Win    float64 `json:"optimal_p25_win_pct"`
	P95Win           float64 `json:"p95_win_pct"`
	// Absolute wins p(L_van) − p(L_app) in ms, printed with Fig. 14.
	AbsP50Win float64 `json:"abs_p50_win_ms"`
	AbsP25Win float64 `json:"abs_p25_win_ms"`
	// Agreement with the original model and the fraction of samples that
	// leave at a ramp (1 − the final layer's exit rate).
	Agreement float64 `json:"agreement"`
	ExitRate  float64 `json:"exit_rate"`
}

// metrics computes Metrics from a schedule, a replay and the aligned
// latencies.
// The order-free statistics are taken on sorted copies, which the
// percentile functions then sort again in linear time.
func metrics(s *apparate.Schedule, run *apparate.Run, l *Latencies) Metrics {
	van, app, opt := sorted(l.Vanilla), sorted(l.Apparate), sorted(l.Optimal)
	m := Metrics{
		Requests:         len(van),
		Batches:          len(s.Batches),
		Vanilla:          stats(van),
		Apparate:         stats(app),
		Optimal:          stats(opt),
		MedianWin:        apparate.MedianWin(app, van),
		OptimalMedianWin: apparate.MedianWin(opt, van),
		P25Win:           apparate.Win(app, van, 25),
		OptimalP25Win:    apparate.Win(opt, van, 25),
		P95Win:           apparate.P95Win(app, van),
		AbsP50Win:        apparate.AbsWin(app, van, 50),
		AbsP25Win:        apparate.AbsWin(app, van, 25),
		Agreement:        run.Summary.Agreement,
	}
	if rates := run.Summary.ExitRates; len(rates) > 0 {
		m.ExitRate = 1 - rates[len(rates)-1]
	}
	total := 0
	for _, b := range s.Batches {
		total += b
		m.MaxBatch = max(m.MaxBatch, b)
	}
	if len(s.Batches) > 0 {
		m.MeanBatch = float64(total) / float64(len(s.Batches))
	}
	served := 0
	var queue float64
	for _, r := range s.Requests {
		if r.Dropped {
			m.Dropped++
			continue
		}
		if served < m.Requests {
			queue += r.Queue
			served++
		}
	}
	if served > 0 {
		m.MeanQueue = queue / float64(served)
	}
	return m
}

// sorted returns x sorted in a new slice.
func sorted(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

// stats returns the Stats of x (NaN for an empty x).
func stats(x []float64) Stats {
	if len(x) == 0 {
		return Stats{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	return Stats{
		P25:  apparate.Percentile(x, 25),
		P50:  apparate.Percentile(x, 50),
		P95:  apparate.Percentile(x, 95),
		Mean: sum / float64(len(x)),
	}
}
