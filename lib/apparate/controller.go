package apparate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// This file holds the replay loop of specs/apparate.md 4.5 and the
// controller around it: start-up (4.9), accuracy accounting and guards
// (4.6), threshold tuning triggers (4.7) and ramp adjustment (4.8), for the
// CV and the NLP controller. The pure decision functions it calls (Evaluate,
// Tune, Utility, SelectRampCount, EvenRamps) live in tuner.go.

// Mode selects the controller of specs 4.1: the artifact switches on
// nlp = (dataset != "video").
type Mode int

const (
	// CV is the video controller (check_signals_cv, specs 4.6–4.8).
	CV Mode = iota
	// NLP is the language controller (check_signals_nlp): voting and
	// hysteresis in the ramp check, violations scale thresholds by 0.1.
	NLP
)

// String returns "cv" or "nlp".
func (m Mode) String() string {
	switch m {
	case CV:
		return "cv"
	case NLP:
		return "nlp"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MarshalText writes the mode as its String, for config.json.
func (m Mode) MarshalText() ([]byte, error) {
	if m != CV && m != NLP {
		return nil, fmt.Errorf("apparate: unknown mode %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "cv" or "nlp".
func (m *Mode) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "cv":
		*m = CV
	case "nlp":
		*m = NLP
	default:
		return fmt.Errorf("apparate: mode %q, want cv or nlp", b)
	}
	return nil
}

// Params configures Replay. Its zero value (apart from Mode) means the
// artifact's constants for the mode (specs 4.1, controller.py lines 35–44
// and 110–114); DefaultParams also sets the per-model ramp budget.
type Params struct {
	Mode Mode `json:"mode"`
	// AccBudget is the accuracy loss a batch may show before it counts as a
	// violation, α_k < 1 − AccBudget (ACC_LOSS_BUDGET_ACTUAL, 0.01).
	AccBudget float64 `json:"acc_budget"`
	// TuneBudget is the tuner's window constraint |1 − acc| < TuneBudget
	// (ACC_LOSS_BUDGET_TUNING, 0.0001), also used at start-up.
	TuneBudget float64 `json:"tune_budget"`
	// TailBudget bounds the ramps chosen at start-up, Σ Q/V < TailBudget
	// (TAIL_LATENCY_BUDGET, 0.05).
	TailBudget float64 `json:"tail_budget"`
	// RampBudget is the most ramps start-up may choose (NUM_RAMP_BUDGET):
	// 3 for CV, 2 for NLP; the artifact uses 1 for ResNet-18 and the VGGs
	// (DefaultParams). Zero means 3 (CV) or 2 (NLP).
	RampBudget int `json:"ramp_budget"`
	// CheckInterval is the ramp-check period in batches
	// (RAMP_CHECK_INTERVAL): 30 (CV), 100 (NLP).
	CheckInterval int `json:"check_interval"`
	// RetuneAt is the NLP controller's periodic re-tune phase: all ramps are
	// re-tuned at batch k with k mod CheckInterval = RetuneAt if a ramp check
	// happened and nothing was re-tuned since (specs 4.7). Zero means 40.
	RetuneAt int `json:"retune_at,omitempty"`
	// Window is the number of recent batches the tuner sees (4).
	Window int `json:"window"`
	// History is the number of recent batches of utilities and exit rates
	// the ramp check sees (20).
	History int `json:"history"`
	// PromoteFrac is the NLP vote a ramp needs to count as positive, more
	// than this fraction of non-negative utilities; the hysteresis of specs
	// 4.8 raises it to 1 and resets it to PromoteFrac (0.6).
	PromoteFrac float64 `json:"promote_frac,omitempty"`
	// DemoteFrac is the NLP vote that makes a ramp negative, more than this
	// fraction of negative utilities (0.6).
	DemoteFrac float64 `json:"demote_frac,omitempty"`
	// RetuneGap is the gain, in percentage points of latency, by which a
	// re-tune at a ramp check must beat the current batch's improvement to
	// be preferred over moving ramps: 2.0 (CV), 5.0 (NLP).
	RetuneGap float64 `json:"retune_gap"`
	// NewThreshold is the threshold of a newly added ramp: 0 (CV), 0.01
	// (NLP). Zero means the mode's value, a negative value means 0.
	NewThreshold float64 `json:"new_threshold"`
	// StartupBatch is the batch size whose latency table start-up uses
	// (the artifact's --batch_size): 4 (CV), 1 (NLP). It also sets the
	// latest usable ramp (specs 4.2, 4.9).
	StartupBatch int `json:"startup_batch"`
	// SelectedStart starts with the ramps that start-up's greedy addition
	// chooses (those up to the latest usable ramp) instead of the artifact's
	// evenly spaced ramps of the same count (specs 4.9 step 3, 4.13 item
	// 1). The default, false, is the artifact's and the spec's start-up.
	SelectedStart bool `json:"selected_start,omitempty"`
	// BugCompat switches on the artifact's quirks (specs 4.13).
	BugCompat BugCompat `json:"bug_compat"`
}

// BugCompat selects, quirk by quirk, the artifact's code where it departs
// from the behaviour the spec and paper describe (specs 4.13: "implement
// the documented behaviour by default and the original as an option"). The
// zero value is the documented behaviour throughout.
//
// Quirks with no switch: 4.13 item 4 (the cumulative-accuracy guard can
// suspend CV re-tuning for the rest of a run) is the guard as specs 4.6
// documents it, kept as is; items 7–10 do not change what Replay computes
// (one V[b] per batch size; queueing is outside Replay). The artifact
// weights the CV guard's cumulative accuracy by the rounded batch size;
// Replay counts samples, which is the same for CV's batches of 1.
type BugCompat struct {
	// IndexZero takes a best tuning direction at index 0 of the active list
	// for "no best direction" (4.13 item 2; TuneOptions.BugCompatIndexZero).
	IndexZero bool `json:"index_zero,omitempty"`
	// DropLastSample drops the simulation table's last sample, as the
	// artifact's get_batches does (4.13 item 6).
	DropLastSample bool `json:"drop_last_sample,omitempty"`
	// RemoveHighest makes the ramp check that finds every ramp positive and
	// no quota left remove the ramp with the HIGHEST mean utility before
	// prepending an earlier one (4.13 item 3, the artifact, in both
	// controllers). The default removes the lowest: keeping the most useful
	// ramps is what utility-driven adjustment is for (specs 2, 4.8).
	RemoveHighest bool `json:"remove_highest,omitempty"`
	// ShrinkingWindow trims the per-ramp window lists as the artifact does
	// (4.13 item 5): a ramp's list drops the oldest batch's samples only if
	// it is longer than that batch, so after any ramp change a cleared list
	// never regrows past about one batch (one sample for CV). The default
	// is the documented window: the samples of the last Window batches
	// since the ramp's history was cleared (specs 4.5 step 6, 4.10).
	// Either way the rows are tail-aligned.
	ShrinkingWindow bool `json:"shrinking_window,omitempty"`
	// FrozenNLPStart applies the NLP violation rule to the tuning at batch
	// 1 as the artifact does: ramps with no exits in the batch keep their
	// thresholds, and at batch 1 no ramp has exits (all thresholds are 0),
	// so nothing is tuned until the first periodic re-tune (batch
	// CheckInterval + RetuneAt). The default tunes every ramp from 0 at
	// batch 1, as specs 4.7 lists batch 1 among the tuning triggers.
	FrozenNLPStart bool `json:"frozen_nlp_start,omitempty"`
}

// DefaultParams returns the artifact's parameters for a model (specs 4.1,
// 5): the mode's constants, and a ramp budget of 1 for ResNet-18 and the
// VGGs (the artifact tests the model name for "resnet18" and "vgg"), else 3
// (CV) or 2 (NLP).
func DefaultParams(mode Mode, model string) Params {
	p := Params{Mode: mode}.withDefaults()
	if mode == CV && (strings.Contains(model, "resnet18") || strings.Contains(model, "vgg")) {
		p.RampBudget = 1
	}
	return p
}

// withDefaults returns p with zero fields set to the mode's constants.
func (p Params) withDefaults() Params {
	nlp := p.Mode == NLP
	pick := func(cv, nlpv float64) float64 {
		if nlp {
			return nlpv
		}
		return cv
	}
	setF := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	setI := func(x *int, v int) {
		if *x == 0 {
			*x = v
		}
	}
	setF(&p.AccBudget, 0.01)
	setF(&p.TuneBudget, 0.0001)
	setF(&p.TailBudget, 0.05)
	setI(&p.RampBudget, int(pick(3, 2)))
	setI(&p.CheckInterval, int(pick(30, 100)))
	setI(&p.RetuneAt, 40)
	setI(&p.Window, 4)
	setI(&p.History, 20)
	setF(&p.PromoteFrac, 0.6)
	setF(&p.DemoteFrac, 0.6)
	setF(&p.RetuneGap, pick(2.0, 5.0))
	switch {
	case p.NewThreshold == 0:
		p.NewThreshold = pick(0, 0.01)
	case p.NewThreshold < 0:
		p.NewThreshold = 0
	}
	setI(&p.StartupBatch, int(pick(4, 1)))
	return p
}

// validate reports the first unusable field of p (after withDefaults).
func (p Params) validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("apparate: replay: Params.%s = %v, want %s", field, v, want)
	}
	unit := func(x float64) bool { return x > 0 && x < 1 }
	switch {
	case p.Mode != CV && p.Mode != NLP:
		return bad("Mode", int(p.Mode), "CV or NLP")
	case !unit(p.AccBudget):
		return bad("AccBudget", p.AccBudget, "in (0, 1)")
	case !unit(p.TuneBudget):
		return bad("TuneBudget", p.TuneBudget, "in (0, 1)")
	case !unit(p.TailBudget):
		return bad("TailBudget", p.TailBudget, "in (0, 1)")
	case p.RampBudget < 1:
		return bad("RampBudget", p.RampBudget, "≥ 1")
	case p.CheckInterval < 1:
		return bad("CheckInterval", p.CheckInterval, "≥ 1")
	case p.RetuneAt < 0 || p.RetuneAt >= p.CheckInterval && p.Mode == NLP:
		return bad("RetuneAt", p.RetuneAt, fmt.Sprintf("in [0, CheckInterval = %d)", p.CheckInterval))
	case p.Window < 1:
		return bad("Window", p.Window, "≥ 1")
	case p.History < 1:
		return bad("History", p.History, "≥ 1")
	case !(p.PromoteFrac > 0 && p.PromoteFrac <= 1):
		return bad("PromoteFrac", p.PromoteFrac, "in (0, 1]")
	case !(p.DemoteFrac > 0 && p.DemoteFrac <= 1):
		return bad("DemoteFrac", p.DemoteFrac, "in (0, 1]")
	case !(p.RetuneGap >= 0) || math.IsInf(p.RetuneGap, 1):
		return bad("RetuneGap", p.RetuneGap, "non-negative and finite")
	case !(p.NewThreshold >= 0) || math.IsInf(p.NewThreshold, 1):
		return bad("NewThreshold", p.NewThreshold, "non-negative and finite")
	}
	if _, err := RoundBatch(p.StartupBatch); err != nil {
		return bad("StartupBatch", p.StartupBatch, fmt.Sprintf("in [1, %d]", BatchSizes[len(BatchSizes)-1]))
	}
	return nil
}

// Event records, per batch, what the controller did after serving it.
type Event uint8

const (
	// EventViolation: the batch's agreement was below 1 − AccBudget.
	EventViolation Event = 1 << iota
	// EventTuned: thresholds were re-tuned and the result adopted.
	EventTuned
	// EventGuard: the accuracy guard zeroed (CV) or scaled by 0.1 (NLP) the
	// thresholds of ramps whose exits were too often wrong (specs 4.6).
	EventGuard
	// EventRampCheck: the periodic ramp check ran (specs 4.8).
	EventRampCheck
	// EventRampChange: the ramp check changed the active ramps.
	EventRampChange
)

// Batch is the compact record of one replayed batch (specs 4.5 step 4;
// the artifact's serve_batch log line): its samples are Start … Start+Size−1
// of the replay (and of the simulation table), the configuration that served
// it is Run.Configs[Config]. Accuracy, improvement and exit rates follow
// from the per-sample records: Acc, Run.Improvement, Run.ExitRates.
type Batch struct {
	Start   int32 `json:"start"`
	Config  int32 `json:"config"`
	Size    uint8 `json:"size"`    // b_k ≤ 64
	Correct uint8 `json:"correct"` // samples that agree with the original model
	Events  Event `json:"events"`
}

// Acc returns the batch's agreement α_k = Correct/Size.
func (b Batch) Acc() float64 { return float64(b.Correct) / float64(b.Size) }

// Config is an exit configuration: the active ramps (ascending candidate
// ramp indices) and their thresholds, in force from batch Batch (an index
// of Run.Batches) until the next Config.
type Config struct {
	Batch      int       `json:"batch"`
	Ramps      []int     `json:"ramps"`
	Thresholds []float64 `json:"thresholds"`
}

// TuneCause says why the controller tuned thresholds (specs 4.7).
type TuneCause uint8

const (
	TuneStart       TuneCause = iota // batch 1
	TuneViolation                    // after a violating batch
	TuneAfterChange                  // CV: the batch after a ramp change
	TunePeriodic                     // NLP: k mod CheckInterval = RetuneAt after a ramp check
	TuneRampCheck                    // a ramp check found a negative ramp: re-tune or move?
)

// String names the cause.
func (c TuneCause) String() string {
	switch c {
	case TuneStart:
		return "start"
	case TuneViolation:
		return "violation"
	case TuneAfterChange:
		return "after-change"
	case TunePeriodic:
		return "periodic"
	case TuneRampCheck:
		return "ramp-check"
	}
	return fmt.Sprintf("TuneCause(%d)", int(c))
}

// Tuning records one run of the threshold tuner: after batch Batch, on the
// window made of samples Lo … Hi−1 of the simulation table (the same
// samples for every active ramp, tail-aligned, specs 4.13 item 5), priced
// at the batch's size. Start holds the thresholds the search started from
// (0 for tunable ramps, the kept value for fixed ones), Thresholds and Eval
// its result; Adopted says whether the controller took it (a re-tune at a
// ramp check is adopted only if it beats the batch by RetuneGap).
type Tuning struct {
	Batch      int       `json:"batch"`
	Cause      TuneCause `json:"cause"`
	Lo         int       `json:"lo"`
	Hi         int       `json:"hi"`
	Ramps      []int     `json:"ramps"`
	Fixed      []bool    `json:"fixed,omitempty"`
	Start      []float64 `json:"start"`
	Thresholds []float64 `json:"thresholds"`
	Eval       Eval      `json:"eval"`
	Adopted    bool      `json:"adopted"`
}

// Summary is the run's last log line (specs 4.5 step 8).
type Summary struct {
	Samples int `json:"samples"`
	Batches int `json:"batches"`
	// Agreement is the fraction of samples whose result agrees with the
	// original model, mean(Correct).
	Agreement float64 `json:"agreement"`
	// Improvement is the mean inference-latency improvement in percent,
	// 100·mean((V_i − E_i)/V_i), V_i the vanilla latency of sample i's
	// batch size.
	Improvement float64 `json:"improvement_pct"`
	// ExitRates has R+1 entries: the fraction of samples leaving at each
	// candidate ramp, then at the final layer.
	ExitRates []float64 `json:"exit_rates"`
	// ExitCounts and ExitCorrect count, per exit point (R+1 entries), the
	// samples leaving there and those of them that agree with the original
	// model (the artifact's per-exit accuracy is their ratio; every sample
	// leaving at the final layer agrees).
	ExitCounts  []int `json:"exit_counts"`
	ExitCorrect []int `json:"exit_correct"`
	// Violations counts batches with agreement below 1 − AccBudget.
	Violations int `json:"violations"`
	// Tunings counts adopted tunings, RampChanges configurations whose
	// ramps differ from the previous one's.
	Tunings     int `json:"tunings"`
	RampChanges int `json:"ramp_changes"`
}

// Run is the outcome of Replay.
type Run struct {
	Params Params `json:"params"` // with defaults applied
	// Latest is the latest usable ramp at StartupBatch (specs 4.2) and
	// StartRamps the ramps the controller started with (specs 4.9).
	Latest     int   `json:"latest"`
	StartRamps []int `json:"start_ramps"`

	// Per replayed sample, in order (sample i is row i of the simulation
	// table): the inference latency E_i in ms, the exit point (a candidate
	// ramp, or R for the final layer) and whether the result agrees with
	// the original model.
	Latency []float64 `json:"latency_ms"`
	Exit    []int16   `json:"exit"`
	Correct []bool    `json:"correct"`

	Batches []Batch  `json:"batches"`
	Configs []Config `json:"configs"`
	Tunings []Tuning `json:"tunings"`
	Summary Summary  `json:"summary"`

	// Vanilla is V at each batch size of BatchSizes, in ms: what a batch's
	// improvement is measured against.
	Vanilla []float64 `json:"vanilla_ms"`
}

// Improvement returns batch k's latency improvement in percent,
// I_k = 100·(V − mean E)/V (specs 4.5 step 4).
func (r *Run) Improvement(k int) float64 {
	b := r.Batches[k]
	v := r.Vanilla[sizeIndex(int(b.Size))]
	var sum float64
	for _, e := range r.Latency[b.Start : int(b.Start)+int(b.Size)] {
		sum += e
	}
	return 100 * (v - sum/float64(b.Size)) / v
}

// ExitRates returns batch k's exit rates over its active ramps and the
// final layer (len(ramps)+1 entries).
func (r *Run) ExitRates(k int) []float64 {
	b := r.Batches[k]
	ramps := r.Configs[b.Config].Ramps
	rates := make([]float64, len(ramps)+1)
	for _, e := range r.Exit[b.Start : int(b.Start)+int(b.Size)] {
		j, ok := slices.BinarySearch(ramps, int(e))
		if !ok {
			j = len(ramps)
		}
		rates[j]++
	}
	for j := range rates {
		rates[j] /= float64(b.Size)
	}
	return rates
}

// WindowAgreement returns the agreement over the samples of batches
// max(0, k−w+1) … k, for plots of accuracy against batch index.
func (r *Run) WindowAgreement(k, w int) float64 {
	first := r.Batches[max(0, k-w+1)]
	last := r.Batches[k]
	n, c := 0, 0
	for _, ok := range r.Correct[first.Start : int(last.Start)+int(last.Size)] {
		n++
		if ok {
			c++
		}
	}
	return float64(c) / float64(n)
}

// sizeIndex returns the index in BatchSizes of RoundBatch(b); b must be
// valid.
func sizeIndex(b int) int {
	for k, s := range BatchSizes {
		if b <= s {
			return k
		}
	}
	panic(fmt.Sprintf("apparate: batch size %d", b))
}

// Replay replays the simulation table sim through the batch schedule
// batches with the Apparate controller (specs 4.5): start-up on the
// bootstrap table boot (4.9), then, batch by batch, the exit rule, the
// batch's statistics, the 4-batch window and 20-batch histories, and the
// controller's adaptation (CV: 4.6–4.8 check_signals_cv; NLP:
// check_signals_nlp). Batch k takes the next batches[k] samples and is
// priced with the Costs of RoundBatch(batches[k]) (4.2); the replay stops
// when fewer samples remain than the next batch needs, or the schedule
// ends. Replay is deterministic.
//
// p must have the tables' ramp count; every batch size must be in [1, 64].
// Errors name the argument and the field.
func Replay(p *Profile, sim, boot *Table, batches []int, prm Params) (*Run, error) {
	prm = prm.withDefaults()
	if err := prm.validate(); err != nil {
		return nil, err
	}
	if err := checkReplayInputs(p, sim, boot, batches); err != nil {
		return nil, err
	}
	r, err := newReplayer(p, sim, prm)
	if err != nil {
		return nil, err
	}
	r.start(boot)
	r.replay(batches)
	if len(r.run.Batches) == 0 {
		return nil, fmt.Errorf("apparate: replay: no batch served: schedule of %d batches, simulation table of %d samples", len(batches), r.n)
	}
	r.summarize()
	return r.run, nil
}

// checkReplayInputs validates Replay's arguments.
func checkReplayInputs(p *Profile, sim, boot *Table, batches []int) error {
	if p == nil {
		return errors.New("apparate: replay: nil profile")
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("apparate: replay: %w", err)
	}
	R := p.Ramps()
	if R > math.MaxInt16-1 {
		return fmt.Errorf("apparate: replay: profile %q has %d ramps, at most %d supported", p.Model, R, math.MaxInt16-1)
	}
	for _, tb := range []struct {
		name string
		t    *Table
	}{{"simulation table", sim}, {"bootstrap table", boot}} {
		if err := tb.t.Validate(); err != nil {
			return fmt.Errorf("apparate: replay: %s: %w", tb.name, err)
		}
		if tb.t.Ramps() != R {
			return fmt.Errorf("apparate: replay: %s has %d ramps, profile %q has %d", tb.name, tb.t.Ramps(), p.Model, R)
		}
	}
	if sim.Len() > math.MaxInt32 {
		return fmt.Errorf("apparate: replay: simulation table has %d samples, at most %d supported", sim.Len(), math.MaxInt32)
	}
	for k, b := range batches {
		if _, err := RoundBatch(b); err != nil {
			return fmt.Errorf("apparate: replay: batches[%d] = %d: %w", k, b, err)
		}
	}
	return nil
}

// replayer is the state of one Replay: the controller's state (ramps,
// thresholds, quota, flags, histories) and reused buffers.
type replayer struct {
	prm    Params
	tab    *Table
	n      int // samples available to the replay
	R      int
	latest int
	opt    TuneOptions
	run    *Run

	costs   [maxBatchSizes]Costs
	exits   [maxBatchSizes][]float64 // X for the current ramps, by size index
	exitsOK [maxBatchSizes]bool

	// Current configuration; conf/agree are the table rows of the ramps.
	ramps []int
	th    []float64
	conf  [][]float32
	agree [][]bool
	quota int // ramps removed and not replaced (specs 4.8)

	// Per candidate ramp.
	since    []int       // first sample after the ramp's history was cleared
	listLen  []int       // ShrinkingWindow: the artifact's list length
	util     [][]float64 // utility history, a ring of History entries
	utilN    []int
	utilNext []int

	// The artifact's _batch_size_info: sizes of the last Window batches
	// (ShrinkingWindow only).
	recent []int

	violations int  // violating batches since the last ramp check
	afterAdj   bool // _after_ramp_adjustment
	posFrac    float64
	rampHist   [][]int // NLP: ramp sets after the last 5 checks (incl. start)
	rampHistN  int

	seen, correct int // cumulative samples and agreeing samples
	cur           int // first sample of the current batch

	// Per-batch scratch, len(ramps)+1 entries.
	counts, hits []int
	rates, uts   []float64
	neg          []int
	prev         []int     // ramps before a ramp check
	histBuf      []float64 // history's unwrapped ring
	win          Window
}

func newReplayer(p *Profile, sim *Table, prm Params) (*replayer, error) {
	R := p.Ramps()
	r := &replayer{
		prm:      prm,
		tab:      sim,
		n:        sim.Len(),
		R:        R,
		opt:      TuneOptions{Budget: prm.TuneBudget, BugCompatIndexZero: prm.BugCompat.IndexZero},
		since:    make([]int, R),
		listLen:  make([]int, R),
		util:     make([][]float64, R),
		utilN:    make([]int, R),
		utilNext: make([]int, R),
		posFrac:  prm.PromoteFrac,
		counts:   make([]int, R+1),
		hits:     make([]int, R+1),
		rates:    make([]float64, R+1),
		uts:      make([]float64, R),
		neg:      make([]int, 0, R),
	}
	if prm.BugCompat.DropLastSample && r.n > 0 {
		r.n--
	}
	for k, b := range BatchSizes {
		c, err := p.At(b)
		if err != nil {
			return nil, fmt.Errorf("apparate: replay: %w", err)
		}
		r.costs[k] = c
	}
	for q := range r.util {
		r.util[q] = make([]float64, prm.History)
	}
	r.run = &Run{Params: prm, Vanilla: make([]float64, len(BatchSizes))}
	for k := range BatchSizes {
		r.run.Vanilla[k] = r.costs[k].Vanilla
	}
	return r, nil
}

// start runs start-up (specs 4.9): the ramp count chosen by greedy addition
// on the bootstrap table at StartupBatch's costs, placed evenly over
// [0, latest] (under SelectedStart, the chosen ramps themselves, those
// beyond latest left out, falling back to the even placement if none is
// left); thresholds 0, quota 0.
func (r *replayer) start(boot *Table) {
	c := r.costs[sizeIndex(r.prm.StartupBatch)]
	// The artifact's get_boundary returns 0 when even ramp 0 is unusable
	// (Costs.Boundary −1); EvenRamps takes it as 0 likewise.
	r.latest = max(c.Boundary(), 0)
	var ramps []int
	if r.prm.SelectedStart {
		for _, a := range selectRamps(boot, c, r.prm.RampBudget, r.prm.TailBudget, r.opt) {
			if a <= r.latest {
				ramps = append(ramps, a)
			}
		}
	}
	if len(ramps) == 0 {
		n := SelectRampCount(boot, c, r.latest, r.prm.RampBudget, r.prm.TailBudget, r.opt)
		ramps = EvenRamps(n, r.latest)
	}
	r.setRamps(ramps, make([]float64, len(ramps)))
	r.run.Latest = r.latest
	r.run.StartRamps = slices.Clone(ramps)
	r.pushRampHistory()
}

// setRamps makes ramps (ascending) with thresholds th the configuration.
func (r *replayer) setRamps(ramps []int, th []float64) {
	r.ramps, r.th = ramps, th
	r.conf = r.conf[:0]
	r.agree = r.agree[:0]
	for _, a := range ramps {
		r.conf = append(r.conf, r.tab.Conf[a])
		r.agree = append(r.agree, r.tab.Agree[a])
	}
	clear(r.exitsOK[:])
}

// exitsAt returns X_1..X_{n+1} of the current ramps at size index s.
func (r *replayer) exitsAt(s int) []float64 {
	if !r.exitsOK[s] {
		r.exits[s] = r.costs[s].AppendExits(r.exits[s][:0], r.ramps)
		r.exitsOK[s] = true
	}
	return r.exits[s]
}

// replay runs the batches (specs 4.5 steps 2–7).
func (r *replayer) replay(batches []int) {
	run := r.run
	run.Latency = make([]float64, 0, r.n)
	run.Exit = make([]int16, 0, r.n)
	run.Correct = make([]bool, 0, r.n)
	run.Batches = make([]Batch, 0, min(len(batches), r.n))
	pos := 0
	for k, b := range batches {
		if pos+b > r.n {
			break
		}
		r.noteConfig(k)
		r.cur = pos
		s := sizeIndex(b)
		hits, latSum := r.serve(pos, b, r.exitsAt(s))
		pos += b
		acc := float64(hits) / float64(b)
		violated := acc < 1-r.prm.AccBudget
		ev := Event(0)
		if violated {
			ev |= EventViolation
			r.violations++
		}
		v := r.costs[s].Vanilla
		imp := 100 * (v - latSum/float64(b)) / v
		r.seen += b
		r.correct += hits
		r.updateHistory(s, b)
		if r.prm.Mode == CV {
			ev |= r.adaptCV(k, s, pos, violated, imp)
		} else {
			ev |= r.adaptNLP(k, s, pos, violated, imp)
		}
		if (k+1)%r.prm.CheckInterval == 0 && r.prm.Mode == NLP {
			r.pushRampHistory()
		}
		run.Batches = append(run.Batches, Batch{
			Start: int32(pos - b), Config: int32(len(run.Configs) - 1),
			Size: uint8(b), Correct: uint8(hits), Events: ev,
		})
	}
}

// noteConfig appends the current configuration to the run's list if it
// differs from the last one, to serve batch k.
func (r *replayer) noteConfig(k int) {
	cs := r.run.Configs
	if len(cs) > 0 {
		last := cs[len(cs)-1]
		if slices.Equal(last.Ramps, r.ramps) && slices.Equal(last.Thresholds, r.th) {
			return
		}
		if !slices.Equal(last.Ramps, r.ramps) {
			r.run.Summary.RampChanges++
		}
	}
	r.run.Configs = append(cs, Config{Batch: k, Ramps: slices.Clone(r.ramps), Thresholds: slices.Clone(r.th)})
}

// serve applies the exit rule (specs 4.5 step 3) to samples start …
// start+b−1 with exit latencies x, appends the per-sample records, and
// leaves per-exit-point counts in r.counts and r.hits. It returns the
// number of agreeing samples and the sum of latencies.
func (r *replayer) serve(start, b int, x []float64) (hits int, latSum float64) {
	n := len(r.ramps)
	counts, cor := r.counts[:n+1], r.hits[:n+1]
	clear(counts)
	clear(cor)
	run := r.run
	for i := start; i < start+b; i++ {
		j := 0
		for ; j < n; j++ {
			if 1-float64(r.conf[j][i]) < r.th[j] {
				break
			}
		}
		ok, exit := true, r.R
		if j < n {
			ok, exit = r.agree[j][i], r.ramps[j]
		}
		counts[j]++
		if ok {
			cor[j]++
			hits++
		}
		latSum += x[j]
		run.Latency = append(run.Latency, x[j])
		run.Exit = append(run.Exit, int16(exit))
		run.Correct = append(run.Correct, ok)
	}
	return hits, latSum
}

// updateHistory is specs 4.5 step 6 for the current batch of b samples,
// priced at size index s: the artifact's per-ramp list lengths (only
// under ShrinkingWindow; the default window is read from the batch
// records) and the utility histories. Exit-rate histories are read back
// from the per-sample exits.
func (r *replayer) updateHistory(s, b int) {
	if r.prm.BugCompat.ShrinkingWindow {
		for _, a := range r.ramps {
			r.listLen[a] += b
		}
		r.recent = append(r.recent, b)
		if len(r.recent) > r.prm.Window {
			old := r.recent[0]
			r.recent = append(r.recent[:0], r.recent[1:]...)
			for _, a := range r.ramps {
				// The artifact skips lists not longer than the batch it drops.
				if r.listLen[a] > old {
					r.listLen[a] -= old
				}
			}
		}
	}
	n := len(r.ramps)
	for j := range n + 1 {
		r.rates[j] = float64(r.counts[j]) / float64(b)
	}
	c := &r.costs[s]
	uts := utilityInto(r.uts[:n], r.rates[:n+1], r.exitsAt(s), c.Ramp, r.ramps)
	for j, a := range r.ramps {
		r.util[a][r.utilNext[a]] = uts[j]
		r.utilNext[a] = (r.utilNext[a] + 1) % r.prm.History
		r.utilN[a] = min(r.utilN[a]+1, r.prm.History)
	}
}

// utilityInto is Utility (specs 4.8) without allocating: it writes U_j of
// the active ramps into dst, with the ramp costs read from all candidate
// ramps' costs q by ramp index.
func utilityInto(dst, rates, exits, q []float64, ramps []int) []float64 {
	for j, a := range ramps {
		var passing float64
		for _, e := range rates[j+1:] {
			passing += e
		}
		dst[j] = rates[j]*(exits[j+1]-exits[j]) - passing*q[a]
	}
	return dst
}

// clearRamp clears ramp a's history (the artifact's clear_meta_data): its
// window restarts at sample end and its utility history is emptied.
func (r *replayer) clearRamp(a, end int) {
	r.since[a] = end
	r.listLen[a] = 0
	r.utilN[a] = 0
	r.utilNext[a] = 0
}

// window returns the start lo of the tuning window after the current
// batch, which ends before sample end (specs 4.7, 4.10): the samples
// [lo, end) that every active ramp has in its history, i.e. tail-aligned
// (specs 4.13 item 5). By default that is the last Window batches, cut at
// the latest clear of any active ramp; under ShrinkingWindow, the shortest
// of the artifact's per-ramp lists.
func (r *replayer) window(end int) (lo int) {
	if r.prm.BugCompat.ShrinkingWindow {
		short := end
		for _, a := range r.ramps {
			short = min(short, r.listLen[a])
		}
		return end - short
	}
	lo = r.recentStart(r.prm.Window)
	for _, a := range r.ramps {
		lo = max(lo, r.since[a])
	}
	return lo
}

// recentStart returns the first sample of the last n batches, the current
// one (not yet in r.run.Batches, starting at r.cur) included.
func (r *replayer) recentStart(n int) int {
	bs := r.run.Batches
	lo := r.cur
	for k := len(bs) - 1; k >= 0 && k > len(bs)-n; k-- {
		lo = int(bs[k].Start)
	}
	return lo
}

// tune runs the tuner (specs 4.7) on the window ending before sample end,
// priced at size index s, from start (nil: all zeros) with fixed ramps
// (nil: none), and records it. The caller decides whether to adopt.
func (r *replayer) tune(k, s, end int, cause TuneCause, start []float64, fixed []bool) *Tuning {
	lo := r.window(end)
	r.win.Conf = r.win.Conf[:0]
	r.win.Agree = r.win.Agree[:0]
	for j := range r.ramps {
		r.win.Conf = append(r.win.Conf, r.conf[j][lo:end])
		r.win.Agree = append(r.win.Agree, r.agree[j][lo:end])
	}
	if start == nil {
		start = make([]float64, len(r.ramps))
	}
	opt := r.opt
	opt.Fixed = fixed
	th, ev := Tune(r.win, start, r.exitsAt(s), r.costs[s].Vanilla, opt)
	r.run.Tunings = append(r.run.Tunings, Tuning{
		Batch: k, Cause: cause, Lo: lo, Hi: end,
		Ramps: slices.Clone(r.ramps), Fixed: fixed, Start: start,
		Thresholds: th, Eval: ev,
	})
	return &r.run.Tunings[len(r.run.Tunings)-1]
}

// adopt makes a tuning's thresholds current.
func (r *replayer) adopt(t *Tuning) {
	copy(r.th, t.Thresholds)
	t.Adopted = true
	r.run.Summary.Tunings++
}

// rampAcc returns the agreement of the samples of the current batch that
// exited at active ramp j, and false if none did (the artifact's
// curRampAcc has no entry then).
func (r *replayer) rampAcc(j int) (float64, bool) {
	if r.counts[j] == 0 {
		return 0, false
	}
	return float64(r.hits[j]) / float64(r.counts[j]), true
}

// adaptCV is check_signals_cv (specs 4.6–4.8) after batch k (0-based;
// the artifact's batch_id is k+1) of improvement imp, ending before
// sample end, priced at size index s.
func (r *replayer) adaptCV(k, s, end int, violated bool, imp float64) Event {
	var ev Event
	id := k + 1
	floor := 1 - r.prm.AccBudget
	overall := float64(r.correct) / float64(r.seen)
	if r.violations >= 2 || overall < floor {
		// Guard (4.6): no tuning; ramps whose exits in this batch were too
		// often wrong are switched off (threshold 0).
		for j := range r.ramps {
			if a, ok := r.rampAcc(j); ok && a < floor {
				r.th[j] = 0
				ev |= EventGuard
			}
		}
	} else if violated || r.afterAdj || id == 1 {
		cause := TuneAfterChange
		switch {
		case id == 1:
			cause = TuneStart
		case violated:
			cause = TuneViolation
		}
		r.adopt(r.tune(k, s, end, cause, nil, nil))
		ev |= EventTuned
		r.afterAdj = false
	}
	if id%r.prm.CheckInterval == 0 {
		ev |= EventRampCheck | r.rampCheck(k, s, end, imp)
	}
	return ev
}

// adaptNLP is check_signals_nlp (specs 4.6–4.8) after batch k; see
// adaptCV for the arguments.
func (r *replayer) adaptNLP(k, s, end int, violated bool, imp float64) Event {
	var ev Event
	id := k + 1
	floor := 1 - r.prm.AccBudget
	periodic := r.afterAdj && id%r.prm.CheckInterval == r.prm.RetuneAt
	if violated || periodic || id == 1 {
		cause := TuneViolation
		switch {
		case periodic:
			cause = TunePeriodic
		case id == 1:
			cause = TuneStart
		}
		var start []float64
		var fixed []bool
		if !periodic && (id != 1 || r.prm.BugCompat.FrozenNLPStart) {
			// Ramps whose exits were right often enough, or that had no
			// exits, keep their thresholds; the others are re-tuned from 0
			// (specs 4.7). The artifact tests acc > 1 − budget, strictly.
			start = make([]float64, len(r.ramps))
			fixed = make([]bool, len(r.ramps))
			for j := range r.ramps {
				if a, ok := r.rampAcc(j); !ok || a > floor {
					fixed[j], start[j] = true, r.th[j]
				}
			}
		}
		r.adopt(r.tune(k, s, end, cause, start, fixed))
		ev |= EventTuned
		r.afterAdj = false
	}
	if r.violations >= 2 {
		for j := range r.ramps {
			if a, ok := r.rampAcc(j); ok && a < floor {
				r.th[j] *= 0.1
				ev |= EventGuard
			}
		}
	}
	if id%r.prm.CheckInterval == 0 {
		ev |= EventRampCheck | r.rampCheck(k, s, end, imp)
	}
	return ev
}

// rampCheck is the periodic ramp adjustment of specs 4.8 for either mode,
// after batch k (ending before sample end, of improvement imp, priced at
// size index s): reset the violation counter, classify the ramps, then
// either re-tune (if that beats the batch by RetuneGap) or move negative
// ramps later, or, with none negative, explore earlier. NLP also sets the
// post-check flag that arms the periodic re-tune, and applies the
// hysteresis on the promotion fraction: negative right after a move
// earlier, or positive right after a move later (lexicographic comparison
// with the ramps recorded two checks ago), makes positive votes impossible
// until the ramps have stayed put for five checks. It returns
// EventRampChange if the active ramps changed.
func (r *replayer) rampCheck(k, s, end int, imp float64) Event {
	r.prev = append(r.prev[:0], r.ramps...)
	if r.prm.Mode == NLP {
		r.afterAdj = true
	}
	r.violations = 0
	neg, positive := r.classify()
	if len(neg) > 0 {
		if r.prm.Mode == NLP && r.rampHistN > 1 && lexLess(r.ramps, r.rampHistBack(2)) {
			// Negative right after moving earlier: damp oscillation.
			r.posFrac = 1
		}
		t := r.tune(k, s, end, TuneRampCheck, nil, nil)
		if t.Eval.Improvement-imp > r.prm.RetuneGap {
			r.adopt(t)
			return 0
		}
		r.dropNegatives(neg, end)
	} else {
		if r.prm.Mode == NLP {
			if positive < 1 {
				return 0
			}
			if r.rampHistN > 1 && lexLess(r.rampHistBack(2), r.ramps) {
				// Positive right after moving later: damp oscillation.
				r.posFrac = 1
			}
		}
		r.exploreEarlier(end)
	}
	if !slices.Equal(r.prev, r.ramps) {
		return EventRampChange
	}
	return 0
}

// classify returns the positions of the negative active ramps and, for
// NLP, the number of positive ones (specs 4.8). CV: a ramp is negative
// when its whole utility history is ≤ 0 (an empty history too, as
// Python's all() of nothing is true). NLP: negative when more than
// DemoteFrac of its history is < 0, positive when more than the current
// promotion fraction is ≥ 0 (a ramp with no history gets no vote; the
// artifact would divide by zero); then the hysteresis reset and the
// single-ramp rules.
func (r *replayer) classify() (neg []int, positive int) {
	neg = r.neg[:0]
	for j, a := range r.ramps {
		h := r.history(a)
		if r.prm.Mode == CV {
			if !slices.ContainsFunc(h, func(u float64) bool { return u > 0 }) {
				neg = append(neg, j)
			}
			continue
		}
		if len(h) == 0 {
			continue
		}
		pos, ng := 0, 0
		for _, u := range h {
			if u >= 0 {
				pos++
			} else if u < 0 {
				ng++
			}
		}
		if float64(ng)/float64(len(h)) > r.prm.DemoteFrac {
			neg = append(neg, j)
		}
		if float64(pos)/float64(len(h)) > r.posFrac {
			positive++
		}
	}
	if r.prm.Mode == CV {
		return neg, 0
	}
	if r.rampHistN > 4 && r.lastChecksEqual(5) {
		r.posFrac = r.prm.PromoteFrac
	}
	if len(neg) == 0 && positive == 0 && len(r.ramps) == 1 {
		positive = 1
	}
	if len(neg) == 1 && len(r.ramps) == 1 && r.ramps[0] == r.latest {
		neg, positive = neg[:0], 1
	}
	return neg, positive
}

// history returns ramp a's utility history, oldest first; once the ring
// has wrapped, its two halves are joined in a reused buffer.
func (r *replayer) history(a int) []float64 {
	n, next, ring := r.utilN[a], r.utilNext[a], r.util[a]
	if n < len(ring) {
		return ring[:n] // not yet wrapped: [0, n) in order
	}
	r.histBuf = append(append(r.histBuf[:0], ring[next:]...), ring[:next]...)
	return r.histBuf
}

// meanUtility returns the mean of ramp a's utility history, summed oldest
// first (NaN if empty).
func (r *replayer) meanUtility(a int) float64 {
	h := r.history(a)
	var s float64
	for _, u := range h {
		s += u
	}
	return s / float64(len(h))
}

// avgExitRate returns the fraction of the samples of the last History
// batches (including the current one, ending before end) that exited at
// candidate ramp a: the artifact's batch-size-weighted average exit rate.
// The artifact averages exit-rate vectors by position in the active list;
// the ramp set does not change within History batches of a check at the
// default periods, and counting by ramp stays right where it does.
func (r *replayer) avgExitRate(a, end int) float64 {
	lo := r.recentStart(r.prm.History)
	c := 0
	for _, e := range r.run.Exit[lo:end] {
		if int(e) == a {
			c++
		}
	}
	return float64(c) / float64(end-lo)
}

// dropNegatives handles negative ramps that a re-tune cannot fix (specs
// 4.8): keep only the deepest if every ramp, the latest usable one
// included, is negative; otherwise remove the negative ramps and, unless
// the rest already exit > 90 % of the samples or nothing is left to the
// right, add one ramp at the midpoint between the deepest ramp and the
// latest usable one.
func (r *replayer) dropNegatives(neg []int, end int) {
	cv := r.prm.Mode == CV
	if len(neg) == len(r.ramps) && slices.Contains(r.ramps, r.latest) {
		several := len(r.ramps) > 1
		if several {
			for _, j := range neg[:len(neg)-1] {
				r.clearRamp(r.ramps[j], end)
				r.quota++
			}
			n := len(r.ramps) - 1
			r.setRamps([]int{r.ramps[n]}, []float64{r.th[n]})
		}
		if cv {
			r.afterAdj = several
		}
		return
	}
	var kept float64
	for j, a := range r.ramps {
		if !slices.Contains(neg, j) {
			kept += r.avgExitRate(a, end)
		}
	}
	left := r.ramps[len(r.ramps)-1] + 1 // max(last negative, last active) + 1
	right := r.latest
	ramps := make([]int, 0, len(r.ramps)+1)
	th := make([]float64, 0, len(r.ramps)+1)
	for j, a := range r.ramps {
		if slices.Contains(neg, j) {
			r.clearRamp(a, end)
			r.quota++
			continue
		}
		ramps = append(ramps, a)
		th = append(th, r.th[j])
	}
	if cv {
		r.afterAdj = true
	}
	if kept > 0.9 || left > right {
		r.setRamps(ramps, th)
		return
	}
	// ⌊linspace(left, right, 3)⌋[1], the midpoint rounded down.
	ramps = append(ramps, left+(right-left)/2)
	th = append(th, r.prm.NewThreshold)
	r.quota--
	r.setRamps(ramps, th)
	for _, a := range r.ramps {
		r.clearRamp(a, end)
	}
}

// exploreEarlier handles a ramp check with no negative ramp (specs 4.8):
// with quota left, prepend a ramp halfway between the input and the first
// ramp; without, move one ramp there (remove the lowest-utility ramp, or
// the highest under BugCompat.RemoveHighest). Nothing happens if the first
// ramp is already at 0 or 1.
func (r *replayer) exploreEarlier(end int) {
	cv := r.prm.Mode == CV
	first := r.ramps[0]
	if first < 2 {
		if cv {
			r.afterAdj = false
		}
		return
	}
	ramps := []int{(first - 1) / 2}
	th := []float64{r.prm.NewThreshold}
	drop := -1
	if r.quota > 0 {
		r.quota--
	} else {
		drop = r.dropForExploration()
	}
	for j, a := range r.ramps {
		r.clearRamp(a, end)
		if j != drop {
			ramps = append(ramps, a)
			th = append(th, r.th[j])
		}
	}
	r.setRamps(ramps, th)
	r.clearRamp(ramps[0], end)
	if cv {
		r.afterAdj = true
	}
}

// dropForExploration returns the position of the ramp that makes room for
// an earlier one: the lowest mean utility (first on ties), or, under
// BugCompat.RemoveHighest, the highest (last on ties, as the artifact
// takes the end of a stable ascending sort).
func (r *replayer) dropForExploration() int {
	best := -1
	var bestU float64
	for j, a := range r.ramps {
		u := r.meanUtility(a)
		switch {
		case best < 0:
			best, bestU = j, u
		case r.prm.BugCompat.RemoveHighest && u >= bestU:
			best, bestU = j, u
		case !r.prm.BugCompat.RemoveHighest && u < bestU:
			best, bestU = j, u
		}
	}
	return best
}

// pushRampHistory records the current ramps after a check (the artifact's
// _ramp_history, of which NLP reads the last five entries).
func (r *replayer) pushRampHistory() {
	if len(r.rampHist) < 5 {
		r.rampHist = append(r.rampHist, slices.Clone(r.ramps))
	} else {
		copy(r.rampHist, r.rampHist[1:])
		r.rampHist[4] = slices.Clone(r.ramps)
	}
	r.rampHistN++
}

// rampHistBack returns the i-th last recorded ramp set (1 = last).
func (r *replayer) rampHistBack(i int) []int { return r.rampHist[len(r.rampHist)-i] }

// lastChecksEqual reports whether the last n recorded ramp sets are equal.
func (r *replayer) lastChecksEqual(n int) bool {
	last := r.rampHistBack(1)
	for i := 2; i <= n; i++ {
		if !slices.Equal(r.rampHistBack(i), last) {
			return false
		}
	}
	return true
}

// lexLess reports whether a sorts before b lexicographically, a proper
// prefix first (the artifact's compare_lists).
func lexLess(a, b []int) bool { return slices.Compare(a, b) < 0 }

// summarize fills the run's Summary (specs 4.5 step 8).
func (r *replayer) summarize() {
	run := r.run
	sm := &run.Summary
	sm.Samples = len(run.Latency)
	sm.Batches = len(run.Batches)
	exits, hits := make([]int, r.R+1), make([]int, r.R+1)
	var gain float64
	for _, b := range run.Batches {
		v := run.Vanilla[sizeIndex(int(b.Size))]
		for i := int(b.Start); i < int(b.Start)+int(b.Size); i++ {
			gain += (v - run.Latency[i]) / v
			exits[run.Exit[i]]++
			if run.Correct[i] {
				hits[run.Exit[i]]++
			}
		}
		if b.Events&EventViolation != 0 {
			sm.Violations++
		}
	}
	n := float64(sm.Samples)
	sm.Agreement = float64(r.correct) / n
	sm.Improvement = 100 * gain / n
	sm.ExitRates = make([]float64, r.R+1)
	for q := range exits {
		sm.ExitRates[q] = float64(exits[q]) / n
	}
	sm.ExitCounts, sm.ExitCorrect = exits, hits
}
