package conformal

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/paperlab/paperlab/lib/npz"
)

// Summary collects the Evaluations of one preset over data levels and
// replicates, and stores them as summary/<preset>.npz in the layout of
// Pitot's scripts/evaluate.py (specs 5.3), so that figure code reads one
// file per preset:
//
//	quantiles        [A]           100(1−α): 90 … 99 for Alphas (float64)
//	splits           [L]           the levels ℓ
//	o_mape           [L, R]        for each objective o set
//	o_width          [L, R, A]     selected head
//	o_coverage       [L, R, A]     selected head
//	o_val_width      [L, R, A, N]
//	o_margin         [L, R, A, N]
//	o_width_raw      [L, R, A, N]
//	o_coverage_raw   [L, R, A, N]
//	o_val_best       [L, R, A]     int64
//
// Arrays are float64 in C order unless noted. Runs never set are NaN, and
// -1 in o_val_best. (Pitot stores quantiles as int64 and, from JAX, most
// metrics as float32; ReadSummary accepts both.)
//
// Set may be called from several goroutines at once.
type Summary struct {
	Levels     []float64 // the data levels ℓ (L of them), stored as "splits"
	Replicates int       // R
	Alphas     []float64 // the A miscoverages; nil means Alphas

	mu   sync.Mutex
	objs map[string]*table
}

// table holds one objective's arrays, flat in C order.
type table struct {
	heads                                                          int
	mape, width, coverage, valWidth, margin, widthRaw, coverageRaw []float64
	valBest                                                        []int64
}

func (s *Summary) alphas() []float64 {
	if s.Alphas == nil {
		return Alphas
	}
	return s.Alphas
}

func newTable(l, r, a, n int) *table {
	nan := func(k int) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = math.NaN()
		}
		return v
	}
	t := &table{heads: n, mape: nan(l * r), width: nan(l * r * a), coverage: nan(l * r * a),
		valWidth: nan(l * r * a * n), margin: nan(l * r * a * n), widthRaw: nan(l * r * a * n),
		coverageRaw: nan(l * r * a * n), valBest: make([]int64, l*r*a)}
	for i := range t.valBest {
		t.valBest[i] = -1
	}
	return t
}

// Set stores the evaluation of objective at level index level and
// replicate index replicate. It returns an error for indices out of range,
// an evaluation for other alphas, or a head count that differs from what
// was set before for the objective.
func (s *Summary) Set(objective string, level, replicate int, e Evaluation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	al := s.alphas()
	na, nh := len(al), e.Heads()
	switch {
	case objective == "":
		return fmt.Errorf("conformal: summary: empty objective name")
	case level < 0 || level >= len(s.Levels) || replicate < 0 || replicate >= s.Replicates:
		return fmt.Errorf("conformal: summary: run (level %d, replicate %d) outside %d levels × %d replicates", level, replicate, len(s.Levels), s.Replicates)
	case e.Alphas != nil && !slices.Equal(e.Alphas, al):
		return fmt.Errorf("conformal: summary: evaluation for alphas %v, summary has %v", e.Alphas, al)
	case nh == 0 || na == 0:
		return fmt.Errorf("conformal: summary: evaluation has %d heads and summary %d alphas", nh, na)
	}
	for _, rows := range [][][]float64{e.ValWidth, e.Margin, e.WidthRaw, e.CoverageRaw} {
		if len(rows) != na {
			return fmt.Errorf("conformal: summary: evaluation has %d rows for %d alphas", len(rows), na)
		}
		for _, row := range rows {
			if len(row) != nh {
				return fmt.Errorf("conformal: summary: evaluation rows of %d and %d heads", nh, len(row))
			}
		}
	}
	if len(e.Width) != na || len(e.Coverage) != na || len(e.ValBest) != na {
		return fmt.Errorf("conformal: summary: evaluation for %d alphas, summary has %d", len(e.Width), na)
	}
	if s.objs == nil {
		s.objs = map[string]*table{}
	}
	t := s.objs[objective]
	if t == nil {
		t = newTable(len(s.Levels), s.Replicates, na, nh)
		s.objs[objective] = t
	} else if t.heads != nh {
		return fmt.Errorf("conformal: summary: objective %s has %d heads, evaluation has %d", objective, t.heads, nh)
	}
	run := level*s.Replicates + replicate
	t.mape[run] = e.MAPE
	for a := range na {
		i := run*na + a
		t.width[i], t.coverage[i], t.valBest[i] = e.Width[a], e.Coverage[a], int64(e.ValBest[a])
		copy(t.valWidth[i*nh:], e.ValWidth[a])
		copy(t.margin[i*nh:], e.Margin[a])
		copy(t.widthRaw[i*nh:], e.WidthRaw[a])
		copy(t.coverageRaw[i*nh:], e.CoverageRaw[a])
	}
	return nil
}

