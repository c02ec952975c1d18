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
	// Inputs identifies what the summary was computed from (a digest of
	// the result files, say), stored as "inputs" when not empty, so that a
	// reader can tell a stale summary by content rather than by file times.
	Inputs string

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
	if err == nil && s.Inputs != "" {
		err = w.Write("inputs", []string{s.Inputs})
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
// array must be present with the shape of the layout above. Quantiles must
// be distinct and strictly between 0 and 100, levels distinct and in
// (0, 1], and val_best, run by run, either -1 for every alpha (a run never
// set) or a head index for every alpha. Alphas are recovered as
// (100 − q)/100. Errors are one line naming the file, the key, what was
// expected and what was found.
func ReadSummary(path string) (*Summary, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	q, err := vector(f, "quantiles", "a percentage strictly between 0 and 100", func(v float64) bool { return v > 0 && v < 100 })
	if err != nil {
		return nil, err
	}
	levels, err := vector(f, "splits", "a data level in (0, 1]", func(v float64) bool { return v > 0 && v <= 1 })
	if err != nil {
		return nil, err
	}
	s := &Summary{Levels: levels, Alphas: make([]float64, len(q)), objs: map[string]*table{}}
	if f.Has("inputs") {
		if s.Inputs, err = f.StringScalar("inputs"); err != nil {
			return nil, err
		}
	}
	for i, v := range q {
		s.Alphas[i] = (100 - v) / 100
	}
	l, na := len(levels), len(q)
	for _, key := range f.Keys() {
		o, ok := strings.CutSuffix(key, "_mape")
		if !ok {
			continue
		}
		switch {
		case o == "":
			return nil, &npz.Error{File: path, Key: key, Expected: "an objective name before _mape", Found: "none"}
		case l == 0:
			return nil, &npz.Error{File: path, Key: "splits", Expected: "at least one level, as the file holds " + key, Found: "none"}
		case na == 0:
			return nil, &npz.Error{File: path, Key: "quantiles", Expected: "at least one quantile, as the file holds " + key, Found: "none"}
		}
		mape, err := array(f, key)
		if err != nil {
			return nil, err
		}
		if len(mape.Shape) == 2 && s.Replicates == 0 {
			s.Replicates = mape.Shape[1]
		}
		r := s.Replicates
		if r == 0 {
			return nil, &npz.Error{File: path, Key: key, Expected: "shape [level, replicate] with at least one replicate", Found: "shape " + npz.ShapeString(mape.Shape)}
		}
		if err := wantShape(path, key, mape.Shape, l, r); err != nil {
			return nil, err
		}
		margin, err := array(f, o+"_margin")
		if err != nil {
			return nil, err
		}
		if len(margin.Shape) != 4 {
			return nil, &npz.Error{File: path, Key: o + "_margin", Expected: "4 dimensions [level, replicate, alpha, head]", Found: "shape " + npz.ShapeString(margin.Shape)}
		}
		if margin.Shape[3] == 0 {
			return nil, &npz.Error{File: path, Key: o + "_margin", Expected: "at least one head", Found: "shape " + npz.ShapeString(margin.Shape)}
		}
		t := &table{heads: margin.Shape[3]}
		for _, k := range []struct {
			key   string
			dst   *[]float64
			heads bool
		}{
			{"mape", &t.mape, false}, {"margin", &t.margin, true},
			{"width", &t.width, false}, {"coverage", &t.coverage, false},
			{"val_width", &t.valWidth, true},
			{"width_raw", &t.widthRaw, true}, {"coverage_raw", &t.coverageRaw, true},
		} {
			dims := []int{l, r, na}
			switch {
			case k.key == "mape":
				dims = dims[:2]
			case k.heads:
				dims = append(dims, t.heads)
			}
			// The shape is checked before the data is converted, so that
			// a wrong array costs no memory.
			a, err := array(f, o+"_"+k.key)
			if err != nil {
				return nil, err
			}
			if err := wantShape(path, o+"_"+k.key, a.Shape, dims...); err != nil {
				return nil, err
			}
			if *k.dst, _, err = f.Floats(o + "_" + k.key); err != nil {
				return nil, err
			}
		}
		vb, err := array(f, o+"_val_best")
		if err != nil {
			return nil, err
		}
		if err := wantShape(path, o+"_val_best", vb.Shape, l, r, na); err != nil {
			return nil, err
		}
		if t.valBest, err = int64s(f, o+"_val_best"); err != nil {
			return nil, err
		}
		for run := range l * r {
			best := t.valBest[run*na : (run+1)*na]
			set := best[0] >= 0
			for a, b := range best {
				if set && (b < 0 || b >= int64(t.heads)) || !set && b != -1 {
					want := fmt.Sprintf("a head index in [0, %d) for every alpha of the run, or -1 for all of them", t.heads)
					return nil, &npz.Error{File: path, Key: o + "_val_best", Expected: want,
						Found: fmt.Sprintf("%d at [%d, %d, %d]", b, run/r, run%r, a)}
				}
			}
		}
		s.objs[o] = t
	}
	return s, nil
}

// array returns the array under key, or an error naming the file and key
// if there is none.
func array(f *npz.File, key string) (*npz.Array, error) {
	if !f.Has(key) {
		return nil, &npz.Error{File: f.Path, Key: key, Expected: "an array", Found: "no such key"}
	}
	return f.Array(key)
}

// vector reads the one-dimensional array under key, of a floating-point or
// an integer dtype, whose elements must be distinct and satisfy ok (what
// describes them).
func vector(f *npz.File, key, what string, ok func(float64) bool) ([]float64, error) {
	a, err := array(f, key)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 1 {
		return nil, &npz.Error{File: f.Path, Key: key, Expected: "1 dimension", Found: "shape " + npz.ShapeString(a.Shape)}
	}
	var v []float64
	switch a.Data.(type) {
	case []float32, []float64:
		v, _, err = f.Floats(key)
		v = slices.Clone(v)
	default:
		var iv []int
		if iv, _, err = f.Ints(key); err != nil {
			return nil, &npz.Error{File: f.Path, Key: key, Expected: "a floating-point or integer dtype", Found: a.DType}
		}
		v = make([]float64, len(iv))
		for i, x := range iv {
			v[i] = float64(x)
		}
	}
	if err != nil {
		return nil, err
	}
	seen := make(map[float64]int, len(v))
	for i, x := range v {
		if !ok(x) {
			return nil, &npz.Error{File: f.Path, Key: key, Expected: what, Found: fmt.Sprintf("%v at [%d]", x, i)}
		}
		if j, dup := seen[x]; dup {
			return nil, &npz.Error{File: f.Path, Key: key, Expected: "distinct values", Found: fmt.Sprintf("%v at [%d] and [%d]", x, j, i)}
		}
		seen[x] = i
	}
	return v, nil
}

// int64s returns the integer array under key as int64, converted from
// whichever integer dtype it is stored as, in one allocation at most.
func int64s(f *npz.File, key string) ([]int64, error) {
	a, err := array(f, key)
	if err != nil {
		return nil, err
	}
	conv := func(n int, at func(int) int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	switch v := a.Data.(type) {
	case []int64:
		return v, nil
	case []int32:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	case []int16:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	case []int8:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	case []uint32:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	case []uint16:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	case []uint8:
		return conv(len(v), func(i int) int64 { return int64(v[i]) }), nil
	}
	return nil, &npz.Error{File: f.Path, Key: key, Expected: "an integer dtype", Found: a.DType}
}

// wantShape checks the shape of an objective's array: [level, replicate]
// for mape, [level, replicate, alpha] or [level, replicate, alpha, head]
// for the others. No dimension may be 0 (ReadSummary names the cause
// first where it can).
func wantShape(path, key string, got []int, want ...int) error {
	if !slices.Equal(got, want) || slices.Contains(want, 0) {
		dims := []string{"level", "replicate", "alpha", "head"}[:min(len(want), 4)]
		return &npz.Error{File: path, Key: key, Expected: fmt.Sprintf("shape %v [%s]", want, strings.Join(dims, ", ")), Found: fmt.Sprintf("shape %v", got)}
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
