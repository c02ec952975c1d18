package pitot

import (
	"fmt"
	"math/rand/v2"

	"github.com/paperlab/paperlab/lib/nn"
)

// Samples are the inputs of a batch of one objective: sample i is workload
// Workload[i] on platform Platform[i] beside the workloads
// Interferers[0][i], ..., Interferers[K-2][i] (none for the "mf" objective).
type Samples struct {
	Workload    []int
	Platform    []int
	Interferers [][]int
}

// Len returns the number of samples.
func (s Samples) Len() int { return len(s.Workload) }

// Slice returns samples i..j-1.
func (s Samples) Slice(i, j int) Samples {
	out := Samples{Workload: s.Workload[i:j], Platform: s.Platform[i:j]}
	for _, k := range s.Interferers {
		out.Interferers = append(out.Interferers, k[i:j])
	}
	return out
}

// Side is the side information the models see: per-entity feature tables.
type Side struct {
	Workloads, Platforms int
	WorkloadFeatures     []float32 // Workloads x WorkloadDim, row-major
	PlatformFeatures     []float32 // Platforms x PlatformDim
	WorkloadDim          int
	PlatformDim          int
}

// Model is a trainable predictor of ln-runtime (or runtime, for the
// naive-loss ablation) with one output per loss head.
type Model[T nn.Float] interface {
	// Params returns the trainable parameters.
	Params() *nn.Params[T]
	// Init draws the initial parameters from rng.
	Init(rng *rand.Rand)
	// Prepare runs the per-step work shared by every sample (the towers
	// over all entities). Call it once after the parameters change and
	// before Predict.
	Prepare()
	// Predict writes the predictions of s into out, head-major: head n of
	// sample i at out[n*s.Len()+i].
	Predict(s Samples, out []T)
	// Backward accumulates into the parameters' gradients the gradient of a
	// loss whose derivative with respect to Predict's output is dout. It
	// must follow the Predict of the same samples. After the Backward calls
	// of a step, Finish propagates through the shared work.
	Backward(s Samples, dout []T)
	// Finish completes the backward pass (through the towers).
	Finish()
	// Heads returns the number of outputs per sample.
	Heads() int
}

// A Lane runs Predict and Backward on a share of a batch.
type Lane[T nn.Float] interface {
	Predict(s Samples, out []T)
	Backward(s Samples, dout []T)
}

// Laned is implemented by models whose per-sample work can be split: the
// lanes may run Predict and Backward at the same time on disjoint samples
// of one step, each accumulating its gradients apart, and Finish adds lane
// 1's to lane 0's in a fixed order, so a step gives the same parameters
// whether the lanes ran one after the other or at once. Lane 0 is the
// model's own Predict and Backward.
type Laned[T nn.Float] interface {
	Lanes() []Lane[T]
}

// New builds the model of a resolved configuration over the given side
// information.
func New[T nn.Float](c Config, side Side) (Model[T], error) {
	c = c.Resolve()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case KindPitot, KindIgnore:
		return newTwoTower[T](c, side), nil
	case KindMonolith:
		return newMonolith[T](c, side), nil
	case KindAttention:
		return newAttention[T](c, side), nil
	}
	return nil, fmt.Errorf("pitot: unknown model kind %q", c.Kind)
}

// tower is an embedding tower (specs/pitot.md 2.2): an MLP over each
// entity's features and learned features (HybridEmbedding), or a free
// table (MFEmbedding).
type tower[T nn.Float] struct {
	n, dim, out int
	free        *nn.Param[T] // n x out, when free
	learned     *nn.Param[T] // n x q, or nil
	mlp         *nn.MLP[T]
	input       nn.Matrix[T] // n x (dim + q): features then learned features
	dinput      nn.Matrix[T] // n x q: gradient of the learned features
	Out, DOut   nn.Matrix[T] // n x out
}

func newTower[T nn.Float](ps *nn.Params[T], name string, cfg Tower, n, dim int, features []float32, out int) *tower[T] {
	t := &tower[T]{n: n, dim: dim, out: out, DOut: nn.NewMatrix[T](n, out)}
	if cfg.Free {
		t.free = ps.New(name+".table", n, out)
		t.Out = nn.Matrix[T]{Rows: n, Cols: out, Data: t.free.Data}
		return t
	}
	q := cfg.LearnedFeatures()
	if q > 0 {
		t.learned = ps.New(name+".learned", n, q)
		t.dinput = nn.NewMatrix[T](n, q) // the gradient of the learned columns only
	}
	t.input = nn.NewMatrix[T](n, dim+q)
	for i := range n {
		for j := range dim {
			t.input.Data[i*(dim+q)+j] = T(features[i*dim+j])
		}
	}
	sizes := append(append([]int{dim + q}, cfg.Layers...), out)
	t.mlp = nn.NewMLP[T](ps, name+".mlp", n, sizes, nn.GELU)
	return t
}

func (t *tower[T]) init(rng *rand.Rand) {
	if t.free != nil {
		nn.Uniform(rng, t.free.Data, 0, 1)
		return
	}
	if t.learned != nil {
		nn.Uniform(rng, t.learned.Data, 0, 1)
	}
	t.mlp.Init(rng)
}

func (t *tower[T]) forward() {
	clear(t.DOut.Data)
	if t.free != nil {
		return
	}
	if t.learned != nil {
		q := t.learned.Shape[1]
		for i := range t.n {
			copy(t.input.Data[i*(t.dim+q)+t.dim:(i+1)*(t.dim+q)], t.learned.Data[i*q:(i+1)*q])
		}
	}
	t.Out = t.mlp.Forward(t.input)
}

func (t *tower[T]) backward() {
	if t.free != nil {
		for i, g := range t.DOut.Data {
			t.free.Grad[i] += g
		}
		return
	}
	if t.learned == nil {
		t.mlp.Backward(t.DOut, nn.Matrix[T]{})
		return
	}
	t.mlp.Backward(t.DOut, t.dinput)
	for i, g := range t.dinput.Data {
		t.learned.Grad[i] += g
	}
}
