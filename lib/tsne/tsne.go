// Package tsne embeds points in two (or a few) dimensions with exact
// t-distributed stochastic neighbour embedding, for the t-SNE figures of
// the Pitot paper (specs/pitot.md section 6: tsne_workload, tsne_runtime,
// tsne_device, which run scikit-learn's TSNE with default settings on
// standardised embeddings).
//
// The method is that of L. van der Maaten and G. Hinton, "Visualizing Data
// using t-SNE", JMLR 9 (2008): Gaussian input affinities whose bandwidths
// are found by binary search for a target perplexity (section 2,
// equation 1), symmetrised joint probabilities p_ij = (p_j|i + p_i|j)/2n
// (section 3.1), Student-t output affinities with one degree of freedom
// (section 3.2, equation 4), and gradient descent on KL(P||Q) (equation 5)
// with momentum and early exaggeration (section 3.4). The defaults and the
// optimiser follow scikit-learn's sklearn.manifold.TSNE (v1.5, method
// "exact"): perplexity 30, early exaggeration 12 for the first 250
// iterations with momentum 0.5 then 0.8, learning rate "auto" =
// max(n / early exaggeration / 4, 50), delta-bar-delta gains (+0.2 or
// x0.8, at least 0.01), 1000 iterations in all, progress checks every 50
// iterations, and PCA initialisation scaled to standard deviation 1e-4;
// output dimension d uses max(d-1, 1) degrees of freedom.
//
// Differences from scikit-learn: the work is in float64 (scikit-learn
// rounds distances and the embedding to float32), PCA is an exact SVD
// (scikit-learn's is randomised; components agree up to sign, and the
// sign is fixed as in scikit-learn >= 1.5, largest loading positive), and
// random initialisation draws from math/rand/v2's PCG, so embeddings
// resemble scikit-learn's but are not numerically equal. The cost is
// O(n^2) per iteration: meant for a few hundred to a few thousand points.
package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Config sets up an embedding. The zero value means scikit-learn's
// defaults; WithDefaults fills them in, for recording in config.json.
type Config struct {
	// Dims is the output dimension (0: 2).
	Dims int `json:"dims"`
	// Perplexity is the target perplexity of each point's Gaussian
	// affinities, a smooth number of neighbours (0: 30). It must be less
	// than the number of points.
	Perplexity float64 `json:"perplexity"`
	// EarlyExaggeration multiplies P during the first
	// ExaggerationIterations iterations (0: 12 and 250).
	EarlyExaggeration      float64 `json:"early_exaggeration"`
	ExaggerationIterations int     `json:"exaggeration_iterations"`
	// LearningRate is the gradient step (0: "auto",
	// max(n / EarlyExaggeration / 4, 50)).
	LearningRate float64 `json:"learning_rate"`
	// Iterations is the most iterations in all, exaggerated ones included
	// (0: 1000, scikit-learn's max_iter).
	Iterations int `json:"iterations"`
	// Init is "pca" (the default, also for "") or "random".
	Init string `json:"init"`
	// Seed drives random initialisation; PCA initialisation uses no
	// randomness.
	Seed uint64 `json:"seed"`
	// MinGradNorm stops the descent when the gradient norm falls to it
	// (0: 1e-7).
	MinGradNorm float64 `json:"min_grad_norm"`
	// NoProgressIterations stops the second stage after this many
	// iterations without a lower KL divergence (0: 300).
	NoProgressIterations int `json:"no_progress_iterations"`
}

// Initialisations.
const (
	InitPCA    = "pca"
	InitRandom = "random"
)

// WithDefaults returns c with zero fields set to their defaults. The
// learning rate stays 0 ("auto"): it depends on the number of points.
func (c Config) WithDefaults() Config {
	if c.Dims == 0 {
		c.Dims = 2
	}
	if c.Perplexity == 0 {
		c.Perplexity = 30
	}
	if c.EarlyExaggeration == 0 {
		c.EarlyExaggeration = 12
	}
	if c.ExaggerationIterations == 0 {
		c.ExaggerationIterations = 250
	}
	if c.Iterations == 0 {
		c.Iterations = 1000
	}
	if c.Init == "" {
		c.Init = InitPCA
	}
	if c.MinGradNorm == 0 {
		c.MinGradNorm = 1e-7
	}
	if c.NoProgressIterations == 0 {
		c.NoProgressIterations = 300
	}
	return c
}

