package apparate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// Tolerances. Hand-computed numbers are short decimals, so a few ulps of
// float64 arithmetic is all that separates them from the code's results.
const (
	tunerTol = 1e-12
)

// twoRampCosts prices the hand-built windows: ramps after prefixes of 2 and
// 5 ms, each ramp 0.5 ms, V = 10 ms, so with both ramps active
// X = [2.5, 6, 11] (specs 4.2: 2+0.5, 5+0.5+0.5, 10+0.5+0.5).
var twoRampCosts = Costs{Prefix: []float64{2, 5}, Ramp: []float64{0.5, 0.5}, Vanilla: 10}

// handWindow is a 4-sample window for two active ramps. With thresholds
// [0.1, 0.05]: sample 0 exits at ramp 0 (1−0.95 = 0.05 < 0.1) and agrees;
// sample 1 passes ramp 0 (0.5) and exits at ramp 1 (0.01 < 0.05), agreeing;
// sample 2 exits nowhere (0.5, 0.4); sample 3 exits at ramp 0 (0.08 < 0.1)
// and disagrees. Exit rates [2/4, 1/4, 1/4], accuracy 3/4, mean latency
// 0.5·2.5 + 0.25·6 + 0.25·11 = 5.5 ms, improvement 100·(10−5.5)/10 = 45 %.
func handWindow() Window {
	return Window{
		Conf: [][]float32{
			{0.95, 0.5, 0.5, 0.92},
			{0.9, 0.99, 0.6, 0.5},
		},
		Agree: [][]bool{
			{true, false, false, false},
			{true, true, false, true},
		},
	}
}

func TestExitLatencies(t *testing.T) {
	got := exitLatencies(twoRampCosts, []int{0, 1})
	want := []float64{2.5, 6, 11}
	if !slices.Equal(got, want) {
		t.Errorf("exitLatencies = %v, want %v", got, want)
	}
	got = exitLatencies(twoRampCosts, []int{1})
	want = []float64{5.5, 10.5}
	if !slices.Equal(got, want) {
		t.Errorf("exitLatencies([1]) = %v, want %v", got, want)
	}
	// The helper stands in for Costs.Exits; the two must agree bit for bit.
	c := Costs{Prefix: []float64{0.414, 2.7427, 5.0714, 7.4001}, Ramp: []float64{0.12348, 0.12348, 0.1, 0.3}, Vanilla: 14.7201}
	for _, active := range [][]int{{0}, {1, 3}, {0, 1, 2, 3}, {}} {
		if a, b := exitLatencies(c, active), c.Exits(active); !slices.Equal(a, b) {
			t.Errorf("active %v: exitLatencies %v, Costs.Exits %v", active, a, b)
		}
	}
}

func TestEvaluateHand(t *testing.T) {
	ev := Evaluate(handWindow(), []float64{0.1, 0.05}, exitLatencies(twoRampCosts, []int{0, 1}), 10)
	if ev.Acc != 0.75 {
		t.Errorf("Acc = %v, want 0.75", ev.Acc)
	}
	if want := []float64{0.5, 0.25, 0.25}; !slices.Equal(ev.ExitRates, want) {
		t.Errorf("ExitRates = %v, want %v", ev.ExitRates, want)
	}
	if want := 45.0; math.Abs(ev.Improvement-want) > tunerTol {
		t.Errorf("Improvement = %v, want %v", ev.Improvement, want)
	}

	// All thresholds 0: nobody exits, everything is correct, and every
	// sample pays both ramps: 100·(10 − 11)/10 = −10 %.
	ev = Evaluate(handWindow(), []float64{0, 0}, exitLatencies(twoRampCosts, []int{0, 1}), 10)
	if ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{0, 0, 1}) || math.Abs(ev.Improvement+10) > tunerTol {
		t.Errorf("zero thresholds: %+v, want acc 1, rates [0 0 1], improvement −10", ev)
	}
}

