package train

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/paperlab/paperlab/lib/nn"
	"github.com/paperlab/paperlab/lib/pitot"
)

// countSubnormals returns the number of nonzero float32s in x below the
// smallest normal number, 2^-126.
func countSubnormals(x []float32) int {
	n := 0
	for _, v := range x {
		if b := math.Float32bits(v) & 0x7fffffff; b != 0 && b < 0x00800000 {
			n++
		}
	}
	return n
}

// TestNoSubnormalOperands trains every model family on the real data for
// a few hundred steps and counts, in every matrix product of every step,
// the subnormal elements of the operands (a, b, and c where the product
// accumulates into it) and of the result. All counts must be zero: on many
// x86 cores (Intel's among them) each subnormal operand or result costs a
// microcode assist, and before the engine flushed them the backward
// products of a Pitot step took 4-6x longer there (see the lib/nn package
// doc, Subnormals). The count does not depend on the CPU, so the test
// guards every machine. The parameters, their gradients and the optimizer
// state are checked at the end too.
func TestNoSubnormalOperands(t *testing.T) {
	data, s := testData(t)
	steps := 300
	families := []string{
		"pitot",                  // towers, baseline, interference heads
		"components/ignore",      // towers without interference, 4 learned features
		"conformal/optimal",      // eight pinball heads
		"components/naiveloss",   // percent loss on raw runtimes
		"baseline/factorization", // free embedding tables
		"baseline/monolith",      // one MLP over concatenated features
		"baseline/attention",     // attention over interferers
	}
	for _, name := range families {
		cfg, err := pitot.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := newTrainer(data, cfg, Run{Preset: name, Level: 0.5}, s, true)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		found := map[string]int{} // "operand of product shape" -> count
		products := 0
		nn.ObserveGemm(func(c nn.GemmCall) {
			shape := fmt.Sprintf("%dx%dx%d (transA %v, transB %v)", c.M, c.N, c.K, c.TransA, c.TransB)
			counts := map[string]int{}
			if !c.Done {
				counts["a"], counts["b"] = countSubnormals(c.A), countSubnormals(c.B)
				if c.Beta != 0 {
					counts["c before"] = countSubnormals(c.C[:c.M*c.N])
				}
			} else {
				counts["result"] = countSubnormals(c.C[:c.M*c.N])
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Done {
				products++
			}
			for k, v := range counts {
				if v > 0 {
					found[k+" of "+shape] += v
				}
			}
		})
		losses := make([]float64, len(tr.active))
		for range steps {
			tr.trainStep(losses)
		}
		nn.ObserveGemm(nil)
		ps := tr.model.Params()
		for _, p := range ps.List {
			found["parameter "+p.Name] += countSubnormals(p.Data)
			found["gradient of "+p.Name] += countSubnormals(p.Grad)
		}
		_, state := tr.opt.State()
		for k, v := range state {
			found["optimizer state "+k] += countSubnormals(v)
		}
		var bad []string
		for k, v := range found {
			if v > 0 {
				bad = append(bad, fmt.Sprintf("%s: %d", k, v))
			}
		}
		sort.Strings(bad)
		if products == 0 && name != "baseline/factorization" { // dot products of free tables only
			t.Errorf("%s: no matrix product observed in %d steps", name, steps)
		}
		if len(bad) > 0 {
			t.Errorf("%s: subnormals in %d steps (%d products):\n\t%s", name, steps, products, strings.Join(bad, "\n\t"))
		} else {
			t.Logf("%s: %d steps, %d products, no subnormal operand or result", name, steps, products)
		}
	}
}
