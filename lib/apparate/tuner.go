package apparate

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// This file holds the controller's pure decision functions over window data
// (specs/apparate.md 4.7–4.9): the evaluation of a threshold configuration,
// the greedy threshold tuner, ramp utility, and the start-up choice of the
// ramp count. None of them keeps controller state.

// Window is the tuner's data: for every ACTIVE ramp j (in the order of the
// active set) and every sample i of the window, the ramp's confidence
// Conf[j][i] and whether its prediction agrees with the original model's,
// Agree[j][i] (specs 3.2, 4.7).
//
// Index i must refer to the same sample for every ramp, and all rows must
// have the same length. The controller's per-ramp histories can differ in
// length after a ramp's history is cleared (specs 4.13 item 5); the caller
// tail-aligns them (keeps the last min-length samples of every ramp) before
// building a Window.
type Window struct {
	Conf  [][]float32
	Agree [][]bool
}

// Len returns the number of samples in the window.
func (w Window) Len() int {
	if len(w.Conf) == 0 {
		return 0
	}
	return len(w.Conf[0])
}

// tableWindow returns the Window of the ramps active of t; it shares t's
// rows.
func tableWindow(t *Table, active []int) Window {
	w := Window{Conf: make([][]float32, len(active)), Agree: make([][]bool, len(active))}
	for j, a := range active {
		w.Conf[j], w.Agree[j] = t.Conf[a], t.Agree[a]
	}
	return w
}

// exitLatencies returns X_1..X_n, then X_{n+1}, for the ramps active
// (ascending candidate-ramp indices) of c (specs 4.2): a sample leaving at
// the j-th active ramp costs X_j = P_{a_j} + Σ_{m≤j} Q_{a_m}; one that
// leaves at none costs X_{n+1} = V + Σ_{m≤n} Q_{a_m}. The ramp costs are
// summed in ramp order, as the artifact does. It is Costs.Exits without the
// argument checks, kept here so that this file stands on its own.
func exitLatencies(c Costs, active []int) []float64 {
	x := make([]float64, 0, len(active)+1)
	var ramps float64
	for _, a := range active {
		ramps += c.Ramp[a]
		x = append(x, c.Prefix[a]+ramps)
	}
	return append(x, c.Vanilla+ramps)
}

// Eval is the outcome of a threshold configuration on a window (specs 4.7,
// perf): the agreement with the original model, the exit rates, and the
// expected latency improvement.
type Eval struct {
	// Acc is the fraction of samples whose result agrees with the original
	// model, rounded to 7 decimals as the artifact does. A sample that exits
	// at no ramp is correct.
	Acc float64 `json:"acc"`
	// ExitRates has n+1 entries: the fraction of samples leaving at each
	// active ramp, then the fraction leaving at none.
	ExitRates []float64 `json:"exit_rates"`
	// Improvement is 100·(V − Σ_j e_j·X_j)/V, in percent of the vanilla
	// latency V; it is negative when ramps cost more than exits save.
	Improvement float64 `json:"improvement_pct"`
}

// Evaluate returns the outcome of thresholds on the window w (specs 4.7,
// perf; the exit rule of 4.5 step 3). A sample exits at the first active
// ramp j with 1 − Conf[j][i] < thresholds[j] (strictly: a sample with
// 1 − conf equal to the threshold does not exit); its result is correct iff
// Agree[j][i]. A sample that exits nowhere is correct and costs X_{n+1}.
// exits holds X_1..X_{n+1} at the batch size being priced (Costs.Exits, or
// specs 4.2) and vanilla is V at that batch size.
//
// An empty window (no samples) evaluates as a window in which no sample
// exits: Acc 1, exit rates all 0 but the last, 1, and the improvement of
// running to the end, 100·(V − X_{n+1})/V. (The artifact divides by zero.)
//
// Evaluate panics if the lengths of w, thresholds and exits disagree.
func Evaluate(w Window, thresholds []float64, exits []float64, vanilla float64) Eval {
	e := newWindowEval(w, len(thresholds), exits, vanilla)
	rates := make([]float64, len(thresholds)+1)
	acc, imp := e.eval(thresholds, rates)
	return Eval{Acc: acc, ExitRates: rates, Improvement: imp}
}

// windowEval evaluates configurations on one window without allocating:
// the tuner calls it for every candidate step.
type windowEval struct {
	conf    [][]float32
	agree   [][]bool
	n       int // samples
	exits   []float64
	vanilla float64
	counts  []int // scratch: samples per exit point
}

