// Package apparate is a trace-replay simulator of Apparate (SOSP 2024),
// which adds early-exit ramps to a served model and returns a request's
// result at the first ramp confident enough, while the batch still runs to
// the end (specs/apparate.md). The simulator does not model GPU execution:
// it replays a vanilla Clockwork-style batch schedule over per-sample tables
// of ramp confidence and agreement, and prices every exit with per-batch-size
// latency profiles.
//
// The pieces, each usable on its own:
//
//   - Profile: a model's latency calc list (prefix, ramp and vanilla
//     latencies) at every batch size, and ExitLatencies for an active ramp set.
//   - arrival traces (fixed-rate video frames; per-minute counts spread evenly
//     within each minute) and the Clockwork batching emulator (Schedule).
//   - Table: per-sample confidence and agreement with the original model at
//     every candidate ramp, and the synthetic generators that stand in for the
//     artifact's unpublished tables.
//   - the controller: threshold tuning, ramp utility and adjustment, start-up,
//     and the optimal-exit oracle.
package apparate

// BatchSizes are the batch sizes profiles are given for and the Clockwork
// emulator schedules (specs/apparate.md 3.1, 3.4).
var BatchSizes = []int{1, 2, 4, 8, 16, 32, 64}

// Costs is a model's latency calc list at one batch size (specs 3.4, 4.2),
// in milliseconds: candidate ramp r sits after a prefix of the model that
// costs Prefix[r] and itself costs Ramp[r]; the whole vanilla model costs
// Vanilla.
type Costs struct {
	Prefix  []float64 `json:"prefix_ms"`
	Ramp    []float64 `json:"ramp_ms"`
	Vanilla float64   `json:"vanilla_ms"`
}

// Profile is a model's Costs at every batch size of BatchSizes.
type Profile struct {
	Model   string        `json:"model"`
	Source  string        `json:"source"` // where the numbers come from (measured, synthetic: parameters)
	ByBatch map[int]Costs `json:"by_bs"`
}

// Table holds, for every sample of a stream (in arrival order) and every
// candidate ramp r, the ramp's confidence Conf[r][i] in [0, 1] and whether
// its prediction agrees with the original model's, Agree[r][i] (specs 3.2).
// A sample exits at an active ramp j when 1 − Conf[j][i] < threshold_j.
type Table struct {
	Conf  [][]float32
	Agree [][]bool
}

// Ramps returns the number of candidate ramps R.
func (t *Table) Ramps() int { return len(t.Conf) }

// Len returns the number of samples.
func (t *Table) Len() int {
	if len(t.Conf) == 0 {
		return 0
	}
	return len(t.Conf[0])
}

// Request is one request of a vanilla schedule: its arrival time, and, if
// served, its queueing delay and the vanilla inference latency of its batch
// (specs 3.1 per_request_stats), in milliseconds.
type Request struct {
	Arrival float64 `json:"arrival_ms"`
	Queue   float64 `json:"queue_ms"`
	Vanilla float64 `json:"vanilla_ms"`
	Dropped bool    `json:"dropped,omitempty"`
}

// Schedule is a vanilla batch schedule: batch sizes in execution order
// and the fate of every request, indexed by arrival order (specs 3.1). Served
// requests are served in arrival order (FIFO).
type Schedule struct {
	Batches  []int     `json:"batching_decision"`
	Requests []Request `json:"requests"`
	SLO      float64   `json:"slo_ms"`
	End      float64   `json:"end_time_ms"`
}
