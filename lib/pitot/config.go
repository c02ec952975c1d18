// Package pitot implements the models of Pitot (MLSys 2025, "Interference-
// Aware Edge Runtime Prediction with Conformal Matrix Completion"; section
// 3 of the paper, specs/pitot.md sections 2 and 3): the two-tower matrix
// factorization with side information, a linear-scaling baseline and a
// low-rank interference term, and the paper's ablations and baselines
// (PitotIgnore, Monolith "Neural Network", Attention, Matrix
// Factorization), with the 32 named presets of the paper's experiment grid.
//
// Models predict y = ln t (t in µs) for a workload on a platform beside a
// set of interfering workloads, with one output per loss head. Forward and
// backward passes are written out by hand over lib/nn and checked against
// float64 central differences.
package pitot

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// Model kinds.
const (
	KindPitot     = "pitot"     // towers + baseline + interference term (the default)
	KindIgnore    = "ignore"    // PitotIgnore: interferers ignored
	KindMonolith  = "monolith"  // one MLP on concatenated features ("Neural Network")
	KindAttention = "attention" // attention over interferers
)

// Loss kinds.
const (
	LossSquared = "squared" // (y - ŷ)², one head (the default)
	LossPinball = "pinball" // one head per quantile
	LossPercent = "percent" // |(t - t̂)/t| on raw runtimes (components/naiveloss)
)

// Tower configures one embedding tower (specs/pitot.md 2.2).
type Tower struct {
	// Free replaces the feature MLP by a free embedding table (MFEmbedding,
	// initialised Uniform(0, 1)).
	Free bool `json:"free,omitempty"`
	// Learned is the number of learned features q appended to the side
	// information (initialised Uniform(0, 1)); 0 means the default, 1, and
	// a negative value means none.
	Learned int `json:"learned"`
	// Layers are the hidden layer widths; nil means [128, 128].
	Layers []int `json:"layers"`
}

// Config is a model and its training setup. The zero value is the paper's
// default Pitot model (preset "pitot"); Resolve fills in the defaults, and
// the resolved form is what results record in config.json.
type Config struct {
	// Kind is the model: "" or "pitot", "ignore", "monolith", "attention".
	Kind string `json:"kind"`
	// MFDim is the embedding dimension r; 0 means 32.
	MFDim int `json:"mf_dim"`
	// IFDim is the number of interference types s; 0 means 2.
	IFDim int `json:"if_dim"`
	// IFSlope is the leaky-ReLU slope of the interference term; 0 means
	// 0.1, and 1 means no activation ("Simple Multiplicative").
	IFSlope float64 `json:"if_slope"`
	// NoBaseline drops the linear-scaling baseline C̄.
	NoBaseline bool  `json:"no_baseline,omitempty"`
	Workload   Tower `json:"workload"`
	Platform   Tower `json:"platform"`
	// Loss is "" or "squared", "pinball" or "percent".
	Loss string `json:"loss"`
	// Quantiles are the pinball heads' target quantiles in percent
	// (e.g. 50, 90, 99); used with Loss "pinball".
	Quantiles []float64 `json:"quantiles,omitempty"`
	// IFWeight is the loss weight of each interference objective; 0 means
	// 0.5/3, and a negative value means 0 (interference data discarded).
	IFWeight float64 `json:"if_weight"`
	// BugCompatIFIndex reproduces the original code's interference indexing
	// (specs/pitot.md 2.5): the magnitude term uses the platform tower's row
	// of the interferer's workload index, clamped to the last platform, dotted
	// with the target workload's embedding. The default is the intended form,
	// g(k) = <X_w[k], V_g[p]>.
	BugCompatIFIndex bool `json:"bug_compat_if_index,omitempty"`
	// Hidden are the layer widths of Monolith's MLPs and Attention's
	// embedding MLPs; nil means [256, 256].
	Hidden []int `json:"hidden,omitempty"`
	// AttentionDim and ValueDim size Attention's keys and values; 0 means 8.
	AttentionDim int `json:"attention_dim,omitempty"`
	ValueDim     int `json:"value_dim,omitempty"`
	// OutputLayers are Attention's output MLP widths; nil means [32].
	OutputLayers []int `json:"output_layers,omitempty"`

	Train Training `json:"train"`
}

// Training configures the optimizer and schedule (specs/pitot.md 2.7).
type Training struct {
	Steps       int     `json:"steps"`        // 0 means 20,000
	BatchSize   int     `json:"batch_size"`   // per objective; 0 means 512
	ValEvery    int     `json:"val_every"`    // 0 means 200
	LR          float64 `json:"lr"`           // AdamaxW learning rate; 0 means 1e-3
	WeightDecay float64 `json:"weight_decay"` // 0 means 1e-4; negative means none
	// Warmup is the number of first steps over which the learning rate
	// rises linearly to LR; 0 means none. Decay shapes it afterwards: ""
	// keeps it at LR, as the paper does; "cosine" lowers it along half a
	// cosine to 0 at the last step. Both are off for every preset, so their
	// configurations and results are those of the paper (section 4.1).
	Warmup int    `json:"warmup,omitempty"`
	Decay  string `json:"decay,omitempty"`
}

