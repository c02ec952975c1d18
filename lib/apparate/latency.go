package apparate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/internal/jsonfile"

	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/repo"
)

// RoundBatch rounds a batch size up to the next of BatchSizes, the batch
// size whose latency table prices a batch (specs/apparate.md 4.2). It
// returns an error for b < 1 or b > 64, the largest profiled batch size.
func RoundBatch(b int) (int, error) {
	for _, s := range BatchSizes {
		if b >= 1 && b <= s {
			return s, nil
		}
	}
	return 0, fmt.Errorf("apparate: batch size %d outside [1, %d]", b, BatchSizes[len(BatchSizes)-1])
}

// At returns the Costs that price a batch of b samples: those of
// RoundBatch(b) (specs 4.2). The error names the model and the batch size.
func (p *Profile) At(b int) (Costs, error) {
	bs, err := RoundBatch(b)
	if err != nil {
		return Costs{}, fmt.Errorf("apparate: profile %q: %w", p.Model, err)
	}
	c, ok := p.ByBatch[bs]
	if !ok {
		return Costs{}, fmt.Errorf("apparate: profile %q has no costs for batch size %d (batch of %d)", p.Model, bs, b)
	}
	return c, nil
}

// Exits returns the latencies, in ms, at which the samples of a batch leave
// it when the ramps in active (ascending ramp indices a_1 < … < a_n) are
// switched on (specs 4.2): X_j = P_{a_j} + Σ_{m≤j} Q_{a_m} for a sample that
// exits at a_j, and, last, X_{n+1} = V + Σ_{m≤n} Q_{a_m} for one that exits
// at no ramp, which is also when the batch ends. The result has len(active)+1
// entries. Exits panics if active is not strictly ascending within [0, R):
// active sets are built by the caller, not read from data.
func (c Costs) Exits(active []int) []float64 {
	return c.AppendExits(make([]float64, 0, len(active)+1), active)
}

// AppendExits appends the exit latencies of Exits to dst and returns the
// extended slice; with a reused dst it does not allocate.
func (c Costs) AppendExits(dst []float64, active []int) []float64 {
	var ramps float64
	for j, a := range active {
		if a < 0 || a >= len(c.Prefix) || a >= len(c.Ramp) {
			panic(fmt.Sprintf("apparate: active ramp %d outside [0, %d)", a, len(c.Prefix)))
		}
		if j > 0 && a <= active[j-1] {
			panic(fmt.Sprintf("apparate: active ramps %v not strictly ascending", active))
		}
		ramps += c.Ramp[a]
		dst = append(dst, c.Prefix[a]+ramps)
	}
	return append(dst, c.Vanilla+ramps)
}

// Boundary returns the latest usable ramp (specs 4.2 get_boundary): the
// candidate ramps are scanned from r = 0 and the scan stops at the first r
// whose exit costs more than the vanilla model, P_r + Q_r > V; Boundary is
// the ramp before it. It is R−1 when every ramp is usable (all real
// profiles) and −1 when even ramp 0 is not, or when there are no ramps.
func (c Costs) Boundary() int {
	n := min(len(c.Prefix), len(c.Ramp))
	for r := range n {
		if c.Prefix[r]+c.Ramp[r] > c.Vanilla {
			return r - 1
		}
	}
	return n - 1
}

// Ramps returns the number of candidate ramps R of the profile: the length
// of its prefix list at batch size 1 (Validate checks that every batch size
// agrees).
func (p *Profile) Ramps() int { return len(p.ByBatch[BatchSizes[0]].Prefix) }

// Validate checks that p is a usable latency profile (specs 3.4): Costs for
// exactly the batch sizes of BatchSizes, R ≥ 1 candidate ramps with a prefix
// and a ramp latency each at every batch size, every latency positive and
// finite, prefix latencies non-decreasing along the model and below the
// vanilla latency. Errors name the model, the batch size and the field.
func (p *Profile) Validate() error {
	for b := range p.ByBatch {
		if !slices.Contains(BatchSizes, b) {
			return fmt.Errorf("apparate: profile %q: batch size %d is not one of %v", p.Model, b, BatchSizes)
		}
	}
	rr := -1
	for _, b := range BatchSizes {
		c, ok := p.ByBatch[b]
		if !ok {
			return fmt.Errorf("apparate: profile %q: batch size %d missing (want all of %v)", p.Model, b, BatchSizes)
		}
		if err := c.validate(); err != nil {
			return fmt.Errorf("apparate: profile %q, batch size %d: %w", p.Model, b, err)
		}
		if rr < 0 {
			rr = len(c.Prefix)
		} else if len(c.Prefix) != rr {
			return fmt.Errorf("apparate: profile %q, batch size %d: %d ramps, batch size %d has %d", p.Model, b, len(c.Prefix), BatchSizes[0], rr)
		}
	}
	return nil
}