func TestEvaluateAccRounding(t *testing.T) {
	// 2 errors in 3 samples: 1/3 rounds to 0.3333333 (7 decimals).
	w := Window{Conf: [][]float32{{1, 1, 1}}, Agree: [][]bool{{true, false, false}}}
	ev := Evaluate(w, []float64{0.5}, []float64{1, 2}, 2)
	if ev.Acc != 0.3333333 {
		t.Errorf("Acc = %v, want 0.3333333", ev.Acc)
	}
}

func TestEvaluateStrictBoundary(t *testing.T) {
	// 0.75 and 0.5 are exact in float32, so 1 − conf is exactly 0.25 and
	// 0.5: a threshold equal to it does not exit, one 0.0001 above does.
	w := Window{Conf: [][]float32{{0.75, 0.5}}, Agree: [][]bool{{true, true}}}
	exits := []float64{1, 3}
	cases := []struct {
		th   float64
		want []float64
	}{
		{0.25, []float64{0, 1}},
		{0.2501, []float64{0.5, 0.5}},
		{0.5, []float64{0.5, 0.5}},
		{0.5001, []float64{1, 0}},
	}
	for _, c := range cases {
		if got := Evaluate(w, []float64{c.th}, exits, 2).ExitRates; !slices.Equal(got, c.want) {
			t.Errorf("threshold %v: exit rates %v, want %v", c.th, got, c.want)
		}
	}
}

func TestEvaluateEmptyWindow(t *testing.T) {
	w := Window{Conf: [][]float32{{}, {}}, Agree: [][]bool{{}, {}}}
	ev := Evaluate(w, []float64{0.3, 2}, exitLatencies(twoRampCosts, []int{0, 1}), 10)
	if ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{0, 0, 1}) || math.Abs(ev.Improvement+10) > tunerTol {
		t.Errorf("empty window: %+v, want acc 1, rates [0 0 1], improvement −10", ev)
	}
	th, _ := Tune(w, []float64{0, 0.5}, exitLatencies(twoRampCosts, []int{0, 1}), 10, TuneOptions{})
	if !slices.Equal(th, []float64{0, 0.5}) {
		t.Errorf("Tune on an empty window moved the thresholds to %v", th)
	}
}

func TestEvaluatePanicsOnMisalignedRows(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for rows of unequal length")
		}
	}()
	w := Window{Conf: [][]float32{{0.9, 0.9}, {0.9}}, Agree: [][]bool{{true, true}, {true}}}
	Evaluate(w, []float64{0, 0}, []float64{1, 2, 3}, 3)
}

func TestRoundPlaces(t *testing.T) {
	cases := []struct {
		x      float64
		places int
		want   float64
	}{
		{0.01 + 0.02, 4, 0.03},
		{0.03125, 4, 0.0312}, // exact binary tie: half to even, as Python's round
		{0.00125, 4, 0.0013}, // 0.00125 is slightly above the tie in binary
		{2.0 / 3, 7, 0.6666667},
		{1, 4, 1},
	}
	for _, c := range cases {
		if got := roundPlaces(c.x, c.places); got != c.want {
			t.Errorf("roundPlaces(%v, %d) = %v, want %v", c.x, c.places, got, c.want)
		}
	}
}

func TestTuneAllAgree(t *testing.T) {
	// Every ramp always agrees: nothing limits the thresholds, so the first
	// ramp's rises past 1 and everything exits there, the largest possible
	// improvement 100·(V − X_1)/V = 75 %.
	w := Window{
		Conf:  [][]float32{{0.9, 0.8, 0.95, 0.6}, {0.99, 0.7, 0.9, 0.9}},
		Agree: [][]bool{{true, true, true, true}, {true, true, true, true}},
	}
	exits := exitLatencies(twoRampCosts, []int{0, 1})
	for _, bug := range []bool{false, true} {
		th, ev := Tune(w, []float64{0, 0}, exits, 10, TuneOptions{BugCompatIndexZero: bug})
		if th[0] <= 1 {
			t.Errorf("bug compat %v: θ_0 = %v, want > 1", bug, th[0])
		}
		if ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{1, 0, 0}) {
			t.Errorf("bug compat %v: %+v, want acc 1 and every sample exiting at ramp 0", bug, ev)
		}
		if want := 100 * (10 - exits[0]) / 10; math.Abs(ev.Improvement-want) > tunerTol {
			t.Errorf("bug compat %v: improvement %v, want %v", bug, ev.Improvement, want)
		}
	}
}