// Constants of scikit-learn's implementation (sklearn/manifold/_t_sne.py
// and _utils.pyx).
const (
	// perplexityTolerance ends the bandwidth search when the entropy is
	// this close to log(perplexity), in nats.
	perplexityTolerance = 1e-5
	// searchSteps bounds the bandwidth search.
	searchSteps = 100
	// machineEpsilon floors probabilities (np.finfo(np.double).eps).
	machineEpsilon = 2.220446049250313e-16
	// checkEvery is how often the KL divergence is computed and progress
	// checked (_N_ITER_CHECK).
	checkEvery = 50
	// minGain bounds the delta-bar-delta gains from below.
	minGain = 0.01
	// initScale is the standard deviation of the initial embedding.
	initScale = 1e-4
)

// Result is an embedding with how it ended.
type Result struct {
	// Y holds one row of Config.Dims coordinates per input point.
	Y [][]float64
	// KL is the final KL divergence KL(P||Q), in nats.
	KL float64
	// Iterations is the number of iterations run (fewer than
	// Config.Iterations when the descent stopped early).
	Iterations int
	// LearningRate is the learning rate used.
	LearningRate float64
}

// Embed returns the t-SNE embedding of the rows of x (Run without the
// details).
func Embed(x [][]float64, c Config) ([][]float64, error) {
	r, err := Run(x, c)
	return r.Y, err
}

// Run embeds the rows of x and reports the final divergence.
func Run(x [][]float64, c Config) (Result, error) {
	c = c.WithDefaults()
	n, dim, err := shape(x)
	if err != nil {
		return Result{}, err
	}
	switch {
	case c.Dims < 1:
		return Result{}, fmt.Errorf("tsne: Dims = %d, want at least 1", c.Dims)
	case c.Perplexity < 0 || math.IsNaN(c.Perplexity):
		return Result{}, fmt.Errorf("tsne: perplexity %v, want positive", c.Perplexity)
	case c.Perplexity >= float64(n):
		return Result{}, fmt.Errorf("tsne: perplexity %v must be less than the number of points (%d)", c.Perplexity, n)
	case c.EarlyExaggeration < 1:
		return Result{}, fmt.Errorf("tsne: early exaggeration %v, want at least 1", c.EarlyExaggeration)
	case c.LearningRate < 0 || c.Iterations < 0 || c.ExaggerationIterations < 0:
		return Result{}, fmt.Errorf("tsne: negative learning rate or iterations in %+v", c)
	case c.Init != InitPCA && c.Init != InitRandom:
		return Result{}, fmt.Errorf("tsne: init %q, want %q or %q", c.Init, InitPCA, InitRandom)
	case c.Init == InitPCA && c.Dims > min(n, dim):
		return Result{}, fmt.Errorf("tsne: PCA initialisation of %d dimensions needs at least as many points and features, have %d x %d", c.Dims, n, dim)
	}
	lr := c.LearningRate
	if lr == 0 {
		lr = math.Max(float64(n)/c.EarlyExaggeration/4, 50)
	}

	p := jointP(sqDistances(x), c.Perplexity)
	var y []float64
	if c.Init == InitPCA {
		if y, err = pcaInit(x, c.Dims); err != nil {
			return Result{}, err
		}
	} else {
		y = randomInit(n, c.Dims, c.Seed)
	}

	o := newObjective(p, n, c.Dims)
	// Stage 1: exaggerated P, momentum 0.5, no early stop for lack of
	// progress within the stage (n_iter_without_progress = 250).
	explore := min(c.ExaggerationIterations, c.Iterations)
	scale(p, c.EarlyExaggeration)
	it := o.descend(y, 0, explore, 0.5, lr, c.ExaggerationIterations, c.MinGradNorm)
	scale(p, 1/c.EarlyExaggeration)
	// Stage 2: true P, momentum 0.8, fresh gains and update.
	it = o.descend(y, it+1, c.Iterations, 0.8, lr, c.NoProgressIterations, c.MinGradNorm)
	kl := o.eval(y, true)

	out := make([][]float64, n)
	for i := range out {
		out[i] = y[i*c.Dims : (i+1)*c.Dims : (i+1)*c.Dims]
	}
	return Result{Y: out, KL: kl, Iterations: min(it+1, c.Iterations), LearningRate: lr}, nil
}

// shape checks that x is a non-empty rectangular matrix of finite values.
func shape(x [][]float64) (n, dim int, err error) {
	if len(x) == 0 {
		return 0, 0, fmt.Errorf("tsne: no points")
	}
	dim = len(x[0])
	if dim == 0 {
		return 0, 0, fmt.Errorf("tsne: point 0 has no features")
	}
	for i, row := range x {
		if len(row) != dim {
			return 0, 0, fmt.Errorf("tsne: point %d has %d features, point 0 has %d", i, len(row), dim)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, 0, fmt.Errorf("tsne: point %d feature %d is %v", i, j, v)
			}
		}
	}
	return len(x), dim, nil
}