// validate checks one batch size's Costs for Validate.
func (c Costs) validate() error {
	if len(c.Prefix) == 0 {
		return fmt.Errorf("prefix_ms is empty: no candidate ramps")
	}
	if len(c.Ramp) != len(c.Prefix) {
		return fmt.Errorf("ramp_ms has %d entries, prefix_ms has %d", len(c.Ramp), len(c.Prefix))
	}
	if !positiveFinite(c.Vanilla) {
		return fmt.Errorf("vanilla_ms = %g, want positive and finite", c.Vanilla)
	}
	for r, x := range c.Prefix {
		switch {
		case !positiveFinite(x):
			return fmt.Errorf("prefix_ms[%d] = %g, want positive and finite", r, x)
		case r > 0 && x < c.Prefix[r-1]:
			return fmt.Errorf("prefix_ms[%d] = %g < prefix_ms[%d] = %g, want non-decreasing", r, x, r-1, c.Prefix[r-1])
		case x >= c.Vanilla:
			return fmt.Errorf("prefix_ms[%d] = %g, want below vanilla_ms = %g", r, x, c.Vanilla)
		}
	}
	for r, x := range c.Ramp {
		if !positiveFinite(x) {
			return fmt.Errorf("ramp_ms[%d] = %g, want positive and finite", r, x)
		}
	}
	return nil
}

func positiveFinite(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

// profileFile is the on-disk form of a Profile (specs 6.7): the Profile's
// fields plus the ramp count and batch sizes, written for readers.
type profileFile struct {
	Model      string       `json:"model"`
	Source     string       `json:"source"`
	NumRamps   int          `json:"num_ramps"`
	BatchSizes []int        `json:"batch_sizes"`
	ByBatch    costsByBatch `json:"by_bs"`
}

// costsByBatch is Profile.ByBatch written with its keys in numeric order
// (encoding/json would sort "16" before "2").
type costsByBatch map[int]Costs

func (m costsByBatch) MarshalJSON() ([]byte, error) {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		v, err := json.Marshal(m[k])
		if err != nil {
			return nil, err
		}
		buf.WriteString(strconv.Quote(strconv.Itoa(k)))
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// ReadProfile reads a latency profile written by Profile.Write (specs 6.7)
// and validates it. num_ramps and batch_sizes may be absent; when present
// they must agree with by_bs. Errors are one line naming the file and the
// key.
func ReadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("apparate: read profile: %w", err)
	}
	var f profileFile
	if err := jsonfile.DecodeObject(path, data, []jsonfile.Key{
		jsonfile.Required("model", &f.Model),
		jsonfile.Required("source", &f.Source),
		jsonfile.Optional("num_ramps", &f.NumRamps),
		jsonfile.Optional("batch_sizes", &f.BatchSizes),
		jsonfile.Required("by_bs", &f.ByBatch),
	}); err != nil {
		return nil, fmt.Errorf("apparate: profile %w", err)
	}
	if f.ByBatch == nil {
		return nil, fmt.Errorf("apparate: profile %w", &npz.Error{File: path, Key: "by_bs", Expected: "an object of costs by batch size", Found: "null"})
	}
	p := &Profile{Model: f.Model, Source: f.Source, ByBatch: f.ByBatch}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: key \"by_bs\": %w", path, err)
	}
	if f.NumRamps != 0 && f.NumRamps != p.Ramps() {
		return nil, fmt.Errorf("apparate: profile %s: num_ramps = %d, by_bs has %d ramps", path, f.NumRamps, p.Ramps())
	}
	if f.BatchSizes != nil && !slices.Equal(f.BatchSizes, BatchSizes) {
		return nil, fmt.Errorf("apparate: profile %s: batch_sizes = %v, want %v", path, f.BatchSizes, BatchSizes)
	}
	return p, nil
}

