package apparate

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/paperlab/paperlab/lib/npz"
)

// Keys of a table's .npz file (specs 6.7, with .npz in place of the
// proposed raw .bin so that NumPy reads the tables as they are).
const (
	tableConfKey  = "conf"  // float32 [R, N]: Conf[r][i]
	tableAgreeKey = "agree" // bool [R, N]: Agree[r][i]
	tableMetaKey  = "meta"  // one string: JSON of how the table was made
)

// Validate checks that t is a table of specs 3.2: at least one ramp, every
// ramp with as many confidences and agreements as ramp 0, and every
// confidence finite and in [0, 1]. Errors name the ramp and the sample.
func (t *Table) Validate() error {
	if t == nil {
		return errors.New("apparate: nil table")
	}
	if len(t.Conf) == 0 {
		return errors.New("apparate: table has no ramps")
	}
	if len(t.Agree) != len(t.Conf) {
		return fmt.Errorf("apparate: table has confidences for %d ramps but agreements for %d", len(t.Conf), len(t.Agree))
	}
	n := len(t.Conf[0])
	for r := range t.Conf {
		if len(t.Conf[r]) != n {
			return fmt.Errorf("apparate: table ramp %d: expected %d confidences (as ramp 0), found %d", r, n, len(t.Conf[r]))
		}
		if len(t.Agree[r]) != n {
			return fmt.Errorf("apparate: table ramp %d: expected %d agreements (as ramp 0), found %d", r, n, len(t.Agree[r]))
		}
		for i, c := range t.Conf[r] {
			if !(c >= 0 && c <= 1) { // also catches NaN
				return fmt.Errorf("apparate: table ramp %d, sample %d: confidence %v not in [0, 1]", r, i, c)
			}
		}
	}
	return nil
}

