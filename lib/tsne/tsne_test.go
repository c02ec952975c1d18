package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// randomPoints returns n points in dim dimensions, standard normal.
func randomPoints(n, dim int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, dim)
		for j := range x[i] {
			x[i][j] = rng.NormFloat64()
		}
	}
	return x
}

// clusters returns k Gaussian clusters of m points each in dim dimensions:
// unit-variance noise around centres drawn with standard deviation sep,
// and the cluster labels.
func clusters(k, m, dim int, sep float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var x [][]float64
	var labels []int
	for c := range k {
		centre := make([]float64, dim)
		for j := range centre {
			centre[j] = sep * rng.NormFloat64()
		}
		for range m {
			p := make([]float64, dim)
			for j := range p {
				p[j] = centre[j] + rng.NormFloat64()
			}
			x = append(x, p)
			labels = append(labels, c)
		}
	}
	return x, labels
}

// nnAgreement is the fraction of points whose nearest other point in y
// has the same label (leave-one-out 1-NN accuracy).
func nnAgreement(y [][]float64, labels []int) float64 {
	agree := 0
	for i := range y {
		best, bestD := -1, math.Inf(1)
		for j := range y {
			if j == i {
				continue
			}
			var d float64
			for k := range y[i] {
				d += (y[i][k] - y[j][k]) * (y[i][k] - y[j][k])
			}
			if d < bestD {
				best, bestD = j, d
			}
		}
		if labels[best] == labels[i] {
			agree++
		}
	}
	return float64(agree) / float64(len(y))
}