// Write validates p and writes it as JSON (specs 6.7) to path, atomically:
// into a temporary file in the same directory, then renamed over path.
func (p *Profile) Write(path string) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("apparate: write %s: %w", path, err)
	}
	f := profileFile{
		Model:      p.Model,
		Source:     p.Source,
		NumRamps:   p.Ramps(),
		BatchSizes: BatchSizes,
		ByBatch:    costsByBatch(p.ByBatch),
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("apparate: write %s: %w", path, err)
	}
	return repo.WriteFile(path, append(data, '\n'))
}

// V100Scaling is the default batch scaling s(b) of synthetic profiles
// (specs 6.1): the latency of a batch of b relative to a batch of 1, from
// public V100 TensorRT FP32 ResNet-50 measurements (2.68, 4.08, 6.08, 8.28,
// 13.05, 23.13, 42.53 ms at batch sizes 1–64).
var V100Scaling = map[int]float64{1: 1, 2: 1.52, 4: 2.27, 8: 3.09, 16: 4.87, 32: 8.64, 64: 15.9}

// SyntheticProfile describes a stand-in latency profile (specs 6.1): a
// model made of a stem, Blocks equal blocks with a candidate ramp after each
// of the first Ramps, and a head. Latencies are in ms at batch size 1.
// The zero values of Blocks, RampGrowth and Scaling mean the defaults.
type SyntheticProfile struct {
	Model string
	Ramps int // candidate ramps R, after blocks 0..R−1
	// Blocks is the number of blocks; zero means Ramps. The NLP models of
	// SyntheticModels have one block more than ramps: the DeeBERT highway
	// after the last layer is dropped (specs 3.2, 3.4).
	Blocks                  int
	Stem, Block, Head, Ramp float64
	// RampGrowth is g, the growth of a ramp's latency per doubling of the
	// batch size; zero means 0.05, a negative value means 0.
	RampGrowth float64
	// Scaling is s(b), the latency of a batch of b relative to a batch of 1
	// for every b of BatchSizes; nil means V100Scaling.
	Scaling map[int]float64
}

// Profile builds the latency profile (specs 6.1):
//
//	P_r(b) = (stem + (r+1)·block)·s(b)
//	V(b)   = (stem + blocks·block + head)·s(b)
//	Q_r(b) = ramp·(1+g)^log2(b)
//
// Its Source states "synthetic" and every parameter.
func (s SyntheticProfile) Profile() (*Profile, error) {
	blocks := s.Blocks
	if blocks == 0 {
		blocks = s.Ramps
	}
	g := s.RampGrowth
	switch {
	case g == 0:
		g = 0.05
	case g < 0:
		g = 0
	}
	scale := s.Scaling
	if scale == nil {
		scale = V100Scaling
	}
	if err := s.check(blocks, scale); err != nil {
		return nil, err
	}
	p := &Profile{Model: s.Model, ByBatch: make(map[int]Costs, len(BatchSizes))}
	for _, b := range BatchSizes {
		sb := scale[b]
		q := s.Ramp * math.Pow(1+g, float64(log2(b)))
		c := Costs{
			Prefix:  make([]float64, s.Ramps),
			Ramp:    make([]float64, s.Ramps),
			Vanilla: (s.Stem + float64(blocks)*s.Block + s.Head) * sb,
		}
		for r := range s.Ramps {
			c.Prefix[r] = (s.Stem + float64(r+1)*s.Block) * sb
			c.Ramp[r] = q
		}
		p.ByBatch[b] = c
	}
	var sc strings.Builder
	for i, b := range BatchSizes {
		if i > 0 {
			sc.WriteByte(' ')
		}
		fmt.Fprintf(&sc, "%d:%g", b, scale[b])
	}
	p.Source = fmt.Sprintf("synthetic (specs/apparate.md 6.1): ramps=%d blocks=%d stem=%g block=%g head=%g ramp=%g ms at bs 1, g=%g, s(b)={%s}",
		s.Ramps, blocks, s.Stem, s.Block, s.Head, s.Ramp, g, sc.String())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// check validates the parameters of a SyntheticProfile.
func (s SyntheticProfile) check(blocks int, scale map[int]float64) error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("apparate: synthetic profile %q: %s = %v, want %s", s.Model, field, v, want)
	}
	switch {
	case s.Ramps < 1:
		return bad("Ramps", s.Ramps, "at least 1")
	case blocks < s.Ramps:
		return bad("Blocks", blocks, fmt.Sprintf("at least Ramps = %d", s.Ramps))
	case !(s.Stem >= 0) || math.IsInf(s.Stem, 1):
		return bad("Stem", s.Stem, "non-negative and finite")
	case !positiveFinite(s.Block):
		return bad("Block", s.Block, "positive and finite")
	case !(s.Head >= 0) || math.IsInf(s.Head, 1):
		return bad("Head", s.Head, "non-negative and finite")
	case !positiveFinite(s.Ramp):
		return bad("Ramp", s.Ramp, "positive and finite")
	}
	for _, b := range BatchSizes {
		if v, ok := scale[b]; !ok || !positiveFinite(v) {
			return bad(fmt.Sprintf("Scaling[%d]", b), v, "positive and finite")
		}
	}
	return nil
}