// WriteTable writes t to path as an .npz archive: "conf" float32 [R, N],
// "agree" bool [R, N], and, unless meta is nil, "meta": a one-element string
// array holding meta as JSON (the generator's parameters and seed, say a
// SyntheticTable). The file appears atomically: it is written beside path
// and renamed into place.
func WriteTable(path string, t *Table, meta any) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var metaJSON []byte
	if meta != nil {
		var err error
		if metaJSON, err = json.Marshal(meta); err != nil {
			return fmt.Errorf("%s: key %q: %w", path, tableMetaKey, err)
		}
	}
	r, n := t.Ramps(), t.Len()
	conf := make([]float32, 0, r*n)
	agree := make([]bool, 0, r*n)
	for i := range r {
		conf = append(conf, t.Conf[i]...)
		agree = append(agree, t.Agree[i]...)
	}
	w, err := npz.Create(path)
	if err != nil {
		return err
	}
	if err := w.Write(tableConfKey, conf, r, n); err != nil {
		w.Abort()
		return err
	}
	if err := w.Write(tableAgreeKey, agree, r, n); err != nil {
		w.Abort()
		return err
	}
	if metaJSON != nil {
		if err := w.Write(tableMetaKey, []string{string(metaJSON)}); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// ReadTable reads a table written by WriteTable and validates it.
func ReadTable(path string) (*Table, error) {
	return ReadTableMeta(path, nil)
}

// maxEmptyRamps bounds the ramp count of a table of no samples. Such a
// table stores no value per ramp, so nothing in the file backs a large
// count; real tables have a few dozen ramps at most.
const maxEmptyRamps = 1 << 16

// ReadTableMeta reads a table written by WriteTable and, if meta is not nil,
// decodes the table's "meta" entry into it (an error if the file has none).
// The file must hold "conf" (float32, two dimensions), "agree" (bool, of
// the same shape) and nothing but an optional "meta", one JSON string;
// the table must pass Validate. Errors are one line naming the file and
// the key.
func ReadTableMeta(path string, meta any) (*Table, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	for _, k := range f.Keys() {
		if k != tableConfKey && k != tableAgreeKey && k != tableMetaKey {
			return nil, &npz.Error{File: path, Key: k, Expected: fmt.Sprintf("only the keys %q, %q and %q", tableConfKey, tableAgreeKey, tableMetaKey), Found: "an unknown key"}
		}
	}
	conf, cshape, err := f.Float32(tableConfKey)
	if err != nil {
		return nil, err
	}
	if len(cshape) != 2 {
		return nil, &npz.Error{File: path, Key: tableConfKey, Expected: "shape (ramps, samples)", Found: "shape " + npz.ShapeString(cshape)}
	}
	r, n := cshape[0], cshape[1]
	if n == 0 && r > maxEmptyRamps {
		return nil, &npz.Error{File: path, Key: tableConfKey, Expected: fmt.Sprintf("at most %d ramps in a table of no samples", maxEmptyRamps), Found: "shape " + npz.ShapeString(cshape)}
	}
	agree, ashape, err := f.Bool(tableAgreeKey)
	if err != nil {
		return nil, err
	}
	if len(ashape) != 2 || ashape[0] != r || ashape[1] != n {
		return nil, &npz.Error{File: path, Key: tableAgreeKey, Expected: fmt.Sprintf("shape %s (as %q)", npz.ShapeString(cshape), tableConfKey), Found: "shape " + npz.ShapeString(ashape)}
	}
	t := &Table{Conf: make([][]float32, r), Agree: make([][]bool, r)}
	for i := range r {
		t.Conf[i] = conf[i*n : (i+1)*n : (i+1)*n]
		t.Agree[i] = agree[i*n : (i+1)*n : (i+1)*n]
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: key %q: %w", path, tableConfKey, err)
	}
	if meta == nil && !f.Has(tableMetaKey) {
		return t, nil
	}
	s, _, err := f.Strings(tableMetaKey)
	if err != nil {
		return nil, err
	}
	if len(s) != 1 {
		return nil, &npz.Error{File: path, Key: tableMetaKey, Expected: "one JSON string", Found: fmt.Sprintf("%d strings", len(s))}
	}
	if meta == nil {
		if !json.Valid([]byte(s[0])) {
			return nil, &npz.Error{File: path, Key: tableMetaKey, Expected: "one JSON string", Found: "a string that is not JSON"}
		}
		return t, nil
	}
	if err := json.Unmarshal([]byte(s[0]), meta); err != nil {
		return nil, &npz.Error{File: path, Key: tableMetaKey, Err: err}
	}
	return t, nil
}

// SyntheticTable generates stand-ins for the artifact's unpublished
// per-sample tables with the latent-difficulty model of specs 6.2. Every
// sample i has one difficulty d_i shared by all ramps, so outcomes are
// coherent across depth; ramp r at relative depth x_r = (r+1)/(R+1) has
// capability c_r = C0 + (C1 − C0)·x_r^Gamma and margin
//
//	m_ir = K·(c_r − d_i) + Sigma·(Rho·z_i + √(1 − Rho²)·ε_ir),  z, ε ~ N(0, 1);
//
// it agrees with the original model iff m_ir > 0, with confidence
// sigmoid(|m_ir|) when it agrees and sigmoid(W·|m_ir|) when it does not.
//
// The difficulty stream is made of regimes of exponential length with mean
// Segment samples. CV (IID false): a regime is hard with probability PHard,
// with difficulty U(HardLo, HardHi), else easy with difficulty
// Beta(EasyA, EasyB); the regime's difficulty holds for all its frames, plus
// per-frame jitter N(0, Jitter²). NLP (IID true): every sample draws its own
// difficulty from Beta(EasyA, EasyB), plus its regime's offset N(0, Shift²)
// and jitter ("weak regimes"; the offset is this package's reading of
// specs 6.2, which does not say how weak).
//
// The stream (d_i and z_i) depends on Seed and Dataset only, so tables of
// different models on the same dataset and seed see the same samples; the
// ramp noise ε also depends on the ramp count. Use CVTable and NLPTable for
// the prototype's parameters.
type SyntheticTable struct {
	Dataset string `json:"dataset"` // video or NLP dataset name; part of the seed

	// Difficulty stream.
	Segment float64 `json:"segment"`         // mean regime length, samples
	IID     bool    `json:"iid,omitempty"`   // NLP stream: per-sample Beta difficulty
	PHard   float64 `json:"p_hard"`          // CV: probability that a regime is hard
	HardLo  float64 `json:"hard_lo"`         // CV: hard regimes' difficulty ~ U(HardLo, HardHi)
	HardHi  float64 `json:"hard_hi"`         //
	EasyA   float64 `json:"easy_a"`          // Beta(EasyA, EasyB): CV easy regimes, NLP samples
	EasyB   float64 `json:"easy_b"`          //
	Jitter  float64 `json:"jitter"`          // per-sample N(0, Jitter²) added to d_i
	Shift   float64 `json:"shift,omitempty"` // NLP: per-regime N(0, Shift²) added to d_i

	// Ramp model.
	C0    float64 `json:"c0"`    // capability of a ramp at depth 0
	C1    float64 `json:"c1"`    // capability at full depth
	Gamma float64 `json:"gamma"` // capability curve exponent
	K     float64 `json:"k"`     // margin scale
	Sigma float64 `json:"sigma"` // margin noise
	Rho   float64 `json:"rho"`   // share of the noise common to all ramps of a sample
	W     float64 `json:"w"`     // confidence flattening of disagreeing ramps, < 1

	Ramps   int    `json:"ramps"`   // R, candidate ramps
	Samples int    `json:"samples"` // N, samples of the simulation table
	Seed    uint64 `json:"seed"`
}

// Generate draws the simulation table: Samples samples in stream order.
func (g SyntheticTable) Generate() (*Table, error) {
	return g.generate("simulation", g.Samples)
}

// Bootstrap draws the bootstrap table: Samples/9 samples from the same
// process but an independent stream, standing for the first 10 % of the
// dataset when the simulation table is the remaining 90 % (specs 3.2, 6.2).
func (g SyntheticTable) Bootstrap() (*Table, error) {
	return g.generate("bootstrap", g.Samples/9)
}

func (g SyntheticTable) generate(purpose string, n int) (*Table, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	d, z := g.difficulty(syntheticStream(g.Seed, g.Dataset, purpose, "difficulty"), n)
	noise := syntheticStream(g.Seed, g.Dataset, purpose, "ramps", fmt.Sprint(g.Ramps))
	t := &Table{Conf: make([][]float32, g.Ramps), Agree: make([][]bool, g.Ramps)}
	shared, own := g.Sigma*g.Rho, g.Sigma*math.Sqrt(1-g.Rho*g.Rho)
	for r := range g.Ramps {
		c := g.capability(r)
		conf, agree := make([]float32, n), make([]bool, n)
		for i := range n {
			m := g.K*(c-d[i]) + shared*z[i] + own*noise.NormFloat64()
			conf[i], agree[i] = confidence(m, g.W), m > 0
		}
		t.Conf[r], t.Agree[r] = conf, agree
	}
	return t, nil
}

// capability returns c_r of specs 6.2 step 2.
func (g SyntheticTable) capability(r int) float64 {
	x := float64(r+1) / float64(g.Ramps+1)
	return g.C0 + (g.C1-g.C0)*math.Pow(x, g.Gamma)
}

// difficulty draws the difficulties d and the shared noise z of n samples
// (specs 6.2 step 1).
func (g SyntheticTable) difficulty(rng *rand.Rand, n int) (d, z []float64) {
	d, z = make([]float64, 0, n), make([]float64, 0, n)
	beta := distuv.Beta{Alpha: g.EasyA, Beta: g.EasyB, Src: rng}
	for len(d) < n {
		length := int(math.Ceil(rng.ExpFloat64() * g.Segment))
		var level float64
		switch {
		case g.IID:
			level = g.Shift * rng.NormFloat64()
		case rng.Float64() < g.PHard:
			level = g.HardLo + (g.HardHi-g.HardLo)*rng.Float64()
		default:
			level = beta.Rand()
		}
		for k := 0; k < length && len(d) < n; k++ {
			di := level + g.Jitter*rng.NormFloat64()
			if g.IID {
				di += beta.Rand()
			}
			d = append(d, di)
			z = append(z, rng.NormFloat64())
		}
	}
	return d, z
}

// check reports parameters the generator cannot use, naming the field.
func (g SyntheticTable) check() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("apparate: synthetic table %q: %s = %v, want %s", g.Dataset, field, v, want)
	}
	switch {
	case g.Ramps < 1:
		return bad("Ramps", g.Ramps, "≥ 1")
	case g.Samples < 0:
		return bad("Samples", g.Samples, "≥ 0")
	case !(g.Segment > 0):
		return bad("Segment", g.Segment, "> 0")
	case !(g.EasyA > 0):
		return bad("EasyA", g.EasyA, "> 0")
	case !(g.EasyB > 0):
		return bad("EasyB", g.EasyB, "> 0")
	case !(g.PHard >= 0 && g.PHard <= 1):
		return bad("PHard", g.PHard, "in [0, 1]")
	case !(g.HardLo <= g.HardHi):
		return bad("HardLo", g.HardLo, fmt.Sprintf("≤ HardHi (%v)", g.HardHi))
	case !(g.Rho >= -1 && g.Rho <= 1):
		return bad("Rho", g.Rho, "in [-1, 1]")
	case !(g.Jitter >= 0), !(g.Shift >= 0), !(g.Sigma >= 0):
		return fmt.Errorf("apparate: synthetic table %q: Jitter, Shift and Sigma must be ≥ 0 (have %v, %v, %v)", g.Dataset, g.Jitter, g.Shift, g.Sigma)
	case !(g.W >= 0):
		return bad("W", g.W, "≥ 0")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"C0", g.C0}, {"C1", g.C1}, {"Gamma", g.Gamma}, {"K", g.K}, {"HardLo", g.HardLo}, {"HardHi", g.HardHi}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return bad(f.name, f.v, "a finite number")
		}
	}
	return nil
}

