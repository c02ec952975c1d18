package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/repo"
)

// Config sizes the suite. Its zero value is the quick profile of
// specs/pit.md §5.5, sized to finish in a few minutes on 2 cores; "full"
// doubles the kernel problems and takes more repetitions. Resolve fills
// the defaults, and the resolved Config is what config.json holds.
type Config struct {
	Profile string // "quick" (default) or "full"
	Seed    uint64 // base seed of every mask, routing and value (default 1)
	Reps    int    // timed repetitions per case (quick 5, full 9)
	Workers int    // goroutines per operator (default GOMAXPROCS)

	N     int // side of the E1/E2 matmul and of the calibration (quick 1024, full 2048)
	MaskN int // side of the E3 masks (quick 2048, full 4096)

	MoE        MoEConfig
	Seqlen     SeqlenConfig
	Attention  AttentionConfig
	Activation ActivationConfig
	Training   TrainingConfig
}

// MoEConfig sizes E4 (Fig. 8): a Switch-like FFN-MoE layer.
type MoEConfig struct {
	Tokens  []int   // token counts (default 1024 and 4096: 8 and 32 sequences of 128)
	Experts []int   // expert counts (default 64, 128, 256: Switch-base-64/128/256)
	DModel  int     // model width (256)
	DFF     int     // expert hidden width (1024)
	Skew    float64 // Zipf exponent of expert popularity (0.5: a moderately unbalanced router)
	Block   int     // MegaBlocks-style padding block (128)
}

// LengthSet is a batch shape of E5: Batch sequences padded to Len, with
// log-normal lengths of each mean in Means.
type LengthSet struct {
	Name  string
	Batch int
	Len   int
	Means []float64
}

// SeqlenConfig sizes E5 (Fig. 10/13): a linear layer on padded batches.
type SeqlenConfig struct {
	Width int         // in and out width of the linear layer (768, BERT-base)
	Sigma float64     // log-normal spread of the lengths (0.6)
	Sets  []LengthSet // default: GLUE-like 32×128 and long documents 4×2048
}

// AttentionConfig sizes E6 (Fig. 11/12): one attention head.
type AttentionConfig struct {
	Lengths []int   // sequence lengths (2048, 4096)
	Head    int     // head width (64)
	Window  int     // Longformer window: |i−j| < Window (256)
	Globals float64 // share of data-dependent global tokens (0.015)
	Density float64 // Museformer-like: share of earlier 32×32 blocks attended (0.15)
}

// ActivationConfig sizes E7 (Fig. 9): an activation-sparse fc2.
type ActivationConfig struct {
	Tokens, Hidden, Model int       // H is Tokens×Hidden, fc2 maps to Model (1024, 2048, 512)
	Sparsities            []float64 // activation sparsities (0.9, 0.95, 0.99)
}

// TrainingConfig sizes E8 (Fig. 14): a training step of a pruned linear.
type TrainingConfig struct {
	Width, Tokens int       // a Width×Width weight on Tokens tokens (768, 2048)
	Sparsities    []float64 // pruning sparsities (0.5 … 0.98)
}

// Resolve returns c with its defaults filled in.
func (c Config) Resolve() Config {
	if c.Profile == "" {
		c.Profile = "quick"
	}
	full := c.Profile == "full"
	pick := func(v *int, quick, fullv int) {
		if *v == 0 {
			*v = quick
			if full {
				*v = fullv
			}
		}
	}
	pickf := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	pick(&c.Reps, 5, 9)
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	pick(&c.N, 1024, 2048)
	pick(&c.MaskN, 2048, 4096)

	m := &c.MoE
	if len(m.Tokens) == 0 {
		m.Tokens = []int{1024, 4096}
	}
	if len(m.Experts) == 0 {
		m.Experts = []int{64, 128, 256}
	}
	pick(&m.DModel, 256, 256)
	pick(&m.DFF, 1024, 1024)
	pickf(&m.Skew, 0.5)
	pick(&m.Block, 128, 128)

	s := &c.Seqlen
	pick(&s.Width, 768, 768)
	pickf(&s.Sigma, 0.6)
	if len(s.Sets) == 0 {
		s.Sets = []LengthSet{
			{"GLUE-like, 32x128", 32, 128, []float64{16, 32, 64, 96}},
			{"long docs, 4x2048", 4, 2048, []float64{256, 512, 1024, 1536}},
		}
	}

	a := &c.Attention
	if len(a.Lengths) == 0 {
		a.Lengths = []int{2048, 4096}
	}
	pick(&a.Head, 64, 64)
	pick(&a.Window, 256, 256)
	pickf(&a.Globals, 0.015)
	pickf(&a.Density, 0.15)

	v := &c.Activation
	pick(&v.Tokens, 1024, 1024)
	pick(&v.Hidden, 2048, 4096)
	pick(&v.Model, 512, 1024)
	if len(v.Sparsities) == 0 {
		v.Sparsities = []float64{0.9, 0.95, 0.99}
	}

	t := &c.Training
	pick(&t.Width, 768, 768)
	pick(&t.Tokens, 2048, 2048)
	if len(t.Sparsities) == 0 {
		t.Sparsities = []float64{0.5, 0.8, 0.9, 0.94, 0.96, 0.98}
	}
	return c
}