// DecayCosine is Training.Decay's cosine schedule.
const DecayCosine = "cosine"

// LRAt returns the learning rate of update step (0 for the first) of a
// resolved configuration's schedule.
func (t Training) LRAt(step int) float64 {
	if step < t.Warmup {
		return t.LR * float64(step+1) / float64(t.Warmup)
	}
	if t.Decay == DecayCosine && t.Steps > t.Warmup {
		p := float64(step-t.Warmup) / float64(t.Steps-t.Warmup)
		return t.LR * 0.5 * (1 + math.Cos(math.Pi*p))
	}
	return t.LR
}

// Resolve returns c with every default filled in.
func (c Config) Resolve() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Kind == "" {
		c.Kind = KindPitot
	}
	def(&c.MFDim, 32)
	def(&c.IFDim, 2)
	if c.IFSlope == 0 {
		c.IFSlope = 0.1
	}
	for _, t := range []*Tower{&c.Workload, &c.Platform} {
		def(&t.Learned, 1)
		if t.Layers == nil {
			t.Layers = []int{128, 128}
		}
	}
	if c.Loss == "" {
		c.Loss = LossSquared
	}
	if c.IFWeight == 0 {
		c.IFWeight = 0.5 / 3
	}
	if c.Kind == KindMonolith || c.Kind == KindAttention {
		if c.Hidden == nil {
			c.Hidden = []int{256, 256}
		}
	}
	if c.Kind == KindAttention {
		def(&c.AttentionDim, 8)
		def(&c.ValueDim, 8)
		if c.OutputLayers == nil {
			c.OutputLayers = []int{32}
		}
	}
	def(&c.Train.Steps, 20000)
	def(&c.Train.BatchSize, 512)
	def(&c.Train.ValEvery, 200)
	if c.Train.LR == 0 {
		c.Train.LR = 1e-3
	}
	if c.Train.WeightDecay == 0 {
		c.Train.WeightDecay = 1e-4
	}
	return c
}

// Heads returns the number of model outputs: one per pinball quantile, else 1.
func (c Config) Heads() int {
	if c.Loss == LossPinball {
		return len(c.Quantiles)
	}
	return 1
}

// LearnedFeatures returns q for a resolved tower (0 when none).
func (t Tower) LearnedFeatures() int { return max(t.Learned, 0) }

// ObjectiveWeight returns the loss weight of an objective ("mf", "if2", ...).
func (c Config) ObjectiveWeight(objective string) float64 {
	if objective == "mf" {
		return 1
	}
	return max(c.IFWeight, 0)
}

// Validate checks a resolved configuration.
func (c Config) Validate() error {
	switch c.Kind {
	case KindPitot, KindIgnore, KindMonolith, KindAttention:
	default:
		return fmt.Errorf("pitot: unknown model kind %q (want pitot, ignore, monolith or attention)", c.Kind)
	}
	switch c.Loss {
	case LossSquared, LossPercent:
	case LossPinball:
		if len(c.Quantiles) == 0 {
			return fmt.Errorf("pitot: pinball loss needs quantiles")
		}
		for _, q := range c.Quantiles {
			if !(q > 0 && q < 100) {
				return fmt.Errorf("pitot: quantile %v outside (0, 100)", q)
			}
		}
	default:
		return fmt.Errorf("pitot: unknown loss %q (want squared, pinball or percent)", c.Loss)
	}
	if c.MFDim < 1 || c.IFDim < 1 {
		return fmt.Errorf("pitot: mf_dim %d and if_dim %d must be positive", c.MFDim, c.IFDim)
	}
	if c.Train.Steps < 1 || c.Train.BatchSize < 1 || c.Train.ValEvery < 1 {
		return fmt.Errorf("pitot: steps %d, batch_size %d and val_every %d must be positive", c.Train.Steps, c.Train.BatchSize, c.Train.ValEvery)
	}
	if c.Train.Warmup < 0 || c.Train.Warmup >= c.Train.Steps {
		return fmt.Errorf("pitot: warmup %d must be in [0, steps %d)", c.Train.Warmup, c.Train.Steps)
	}
	if c.Train.Decay != "" && c.Train.Decay != DecayCosine {
		return fmt.Errorf("pitot: unknown decay %q (want \"\" or %q)", c.Train.Decay, DecayCosine)
	}
	return nil
}

// JSON returns the resolved configuration as indented JSON.
func (c Config) JSON() []byte {
	b, err := json.MarshalIndent(c.Resolve(), "", "  ")
	if err != nil {
		panic(err) // a Config always marshals
	}
	return append(b, '\n')
}

// Equal reports whether two configurations resolve to the same settings.
func (c Config) Equal(d Config) bool { return slices.Equal(c.JSON(), d.JSON()) }