func TestTuneConfidentErrors(t *testing.T) {
	// Sample 0 is confidently wrong at ramp 0 (1 − 0.97 ≈ 0.03); every other
	// outcome is right. With the default budget (no error allowed in a
	// window this small), θ_0 must stay at or below 1 − conf, so that
	// sample 0 passes ramp 0, while ramp 1 takes everything else.
	w := Window{
		Conf:  [][]float32{{0.97, 0.9, 0.9, 0.9}, {0.99, 0.99, 0.99, 0.99}},
		Agree: [][]bool{{false, true, true, true}, {true, true, true, true}},
	}
	exits := exitLatencies(twoRampCosts, []int{0, 1})
	th, ev := Tune(w, []float64{0, 0}, exits, 10, TuneOptions{})
	if ev.Acc != 1 {
		t.Fatalf("acc %v with thresholds %v, want 1", ev.Acc, th)
	}
	if slack := 1 - float64(w.Conf[0][0]); th[0] >= slack {
		t.Errorf("θ_0 = %v lets the confident error exit (1 − conf = %v)", th[0], slack)
	}
	if !slices.Equal(ev.ExitRates, []float64{0, 1, 0}) {
		t.Errorf("exit rates %v, want [0 1 0]", ev.ExitRates)
	}
	if got := Evaluate(w, th, exits, 10); got.Acc != ev.Acc || got.Improvement != ev.Improvement {
		t.Errorf("Tune's evaluation %+v differs from Evaluate's %+v", ev, got)
	}
	// A budget that tolerates one error in four lets ramp 0 take all.
	_, loose := Tune(w, []float64{0, 0}, exits, 10, TuneOptions{Budget: 0.3})
	if loose.Acc != 0.75 || loose.ExitRates[0] != 1 {
		t.Errorf("budget 0.3: %+v, want acc 0.75 with everything exiting at ramp 0", loose)
	}
}

func TestTuneHandTrace(t *testing.T) {
	// One ramp, two samples: sample 0 agrees with slack 1 − conf ≈ 0.045,
	// sample 1 disagrees with slack 1 − float32(0.8) ≈ 0.19999999. Traced by
	// hand (θ, step): steps of 0.01, 0.02, 0.04 exit nobody ("all equal")
	// or only sample 0 (best, score 0) and double: θ = 0.01, 0.03, 0.07,
	// 0.15. The next step (0.16) lets sample 1 exit, so steps halve until a
	// valid one is found; every accepted step doubles again. The climb
	// stalls below 0.2: 0.19, 0.195, 0.1975, 0.1988 (0.19875 rounded to 4
	// decimals), 0.1994 (+0.000625); then 0.2000 is invalid and
	// round(0.000625, 4) = 0.0006 ≤ 0.001, so no step can be halved.
	w := Window{Conf: [][]float32{{0.955, 0.8}}, Agree: [][]bool{{true, false}}}
	th, ev := Tune(w, []float64{0}, []float64{2, 11}, 10, TuneOptions{})
	if !slices.Equal(th, []float64{0.1994}) {
		t.Errorf("thresholds %v, want [0.1994]", th)
	}
	if ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{0.5, 0.5}) {
		t.Errorf("%+v, want acc 1 and rates [0.5 0.5]", ev)
	}
}

