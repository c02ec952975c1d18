package apparate

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/paperlab/paperlab/lib/internal/jsonfile"

	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/repo"
)

// Clockwork emulates the Clockwork-style batching of the vanilla model
// (specs/apparate.md 4.4) over arrival times in ms (non-decreasing,
// non-negative) with a latency SLO in ms, pricing a batch of b with the
// vanilla latency p.ByBatch[b].Vanilla for every b of BatchSizes. Request i
// has deadline d_i = t_i + slo. The emulator keeps one FIFO queue per batch
// size and, from now = 0, repeats:
//
//  1. admit the requests that have arrived (t_i ≤ now);
//  2. queue b holds the admitted requests after the last one served that can
//     still meet their deadline in a batch of b: now + V[b] ≤ d_i (a request
//     whose deadline has passed is in no queue);
//  3. if every queue is empty, jump to the next arrival (or stop);
//  4. rank the non-empty queues by latest start d_head − V[b], ascending
//     (ties: smaller b first), and pick the first with latest start ≥ now
//     and at least b requests; if none qualifies, jump to the next arrival
//     (or stop). Latest start ≥ now holds for every non-empty queue by step
//     2, so only the count is tested: d_head − V[b] ≥ now, tested as such,
//     can fail by rounding where now + V[b] ≤ d_head holds (the artifact
//     would then find no strategy and abort; with SLO = V(1) at 30 FPS
//     this happens for a few frames in 10^5);
//  5. serve the first b requests of that queue, each with queueing delay
//     now − t_i and inference V[b], and advance now by V[b].
//
// A request never served is dropped: its deadline passed while it waited,
// or a batch served later requests past it.
//
// Implementation: because the arrivals are sorted and the SLO is shared,
// deadlines are sorted too, and each queue is a contiguous range of request
// indices, [lo_b, hi): hi is the first request not yet arrived, and lo_b the
// first request after the last one served whose deadline is at least now +
// V[b]. hi, lo_b and the last served index only grow, so the emulation runs
// in time O(n·len(BatchSizes)), without queues in memory.
func Clockwork(arrivals []float64, slo float64, p *Profile) (*Schedule, error) {
	var vanilla [maxBatchSizes]float64
	if len(BatchSizes) > maxBatchSizes {
		panic("apparate: too many batch sizes")
	}
	for k, b := range BatchSizes {
		c, ok := p.ByBatch[b]
		if !ok {
			return nil, fmt.Errorf("apparate: clockwork: profile %q has no costs for batch size %d", p.Model, b)
		}
		if !positiveFinite(c.Vanilla) {
			return nil, fmt.Errorf("apparate: clockwork: profile %q, batch size %d: vanilla_ms = %g, want positive and finite", p.Model, b, c.Vanilla)
		}
		vanilla[k] = c.Vanilla
	}
	if !positiveFinite(slo) {
		return nil, fmt.Errorf("apparate: clockwork: SLO %g ms, want positive and finite", slo)
	}
	for i, t := range arrivals {
		if !(t >= 0) || math.IsInf(t, 1) || (i > 0 && t < arrivals[i-1]) {
			return nil, fmt.Errorf("apparate: clockwork: arrival %d at %g ms, want finite, non-negative and non-decreasing", i, t)
		}
	}
	return clockwork(arrivals, slo, vanilla[:len(BatchSizes)]), nil
}

// maxBatchSizes bounds len(BatchSizes) so the emulator's per-batch-size
// state lives on the stack.
const maxBatchSizes = 16

// clockwork is Clockwork on validated input; vanilla[k] prices a batch of
// BatchSizes[k].
func clockwork(arrivals []float64, slo float64, vanilla []float64) *Schedule {
	n := len(arrivals)
	s := &Schedule{SLO: slo, Requests: make([]Request, n)}
	for i, t := range arrivals {
		s.Requests[i] = Request{Arrival: t, Dropped: true}
	}
	deadline := func(i int) float64 { return arrivals[i] + slo }

	var (
		lo    [maxBatchSizes]int // first candidate of queue k
		order [maxBatchSizes]int // queues ranked by latest start
		start [maxBatchSizes]float64
		now   float64
		next  int // last served + 1
		hi    int // first request not yet arrived
	)
	nq := len(vanilla)
	for {
		for hi < n && arrivals[hi] <= now {
			hi++
		}
		// Queue k is [lo[k], hi); rank the non-empty ones.
		m := 0
		for k := range nq {
			l := max(lo[k], next)
			for l < hi && now+vanilla[k] > deadline(l) {
				l++
			}
			lo[k] = l
			if l == hi {
				continue
			}
			start[k] = deadline(l) - vanilla[k]
			// Insertion keeps ties in BatchSizes order.
			j := m
			for j > 0 && start[order[j-1]] > start[k] {
				order[j] = order[j-1]
				j--
			}
			order[j] = k
			m++
		}
		pick := -1
		for _, k := range order[:m] {
			if hi-lo[k] >= BatchSizes[k] {
				pick = k
				break
			}
		}
		if pick < 0 {
			if hi == n {
				break
			}
			now = arrivals[hi]
			continue
		}
		b, v := BatchSizes[pick], vanilla[pick]
		for i := lo[pick]; i < lo[pick]+b; i++ {
			s.Requests[i] = Request{Arrival: arrivals[i], Queue: now - arrivals[i], Vanilla: v}
		}
		next = lo[pick] + b
		now += v
		s.End = now
		s.Batches = append(s.Batches, b)
	}
	return s
}

