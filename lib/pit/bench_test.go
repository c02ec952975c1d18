package pit

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchN is the benchmark size: 1024³ float32.
const benchN = 1024

// BenchmarkDense1024 is the dense baseline, Kernel on all 1024³ MACs.
func BenchmarkDense1024(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y, c := randomMatrix(rng, benchN, benchN), randomMatrix(rng, benchN, benchN), NewMatrix(benchN, benchN)
	for b.Loop() {
		Dense(x, y, c, 0)
	}
}

// BenchmarkPIT32x1 is MatmulK on a 32×1-granular mask (whole tiles),
// index construction included.
func BenchmarkPIT32x1(b *testing.B) {
	for _, s := range []float64{0.90, 0.95, 0.99} {
		b.Run(fmt.Sprintf("s=%g", s), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			m := randomMask(rng, benchN, benchN, Tile32x1, s, 1)
			x := masked(randomMatrix(rng, benchN, benchN), m)
			y, c := randomMatrix(rng, benchN, benchN), NewMatrix(benchN, benchN)
			var w Work
			for b.Loop() {
				w = MatmulK(x, m, y, c, 0)
			}
			b.ReportMetric(float64(w.MACs)/1e6, "MMACs")
			b.ReportMetric(float64(w.MicroTiles), "tiles")
		})
	}
}