// bugCompatWindow makes ramp 0's first step the best direction (it wins
// latency at the price of one error of four, allowed by a 0.5 budget) while
// ramp 1's first step changes nothing (an "equal", hence positive,
// direction).
func bugCompatWindow() Window {
	return Window{
		Conf:  [][]float32{{0.995, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}},
		Agree: [][]bool{{false, true, true, true}, {true, true, true, true}},
	}
}

func TestTuneBugCompatIndexZero(t *testing.T) {
	w := bugCompatWindow()
	exits := exitLatencies(twoRampCosts, []int{0, 1})

	// First iteration, both ways.
	for _, c := range []struct {
		bug  bool
		want int
	}{{false, 0}, {true, 1}} {
		s := newTuner(w, []float64{0, 0}, exits, 10, TuneOptions{Budget: 0.5, BugCompatIndexZero: c.bug})
		d, _, _, _ := s.explore()
		if d != c.want {
			t.Errorf("bug compat %v: first direction %d, want %d", c.bug, d, c.want)
		}
		if !slices.Equal(s.positive, []int{1}) {
			t.Errorf("bug compat %v: positive directions %v, want [1]", c.bug, s.positive)
		}
	}
	// The step taken: the chosen ramp moves by 0.01 and its step doubles, as
	// does the step of the other positive direction (ramp 1); ramp 0, not
	// positive (its step costs accuracy), keeps its step when not chosen.
	for _, c := range []struct {
		bug       bool
		th, steps []float64
	}{
		{false, []float64{0.01, 0}, []float64{0.02, 0.02}},
		{true, []float64{0, 0.01}, []float64{0.01, 0.02}},
	} {
		s := newTuner(w, []float64{0, 0}, exits, 10, TuneOptions{Budget: 0.5, BugCompatIndexZero: c.bug})
		if !s.step() {
			t.Fatalf("bug compat %v: the search ended at once", c.bug)
		}
		if !slices.Equal(s.th, c.th) || !slices.Equal(s.steps, c.steps) {
			t.Errorf("bug compat %v: after one step thresholds %v, steps %v; want %v, %v", c.bug, s.th, s.steps, c.th, c.steps)
		}
	}

	// Whole search. Using the best direction, ramp 0 moves past sample 0's
	// slack (1 − 0.995 ≈ 0.005) and the confident error exits there
	// (acc 0.75). With the quirk, the positive ramp 1 wins every time ramp 0
	// is best, ends above 1 and takes every sample; ramp 0 only creeps up
	// through "all equal" steps that exit nobody, so it stays below 0.005.
	slack := 1 - float64(w.Conf[0][0])
	th, ev := Tune(w, []float64{0, 0}, exits, 10, TuneOptions{Budget: 0.5})
	if th[0] <= slack || ev.Acc != 0.75 {
		t.Errorf("best direction: thresholds %v, %+v; want θ_0 > %v and acc 0.75", th, ev, slack)
	}
	th, ev = Tune(w, []float64{0, 0}, exits, 10, TuneOptions{Budget: 0.5, BugCompatIndexZero: true})
	if th[0] >= slack || th[1] <= 1 || ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{0, 1, 0}) {
		t.Errorf("quirk: thresholds %v, %+v; want θ_0 < %v, θ_1 > 1, acc 1, all exiting at ramp 1", th, ev, slack)
	}
}