// log2 returns the base-2 logarithm of a power of two.
func log2(b int) int {
	k := 0
	for b > 1 {
		b >>= 1
		k++
	}
	return k
}

// SyntheticModels are the stand-in profiles of the ten served models of
// specs 6.1 (A6000-like latencies at batch size 1). Their V(1) matches the
// spec's table to its printed precision: 2.83, 5.31, 10.58 (ResNets), 3.0,
// 3.9, 4.89 (VGGs; the table rounds VGG-16 to 4.9), 14.72 (DistilBERT; the
// real A6000 profile has V = 14.7201 ms), 28.69 (BERT-base; table 28.7) and
// 99.3 (BERT-large, GPT2-medium). The transformers reach those values only
// because Blocks = Ramps+1 (a profile of 6, 12 or 24 layers with R = 5, 11,
// 23 usable highways): with Blocks = Ramps the formula would lose one layer
// (DistilBERT 12.39 ms).
var SyntheticModels = []SyntheticProfile{
	resnetLike("resnet18", 8),
	resnetLike("resnet50", 16),
	resnetLike("resnet101", 33),
	vggLike("vgg11", 8, 0.30),
	vggLike("vgg13", 10, 0.33),
	vggLike("vgg16", 13, 0.33),
	// BERT-base uses DistilBERT's per-layer costs (the spec's table prints
	// the block as 2.33).
	bertLike("distilbert-base", 5, 0.414, 2.3287, 0.334, 0.1235),
	bertLike("bert-base", 11, 0.414, 2.3287, 0.334, 0.1235),
	bertLike("bert-large", 23, 0.5, 4.1, 0.4, 0.16),
	bertLike("gpt2-medium", 23, 0.5, 4.1, 0.4, 0.16),
}

// SyntheticModel returns the entry of SyntheticModels for a model name.
func SyntheticModel(model string) (SyntheticProfile, bool) {
	for _, s := range SyntheticModels {
		if s.Model == model {
			return s, true
		}
	}
	return SyntheticProfile{}, false
}

// resnetLike anchors on the artifact's hard-coded ResNet constants (specs
// 3.4): 0.25 ms stem, 0.31 ms per residual block, 0.11 ms per ramp; one
// candidate ramp per block.
func resnetLike(model string, ramps int) SyntheticProfile {
	return SyntheticProfile{Model: model, Ramps: ramps, Stem: 0.25, Block: 0.31, Head: 0.10, Ramp: 0.11}
}

// vggLike is the spec's uniform per-conv split (an assumption, specs 6.1).
func vggLike(model string, ramps int, block float64) SyntheticProfile {
	return SyntheticProfile{Model: model, Ramps: ramps, Stem: 0.10, Block: block, Head: 0.50, Ramp: 0.11}
}

// bertLike has one layer after the last usable highway (specs 3.2).
func bertLike(model string, ramps int, stem, block, head, ramp float64) SyntheticProfile {
	return SyntheticProfile{Model: model, Ramps: ramps, Blocks: ramps + 1, Stem: stem, Block: block, Head: head, Ramp: ramp}
}
