package conformal

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/npz"
)

// randomEvaluation evaluates nh random heads on random splits.
func randomEvaluation(t *testing.T, g *rand.Rand, nh int) Evaluation {
	draw := func(n int) Predictions {
		p := Predictions{Y: make([]float64, n)}
		for i := range p.Y {
			p.Y[i] = 3 + g.NormFloat64()
		}
		for j := range nh {
			h := make([]float64, n)
			for i := range h {
				h[i] = p.Y[i] + 0.1*float64(j+1)*g.NormFloat64()
			}
			p.Heads = append(p.Heads, h)
		}
		return p
	}
	e, err := Evaluate(draw(200), draw(100), nil, Linear)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// same compares float64 slices bit for bit, NaN equal to NaN.
func same(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

func sameEvaluation(a, b Evaluation) bool {
	ok := same([]float64{a.MAPE}, []float64{b.MAPE}) && same(a.Width, b.Width) && same(a.Coverage, b.Coverage) &&
		slices.Equal(a.ValBest, b.ValBest) && same(a.Alphas, b.Alphas)
	for i := range a.Margin {
		ok = ok && same(a.Margin[i], b.Margin[i]) && same(a.ValWidth[i], b.ValWidth[i]) &&
			same(a.WidthRaw[i], b.WidthRaw[i]) && same(a.CoverageRaw[i], b.CoverageRaw[i])
	}
	return ok && len(a.Margin) == len(b.Margin)
}

func TestSummaryRoundTrip(t *testing.T) {
	g := rand.New(rand.NewPCG(4, 0))
	levels := []float64{0.1, 0.5}
	const reps = 3
	s := &Summary{Levels: levels, Replicates: reps}
	// mf has 2 heads, if2 1; runs (1, 2) of mf and all but (0, 0) of if2
	// are never set.
	set := map[string]map[[2]int]Evaluation{"mf": {}, "if2": {}}
	for o, nh := range map[string]int{"mf": 2, "if2": 1} {
		for l := range levels {
			for r := range reps {
				if o == "mf" && l == 1 && r == 2 || o == "if2" && (l != 0 || r != 0) {
					continue
				}
				e := randomEvaluation(t, g, nh)
				if err := s.Set(o, l, r, e); err != nil {
					t.Fatal(err)
				}
				set[o][[2]int{l, r}] = e
			}
		}
	}
	path := filepath.Join(t.TempDir(), "summary", "pitot.npz")
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}

	// Key names, dtypes and shapes exactly as specs 5.3, for L = 2, R = 3,
	// A = 10 and N = 2 (mf) or 1 (if2).
	f, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"quantiles": {10}, "splits": {2}}
	for o, n := range map[string]int{"mf": 2, "if2": 1} {
		want[o+"_mape"] = []int{2, 3}
		for _, k := range []string{"width", "coverage", "val_best"} {
			want[o+"_"+k] = []int{2, 3, 10}
		}
		for _, k := range []string{"val_width", "margin", "width_raw", "coverage_raw"} {
			want[o+"_"+k] = []int{2, 3, 10, n}
		}
	}
	keys := f.Keys()
	slices.Sort(keys)
	if wk := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(keys, wk) {
		t.Fatalf("keys %v, want %v", keys, wk)
	}
	for k, shape := range want {
		a, err := f.Array(k)
		if err != nil {
			t.Fatal(err)
		}
		dtype := "<f8"
		if strings.HasSuffix(k, "_val_best") {
			dtype = "<i8"
		}
		if !slices.Equal(a.Shape, shape) || a.DType != dtype {
			t.Errorf("%s: dtype %s shape %v, want %s %v", k, a.DType, a.Shape, dtype, shape)
		}
	}
	q, _, _ := f.Float64("quantiles")
	if !slices.Equal(q, []float64{90, 91, 92, 93, 94, 95, 96, 97, 98, 99}) {
		t.Errorf("quantiles = %v", q)
	}

	back, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Levels, levels) || back.Replicates != reps || !slices.Equal(back.Alphas, Alphas) {
		t.Errorf("read levels %v, replicates %d, alphas %v", back.Levels, back.Replicates, back.Alphas)
	}
	if o := back.Objectives(); !slices.Equal(o, []string{"if2", "mf"}) || back.Heads("mf") != 2 || back.Heads("if2") != 1 {
		t.Errorf("objectives %v with %d and %d heads", o, back.Heads("if2"), back.Heads("mf"))
	}
	for o := range set {
		mape, width, vb, margin := back.MAPE(o), back.Width(o), back.ValBest(o), back.Margin(o)
		for l := range levels {
			for r := range reps {
				e, ok := set[o][[2]int{l, r}]
				got, gotOK := back.Get(o, l, r)
				if ok != gotOK || ok && !sameEvaluation(e, got) {
					t.Errorf("%s (%d, %d): read %v %+v, wrote %v %+v", o, l, r, gotOK, got, ok, e)
				}
				if ok {
					if mape[l][r] != e.MAPE || !same(width[l][r], e.Width) || !same(margin[l][r][4], e.Margin[4]) || vb[l][r][9] != e.ValBest[9] {
						t.Errorf("%s (%d, %d): accessors disagree with Get", o, l, r)
					}
					continue
				}
				// Missing runs: NaN, and -1 for val_best.
				if !math.IsNaN(mape[l][r]) || !math.IsNaN(width[l][r][0]) || !math.IsNaN(margin[l][r][0][0]) || vb[l][r][0] != -1 {
					t.Errorf("%s (%d, %d) never set: mape %v, width %v, margin %v, val_best %v", o, l, r, mape[l][r], width[l][r][0], margin[l][r][0][0], vb[l][r][0])
				}
			}
		}
	}
	if back.MAPE("if3") != nil || back.Heads("if3") != 0 {
		t.Error("absent objective if3 has data")
	}
}