func TestTuneFixedRamps(t *testing.T) {
	exits := exitLatencies(twoRampCosts, []int{0, 1})
	w := Window{
		Conf:  [][]float32{{0.9, 0.9, 0.5, 0.5}, {0.99, 0.99, 0.99, 0.8}},
		Agree: [][]bool{{true, true, false, false}, {true, true, true, false}},
	}
	// Ramp 0 keeps 0.2 (samples 0 and 1 exit there, correctly); ramp 1 is
	// tuned and must stop below 1 − 0.8 = 0.2 to keep sample 3 in.
	th, ev := Tune(w, []float64{0.2, 0}, exits, 10, TuneOptions{Fixed: []bool{true, false}})
	if th[0] != 0.2 {
		t.Errorf("fixed threshold moved: %v", th)
	}
	if ev.Acc != 1 || !slices.Equal(ev.ExitRates, []float64{0.5, 0.25, 0.25}) {
		t.Errorf("%+v (thresholds %v), want acc 1, rates [0.5 0.25 0.25]", ev, th)
	}

	// A fixed threshold that now admits errors (the NLP violation case):
	// every candidate is invalid, so Tune returns the start, invalid.
	th, ev = Tune(w, []float64{0.6, 0}, exits, 10, TuneOptions{Fixed: []bool{true, false}})
	if !slices.Equal(th, []float64{0.6, 0}) || ev.Acc != 0.5 {
		t.Errorf("invalid start: thresholds %v, %+v; want the start and acc 0.5", th, ev)
	}

	// No tunable ramp: nothing moves.
	th, _ = Tune(w, []float64{0.2, 0.1}, exits, 10, TuneOptions{Fixed: []bool{true, true}})
	if !slices.Equal(th, []float64{0.2, 0.1}) {
		t.Errorf("all fixed: thresholds moved to %v", th)
	}
}

// randomWindow draws a window of k ramps and n samples. Confidences sit on a
// 0.01 grid half of the time, so that candidate steps hit exact boundaries
// and ties; agreement is likelier at high confidence, and pAgree sets how
// often low-confidence outcomes agree.
func randomWindow(rng *rand.Rand, k, n int, pAgree float64) Window {
	w := Window{Conf: make([][]float32, k), Agree: make([][]bool, k)}
	grid := rng.IntN(2) == 0
	for j := range k {
		w.Conf[j] = make([]float32, n)
		w.Agree[j] = make([]bool, n)
		for i := range n {
			c := 0.5 + 0.5*rng.Float64()
			if grid {
				c = math.Round(c*100) / 100
			}
			w.Conf[j][i] = float32(c)
			w.Agree[j][i] = c > 0.97 || rng.Float64() < pAgree
		}
	}
	return w
}

func isRounded4(x float64) bool { return roundPlaces(x, 4) == x }

func TestTuneProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 7)) // fixed seed: the property holds for every draw
	budgets := []float64{0, 0.0001, 0.1, 0.3}
	trials := 3000
	if testing.Short() {
		trials = 500
	}
	for trial := range trials {
		k := 1 + rng.IntN(4)
		n := 1 + rng.IntN(16)
		w := randomWindow(rng, k, n, rng.Float64())
		active := make([]int, k)
		c := Costs{Vanilla: 10}
		for j := range k {
			active[j] = j
			c.Prefix = append(c.Prefix, 1+2*float64(j)+rng.Float64())
			c.Ramp = append(c.Ramp, 0.05+0.3*rng.Float64())
		}
		exits := exitLatencies(c, active)
		opt := TuneOptions{Budget: budgets[rng.IntN(len(budgets))], BugCompatIndexZero: rng.IntN(2) == 0}
		start := make([]float64, k)
		if rng.IntN(3) == 0 {
			opt.Fixed = make([]bool, k)
			for j := range k {
				if rng.IntN(2) == 0 {
					opt.Fixed[j] = true
					start[j] = roundPlaces(0.6*rng.Float64(), 4)
				}
			}
		}
		budget := opt.withDefaults().Budget

		th, ev := Tune(w, start, exits, c.Vanilla, opt)

		ref := Evaluate(w, th, exits, c.Vanilla)
		if ref.Acc != ev.Acc || ref.Improvement != ev.Improvement || !slices.Equal(ref.ExitRates, ev.ExitRates) {
			t.Fatalf("trial %d: Tune reports %+v, Evaluate of its thresholds %v gives %+v", trial, ev, th, ref)
		}
		if !slices.Equal(th, start) && !(math.Abs(1-ev.Acc) < budget) {
			t.Fatalf("trial %d: thresholds %v moved from %v to an invalid configuration (acc %v, budget %v)", trial, th, start, ev.Acc, budget)
		}
		for j := range k {
			if !isRounded4(th[j]) {
				t.Fatalf("trial %d: threshold %d = %v not rounded to 4 decimals", trial, j, th[j])
			}
			if th[j] < start[j] {
				t.Fatalf("trial %d: threshold %d fell from %v to %v", trial, j, start[j], th[j])
			}
			if opt.Fixed != nil && opt.Fixed[j] && th[j] != start[j] {
				t.Fatalf("trial %d: fixed threshold %d moved from %v to %v", trial, j, start[j], th[j])
			}
		}
		// The tuner only accepts improvements or accuracy-neutral steps, so
		// from a valid start it never ends worse than it began.
		if s := Evaluate(w, start, exits, c.Vanilla); math.Abs(1-s.Acc) < budget && ev.Improvement < s.Improvement-1e-9 && ev.Acc == s.Acc {
			t.Fatalf("trial %d: improvement fell from %v to %v at equal accuracy", trial, s.Improvement, ev.Improvement)
		}
	}
}