// Write stores the summary at path atomically (through npz.Create),
// objectives in sorted order.
func (s *Summary) Write(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	al := s.alphas()
	q := make([]float64, len(al))
	for i, a := range al {
		q[i] = math.Round((100-100*a)*1e9) / 1e9
	}
	w, err := npz.Create(path)
	if err != nil {
		return err
	}
	l, r, na := len(s.Levels), s.Replicates, len(al)
	err = w.Write("quantiles", q)
	if err == nil {
		err = w.Write("splits", slices.Clone(s.Levels))
	}
	for _, o := range s.objectives() {
		t := s.objs[o]
		for _, k := range []struct {
			key  string
			data any
			dims []int
		}{
			{"mape", t.mape, []int{l, r}},
			{"val_width", t.valWidth, []int{l, r, na, t.heads}},
			{"val_best", t.valBest, []int{l, r, na}},
			{"width", t.width, []int{l, r, na}},
			{"coverage", t.coverage, []int{l, r, na}},
			{"margin", t.margin, []int{l, r, na, t.heads}},
			{"width_raw", t.widthRaw, []int{l, r, na, t.heads}},
			{"coverage_raw", t.coverageRaw, []int{l, r, na, t.heads}},
		} {
			if err == nil {
				err = w.Write(o+"_"+k.key, k.data, k.dims...)
			}
		}
	}
	if err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ReadSummary reads a summary file written by Write or by Pitot's
// scripts/evaluate.py. Objectives are found by their "_mape" keys; every
// array must have the shape of specs 5.3, or the error names the key and
// the shapes expected and found. Alphas are recovered as (100 − q)/100.
func ReadSummary(path string) (*Summary, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	q, qs, err := f.Floats("quantiles")
	if err != nil {
		var qi []int
		if qi, qs, err = f.Ints("quantiles"); err != nil {
			return nil, err
		}
		q = make([]float64, len(qi))
		for i, v := range qi {
			q[i] = float64(v)
		}
	}
	levels, ls, err := f.Floats("splits")
	if err != nil {
		return nil, err
	}
	if len(qs) != 1 {
		return nil, &npz.Error{File: path, Key: "quantiles", Expected: "1 dimension", Found: fmt.Sprintf("shape %v", qs)}
	}
	if len(ls) != 1 {
		return nil, &npz.Error{File: path, Key: "splits", Expected: "1 dimension", Found: fmt.Sprintf("shape %v", ls)}
	}
	s := &Summary{Levels: slices.Clone(levels), Alphas: make([]float64, len(q)), objs: map[string]*table{}}
	for i, v := range q {
		s.Alphas[i] = (100 - v) / 100
	}
	l, na := len(levels), len(q)
	for _, key := range f.Keys() {
		o, ok := strings.CutSuffix(key, "_mape")
		if !ok {
			continue
		}
		t := &table{}
		var shape []int
		if t.mape, shape, err = f.Floats(key); err != nil {
			return nil, err
		}
		if len(shape) == 2 && s.Replicates == 0 {
			s.Replicates = shape[1]
		}
		r := s.Replicates
		if err := wantShape(path, key, shape, l, r); err != nil {
			return nil, err
		}
		if _, shape, err = f.Floats(o + "_margin"); err != nil {
			return nil, err
		}
		if len(shape) != 4 {
			return nil, &npz.Error{File: path, Key: o + "_margin", Expected: "4 dimensions [level, replicate, alpha, head]", Found: fmt.Sprintf("shape %v", shape)}
		}
		t.heads = shape[3]
		for _, k := range []struct {
			key   string
			dst   *[]float64
			heads bool
		}{
			{"width", &t.width, false}, {"coverage", &t.coverage, false},
			{"val_width", &t.valWidth, true}, {"margin", &t.margin, true},
			{"width_raw", &t.widthRaw, true}, {"coverage_raw", &t.coverageRaw, true},
		} {
			dims := []int{l, r, na}
			if k.heads {
				dims = append(dims, t.heads)
			}
			if *k.dst, shape, err = f.Floats(o + "_" + k.key); err != nil {
				return nil, err
			}
			if err := wantShape(path, o+"_"+k.key, shape, dims...); err != nil {
				return nil, err
			}
		}
		vb, shape, err := f.Ints(o + "_val_best")
		if err != nil {
			return nil, err
		}
		if err := wantShape(path, o+"_val_best", shape, l, r, na); err != nil {
			return nil, err
		}
		t.valBest = make([]int64, len(vb))
		for i, v := range vb {
			t.valBest[i] = int64(v)
		}
		s.objs[o] = t
	}
	return s, nil
}

// wantShape checks the shape of an objective's array; no dimension may be 0.
func wantShape(path, key string, got []int, want ...int) error {
	if !slices.Equal(got, want) || slices.Contains(want, 0) {
		return &npz.Error{File: path, Key: key, Expected: fmt.Sprintf("shape %v (specs/pitot.md 5.3)", want), Found: fmt.Sprintf("shape %v", got)}
	}
	return nil
}

// Objectives lists the objectives held, sorted.
func (s *Summary) Objectives() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objectives()
}

func (s *Summary) objectives() []string {
	o := make([]string, 0, len(s.objs))
	for k := range s.objs {
		o = append(o, k)
	}
	sort.Strings(o)
	return o
}