func newWindowEval(w Window, k int, exits []float64, vanilla float64) *windowEval {
	if len(w.Conf) != k || len(w.Agree) != k {
		panic(fmt.Sprintf("apparate: window has %d confidence and %d agreement rows for %d thresholds", len(w.Conf), len(w.Agree), k))
	}
	if len(exits) != k+1 {
		panic(fmt.Sprintf("apparate: %d exit latencies for %d active ramps (want %d)", len(exits), k, k+1))
	}
	n := w.Len()
	for j := range k {
		if len(w.Conf[j]) != n || len(w.Agree[j]) != n {
			panic(fmt.Sprintf("apparate: window ramp %d has %d confidences and %d agreements, ramp 0 has %d samples (tail-align the rows)", j, len(w.Conf[j]), len(w.Agree[j]), n))
		}
	}
	return &windowEval{conf: w.Conf, agree: w.Agree, n: n, exits: exits, vanilla: vanilla, counts: make([]int, k+1)}
}

// eval writes the exit rates of th into rates (len(th)+1 entries) and
// returns the rounded accuracy and the improvement (see Evaluate).
func (e *windowEval) eval(th, rates []float64) (acc, imp float64) {
	k := len(th)
	if e.n == 0 {
		clear(rates)
		rates[k] = 1
		return 1, (e.vanilla - e.exits[k]) / e.vanilla * 100
	}
	counts := e.counts
	clear(counts)
	correct := 0
	for i := range e.n {
		j := 0
		for ; j < k; j++ {
			if 1-float64(e.conf[j][i]) < th[j] {
				break
			}
		}
		counts[j]++
		if j == k || e.agree[j][i] {
			correct++
		}
	}
	// The sums run in exit order from 0, as the artifact's Python sum does,
	// so that equal configurations give bit-equal improvements.
	var cost float64
	for j, c := range counts {
		rates[j] = float64(c) / float64(e.n)
		cost += rates[j] * e.exits[j]
	}
	return roundPlaces(float64(correct)/float64(e.n), 7), (e.vanilla - cost) / e.vanilla * 100
}

// roundPlaces rounds x to the given number of decimals the way Python's
// round(x, places) does: correctly rounded from x's exact binary value, ties
// (only possible when x is exactly a decimal tie) to even. A rounding of
// x·10^places would disagree with it on values such as 0.03125, so that is
// only a fast path for values far from a tie: there the integer m nearest
// to x·10^places is the decimal rounding, and m/10^places (exact operands,
// one correctly rounded division) is the double nearest to it, which is
// what Python returns.
func roundPlaces(x float64, places int) float64 {
	if places >= 0 && places <= 15 && math.Abs(x) < 1e6 {
		p := math.Pow10(places)
		y := x * p
		if f := y - math.Floor(y); math.Abs(f-0.5) > 1e-6 {
			return math.Round(y) / p
		}
	}
	var buf [40]byte
	b := strconv.AppendFloat(buf[:0], x, 'f', places, 64)
	r, err := strconv.ParseFloat(string(b), 64)
	if err != nil { // only for ±Inf and NaN, which round to themselves
		return x
	}
	return r
}

// TuneOptions configures Tune. The zero value is the artifact's tuner
// (specs 4.1 constants, 4.7), except for BugCompatIndexZero.
type TuneOptions struct {
	// Budget is the window accuracy constraint: a configuration is valid
	// when |1 − acc| < Budget. 0 means 0.0001 (ACC_LOSS_BUDGET_TUNING).
	Budget float64 `json:"budget"`
	// Step is the initial step of every tunable threshold; 0 means 0.01.
	Step float64 `json:"step"`
	// MinStep is the step below which steps are no longer halved; 0 means
	// 0.001. It is also the (never used) step of fixed ramps.
	MinStep float64 `json:"min_step"`
	// Fixed marks, per active ramp, thresholds that keep their start value
	// and are never stepped (NLP re-tuning after a violation, specs 4.7).
	// nil means every ramp is tunable; otherwise it has one entry per
	// active ramp.
	Fixed []bool `json:"fixed,omitempty"`
	// BugCompatIndexZero replicates the artifact's quirk (specs 4.13 item
	// 2): a best direction at index 0 of the active list is taken for "no
	// best direction", so the first positive direction wins instead. The
	// default, false, uses the best direction.
	BugCompatIndexZero bool `json:"bug_compat_index_zero,omitempty"`
}

