package pitot

import (
	"math"
	"testing"
)

// TestLRAt checks the learning-rate schedule against hand-computed values:
// constant by default (the paper's), a linear warm-up, and a cosine decay
// that is at LR/2 halfway through the decay and near 0 at the last step.
func TestLRAt(t *testing.T) {
	c := Training{Steps: 1000, LR: 1e-3}
	for _, s := range []int{0, 500, 999} {
		if got := c.LRAt(s); got != 1e-3 {
			t.Errorf("constant schedule at step %d: %g", s, got)
		}
	}
	c.Warmup, c.Decay = 100, DecayCosine
	for _, tc := range []struct {
		step int
		want float64
	}{
		{0, 1e-5}, {49, 5e-4}, {99, 1e-3}, {100, 1e-3}, {550, 5e-4}, {999, 1e-3 * 0.5 * (1 + math.Cos(math.Pi*899/900))},
	} {
		if got := c.LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("step %d: %g, want %g", tc.step, got, tc.want)
		}
	}
	bad := Config{Train: Training{Steps: 10, Warmup: 10}}.Resolve()
	if bad.Validate() == nil {
		t.Error("warm-up as long as the run accepted")
	}
	bad = Config{Train: Training{Decay: "linear"}}.Resolve()
	if bad.Validate() == nil {
		t.Error("unknown decay accepted")
	}
}