// sqDistances returns the n x n squared Euclidean distances, row-major.
func sqDistances(x [][]float64) []float64 {
	n := len(x)
	d := make([]float64, n*n)
	for i := range n {
		for j := i + 1; j < n; j++ {
			var s float64
			for k, v := range x[i] {
				t := v - x[j][k]
				s += t * t
			}
			d[i*n+j], d[j*n+i] = s, s
		}
	}
	return d
}

// conditionalP returns the n x n conditional probabilities p_j|i (row i)
// of the Gaussian kernels exp(-beta_i d_ij) whose precisions beta_i are
// found by bisection so that each row's entropy is log(perplexity) within
// perplexityTolerance (van der Maaten and Hinton 2008, section 2;
// scikit-learn's _binary_search_perplexity, step for step). d holds
// squared distances.
func conditionalP(d []float64, n int, perplexity float64) []float64 {
	p := make([]float64, n*n)
	target := math.Log(perplexity)
	for i := range n {
		row, di := p[i*n:(i+1)*n], d[i*n:(i+1)*n]
		betaMin, betaMax, beta := math.Inf(-1), math.Inf(1), 1.0
		for range searchSteps {
			var sum float64
			for j, dij := range di {
				if j != i {
					row[j] = math.Exp(-dij * beta)
					sum += row[j]
				}
			}
			if sum == 0 {
				sum = 1e-8 // EPSILON_DBL
			}
			var sumDP float64
			for j, dij := range di {
				row[j] /= sum
				sumDP += dij * row[j]
			}
			diff := math.Log(sum) + beta*sumDP - target
			if math.Abs(diff) <= perplexityTolerance {
				break
			}
			if diff > 0 { // too flat: sharpen
				betaMin = beta
				if math.IsInf(betaMax, 1) {
					beta *= 2
				} else {
					beta = (beta + betaMax) / 2
				}
			} else {
				betaMax = beta
				if math.IsInf(betaMin, -1) {
					beta /= 2
				} else {
					beta = (beta + betaMin) / 2
				}
			}
		}
	}
	return p
}

// jointP returns the symmetric joint probabilities
// p_ij = (p_j|i + p_i|j) / sum, floored at machine epsilon off the
// diagonal, as an n x n row-major matrix summing to 1.
func jointP(d []float64, perplexity float64) []float64 {
	n := int(math.Sqrt(float64(len(d))))
	p := conditionalP(d, n, perplexity)
	var sum float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := p[i*n+j] + p[j*n+i]
			p[i*n+j], p[j*n+i] = s, s
			sum += 2 * s
		}
		p[i*n+i] = 0
	}
	sum = math.Max(sum, machineEpsilon)
	for i := range n {
		for j := range n {
			if i != j {
				p[i*n+j] = math.Max(p[i*n+j]/sum, machineEpsilon)
			}
		}
	}
	return p
}

func scale(p []float64, s float64) {
	for i := range p {
		p[i] *= s
	}
}

// pcaInit returns the first dims principal-component scores of x, scaled
// so that the first has standard deviation 1e-4 (scikit-learn's "pca"
// initialisation). Component signs make each component's largest
// absolute loading positive (scikit-learn >= 1.5's svd_flip).
func pcaInit(x [][]float64, dims int) ([]float64, error) {
	n, dim := len(x), len(x[0])
	xc := mat.NewDense(n, dim, nil)
	for j := range dim {
		var m float64
		for i := range n {
			m += x[i][j]
		}
		m /= float64(n)
		for i := range n {
			xc.Set(i, j, x[i][j]-m)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(xc, mat.SVDThinV) {
		return nil, fmt.Errorf("tsne: PCA initialisation: SVD of the %d x %d data did not converge", n, dim)
	}
	var v mat.Dense
	svd.VTo(&v)
	y := make([]float64, n*dims)
	for k := range dims {
		sign, big := 1.0, 0.0
		for j := range dim {
			if a := math.Abs(v.At(j, k)); a > big {
				big = a
				sign = math.Copysign(1, v.At(j, k))
			}
		}
		for i := range n {
			var s float64
			for j := range dim {
				s += xc.At(i, j) * v.At(j, k)
			}
			y[i*dims+k] = sign * s
		}
	}
	var m, ss float64
	for i := range n {
		m += y[i*dims]
	}
	m /= float64(n)
	for i := range n {
		ss += (y[i*dims] - m) * (y[i*dims] - m)
	}
	sd := math.Sqrt(ss / float64(n)) // np.std: ddof 0
	if sd == 0 || math.IsNaN(sd) {
		return nil, fmt.Errorf("tsne: PCA initialisation: the %d points are identical; use Init %q", n, InitRandom)
	}
	scale(y, initScale/sd)
	return y, nil
}

// randomInit draws the initial embedding from N(0, 1e-4^2).
func randomInit(n, dims int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x7453_4e45)) // "tSNE"
	y := make([]float64, n*dims)
	for i := range y {
		y[i] = initScale * rng.NormFloat64()
	}
	return y
}

