package workload

import (
	"fmt"
	"math"

	"github.com/paperlab/paperlab/lib/apparate"
)

// Inputs describes how a workload's synthetic inputs were made (specs
// 6.1–6.4): enough to regenerate them.
type Inputs struct {
	Kind    string `json:"kind"`    // "synthetic"
	Seed    uint64 `json:"seed"`    // the workload's seed, Workload.Seed
	Profile string `json:"profile"` // the latency profile's Source (specs 6.1)
	// Table is the generator of the simulation table; the bootstrap table
	// is Table.Bootstrap, Samples/9 samples of an independent stream
	// (specs 6.2).
	Table apparate.SyntheticTable `json:"table"`
	// Arrivals is "fixed-rate" (CV) or "azure-like" (NLP, Azure is set).
	Arrivals string              `json:"arrivals"`
	FPS      float64             `json:"fps,omitempty"`
	Azure    *apparate.AzureLike `json:"azure,omitempty"`
	Load     float64             `json:"load,omitempty"` // NLP offered load λ̄·V(1)
	SLO      float64             `json:"slo_ms"`         // S = m·V(1)
	Vanilla  float64             `json:"vanilla_ms"`     // V(1)
}

// input is a workload's generated inputs, ready to simulate.
type input struct {
	w         Workload
	desc      Inputs
	params    apparate.Params
	profile   *apparate.Profile
	sim, boot *apparate.Table
	arrivals  []float64
}

// generate makes a workload's inputs from the settings of its set (specs
// 6.1–6.3): the model's synthetic profile, the tables of the dataset's
// generator (CVTable, NLPTable) with the model's ease, and the arrivals:
// a fixed frame rate for CV, an Azure-like trace at the model's offered
// load for NLP, as many arrivals as table samples.
func generate(w Workload, s Settings) (*input, error) {
	if s.Set != w.Set {
		return nil, fmt.Errorf("workload: %s run with the settings of set %q", w, s.Set)
	}
	sp, ok := apparate.SyntheticModel(w.Model)
	if !ok || !contains(modelsOf(w.Set), w.Model) {
		return nil, fmt.Errorf("workload: %s: unknown model %q of set %s", w, w.Model, w.Set)
	}
	p, err := sp.Profile()
	if err != nil {
		return nil, fmt.Errorf("workload: %s: %w", w, err)
	}
	o := s.model(w.Model)
	v := p.ByBatch[1].Vanilla
	seed := w.Seed(s.Seed)
	in := &input{w: w, profile: p, params: s.params(w.Model)}
	in.desc = Inputs{Kind: "synthetic", Seed: seed, Profile: p.Source, SLO: o.SLO * v, Vanilla: v}
	var g apparate.SyntheticTable
	if w.Set == CV {
		g, err = apparate.CVTable(w.Dataset, sp.Ramps, s.Samples, seed)
		in.arrivals = apparate.FixedRate(s.Samples, s.FPS)
		in.desc.Arrivals, in.desc.FPS = "fixed-rate", s.FPS
	} else {
		g, err = apparate.NLPTable(w.Dataset, sp.Ramps, s.Samples, seed)
		az := azure(s.Samples, o.Load*1000/v, seed)
		in.arrivals = az.Arrivals()
		in.desc.Arrivals, in.desc.Azure, in.desc.Load = "azure-like", &az, o.Load
	}
	if err != nil {
		return nil, fmt.Errorf("workload: %s: %w", w, err)
	}
	g.EasyB *= o.Ease
	in.desc.Table = g
	if in.sim, err = g.Generate(); err != nil {
		return nil, fmt.Errorf("workload: %s: %w", w, err)
	}
	if in.boot, err = g.Bootstrap(); err != nil {
		return nil, fmt.Errorf("workload: %s: %w", w, err)
	}
	return in, nil
}

// azure returns the Azure-like trace of n requests at rate requests per
// second (specs 6.3): long enough to hold n requests at a third of the mean
// rate, capped at n.
func azure(n int, rate float64, seed uint64) apparate.AzureLike {
	minutes := int(math.Ceil(3*float64(n)/(rate*60))) + 10
	return apparate.AzureLike{Minutes: minutes, Rate: rate, Seed: seed, MaxRequests: n}
}

func modelsOf(set string) []string {
	if set == NLP {
		return NLPModels
	}
	return CVModels
}

// Latencies are a workload's end-to-end latencies in ms, one per served
// request in serving order, aligned as the figures use them (specs 4.12):
// L_van = q + V, L_app = q + E, L_opt = q + O.
type Latencies struct {
	Vanilla  []float64
	Apparate []float64
	Optimal  []float64
}

// simulate runs the pipeline of specs 4.1 on generated inputs: the vanilla
// Clockwork schedule, the Apparate replay, the optimal oracle and the
// figure metrics.
func simulate(in *input) (*Result, error) {
	sched, err := apparate.Clockwork(in.arrivals, in.desc.SLO, in.profile)
	if err != nil {
		return nil, fmt.Errorf("workload: %s: %w", in.w, err)
	}
	run, err := apparate.Replay(in.profile, in.sim, in.boot, sched.Batches, in.params)
	if err != nil {
		return nil, fmt.Errorf("workload: %s: %w", in.w, err)
	}
	opt, err := apparate.Optimal(in.sim, in.profile.At, sched.Batches)
	if err != nil {
		return nil, fmt.Errorf("workload: %s: %w", in.w, err)
	}
	van, app, op := apparate.Aligned(sched, run.Latency, opt)
	lat := &Latencies{Vanilla: van, Apparate: app, Optimal: op}
	return &Result{
		Workload:   in.w,
		Inputs:     in.desc,
		Params:     run.Params,
		StartRamps: run.StartRamps,
		Summary:    run.Summary,
		Metrics:    metrics(sched, run, lat),
		Latencies:  lat,
	}, nil
}

// Run runs one workload with the settings of its set and returns its
// result, latencies included. It writes nothing; RunAll stores results.
func Run(w Workload, s Settings) (*Result, error) {
	in, err := generate(w, s)
	if err != nil {
		return nil, err
	}
	r, err := simulate(in)
	if err != nil {
		return nil, err
	}
	r.Settings = s
	return r, nil
}
