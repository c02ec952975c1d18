package apparate

import (
	"errors"
	"fmt"
)

// Optimal returns the inference latencies (ms) of the artifact's
// "optimal-exit" oracle (specs 4.11, the --optimal_exiting path) for the
// samples of t replayed in order under the batch sizes batches: batch k
// takes the next batches[k] samples, and the replay stops when fewer samples
// than the next batch size remain or the schedule ends (specs 4.5 step 2;
// the artifact's quirk of dropping the table's last sample, 4.13 item 6, is
// not kept), so samples beyond the schedule get no latency.
//
// All R ramps are active, each adding its cost to the ones behind it, so
// ramp r is reached at X_r = P_r + Σ_{m≤r} Q_m (Costs.Exits of all ramps)
// with the Costs of the batch's size. A sample exits at the first ramp that
// agrees with the original model, and its latency is capped by the vanilla
// latency:
// O_i = min(V, X_{first agreeing}). A sample no ramp agrees with runs to the
// end, X_{R+1} = V + Σ Q, which the same cap turns into V; hence O_i ≤ V.
//
// costsFor gives the latency calc list that prices a batch of b samples,
// rounded up to BatchSizes (specs 4.2): pass a profile's At method. It is
// called once per distinct size.
func Optimal(t *Table, costsFor func(b int) (Costs, error), batches []int) ([]float64, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if costsFor == nil {
		return nil, errors.New("apparate: optimal: nil costsFor")
	}
	n, ramps := t.Len(), t.Ramps()
	type priced struct {
		exits   []float64
		vanilla float64
	}
	bySize := map[int]priced{}
	all := make([]int, ramps)
	for r := range all {
		all[r] = r
	}
	var out []float64
	for k, b := range batches {
		if b < 1 {
			return nil, fmt.Errorf("apparate: optimal: batch %d has size %d, want ≥ 1", k, b)
		}
		if len(out)+b > n {
			break
		}
		p, ok := bySize[b]
		if !ok {
			c, err := costsFor(b)
			if err != nil {
				return nil, fmt.Errorf("apparate: optimal: batch %d: %w", k, err)
			}
			if len(c.Prefix) != ramps || len(c.Ramp) != ramps {
				return nil, fmt.Errorf("apparate: optimal: batch %d (size %d): costs have %d prefix and %d ramp latencies, table has %d ramps",
					k, b, len(c.Prefix), len(c.Ramp), ramps)
			}
			p = priced{c.Exits(all)[:ramps], c.Vanilla}
			bySize[b] = p
		}
		start := len(out)
		for i := start; i < start+b; i++ {
			out = append(out, oracleLatency(t, i, p.exits, p.vanilla))
		}
	}
	return out, nil
}

// oracleLatency is O_i of specs 4.11 for sample i.
func oracleLatency(t *Table, i int, exits []float64, vanilla float64) float64 {
	for r := range exits {
		if t.Agree[r][i] {
			return min(vanilla, exits[r])
		}
	}
	return vanilla
}