// objective evaluates KL(P||Q) and its gradient for an embedding.
type objective struct {
	p       []float64 // n x n joint probabilities (possibly exaggerated)
	n, dims int
	dof     float64   // degrees of freedom of the Student-t kernel
	w       []float64 // n x n kernel values (1 + |y_i-y_j|^2/dof)^(-(dof+1)/2)
	grad    []float64
}

func newObjective(p []float64, n, dims int) *objective {
	return &objective{
		p: p, n: n, dims: dims,
		dof:  math.Max(float64(dims-1), 1),
		w:    make([]float64, n*n),
		grad: make([]float64, n*dims),
	}
}

// eval fills o.grad with the gradient of KL(P||Q) at y and returns the
// divergence when withKL (NaN otherwise). With q_ij = w_ij / sum_kl w_kl,
//
//	dC/dy_i = (2(dof+1)/dof) sum_j (p_ij - q_ij) w_ij^(2/(dof+1)) (y_i - y_j),
//
// which for dof = 1 is equation 5 of van der Maaten and Hinton (2008):
// 4 sum_j (p_ij - q_ij)(1 + |y_i - y_j|^2)^-1 (y_i - y_j). As in
// scikit-learn, q_ij is floored at machine epsilon.
func (o *objective) eval(y []float64, withKL bool) float64 {
	n, dims, dof := o.n, o.dims, o.dof
	expo := -(dof + 1) / 2
	var sum float64
	for i := range n {
		yi := y[i*dims : (i+1)*dims]
		for j := i + 1; j < n; j++ {
			yj := y[j*dims : (j+1)*dims]
			var d2 float64
			for k := range dims {
				t := yi[k] - yj[k]
				d2 += t * t
			}
			t := 1 + d2/dof
			var w float64
			if dof == 1 {
				w = 1 / t
			} else {
				w = math.Pow(t, expo)
			}
			o.w[i*n+j], o.w[j*n+i] = w, w
			sum += 2 * w
		}
	}
	c := 2 * (dof + 1) / dof
	clear(o.grad)
	kl := math.NaN()
	if withKL {
		kl = 0
	}
	for i := range n {
		yi := y[i*dims : (i+1)*dims]
		gi := o.grad[i*dims : (i+1)*dims]
		for j := range n {
			if j == i {
				continue
			}
			w, pij := o.w[i*n+j], o.p[i*n+j]
			q := math.Max(w/sum, machineEpsilon)
			if withKL {
				kl += pij * math.Log(math.Max(pij, machineEpsilon)/q)
			}
			// w^(2/(dof+1)) = 1 / (1 + d^2/dof): the Student-t kernel's
			// derivative factor; for dof = 1 it is w itself.
			f := w
			if dof != 1 {
				f = math.Pow(w, 2/(dof+1))
			}
			m := c * (pij - q) * f
			yj := y[j*dims : (j+1)*dims]
			for k := range dims {
				gi[k] += m * (yi[k] - yj[k])
			}
		}
	}
	return kl
}

// descend runs iterations it..maxIter-1 of scikit-learn's
// _gradient_descent on y in place: momentum with delta-bar-delta gains,
// stopping when the gradient norm reaches minGradNorm or when the
// divergence has not improved for noProgress iterations (both checked
// every checkEvery iterations). It returns the last iteration run.
func (o *objective) descend(y []float64, it, maxIter int, momentum, lr float64, noProgress int, minGradNorm float64) int {
	update := make([]float64, len(y))
	gains := make([]float64, len(y))
	for i := range gains {
		gains[i] = 1
	}
	best, bestIter := math.MaxFloat64, it
	i := it
	for ; i < maxIter; i++ {
		check := (i+1)%checkEvery == 0
		kl := o.eval(y, check || i == maxIter-1)
		var norm float64
		for k, g := range o.grad {
			if update[k]*g < 0 {
				gains[k] += 0.2
			} else {
				gains[k] *= 0.8
			}
			gains[k] = math.Max(gains[k], minGain)
			g *= gains[k]
			norm += g * g
			update[k] = momentum*update[k] - lr*g
			y[k] += update[k]
		}
		if check {
			if kl < best {
				best, bestIter = kl, i
			} else if i-bestIter > noProgress {
				break
			}
			if math.Sqrt(norm) <= minGradNorm {
				break
			}
		}
	}
	return min(i, maxIter-1)
}