func TestSummarySetErrors(t *testing.T) {
	g := rand.New(rand.NewPCG(5, 0))
	s := &Summary{Levels: []float64{0.5}, Replicates: 2}
	two := randomEvaluation(t, g, 2)
	if err := s.Set("mf", 0, 0, two); err != nil {
		t.Fatal(err)
	}
	other := two
	other.Alphas = []float64{0.1}
	for name, err := range map[string]error{
		"level out of range":     s.Set("mf", 1, 0, two),
		"replicate out of range": s.Set("mf", 0, 2, two),
		"head count changes":     s.Set("mf", 0, 1, randomEvaluation(t, g, 3)),
		"other alphas":           s.Set("mf", 0, 1, other),
		"empty objective":        s.Set("", 0, 1, two),
		"empty evaluation":       s.Set("mf", 0, 1, Evaluation{}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReadSummaryPitotFile reads a file shaped like Pitot's own: int64
// quantiles and float32 metrics.
func TestReadSummaryPitotFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pitot.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f32 := func(n int, v float32) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(w.Write("quantiles", []int64{90, 95, 99}))
	check(w.Write("splits", []float64{0.5}))
	check(w.Write("mf_mape", f32(2, 0.0625), 1, 2))
	check(w.Write("mf_val_best", []int64{0, 1, 1, 0, 1, 1}, 1, 2, 3))
	for _, k := range []string{"width", "coverage"} {
		check(w.Write("mf_"+k, f32(6, 0.5), 1, 2, 3))
	}
	for _, k := range []string{"val_width", "margin", "width_raw", "coverage_raw"} {
		check(w.Write("mf_"+k, f32(12, 0.25), 1, 2, 3, 2))
	}
	check(w.Close())
	s, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Alphas, []float64{0.1, 0.05, 0.01}) || s.Replicates != 2 || s.Heads("mf") != 2 {
		t.Errorf("alphas %v, replicates %d, heads %d", s.Alphas, s.Replicates, s.Heads("mf"))
	}
	if e, ok := s.Get("mf", 0, 1); !ok || e.MAPE != 0.0625 || !slices.Equal(e.ValBest, []int{0, 1, 1}) || e.Margin[2][1] != 0.25 {
		t.Errorf("Get = %v %+v", ok, e)
	}
}

func TestReadSummaryBadShape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.Write("quantiles", []float64{90, 95})
	w.Write("splits", []float64{0.5})
	w.Write("mf_mape", []float64{1, 2}, 1, 2)
	w.Write("mf_margin", []float64{1, 2, 3, 4}, 1, 2, 2, 1)
	w.Write("mf_width", []float64{1, 2, 3}, 1, 3) // want [1 2 2]
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = ReadSummary(path)
	if err == nil || !strings.Contains(err.Error(), "mf_width") || !strings.Contains(err.Error(), "[1 2 2]") {
		t.Errorf("error %v, want one naming mf_width and shape [1 2 2]", err)
	}
}

func TestMeanSE2(t *testing.T) {
	for _, c := range []struct {
		v              []float64
		mean, twoSE    float64
		meanNaN, seNaN bool
	}{
		// {1, 2, 3}: mean 2, sample sd 1, se 1/√3; the NaN is ignored.
		{v: []float64{1, math.NaN(), 2, 3}, mean: 2, twoSE: 2 / math.Sqrt(3)},
		// {2, 4}: sd √2, se √2/√2 = 1.
		{v: []float64{2, 4}, mean: 3, twoSE: 2},
		{v: []float64{5}, mean: 5, twoSE: 0},
		{v: []float64{math.NaN()}, meanNaN: true, seNaN: true},
		{v: nil, meanNaN: true, seNaN: true},
	} {
		m, se := MeanSE2(c.v)
		if c.meanNaN != math.IsNaN(m) || !c.meanNaN && math.Abs(m-c.mean) > tol ||
			c.seNaN != math.IsNaN(se) || !c.seNaN && math.Abs(se-c.twoSE) > tol {
			t.Errorf("MeanSE2(%v) = %v, %v; want %v, %v", c.v, m, se, c.mean, c.twoSE)
		}
	}
}

// TestSummaryConcurrentSet sets runs from several goroutines (run with
// -race to check the locking).
func TestSummaryConcurrentSet(t *testing.T) {
	s := &Summary{Levels: []float64{0.1, 0.2, 0.3, 0.4}, Replicates: 2}
	evals := make([]Evaluation, 8)
	for i := range evals {
		evals[i] = randomEvaluation(t, rand.New(rand.NewPCG(6, uint64(i))), 2)
	}
	errs := make(chan error, len(evals))
	for i, e := range evals {
		go func() { errs <- s.Set("mf", i/2, i%2, e) }()
	}
	for range evals {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range evals {
		if got, ok := s.Get("mf", i/2, i%2); !ok || !sameEvaluation(got, e) {
			t.Errorf("run %d not stored", i)
		}
	}
}