// withDefaults returns o with zero (or negative) fields set to the
// artifact's values.
func (o TuneOptions) withDefaults() TuneOptions {
	if o.Budget <= 0 {
		o.Budget = 0.0001
	}
	if o.Step <= 0 {
		o.Step = 0.01
	}
	if o.MinStep <= 0 {
		o.MinStep = 0.001
	}
	return o
}

// Tune runs the artifact's greedy hill-climb over exit thresholds (specs
// 4.7) on the window w and returns the thresholds it ends at and their
// evaluation, Evaluate(w, thresholds, exits, vanilla).
//
// start gives the initial thresholds, one per active ramp: the artifact
// starts tunable ramps at 0 and fixed ramps (opt.Fixed) at their current
// value. Every tunable ramp has a step, initially opt.Step. Each iteration
// evaluates, for every tunable ramp d, the candidate that raises θ_d by its
// step, rounded to 4 decimals (a threshold never stepped keeps its start
// value as given). A candidate is valid when |1 − acc'| <
// opt.Budget. Among valid candidates whose improvement I' differs from the
// current I, the best minimises |acc' − acc| / |I' − I| (accuracy spent per
// point of latency won; the first wins ties). A valid candidate with I' = I
// is "equal"; one with I' = I or acc' = acc is "positive". The direction:
//
//   - if every tunable ramp is equal, the first tunable ramp;
//   - else, if there is no best (or, with opt.BugCompatIndexZero, the best
//     is index 0 of the active list) and a positive direction exists, the
//     first positive direction;
//   - else the best, if any.
//
// If a direction d is chosen and θ_d ≤ 1 (before the step), θ_d takes the
// candidate's value, (acc, I) become the candidate's, and the steps of d and
// of every other positive direction double. Otherwise every step that
// still exceeds opt.MinStep (after rounding to 4 decimals) on a tunable ramp
// with θ ≤ 1 is halved, and the search ends when there is none. A chosen
// direction whose threshold is already above 1 therefore leads to halving
// even if another direction could move, as in the artifact.
//
// In the all-equal case the artifact keeps reporting the previous (acc, I);
// Tune reports the candidate's, so that the result always is the
// evaluation of the returned thresholds (they differ only if a step changes
// exits without changing I).
//
// Every applied step is valid, so the result either equals start or is
// valid on w. start itself is not checked: with fixed thresholds that now
// cause errors (the NLP violation case), every candidate may be invalid, and
// Tune then returns start and its (invalid) evaluation; callers compare
// Acc with the budget. Tune also returns start unchanged when w has no
// samples or no ramp is tunable.
//
// exits and vanilla are X_1..X_{n+1} and V at the current batch size (specs
// 4.2). Tune panics if lengths disagree.
func Tune(w Window, start []float64, exits []float64, vanilla float64, opt TuneOptions) (thresholds []float64, ev Eval) {
	s := newTuner(w, start, exits, vanilla, opt)
	if w.Len() > 0 {
		for s.step() {
		}
	}
	return s.th, Eval{Acc: s.acc, ExitRates: s.rates, Improvement: s.imp}
}

// tuner is the state of one Tune search.
type tuner struct {
	ev      *windowEval
	opt     TuneOptions
	tunable []int     // indices of the tunable ramps, ascending
	th      []float64 // current thresholds
	steps   []float64
	acc     float64 // current evaluation
	imp     float64
	rates   []float64

	// scratch for explore
	positive  []int
	candRates []float64
	bestRates []float64
	posRates  []float64
}

func newTuner(w Window, start []float64, exits []float64, vanilla float64, opt TuneOptions) *tuner {
	opt = opt.withDefaults()
	k := len(start)
	if opt.Fixed != nil && len(opt.Fixed) != k {
		panic(fmt.Sprintf("apparate: TuneOptions.Fixed has %d entries for %d active ramps", len(opt.Fixed), k))
	}
	s := &tuner{
		ev:        newWindowEval(w, k, exits, vanilla),
		opt:       opt,
		th:        slices.Clone(start),
		steps:     make([]float64, k),
		rates:     make([]float64, k+1),
		candRates: make([]float64, k+1),
		bestRates: make([]float64, k+1),
		posRates:  make([]float64, k+1),
	}
	for j := range k {
		if opt.Fixed != nil && opt.Fixed[j] {
			s.steps[j] = opt.MinStep
			continue
		}
		s.steps[j] = opt.Step
		s.tunable = append(s.tunable, j)
	}
	s.acc, s.imp = s.ev.eval(s.th, s.rates)
	return s
}

// valid reports whether accuracy acc meets the tuning budget.
func (s *tuner) valid(acc float64) bool { return math.Abs(1-acc) < s.opt.Budget }

