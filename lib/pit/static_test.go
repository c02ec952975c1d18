package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStaticBlocksGrid(t *testing.T) {
	if len(StaticBlocks) != 12 {
		t.Fatalf("%d static blocks, want 12", len(StaticBlocks))
	}
	for _, r := range []int{8, 16, 32} {
		for _, c := range []int{8, 16, 32, 64} {
			if !slices.Contains(StaticBlocks, Tile{r, c}) {
				t.Errorf("grid lacks %dx%d", r, c)
			}
		}
	}
}

// TestTuneBCSR checks the search's structure on a small problem (the times
// themselves are machine-dependent) and that the chosen block computes the
// product.
func TestTuneBCSR(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const m, k, n = 100, 150, 21
	mask := randomMask(rng, m, k, Tile32x1, 0.9, 1)
	a := randomMatrix(rng, m, k) // values outside the mask must be ignored
	b := randomMatrix(rng, k, n)
	want := naive(masked(a, mask), b)
	for _, kr := range kernels {
		for _, blocks := range [][]Tile{StaticBlocks, {{3, 5}}, {Tile32x1, Block32x64, {8, 8}}} {
			var tu Tuned
			withKernel(kr.f, func() { tu = TuneBCSR(a, mask, b, blocks, 2, 3) })
			name := fmt.Sprintf("%s %v", kr.name, blocks)
			if !slices.Contains(blocks, tu.Block) {
				t.Fatalf("%s: chose %v, not a candidate", name, tu.Block)
			}
			if len(tu.Trials) != len(blocks) {
				t.Fatalf("%s: %d trials for %d candidates", name, len(tu.Trials), len(blocks))
			}
			var sum float64
			bestSec := tu.Trials[0].Seconds
			for i, tr := range tu.Trials {
				if tr.Block != blocks[i] || !(tr.Seconds > 0) {
					t.Errorf("%s: trial %d is %+v", name, i, tr)
				}
				sum += tr.Seconds
				bestSec = min(bestSec, tr.Seconds)
			}
			chosen := tu.Trials[slices.IndexFunc(tu.Trials, func(tr TuneTrial) bool { return tr.Block == tu.Block })]
			if chosen.Seconds != bestSec {
				t.Errorf("%s: chose %+v, fastest took %g s", name, chosen, bestSec)
			}
			if tu.TuningSeconds < sum {
				t.Errorf("%s: tuning took %g s, less than the trials' %g s", name, tu.TuningSeconds, sum)
			}
			x, _ := NewBCSR(a, mask, tu.Block, 2)
			c := randomMatrix(rng, m, n)
			withKernel(kr.f, func() { BCSRMatmul(x, b, c, 2) })
			if e := relErr(c.Data, want); e > relTol {
				t.Errorf("%s: product at the tuned block %v: rel err %g", name, tu.Block, e)
			}
		}
	}
}

func TestTuneBCSRPanics(t *testing.T) {
	for _, f := range []func(){
		func() { TuneBCSR(NewMatrix(4, 5), Mask{4, 5, make([]bool, 20)}, NewMatrix(6, 3), StaticBlocks, 1, 1) },
		func() { TuneBCSR(NewMatrix(4, 5), Mask{5, 4, make([]bool, 20)}, NewMatrix(5, 3), StaticBlocks, 1, 1) },
		func() { TuneBCSR(NewMatrix(4, 5), Mask{4, 5, make([]bool, 20)}, NewMatrix(5, 3), nil, 1, 1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !containsAll(fmt.Sprint(r), "pit: TuneBCSR") {
					t.Errorf("panic %v, want one from TuneBCSR", r)
				}
			}()
			f()
		}()
	}
}