func TestUtilityHand(t *testing.T) {
	// Exit rates [0.5, 0.2, 0.3] with X = [2.5, 6, 11] and Q = [0.5, 0.5]:
	// U_1 = 0.5·(6 − 2.5) − (0.2 + 0.3)·0.5 = 1.5,
	// U_2 = 0.2·(11 − 6) − 0.3·0.5 = 0.85 (0.3 is the no-exit share, which
	// pays for ramp 2 too).
	got := Utility([]float64{0.5, 0.2, 0.3}, []float64{2.5, 6, 11}, []float64{0.5, 0.5})
	want := []float64{1.5, 0.85}
	for j := range want {
		if math.Abs(got[j]-want[j]) > tunerTol {
			t.Errorf("U_%d = %v, want %v", j+1, got[j], want[j])
		}
	}
	// A ramp nobody exits at only costs: U = −(1)·Q.
	got = Utility([]float64{0, 1}, []float64{5.5, 10.5}, []float64{0.5})
	if math.Abs(got[0]+0.5) > tunerTol {
		t.Errorf("idle ramp: U = %v, want −0.5", got[0])
	}
}

func TestEvenRamps(t *testing.T) {
	cases := []struct {
		n, latest int
		want      []int
	}{
		{1, 4, []int{2}},          // DistilBERT (the fork's log: [2])
		{3, 15, []int{3, 7, 11}},  // ⌊linspace(0, 15, 5)⌋ = 0 3 7 11 15
		{2, 4, []int{1, 2}},       // 4/3, 8/3
		{3, 4, []int{1, 2, 3}},    //
		{2, 32, []int{10, 21}},    // ResNet-101-like: 32/3, 64/3
		{1, 0, []int{0}},          //
		{1, -1, []int{0}},         // no usable ramp: latest taken as 0
		{3, 1, []int{0, 0, 0}},    // more ramps than positions repeat
		{4, 7, []int{1, 2, 4, 5}}, // 7/5 = 1.4: 1.4 2.8 4.2 5.6
		{3, 33, []int{8, 16, 24}}, // 33/4 = 8.25
		{1, 15, []int{7}},         // 7.5
		{2, 15, []int{5, 10}},     // exact multiples of 5
		{5, 11, []int{1, 3, 5, 7, 9}},
	}
	for _, c := range cases {
		if got := EvenRamps(c.n, c.latest); !slices.Equal(got, c.want) {
			t.Errorf("EvenRamps(%d, %d) = %v, want %v", c.n, c.latest, got, c.want)
		}
	}
}

