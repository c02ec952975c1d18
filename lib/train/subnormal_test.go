package train

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/pitot"
)

// TestNoSubnormalOperands trains every model family on the real data for
// a few hundred steps and counts (SubnormalCensus), in every matrix
// product of every step, the subnormal elements of the operands (a, b,
// and c where the product accumulates into it) and of the result, and
// then in the parameters, gradients and optimizer state. All counts must
// be zero: on many x86 cores (Intel's among them) each subnormal operand
// or result costs a microcode assist, and before the engine flushed them
// the backward products of a Pitot step ran 4-6x slower there (see the
// lib/nn package doc, Subnormals). The count does not depend on the CPU,
// so the test guards every machine, those where the slow path does not
// show included.
func TestNoSubnormalOperands(t *testing.T) {
	data, s := testData(t)
	const steps = 300
	for _, name := range []string{
		"pitot",                  // towers, linear baseline, interference heads
		"components/ignore",      // towers without interference, 4 learned features
		"conformal/optimal",      // eight pinball heads
		"components/naiveloss",   // percent loss on raw runtimes
		"baseline/factorization", // free embedding tables (no products: state only)
		"baseline/monolith",      // one MLP over concatenated features
		"baseline/attention",     // attention over interferers
	} {
		cfg, err := pitot.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := SubnormalCensus(data, cfg, s, steps)
		if err != nil {
			t.Fatal(err)
		}
		if c.Products == 0 && name != "baseline/factorization" {
			t.Errorf("%s: no matrix product observed in %d steps", name, steps)
		}
		if c.Total() == 0 {
			t.Logf("%s: %d steps, %d products, no subnormal operand, result or state", name, steps, c.Products)
			continue
		}
		var where []string
		for k, v := range c.Where {
			where = append(where, fmt.Sprintf("%s: %d", k, v))
		}
		sort.Strings(where)
		t.Errorf("%s: %d subnormal operands, %d results, %d in the state after %d steps (%d products):\n\t%s",
			name, c.Operands, c.Results, c.State, steps, c.Products, strings.Join(where, "\n\t"))
	}
}

// TestStepFloor checks the bookkeeping of StepFloor on the default model:
// it sees every product of a step (the same number SubnormalCensus
// counts), on the two lanes a step runs when the machine has two cores,
// with a positive time. (How the floor compares with the step is a
// benchmark, `make bench`, not a test.)
func TestStepFloor(t *testing.T) {
	data, s := testData(t)
	cfg, _ := pitot.Preset("pitot")
	f, err := StepFloor(data, cfg, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	c, err := SubnormalCensus(data, cfg, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	if f.Products != c.Products || f.Products == 0 {
		t.Errorf("floor replays %d products, a step runs %d", f.Products, c.Products)
	}
	if f.Time <= 0 || f.FLOPs <= 0 || f.Threads < 1 {
		t.Errorf("floor %+v", f)
	}
	t.Logf("floor: %+v", f)
}