// step runs one iteration of the search: it moves one threshold or halves
// steps. It returns false when the search is over.
func (s *tuner) step() bool {
	d, acc, imp, rates := s.explore()
	if d >= 0 && s.th[d] <= 1 {
		s.th[d] = roundPlaces(s.th[d]+s.steps[d], 4)
		s.acc, s.imp = acc, imp
		copy(s.rates, rates)
		s.steps[d] *= 2
		for _, p := range s.positive {
			if p != d {
				s.steps[p] *= 2
			}
		}
		return true
	}
	halved := false
	for _, j := range s.tunable {
		if roundPlaces(s.steps[j], 4) <= s.opt.MinStep || s.th[j] > 1 {
			continue
		}
		s.steps[j] /= 2
		halved = true
	}
	return halved
}

// explore evaluates one step up on every tunable ramp and returns the
// chosen direction (−1 for none) with its evaluation; it leaves the
// positive directions in s.positive (see Tune for the rules).
func (s *tuner) explore() (d int, acc, imp float64, rates []float64) {
	best, bestScore := -1, math.Inf(1)
	var bestAcc, bestImp, posAcc, posImp float64
	equal := 0
	s.positive = s.positive[:0]
	for _, j := range s.tunable {
		old := s.th[j]
		s.th[j] = roundPlaces(old+s.steps[j], 4)
		a, i := s.ev.eval(s.th, s.candRates)
		s.th[j] = old
		if !s.valid(a) {
			continue
		}
		if i != s.imp {
			if score := math.Abs(a-s.acc) / math.Abs(i-s.imp); score < bestScore {
				best, bestScore, bestAcc, bestImp = j, score, a, i
				copy(s.bestRates, s.candRates)
			}
		} else {
			equal++
		}
		if i == s.imp || a == s.acc {
			if len(s.positive) == 0 {
				posAcc, posImp = a, i
				copy(s.posRates, s.candRates)
			}
			s.positive = append(s.positive, j)
		}
	}
	noBest := best < 0 || (s.opt.BugCompatIndexZero && best == 0)
	switch {
	case equal > 0 && equal == len(s.tunable):
		// Every tunable ramp is equal, hence positive, and none is a best
		// candidate: the first tunable ramp is the first positive direction,
		// so this rule agrees with the next one. It is kept to mirror
		// specs 4.7; only the artifact's stale (acc, I) made it differ.
		return s.positive[0], posAcc, posImp, s.posRates
	case noBest && len(s.positive) > 0:
		return s.positive[0], posAcc, posImp, s.posRates
	case best >= 0:
		return best, bestAcc, bestImp, s.bestRates
	}
	return -1, 0, 0, nil
}

// Utility returns the utility U_j of every active ramp for one batch (specs
// 4.8, get_ramp_utility), in ms per request: the time that samples exiting
// at ramp j save relative to the next exit point, minus the ramp's cost for
// every sample that passes it,
//
//	U_j = e_j·(X_{j+1} − X_j) − (Σ_{m>j} e_m)·Q_{a_j},
//
// where the sum runs over the later ramps and the no-exit entry e_{n+1}
// (samples that exit nowhere pay for every ramp too; the artifact sums the
// exit-rate array to its end). rates and exits have n+1 entries (Eval's
// ExitRates, Costs.Exits), rampCost has the n costs Q_{a_j}.
func Utility(rates, exits, rampCost []float64) []float64 {
	n := len(rampCost)
	if len(rates) != n+1 || len(exits) != n+1 {
		panic(fmt.Sprintf("apparate: utility of %d ramps needs %d exit rates and latencies, got %d and %d", n, n+1, len(rates), len(exits)))
	}
	u := make([]float64, n)
	for j := range n {
		var passing float64
		for _, e := range rates[j+1:] {
			passing += e
		}
		u[j] = rates[j]*(exits[j+1]-exits[j]) - passing*rampCost[j]
	}
	return u
}

// EvenRamps returns n ramps spread evenly over [0, latest]: the interior
// points of ⌊linspace(0, latest, n+2)⌋ (specs 4.9 step 3, get_new_ramps),
// computed as numpy does, i·(latest/(n+1)) truncated. DistilBERT, latest 4,
// n 1 gives [2]. The ramps repeat when n > latest + 1. A negative latest
// (no usable ramp, Costs.Boundary() = −1) is taken as 0, the least the
// artifact's boundary scan returns. EvenRamps panics if n < 1.
func EvenRamps(n, latest int) []int {
	if n < 1 {
		panic(fmt.Sprintf("apparate: EvenRamps of %d ramps", n))
	}
	latest = max(latest, 0)
	step := float64(latest) / float64(n+1)
	r := make([]int, n)
	for i := range n {
		r[i] = int(float64(i+1) * step)
	}
	return r
}