// Check reports a configuration that cannot run, naming the field.
func (c Config) Check() error {
	c = c.Resolve()
	pos := func(name string, v int) error {
		if v < 1 {
			return fmt.Errorf("suite: config field %s is %d, want positive", name, v)
		}
		return nil
	}
	frac := func(name string, v float64) error {
		if !(v >= 0 && v < 1) {
			return fmt.Errorf("suite: config field %s is %g, want in [0, 1)", name, v)
		}
		return nil
	}
	if c.Profile != "quick" && c.Profile != "full" {
		return fmt.Errorf("suite: config field Profile is %q, want quick or full", c.Profile)
	}
	if c.N < 64 || c.MaskN < 64 {
		return fmt.Errorf("suite: config fields N and MaskN are %d and %d, want at least 64", c.N, c.MaskN)
	}
	errs := []error{pos("MoE.DModel", c.MoE.DModel), pos("MoE.DFF", c.MoE.DFF), pos("MoE.Block", c.MoE.Block),
		pos("Seqlen.Width", c.Seqlen.Width), pos("Attention.Head", c.Attention.Head), pos("Attention.Window", c.Attention.Window),
		frac("Attention.Globals", c.Attention.Globals), frac("Attention.Density", c.Attention.Density),
		pos("Activation.Tokens", c.Activation.Tokens), pos("Activation.Hidden", c.Activation.Hidden), pos("Activation.Model", c.Activation.Model),
		pos("Training.Width", c.Training.Width), pos("Training.Tokens", c.Training.Tokens)}
	for i, v := range c.MoE.Tokens {
		errs = append(errs, pos(fmt.Sprintf("MoE.Tokens[%d]", i), v))
	}
	for i, v := range c.MoE.Experts {
		errs = append(errs, pos(fmt.Sprintf("MoE.Experts[%d]", i), v))
	}
	for i, v := range c.Attention.Lengths {
		errs = append(errs, pos(fmt.Sprintf("Attention.Lengths[%d]", i), v))
	}
	for i, v := range c.Activation.Sparsities {
		errs = append(errs, frac(fmt.Sprintf("Activation.Sparsities[%d]", i), v))
	}
	for i, v := range c.Training.Sparsities {
		errs = append(errs, frac(fmt.Sprintf("Training.Sparsities[%d]", i), v))
	}
	for i, set := range c.Seqlen.Sets {
		errs = append(errs, pos(fmt.Sprintf("Seqlen.Sets[%d].Batch", i), set.Batch), pos(fmt.Sprintf("Seqlen.Sets[%d].Len", i), set.Len))
		for j, m := range set.Means {
			if !(m >= 1 && m <= float64(set.Len)) {
				errs = append(errs, fmt.Errorf("suite: config field Seqlen.Sets[%d].Means[%d] is %g, want in [1, %d]", i, j, m, set.Len))
			}
		}
	}
	return errors.Join(errs...)
}

// Experiment is one of E1–E9.
type Experiment struct {
	ID      string
	Mirrors string // the paper figure it is the analogue of
	Title   string
	run     func(c Config, cal *Calibration, hook func(done, total int)) ([]Row, error)
}

// Experiments lists E1–E9 in order.
func Experiments() []Experiment { return slices.Clone(experiments) }

// Lookup returns the experiment with id (case-insensitive).
func Lookup(id string) (Experiment, bool) {
	for _, e := range experiments {
		if strings.EqualFold(e.ID, id) {
			return e, true
		}
	}
	return Experiment{}, false
}

// Path returns dir/<id>.csv, where an experiment's rows are stored.
func (e Experiment) Path(dir string) string { return filepath.Join(dir, e.ID+".csv") }

// Hooks report progress; nil fields are skipped.
type Hooks struct {
	Start  func(e Experiment, cached bool)
	Sample func(e Experiment, done, total int)
	Done   func(e Experiment, rows []Row)
}

// Run runs the experiments ids (all when empty) that dir lacks and
// returns every requested experiment's rows, read back from dir for those
// already done. The cost table the PIT-auto cases choose with is measured
// first (Calibrate) and stored as dir/costtable.json, or read from there.
func Run(cfg Config, dir string, ids []string, h Hooks) (map[string][]Row, error) {
	return RunContext(context.Background(), cfg, dir, ids, h)
}

// RunContext is Run that starts no new experiment once ctx is done (an
// experiment in flight finishes and is written first), and then returns
// ctx's error.
func RunContext(ctx context.Context, cfg Config, dir string, ids []string, h Hooks) (map[string][]Row, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg = cfg.Resolve()
	var todo []Experiment
	if len(ids) == 0 {
		todo = Experiments()
	}
	for _, id := range ids {
		e, ok := Lookup(id)
		if !ok {
			return nil, fmt.Errorf("suite: no experiment %q (have E1-E9)", id)
		}
		todo = append(todo, e)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	if err := guard(dir, cfg); err != nil {
		return nil, err
	}
	out := map[string][]Row{}
	var cal *Calibration
	for _, e := range todo {
		path := e.Path(dir)
		if rows, err := ReadCSV(path); err == nil {
			if h.Start != nil {
				h.Start(e, true)
			}
			out[e.ID] = rows
			if h.Done != nil {
				h.Done(e, rows)
			}
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if h.Start != nil {
			h.Start(e, false)
		}
		if cal == nil {
			c, err := LoadOrCalibrate(cfg, dir)
			if err != nil {
				return nil, err
			}
			cal = c
		}
		hook := func(done, total int) {
			if h.Sample != nil {
				h.Sample(e, done, total)
			}
		}
		rows, err := e.run(cfg, cal, hook)
		if err != nil {
			return nil, fmt.Errorf("suite: %s: %w", e.ID, err)
		}
		for i := range rows {
			rows[i].Experiment = e.ID
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, rows); err != nil {
			return nil, err
		}
		if err := writeMachine(dir); err != nil {
			return nil, err
		}
		if err := repo.WriteFile(path, buf.Bytes()); err != nil {
			return nil, err
		}
		out[e.ID] = rows
		if h.Done != nil {
			h.Done(e, rows)
		}
	}
	return out, nil
}