// stagedTable has 6 candidate ramps and 10 samples: 6 "easy" ones that every
// ramp gets right with confidence 0.995, 2 "medium" ones that ramps 0–2 get
// wrong at confidence 0.6 and ramps 3–5 right at 0.995, and 2 "hard" ones
// that every ramp gets wrong at confidence 0.5. With P_r = r+1 ms, V = 10 ms
// and equal ramp costs Q, ramp 0 scores best alone (U = 0.6·9 − 0.4·Q
// against 0.8·6 − 0.2·Q for ramp 3), then ramp 3 adds the medium samples
// (U = 0.2·6 − 0.2·Q), and nothing else helps.
func stagedTable() *Table {
	t := &Table{Conf: make([][]float32, 6), Agree: make([][]bool, 6)}
	for r := range 6 {
		for i := range 10 {
			var conf float32
			var agree bool
			switch {
			case i < 6:
				conf, agree = 0.995, true
			case i < 8 && r < 3:
				conf, agree = 0.6, false
			case i < 8:
				conf, agree = 0.995, true
			default:
				conf, agree = 0.5, false
			}
			t.Conf[r] = append(t.Conf[r], conf)
			t.Agree[r] = append(t.Agree[r], agree)
		}
	}
	return t
}

func stagedCosts(q float64) Costs {
	c := Costs{Vanilla: 10}
	for r := range 6 {
		c.Prefix = append(c.Prefix, float64(r+1))
		c.Ramp = append(c.Ramp, q)
	}
	return c
}

func TestSelectRampCount(t *testing.T) {
	tab := stagedTable()
	cases := []struct {
		name       string
		q          float64
		budget     int
		tailBudget float64
		ramps      []int
		n          int
	}{
		{"two useful ramps", 0.2, 3, 0.05, []int{0, 3}, 2},
		{"no limit", 0.2, 0, 0, []int{0, 3}, 2},
		{"ramp budget 1", 0.2, 1, 0.05, []int{0}, 1},
		// 2·0.3/10 = 6 % > 5 %: the second ramp breaks the tail budget.
		{"tail budget", 0.3, 3, 0.05, []int{0}, 1},
		// 0.2/10 = 2 % is not below a 1.5 % budget: nothing qualifies, n = 1.
		{"nothing qualifies", 0.2, 3, 0.015, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cost := stagedCosts(c.q)
			if got := selectRamps(tab, cost, c.budget, c.tailBudget, TuneOptions{}); !slices.Equal(got, c.ramps) {
				t.Errorf("chosen ramps %v, want %v", got, c.ramps)
			}
			if got := SelectRampCount(tab, cost, 5, c.budget, c.tailBudget, TuneOptions{}); got != c.n {
				t.Errorf("SelectRampCount = %d, want %d", got, c.n)
			}
		})
	}
	// With latest = 0 two ramps cannot be told apart: the count is capped.
	if got := SelectRampCount(tab, stagedCosts(0.2), 0, 3, 0.05, TuneOptions{}); got != 1 {
		t.Errorf("latest 0: SelectRampCount = %d, want 1", got)
	}
	// No candidate agrees ever: n = 1.
	bad := stagedTable()
	for r := range bad.Agree {
		for i := range bad.Agree[r] {
			bad.Agree[r][i] = false
		}
	}
	if got := selectRamps(bad, stagedCosts(0.2), 3, 0.05, TuneOptions{}); len(got) != 0 {
		t.Errorf("never agreeing: chosen %v, want none", got)
	}
}

// latentTable draws a bootstrap-like table of R ramps and n samples from a
// latent-difficulty model in the spirit of specs 6.2 (one difficulty per
// sample, ramp capability growing with depth).
func latentTable(rng *rand.Rand, R, n int) *Table {
	t := &Table{Conf: make([][]float32, R), Agree: make([][]bool, R)}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.Float64() * rng.Float64()
	}
	for r := range R {
		t.Conf[r] = make([]float32, n)
		t.Agree[r] = make([]bool, n)
		capR := 0.5 + 0.5*math.Pow(float64(r+1)/float64(R+1), 0.6)
		for i := range n {
			m := 12*(capR-d[i]) + rng.NormFloat64()
			w := 1.0
			if m < 0 {
				w = 0.3
			}
			t.Conf[r][i] = float32(1 / (1 + math.Exp(-w*math.Abs(m))))
			t.Agree[r][i] = m > 0
		}
	}
	return t
}