// TestPerplexity checks the bandwidth search: every row of the conditional
// probabilities sums to 1 and has entropy log(perplexity) within
// scikit-learn's tolerance of 1e-5 nats (PERPLEXITY_TOLERANCE); rounding
// in the entropy adds ~1e-14.
func TestPerplexity(t *testing.T) {
	const tol = perplexityTolerance + 1e-12
	x := randomPoints(60, 5, 1)
	d := sqDistances(x)
	for _, perp := range []float64{2, 5, 30, 50} {
		p := conditionalP(d, len(x), perp)
		worst := 0.0
		for i := range x {
			row := p[i*len(x) : (i+1)*len(x)]
			var sum, h float64
			for _, v := range row {
				sum += v
				if v > 0 {
					h -= v * math.Log(v)
				}
			}
			if math.Abs(sum-1) > 1e-12 || row[i] != 0 {
				t.Errorf("perplexity %v row %d sums to %v, diagonal %v", perp, i, sum, row[i])
			}
			worst = math.Max(worst, math.Abs(h-math.Log(perp)))
		}
		if worst > tol {
			t.Errorf("perplexity %v: worst |H - log perplexity| = %.3g, want <= %.3g", perp, worst, tol)
		}
		t.Logf("perplexity %v: worst entropy error %.2g nats", perp, worst)
	}
	// The joint probabilities are symmetric and sum to 1.
	p := jointP(d, 30)
	n := len(x)
	var sum float64
	for i := range n {
		for j := range n {
			sum += p[i*n+j]
			if p[i*n+j] != p[j*n+i] {
				t.Fatalf("P not symmetric at %d,%d", i, j)
			}
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("P sums to %v", sum)
	}
}

// kl evaluates KL(P||Q) alone.
func kl(o *objective, y []float64) float64 { return o.eval(y, true) }

// TestGradient compares the analytic gradient with central differences of
// the KL divergence, for 2-D (one degree of freedom, equation 5 of van der
// Maaten and Hinton) and 3-D (two degrees of freedom) embeddings of 7
// points. Step 1e-5 on coordinates of size ~1: truncation error ~1e-10,
// rounding ~1e-16/1e-5 = 1e-11; the tolerance 1e-7 relative to the largest
// gradient component leaves room for both.
func TestGradient(t *testing.T) {
	const (
		h   = 1e-5
		tol = 1e-7
	)
	x := randomPoints(7, 4, 3)
	p := jointP(sqDistances(x), 3)
	for _, dims := range []int{2, 3} {
		o := newObjective(p, len(x), dims)
		rng := rand.New(rand.NewPCG(4, uint64(dims)))
		y := make([]float64, len(x)*dims)
		for i := range y {
			y[i] = rng.NormFloat64()
		}
		o.eval(y, false)
		grad := slices.Clone(o.grad)
		scaleG := 0.0
		for _, g := range grad {
			scaleG = math.Max(scaleG, math.Abs(g))
		}
		worst := 0.0
		for k := range y {
			orig := y[k]
			y[k] = orig + h
			up := kl(o, y)
			y[k] = orig - h
			down := kl(o, y)
			y[k] = orig
			fd := (up - down) / (2 * h)
			worst = math.Max(worst, math.Abs(fd-grad[k])/scaleG)
		}
		if worst > tol {
			t.Errorf("dims %d: worst relative gradient error %.3g, want <= %.3g", dims, worst, tol)
		}
		t.Logf("dims %d: worst relative gradient error %.2g (largest component %.3g)", dims, worst, scaleG)
	}
}

// TestClusters embeds 3 well-separated Gaussian clusters of 30 points in
// 10-D (centres ~N(0, 10^2) apart from unit noise) and requires that the
// nearest neighbour of at least 95% of points in the embedding lies in its
// own cluster, for both initialisations.
func TestClusters(t *testing.T) {
	const want = 0.95
	x, labels := clusters(3, 30, 10, 10, 5)
	xs, err := Standardize(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, init := range []string{InitPCA, InitRandom} {
		r, err := Run(xs, Config{Init: init, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		got := nnAgreement(r.Y, labels)
		t.Logf("init %s: 1-NN agreement %.3f, KL %.3f, %d iterations, learning rate %v", init, got, r.KL, r.Iterations, r.LearningRate)
		if got < want {
			t.Errorf("init %s: 1-NN agreement %.3f, want >= %v", init, got, want)
		}
		if r.Iterations != 1000 || r.LearningRate != 50 {
			t.Errorf("init %s: %d iterations at learning rate %v, want 1000 at 50 (auto for 90 points)", init, r.Iterations, r.LearningRate)
		}
	}
}

// TestDeterministic: the same seed gives the same embedding bit for bit;
// another seed (random initialisation) a different one.
func TestDeterministic(t *testing.T) {
	x, _ := clusters(3, 15, 6, 5, 9)
	c := Config{Init: InitRandom, Seed: 11, Perplexity: 10, Iterations: 300}
	a, err := Embed(x, c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Embed(x, c)
	if !slices.EqualFunc(a, b, slices.Equal[[]float64]) {
		t.Error("same seed, different embeddings")
	}
	c.Seed = 12
	d, _ := Embed(x, c)
	if slices.EqualFunc(a, d, slices.Equal[[]float64]) {
		t.Error("different seeds, same embedding")
	}
	p1, _ := Embed(x, Config{Perplexity: 10, Iterations: 300, Seed: 1})
	p2, _ := Embed(x, Config{Perplexity: 10, Iterations: 300, Seed: 2})
	if !slices.EqualFunc(p1, p2, slices.Equal[[]float64]) {
		t.Error("PCA initialisation depends on the seed")
	}
}

// TestPCAInit: the initial embedding has first-column standard deviation
// 1e-4 and its columns are the leading principal components (the first
// has the larger spread).
func TestPCAInit(t *testing.T) {
	x := randomPoints(40, 3, 13)
	for _, row := range x {
		row[0] *= 5 // the first principal axis is feature 0
	}
	y, err := pcaInit(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	sd := func(k int) float64 {
		var m, ss float64
		for i := range 40 {
			m += y[i*2+k]
		}
		m /= 40
		for i := range 40 {
			ss += (y[i*2+k] - m) * (y[i*2+k] - m)
		}
		return math.Sqrt(ss / 40)
	}
	if math.Abs(sd(0)-1e-4) > 1e-16 || sd(1) >= sd(0) {
		t.Errorf("sd of PCA columns %v, %v; want 1e-4 and less", sd(0), sd(1))
	}
	// Scores along feature 0 correlate with it positively (sign rule).
	var dot float64
	for i := range 40 {
		dot += y[i*2] * x[i][0]
	}
	if dot <= 0 {
		t.Error("first component has the wrong sign")
	}
}

func TestStandardize(t *testing.T) {
	x := [][]float64{{1, 5, 2}, {3, 5, 4}, {5, 5, 9}}
	s, err := Standardize(x)
	if err != nil {
		t.Fatal(err)
	}
	// Column 0: mean 3, population sd sqrt(8/3).
	if want := -2 / math.Sqrt(8.0/3); math.Abs(s[0][0]-want) > 1e-15 {
		t.Errorf("s[0][0] = %v, want %v", s[0][0], want)
	}
	for j := range 3 {
		var m, ss float64
		for i := range 3 {
			m += s[i][j]
			ss += s[i][j] * s[i][j]
		}
		wantSS := 3.0
		if j == 1 {
			wantSS = 0 // constant column: centred only
		}
		if math.Abs(m) > 1e-12 || math.Abs(ss-wantSS) > 1e-12 {
			t.Errorf("column %d: sum %v, sum of squares %v", j, m, ss)
		}
	}
	if x[0][0] != 1 {
		t.Error("input modified")
	}
}

// TestErrors: bad input is refused with a message naming the problem.
func TestErrors(t *testing.T) {
	good := randomPoints(10, 3, 1)
	nan := randomPoints(10, 3, 1)
	nan[4][2] = math.NaN()
	for _, c := range []struct {
		x    [][]float64
		c    Config
		want string
	}{
		{nil, Config{}, "no points"},
		{[][]float64{{1, 2}, {3}}, Config{}, "point 1 has 1 features"},
		{nan, Config{Perplexity: 3}, "point 4 feature 2 is NaN"},
		{good, Config{}, "perplexity 30 must be less than the number of points (10)"},
		{good, Config{Perplexity: 3, Init: "spectral"}, `init "spectral"`},
		{good, Config{Perplexity: 3, Dims: 4}, "PCA initialisation of 4 dimensions"},
		{[][]float64{{1, 1}, {1, 1}, {1, 1}}, Config{Perplexity: 1}, "identical"},
	} {
		_, err := Embed(c.x, c.c)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Embed(%v): error %v, want one containing %q", c.c, err, c.want)
		}
	}
	if _, err := Standardize([][]float64{{1}, {math.Inf(1)}}); err == nil {
		t.Error("Standardize accepted +Inf")
	}
}

// TestSpeed reports the time for 250 points x 1000 iterations (the size of
// the paper's t-SNE figures); it asserts nothing (timings are benchmarks'
// business, DESIGN.md style 13).
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	x, labels := clusters(5, 50, 160, 3, 21)
	xs, _ := Standardize(x)
	start := time.Now()
	r, err := Run(xs, Config{Seed: 46})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("250 x 160 -> 2, 1000 iterations: %v, KL %.3f, 1-NN agreement %.3f", time.Since(start), r.KL, nnAgreement(r.Y, labels))
}

func BenchmarkEmbed250(b *testing.B) {
	x, _ := clusters(5, 50, 160, 3, 21)
	for b.Loop() {
		if _, err := Embed(x, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Embed three clusters from 10 dimensions into 2 and measure how well
// the clusters stay apart.
func ExampleEmbed() {
	x, labels := clusters(3, 30, 10, 10, 5)
	xs, err := Standardize(x)
	if err != nil {
		panic(err)
	}
	y, err := Embed(xs, Config{}) // scikit-learn's defaults: perplexity 30, PCA init
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d points in %d dimensions; 1-NN label agreement %.2f\n", len(y), len(y[0]), nnAgreement(y, labels))
	// Output: 90 points in 2 dimensions; 1-NN label agreement 1.00
}