// confidence returns the stored confidence of a ramp whose margin is m
// (specs 6.2 step 4): sigmoid(|m|) when the ramp agrees (m > 0), else the
// flattened sigmoid(w·|m|), so that disagreements are less confident.
func confidence(m, w float64) float32 {
	a := math.Abs(m)
	if m <= 0 {
		a *= w
	}
	return float32(1 / (1 + math.Exp(-a)))
}

// syntheticStream returns a PCG stream seeded by hashing seed and the given
// parts (dataset, purpose, ...), so every use of randomness has its own
// stream and nothing depends on the clock.
func syntheticStream(seed uint64, parts ...string) *rand.Rand {
	h := fnv.New128a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])))
}

// Videos are the eight CV datasets the artifact runs (specs 5); Ohio is run
// but not plotted.
var Videos = []string{"auburn", "bellevue1", "bellevue2", "calgary", "coral", "hampton", "ohio", "oxford"}

// PlottedVideos are the seven videos of Fig. 12 and Fig. 13 (specs 4.12).
var PlottedVideos = []string{"auburn", "bellevue1", "bellevue2", "calgary", "coral", "hampton", "oxford"}

// cvVideo holds a video's prototype difficulty parameters (specs 6.2): the
// probability of a hard regime and the easy regimes' Beta(a, 2b).
type cvVideo struct{ pHard, a, b float64 }