func TestSelectRampCountLatent(t *testing.T) {
	if testing.Short() {
		t.Skip("tunes every candidate ramp on a 2,000-sample table")
	}
	rng := rand.New(rand.NewPCG(6, 2))
	R := 16
	tab := latentTable(rng, R, 2000)
	c := Costs{Vanilla: 5.31}
	for r := range R {
		c.Prefix = append(c.Prefix, 0.25+0.31*float64(r+1))
		c.Ramp = append(c.Ramp, 0.11)
	}
	for _, budget := range []int{1, 2, 3} {
		chosen := selectRamps(tab, c, budget, 0.05, TuneOptions{})
		if len(chosen) > budget {
			t.Errorf("budget %d: chose %v", budget, chosen)
		}
		var q float64
		for _, a := range chosen {
			q += c.Ramp[a]
		}
		if q/c.Vanilla >= 0.05 {
			t.Errorf("budget %d: chosen %v cost %.1f %% of V", budget, chosen, 100*q/c.Vanilla)
		}
		if n := SelectRampCount(tab, c, R-1, budget, 0.05, TuneOptions{}); n < 1 || n > budget || (len(chosen) > 0 && n != len(chosen)) {
			t.Errorf("budget %d: SelectRampCount = %d with chosen %v", budget, n, chosen)
		}
	}
}

func ExampleEvaluate() {
	w := Window{
		Conf:  [][]float32{{0.95, 0.5, 0.5, 0.92}, {0.9, 0.99, 0.6, 0.5}},
		Agree: [][]bool{{true, false, false, false}, {true, true, false, true}},
	}
	c := Costs{Prefix: []float64{2, 5}, Ramp: []float64{0.5, 0.5}, Vanilla: 10}
	ev := Evaluate(w, []float64{0.1, 0.05}, c.Exits([]int{0, 1}), c.Vanilla)
	fmt.Printf("acc %.2f, exit rates %v, improvement %.2f %%\n", ev.Acc, ev.ExitRates, ev.Improvement)
	// Output:
	// acc 0.75, exit rates [0.5 0.25 0.25], improvement 45.00 %
}

func BenchmarkTuneCVWindow(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	w := randomWindow(rng, 3, 4, 0.5)
	exits := []float64{1.5, 3, 4.5, 5.6}
	for b.Loop() {
		Tune(w, make([]float64, 3), exits, 5.31, TuneOptions{})
	}
}

func BenchmarkSelectRampCount(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	R := 34
	tab := latentTable(rng, R, 10000)
	c := Costs{Vanilla: 10.58}
	for r := range R {
		c.Prefix = append(c.Prefix, 0.25+0.31*float64(r+1))
		c.Ramp = append(c.Ramp, 0.11)
	}
	for b.Loop() {
		SelectRampCount(tab, c, R-1, 3, 0.05, TuneOptions{})
	}
}

func TestRoundPlacesFastPathAgrees(t *testing.T) {
	// The fast path must give exactly the decimal rounding of strconv.
	rng := rand.New(rand.NewPCG(11, 12))
	slow := func(x float64, places int) float64 {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', places, 64), 64)
		return r
	}
	for i := range 200000 {
		x := rng.Float64() * 2
		if i%2 == 0 { // sums of tuner steps: multiples of 0.01·2^-k
			x = roundPlaces(rng.Float64(), 4) + 0.01*math.Ldexp(1, -rng.IntN(6))*float64(rng.IntN(20))
		}
		for _, places := range []int{4, 7} {
			if got, want := roundPlaces(x, places), slow(x, places); got != want {
				t.Fatalf("roundPlaces(%v, %d) = %v, want %v", x, places, got, want)
			}
		}
	}
}