func (s *Summary) table(objective string) *table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objs[objective]
}

// Heads returns the number of heads N of objective, 0 if absent.
func (s *Summary) Heads(objective string) int {
	if t := s.table(objective); t != nil {
		return t.heads
	}
	return 0
}

// Get returns the evaluation of one run, and false if the objective is
// absent, the indices are out of range, or the run was never set.
func (s *Summary) Get(objective string, level, replicate int) (Evaluation, bool) {
	t := s.table(objective)
	if t == nil || level < 0 || level >= len(s.Levels) || replicate < 0 || replicate >= s.Replicates {
		return Evaluation{}, false
	}
	al := s.alphas()
	na, nh, run := len(al), t.heads, level*s.Replicates+replicate
	if t.valBest[run*na] < 0 {
		return Evaluation{}, false
	}
	e := Evaluation{Alphas: slices.Clone(al), MAPE: t.mape[run],
		Width: slices.Clone(t.width[run*na : (run+1)*na]), Coverage: slices.Clone(t.coverage[run*na : (run+1)*na]),
		ValWidth: grid(na, nh), Margin: grid(na, nh), WidthRaw: grid(na, nh), CoverageRaw: grid(na, nh),
		ValBest: make([]int, na)}
	for a := range na {
		i := run*na + a
		e.ValBest[a] = int(t.valBest[i])
		copy(e.ValWidth[a], t.valWidth[i*nh:])
		copy(e.Margin[a], t.margin[i*nh:])
		copy(e.WidthRaw[a], t.widthRaw[i*nh:])
		copy(e.CoverageRaw[a], t.coverageRaw[i*nh:])
	}
	return e, true
}

// MAPE returns o_mape as [level][replicate], nil if objective is absent.
func (s *Summary) MAPE(objective string) [][]float64 {
	if t := s.table(objective); t != nil {
		return rows(slices.Clone(t.mape), s.Replicates)
	}
	return nil
}

// Width returns o_width (selected head) as [level][replicate][alpha].
func (s *Summary) Width(objective string) [][][]float64 {
	return s.get3(objective, func(t *table) []float64 { return t.width })
}

// Coverage returns o_coverage (selected head) as [level][replicate][alpha].
func (s *Summary) Coverage(objective string) [][][]float64 {
	return s.get3(objective, func(t *table) []float64 { return t.coverage })
}

// ValBest returns o_val_best as [level][replicate][alpha]; -1 marks runs
// never set.
func (s *Summary) ValBest(objective string) [][][]int {
	t := s.table(objective)
	if t == nil {
		return nil
	}
	v := make([]int, len(t.valBest))
	for i, x := range t.valBest {
		v[i] = int(x)
	}
	return rows(rows(v, len(s.alphas())), s.Replicates)
}

// ValWidth returns o_val_width as [level][replicate][alpha][head].
func (s *Summary) ValWidth(objective string) [][][][]float64 {
	return s.get4(objective, func(t *table) []float64 { return t.valWidth })
}

// Margin returns o_margin as [level][replicate][alpha][head].
func (s *Summary) Margin(objective string) [][][][]float64 {
	return s.get4(objective, func(t *table) []float64 { return t.margin })
}

// WidthRaw returns o_width_raw as [level][replicate][alpha][head].
func (s *Summary) WidthRaw(objective string) [][][][]float64 {
	return s.get4(objective, func(t *table) []float64 { return t.widthRaw })
}

// CoverageRaw returns o_coverage_raw as [level][replicate][alpha][head].
func (s *Summary) CoverageRaw(objective string) [][][][]float64 {
	return s.get4(objective, func(t *table) []float64 { return t.coverageRaw })
}

func (s *Summary) get3(objective string, f func(*table) []float64) [][][]float64 {
	if t := s.table(objective); t != nil {
		return rows(rows(slices.Clone(f(t)), len(s.alphas())), s.Replicates)
	}
	return nil
}

func (s *Summary) get4(objective string, f func(*table) []float64) [][][][]float64 {
	if t := s.table(objective); t != nil {
		return rows(rows(rows(slices.Clone(f(t)), t.heads), len(s.alphas())), s.Replicates)
	}
	return nil
}

// rows cuts flat into rows of n elements.
func rows[T any](flat []T, n int) [][]T {
	out := make([][]T, len(flat)/n)
	for i := range out {
		out[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}

// MeanSE2 returns the mean of values, ignoring NaNs, and twice its standard
// error, 2·sd/√n with the sample standard deviation (ddof 1): the error
// bars of Pitot's figures over replicates (specs 5.3, plot/plot.py). With
// one value the error is 0 (NumPy would give NaN); with none both are NaN.
func MeanSE2(values []float64) (mean, twoSE float64) {
	var n int
	for _, x := range values {
		if !math.IsNaN(x) {
			mean += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	mean /= float64(n)
	if n == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range values {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	return mean, 2 * math.Sqrt(ss/float64(n-1)/float64(n))
}