// cvVideos are the prototype's per-video parameters of specs 6.2, (a, b)
// assigned from its list in the order auburn … oxford. The spec gives none
// for ohio, which the paper does not plot: it takes the mean of the seven
// others (p_hard 0.22, a 1.34, b 4.14), rounded to two decimals.
var cvVideos = map[string]cvVideo{
	"auburn":    {0.10, 1, 6},
	"bellevue1": {0.20, 1.2, 5},
	"bellevue2": {0.30, 1.5, 4},
	"calgary":   {0.15, 1.2, 3},
	"coral":     {0.40, 2, 4},
	"hampton":   {0.05, 1, 4},
	"ohio":      {0.22, 1.34, 4.14},
	"oxford":    {0.35, 1.5, 3},
}

// nlpDatasets are the NLP difficulty distributions Beta(a, b) of specs 6.2.
var nlpDatasets = map[string][2]float64{
	"amazon_reviews": {2, 3 * 1.3},
	"imdb":           {2.2, 2.8 * 1.3},
}

// CVTable returns the prototype generator of specs 6.2 for a video of
// Videos: regimes of 900 frames (30 s at 30 FPS) on average, hard
// difficulty U(0.5, 0.9), jitter 0.05, and c0 = 0.5, c1 = 1, γ = 0.6,
// K = 12, σ = 1, ρ = 0.5, w = 0.3.
func CVTable(video string, ramps, n int, seed uint64) (SyntheticTable, error) {
	v, ok := cvVideos[video]
	if !ok {
		return SyntheticTable{}, fmt.Errorf("apparate: unknown video %q (have %v)", video, Videos)
	}
	return SyntheticTable{
		Dataset: video,
		Segment: 900, PHard: v.pHard, HardLo: 0.5, HardHi: 0.9, EasyA: v.a, EasyB: 2 * v.b, Jitter: 0.05,
		C0: 0.5, C1: 1.0, Gamma: 0.6, K: 12, Sigma: 1, Rho: 0.5, W: 0.3,
		Ramps: ramps, Samples: n, Seed: seed,
	}, nil
}

// NLPTable returns the prototype generator of specs 6.2 for amazon_reviews
// or imdb: i.i.d. difficulty Beta(2, 3·1.3) or Beta(2.2, 2.8·1.3) with weak
// regimes of 300 requests (offset N(0, 0.05²), this package's choice), and
// c0 = 0.3, c1 = 0.85, γ = 1, K = 6, σ = 1, ρ = 0.6, w = 0.4.
func NLPTable(dataset string, ramps, n int, seed uint64) (SyntheticTable, error) {
	ab, ok := nlpDatasets[dataset]
	if !ok {
		return SyntheticTable{}, fmt.Errorf("apparate: unknown NLP dataset %q (have amazon_reviews, imdb)", dataset)
	}
	return SyntheticTable{
		Dataset: dataset,
		Segment: 300, IID: true, EasyA: ab[0], EasyB: ab[1], Shift: 0.05,
		C0: 0.3, C1: 0.85, Gamma: 1, K: 6, Sigma: 1, Rho: 0.6, W: 0.4,
		Ramps: ramps, Samples: n, Seed: seed,
	}, nil
}