// scheduleFile is the on-disk form of a Schedule (specs 6.7, after the
// artifact's batch_decisions pickles of specs 3.1): per_request_stats holds
// [queue_ms, vanilla_ms] for a served request and null for a dropped one.
type scheduleFile struct {
	Scheme   string       `json:"batching_scheme"`
	Batches  []int        `json:"batching_decision"`
	Stats    []*[]float64 `json:"per_request_stats"`
	Arrivals []float64    `json:"arrival_ms"`
	Total    int          `json:"total_num_requests"`
	SLO      float64      `json:"slo_ms"`
	AvgQPS   float64      `json:"avg_qps"`
	End      float64      `json:"end_time_ms"`
}

// WriteSchedule writes s as JSON (specs 6.7) to path, atomically: into a
// temporary file in the same directory, then renamed over path. Besides the
// schedule it records the number of requests and avg_qps, the mean arrival
// rate in requests per second over the span of the arrivals (0 for fewer
// than two distinct arrival times).
func WriteSchedule(path string, s *Schedule) error {
	n := len(s.Requests)
	f := scheduleFile{
		Scheme:   "clockwork",
		Batches:  s.Batches,
		Stats:    make([]*[]float64, n),
		Arrivals: make([]float64, n),
		Total:    n,
		SLO:      s.SLO,
		End:      s.End,
	}
	if f.Batches == nil {
		f.Batches = []int{}
	}
	pairs := make([]float64, 2*n)
	stats := make([][]float64, n)
	for i, r := range s.Requests {
		f.Arrivals[i] = r.Arrival
		if !r.Dropped {
			pairs[2*i], pairs[2*i+1] = r.Queue, r.Vanilla
			stats[i] = pairs[2*i : 2*i+2 : 2*i+2]
			f.Stats[i] = &stats[i]
		}
	}
	if n > 1 {
		if span := s.Requests[n-1].Arrival - s.Requests[0].Arrival; span > 0 {
			f.AvgQPS = float64(n) * 1000 / span
		}
	}
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("apparate: write %s: %w", path, err)
	}
	return repo.WriteFile(path, append(data, '\n'))
}

// ReadSchedule reads a schedule written by WriteSchedule and checks it:
// the keys batching_decision, per_request_stats, slo_ms and end_time_ms
// present, batch sizes from BatchSizes, as many served requests as the
// batches hold, every entry of per_request_stats null or a pair of a
// non-negative queueing delay and a positive vanilla latency,
// total_num_requests (unless 0) the number of requests, and arrival_ms
// non-negative, non-decreasing and as long as per_request_stats.
// arrival_ms may be absent (a schedule converted from the artifact's
// pickles); the requests' Arrival is then 0. Errors are one line naming
// the file and the key.
func ReadSchedule(path string) (*Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("apparate: read schedule: %w", err)
	}
	var f scheduleFile
	if err := jsonfile.DecodeObject(path, data, []jsonfile.Key{
		jsonfile.Optional("batching_scheme", &f.Scheme),
		jsonfile.Required("batching_decision", &f.Batches),
		jsonfile.Required("per_request_stats", &f.Stats),
		jsonfile.Optional("arrival_ms", &f.Arrivals),
		jsonfile.Optional("total_num_requests", &f.Total),
		jsonfile.Required("slo_ms", &f.SLO),
		jsonfile.Optional("avg_qps", &f.AvgQPS),
		jsonfile.Required("end_time_ms", &f.End),
	}); err != nil {
		return nil, fmt.Errorf("apparate: schedule %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("apparate: schedule %s: "+format, append([]any{path}, args...)...)
	}
	switch {
	case f.Batches == nil:
		return nil, fmt.Errorf("apparate: schedule %w", &npz.Error{File: path, Key: "batching_decision", Expected: "an array of batch sizes", Found: "null"})
	case f.Stats == nil:
		return nil, fmt.Errorf("apparate: schedule %w", &npz.Error{File: path, Key: "per_request_stats", Expected: "an array", Found: "null"})
	}
	if f.Arrivals != nil && len(f.Arrivals) != len(f.Stats) {
		return nil, bad("arrival_ms has %d entries, per_request_stats %d", len(f.Arrivals), len(f.Stats))
	}
	if f.Total != 0 && f.Total != len(f.Stats) {
		return nil, bad("total_num_requests = %d, per_request_stats has %d entries", f.Total, len(f.Stats))
	}
	for i, t := range f.Arrivals {
		if !(t >= 0) || (i > 0 && t < f.Arrivals[i-1]) {
			return nil, bad("arrival_ms[%d] = %g, want non-negative and non-decreasing", i, t)
		}
	}
	batched := 0
	for j, b := range f.Batches {
		if !slices.Contains(BatchSizes, b) {
			return nil, bad("batching_decision[%d] = %d, want one of %v", j, b, BatchSizes)
		}
		batched += b
	}
	s := &Schedule{Batches: f.Batches, Requests: make([]Request, len(f.Stats)), SLO: f.SLO, End: f.End}
	served := 0
	for i, st := range f.Stats {
		r := &s.Requests[i]
		if f.Arrivals != nil {
			r.Arrival = f.Arrivals[i]
		}
		if st == nil {
			r.Dropped = true
			continue
		}
		if len(*st) != 2 {
			return nil, bad("per_request_stats[%d] = %v, want null or a pair [queue_ms, vanilla_ms]", i, *st)
		}
		if q, v := (*st)[0], (*st)[1]; !(q >= 0) || math.IsInf(q, 1) || !positiveFinite(v) {
			return nil, bad("per_request_stats[%d] = %v, want a non-negative queue_ms and a positive vanilla_ms", i, *st)
		}
		r.Queue, r.Vanilla = (*st)[0], (*st)[1]
		served++
	}
	if served != batched {
		return nil, bad("%d requests served, batching_decision holds %d", served, batched)
	}
	return s, nil
}
