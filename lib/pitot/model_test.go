package pitot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paperlab/paperlab/lib/nn"
)

// testSide is a tiny dataset: 6 workloads with 3 features, 4 platforms
// with 2 features.
func testSide() Side {
	rng := rand.New(rand.NewPCG(1, 2))
	s := Side{Workloads: 6, Platforms: 4, WorkloadDim: 3, PlatformDim: 2}
	s.WorkloadFeatures = make([]float32, 6*3)
	s.PlatformFeatures = make([]float32, 4*2)
	for i := range s.WorkloadFeatures {
		s.WorkloadFeatures[i] = float32(rng.NormFloat64())
	}
	for i := range s.PlatformFeatures {
		s.PlatformFeatures[i] = float32(rng.NormFloat64())
	}
	return s
}

// testBatches are an "mf" batch and a 3-way interference batch. Workload
// index 5 as an interferer exceeds the 4 platforms, exercising the clamp of
// the bug-compatible indexing.
func testBatches() []Samples {
	return []Samples{
		{Workload: []int{0, 3, 5}, Platform: []int{1, 0, 3}},
		{Workload: []int{2, 4, 1, 0}, Platform: []int{3, 2, 0, 1}, Interferers: [][]int{{5, 0, 2, 3}, {1, 5, 4, 4}}},
	}
}

func smallConfig(c Config) Config {
	c.MFDim, c.IFDim = 3, 2
	c.Workload.Layers, c.Platform.Layers = []int{5}, []int{5}
	c.Hidden, c.OutputLayers = []int{6}, []int{4}
	c.AttentionDim, c.ValueDim = 3, 2
	c.Train.BatchSize = 8
	return c
}

// loss is Σ c·ŷ over both batches, whose gradient with respect to ŷ is c.
func lossAndGrad(m Model[float64], batches []Samples, coef [][]float64, backward bool) float64 {
	m.Prepare()
	var l float64
	for b, s := range batches {
		out := make([]float64, s.Len()*m.Heads())
		m.Predict(s, out)
		for i, y := range out {
			l += coef[b][i] * y
		}
		if backward {
			m.Backward(s, coef[b])
		}
	}
	if backward {
		m.Finish()
	}
	return l
}

// TestGradients checks every model's parameter gradients against float64
// central differences. Step 1e-6 balances truncation (O(h²)) and rounding
// (O(ε/h)) error for values of order 1; 1e-5 relative tolerance leaves a
// margin of ~100 over the errors seen.
func TestGradients(t *testing.T) {
	const h, tol = 1e-6, 1e-5
	cases := map[string]Config{
		"pitot":           {},
		"pitot-bugcompat": {BugCompatIFIndex: true},
		"pitot-pinball":   {Loss: LossPinball, Quantiles: []float64{50, 90}},
		"notrectified":    {IFSlope: 1},
		"nobaseline-free": {NoBaseline: true, Workload: Tower{Free: true}, Platform: Tower{Free: true}},
		"ignore":          {Kind: KindIgnore, Workload: Tower{Learned: 4}},
		"no-learned":      {Workload: Tower{Learned: -1}, Platform: Tower{Learned: -1}},
		"monolith":        {Kind: KindMonolith},
		"attention":       {Kind: KindAttention, Loss: LossPinball, Quantiles: []float64{50, 90}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := New[float64](smallConfig(c), testSide())
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			m.Init(rng)
			if tt, ok := m.(*twoTower[float64]); ok {
				a, b := make([]float64, 4), make([]float64, 6)
				for i := range a {
					a[i] = rng.NormFloat64()
				}
				for i := range b {
					b[i] = rng.NormFloat64()
				}
				tt.SetBaseline(a, b)
				// Push G away from 0 half the time so both slopes are tested.
			}
			batches := testBatches()
			coef := make([][]float64, len(batches))
			for b, s := range batches {
				coef[b] = make([]float64, s.Len()*m.Heads())
				for i := range coef[b] {
					coef[b][i] = rng.NormFloat64()
				}
			}
			ps := m.Params()
			ps.ZeroGrad()
			lossAndGrad(m, batches, coef, true)
			checked := 0
			for _, p := range ps.List {
				for i := range p.Data {
					x := p.Data[i]
					p.Data[i] = x + h
					lp := lossAndGrad(m, batches, coef, false)
					p.Data[i] = x - h
					lm := lossAndGrad(m, batches, coef, false)
					p.Data[i] = x
					num := (lp - lm) / (2 * h)
					if d := math.Abs(num - p.Grad[i]); d > tol*math.Max(1, math.Abs(num)) {
						t.Errorf("%s[%d]: analytic %.8g, numeric %.8g", p.Name, i, p.Grad[i], num)
					}
					checked++
				}
			}
			if checked != ps.Len() {
				t.Errorf("checked %d of %d parameters", checked, ps.Len())
			}
		})
	}
}