// SelectRampCount returns the number n ≥ 1 of ramps the controller starts
// with (specs 4.9 step 2, ramp_addition_tail_latency). Greedily, starting
// from no ramp, every candidate ramp c of t not yet chosen is tried: the
// thresholds of chosen ∪ {c} are tuned on the whole table (Tune with opt,
// every ramp tunable from 0), the set is skipped if its accuracy is below
// 1 − opt's budget, and c scores U_c/Q_c (Utility with c's costs). The
// best score above 0 (the first on ties) among sets whose ramps cost less
// than tailBudget of the vanilla latency, Σ Q/V < tailBudget, is added; the
// search stops after budget ramps or when no candidate qualifies. If none
// qualifies at the first round, n = 1. Only the count is used: the
// controller places the ramps with EvenRamps(n, latest) (specs 4.13 item 1).
//
// c is the latency calc list at the start-up batch size (4 for CV, 1 for
// NLP). Every candidate ramp of t is tried, as in the artifact, also those
// after latest. n is capped so that EvenRamps(n, latest) has n distinct
// ramps (a no-op for the paper's ramp budgets). budget ≤ 0 means no limit
// on the count; tailBudget ≤ 0 means 0.05 (TAIL_LATENCY_BUDGET).
// opt.Fixed is ignored. Candidates of one round are tuned in parallel; the
// result does not depend on scheduling.
func SelectRampCount(t *Table, c Costs, latest, budget int, tailBudget float64, opt TuneOptions) int {
	n := max(1, len(selectRamps(t, c, budget, tailBudget, opt)))
	for n > 1 && !distinctRamps(EvenRamps(n, latest)) {
		n--
	}
	return n
}

func distinctRamps(r []int) bool {
	for i := 1; i < len(r); i++ {
		if r[i] == r[i-1] {
			return false
		}
	}
	return true
}

// selectRamps runs the greedy ramp addition of SelectRampCount and returns
// the chosen ramps, ascending.
func selectRamps(t *Table, c Costs, budget int, tailBudget float64, opt TuneOptions) []int {
	R := t.Ramps()
	if budget <= 0 || budget > R {
		budget = R
	}
	if tailBudget <= 0 {
		tailBudget = 0.05
	}
	opt = opt.withDefaults()
	opt.Fixed = nil
	var chosen []int
	scores := make([]float64, R)
	for len(chosen) < budget {
		parallelRamps(R, func(cand int) {
			scores[cand] = math.Inf(-1)
			if slices.Contains(chosen, cand) {
				return
			}
			if s, ok := rampAdditionScore(t, c, chosen, cand, tailBudget, opt); ok {
				scores[cand] = s
			}
		})
		best, bestScore := -1, 0.0
		for cand, s := range scores {
			if s > bestScore {
				best, bestScore = cand, s
			}
		}
		if best < 0 {
			break
		}
		chosen = append(chosen, best)
		slices.Sort(chosen)
	}
	return chosen
}

// rampAdditionScore tunes chosen ∪ {cand} on t and returns cand's score
// U_c/Q_c; ok is false when the set misses the accuracy or the tail budget.
func rampAdditionScore(t *Table, c Costs, chosen []int, cand int, tailBudget float64, opt TuneOptions) (score float64, ok bool) {
	active := append(slices.Clone(chosen), cand)
	slices.Sort(active)
	exits := exitLatencies(c, active)
	_, ev := Tune(tableWindow(t, active), make([]float64, len(active)), exits, c.Vanilla, opt)
	if ev.Acc < 1-opt.Budget {
		return 0, false
	}
	if (exits[len(active)]-c.Vanilla)/c.Vanilla >= tailBudget {
		return 0, false
	}
	q := make([]float64, len(active))
	for j, a := range active {
		q[j] = c.Ramp[a]
	}
	j := slices.Index(active, cand)
	return Utility(ev.ExitRates, exits, q)[j] / c.Ramp[cand], true
}

// parallelRamps calls f(r) for r in [0, n) on up to GOMAXPROCS goroutines.
func parallelRamps(n int, f func(r int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for r := range n {
			f(r)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range next {
				f(r)
			}
		})
	}
	for r := range n {
		next <- r
	}
	close(next)
	wg.Wait()
}