// TestParamCounts checks the parameter counts of specs/pitot.md 2.8 on the
// real dataset's shapes (249 workloads x 141 features, 231 platforms x 39).
func TestParamCounts(t *testing.T) {
	side := Side{Workloads: 249, Platforms: 231, WorkloadDim: 141, PlatformDim: 39,
		WorkloadFeatures: make([]float32, 249*141), PlatformFeatures: make([]float32, 231*39)}
	want := map[string]int{
		"pitot": 82304, "conformal/optimal": 111200, "conformal/naive": 119456,
		"embedding/4": 60632, "embedding/128": 156608, "interference/1": 74048, "interference/16": 197888,
		"components/ignore": 68000, "components/discard": 68000, "baseline/factorization": 15840,
		"baseline/monolith": 260866, "baseline/attention": 231002,
	}
	for preset, n := range want {
		c, err := Preset(preset)
		if err != nil {
			t.Fatal(err)
		}
		c.Train.BatchSize = 4
		m, err := New[float32](c, side)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Params().Len(); got != n {
			t.Errorf("%s: %d parameters, want %d", preset, got, n)
		}
	}
}

func TestPresets(t *testing.T) {
	if n := len(Presets()); n != 32 {
		t.Errorf("%d presets, want 32", n)
	}
	m, err := Match("embedding/*", "pitot")
	if err != nil || fmt.Sprint(m) != "[embedding/128 embedding/16 embedding/4 embedding/64 embedding/8 pitot]" {
		t.Errorf("Match = %v, %v", m, err)
	}
	if all, err := Match("*"); err != nil || len(all) != 32 {
		t.Errorf("Match(*) = %d presets, %v; want all 32", len(all), err)
	}
	if _, err := Match("nosuch/*"); err == nil {
		t.Error("a pattern matching nothing was accepted")
	}
	for _, p := range Presets() {
		c, _ := Preset(p)
		if err := c.Resolve().Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	c, _ := Preset("learned/4")
	if !c.Equal(Config{}) {
		t.Error("learned/4 is not an alias of the default")
	}
	c, _ = Preset("learned/0")
	if r := c.Resolve(); r.Workload.LearnedFeatures() != 0 || r.Platform.LearnedFeatures() != 0 {
		t.Errorf("learned/0 resolves to %+v", r.Workload)
	}
	if r := (Config{}).Resolve(); r.Workload.LearnedFeatures() != 1 || r.MFDim != 32 || r.IFDim != 2 || r.IFSlope != 0.1 || r.Train.Steps != 20000 {
		t.Errorf("zero Config resolves to %+v", r)
	}
	c, _ = Preset("components/discard")
	if c.Resolve().ObjectiveWeight("if2") != 0 || (Config{}).Resolve().ObjectiveWeight("if2") != 0.5/3 {
		t.Error("interference weights")
	}
}

// TestBaseline fits an exactly additive matrix with one missing entry.
func TestBaseline(t *testing.T) {
	aTrue, bTrue := []float64{1, 2, -1}, []float64{0.5, 0, 3}
	var w, p []int
	var y []float64
	for i := range 3 {
		for j := range 3 {
			if i == 2 && j == 2 {
				continue
			}
			p, w, y = append(p, i), append(w, j), append(y, aTrue[i]+bTrue[j])
		}
	}
	a, b, rounds, ok := FitBaseline(w, p, y, 3, 3)
	if !ok {
		t.Fatalf("did not converge in %d rounds", rounds)
	}
	for k := range y {
		if d := math.Abs(a[p[k]] + b[w[k]] - y[k]); d > 1e-4 {
			t.Errorf("entry %d: fit %v, want %v", k, a[p[k]]+b[w[k]], y[k])
		}
	}
	// The fit predicts the missing entry, since the model is exactly additive.
	if d := math.Abs(a[2] + b[2] - (aTrue[2] + bTrue[2])); d > 1e-3 {
		t.Errorf("missing entry: %v, want %v", a[2]+b[2], aTrue[2]+bTrue[2])
	}
}

var _ = nn.GELU

// TestFloat32 checks that the float32 model (with the AVX2 vector kernels
// where available, hence r = 8) predicts what the float64 model does with
// the same parameters, to float32 accuracy.
func TestFloat32(t *testing.T) {
	for _, kind := range []string{KindPitot, KindMonolith, KindAttention} {
		c := smallConfig(Config{Kind: kind})
		c.MFDim, c.AttentionDim, c.ValueDim = 8, 8, 8
		m64, _ := New[float64](c, testSide())
		m32, _ := New[float32](c, testSide())
		m64.Init(rand.New(rand.NewPCG(5, 6)))
		for i, p := range m64.Params().List {
			for j, x := range p.Data {
				m32.Params().List[i].Data[j] = float32(x)
			}
		}
		m64.Prepare()
		m32.Prepare()
		for _, s := range testBatches() {
			o64, o32 := make([]float64, s.Len()), make([]float32, s.Len())
			m64.Predict(s, o64)
			m32.Predict(s, o32)
			for i := range o64 {
				if d := math.Abs(o64[i] - float64(o32[i])); d > 1e-5*math.Max(1, math.Abs(o64[i])) {
					t.Errorf("%s: sample %d: float32 %v, float64 %v", kind, i, o32[i], o64[i])
				}
			}
		}
	}
}

func TestEmbeddings(t *testing.T) {
	m, _ := New[float32](smallConfig(Config{}), testSide())
	m.Init(rand.New(rand.NewPCG(1, 1)))
	m.Prepare()
	e, ok := EmbeddingsOf(m)
	if !ok || len(e.Xw) != 6 || len(e.Xw[0]) != 3 || len(e.Xp) != 4 || len(e.Vs[0]) != 6 || len(e.Vg[0]) != 6 {
		t.Fatalf("embeddings %+v", e)
	}
	// The prediction of an mf sample is the baseline (0 here) plus <X_w, X_p>.
	out := make([]float32, 1)
	m.Predict(Samples{Workload: []int{2}, Platform: []int{1}}, out)
	var want float32
	for i := range 3 {
		want += e.Xw[2][i] * e.Xp[1][i]
	}
	if math.Abs(float64(out[0]-want)) > 1e-6 {
		t.Errorf("prediction %v, <X_w, X_p> = %v", out[0], want)
	}
	if _, ok := EmbeddingsOf(mustNew(t, Config{Kind: KindMonolith})); ok {
		t.Error("Monolith has embeddings")
	}
}

func mustNew(t *testing.T, c Config) Model[float32] {
	m, err := New[float32](smallConfig(c), testSide())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLanes splits each batch between the two lanes of a two-tower model,
// runs them on two goroutines, and checks that Finish leaves the gradients
// of the whole batches run on lane 0 (up to rounding: the sums are in
// another order).
func TestLanes(t *testing.T) {
	for name, c := range map[string]Config{
		"pitot":   {},
		"pinball": {Loss: LossPinball, Quantiles: []float64{50, 90}},
		"ignore":  {Kind: KindIgnore},
		"free":    {NoBaseline: true, Workload: Tower{Free: true}, Platform: Tower{Free: true}},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := New[float64](smallConfig(c), testSide())
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			m.Init(rng)
			batches := testBatches()
			heads := m.Heads()
			coef := make([][]float64, len(batches))
			for b, s := range batches {
				coef[b] = make([]float64, s.Len()*heads)
				for i := range coef[b] {
					coef[b][i] = rng.NormFloat64()
				}
			}
			ps := m.Params()
			ps.ZeroGrad()
			lossAndGrad(m, batches, coef, true)
			want := make([][]float64, len(ps.List))
			for i, p := range ps.List {
				want[i] = append([]float64(nil), p.Grad...)
			}

			lanes := m.(Laned[float64]).Lanes()
			if len(lanes) != 2 {
				t.Fatalf("%d lanes", len(lanes))
			}
			ps.ZeroGrad()
			m.Prepare()
			// part returns samples lo..hi-1 of batch b and their head-major
			// output gradient.
			part := func(b, lo, hi int) (Samples, []float64) {
				s, n := batches[b], batches[b].Len()
				d := make([]float64, 0, (hi-lo)*heads)
				for h := range heads {
					d = append(d, coef[b][h*n+lo:h*n+hi]...)
				}
				return s.Slice(lo, hi), d
			}
			run := func(l int, done chan<- struct{}) {
				for b, s := range batches {
					lo, hi := 0, s.Len()/2
					if l == 1 {
						lo, hi = hi, s.Len()
					}
					sub, d := part(b, lo, hi)
					lanes[l].Predict(sub, make([]float64, sub.Len()*heads))
					lanes[l].Backward(sub, d)
				}
				done <- struct{}{}
			}
			done := make(chan struct{}, 2)
			go run(1, done)
			run(0, done)
			<-done
			<-done
			m.Finish()
			for i, p := range ps.List {
				for j, g := range p.Grad {
					if d := math.Abs(g - want[i][j]); d > 1e-12*math.Max(1, math.Abs(g)) {
						t.Fatalf("%s[%d]: lanes %.15g, one lane %.15g", p.Name, j, g, want[i][j])
					}
				}
			}
		})
	}
}
