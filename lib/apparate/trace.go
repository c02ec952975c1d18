package apparate

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// FixedRate returns n arrival times in ms at a fixed rate, request k at
// k·1000/perSecond (specs/apparate.md 4.3: the CV workloads are 30 FPS
// video, FixedRate(n, 30)). It panics if n < 0 or perSecond is not positive
// and finite.
func FixedRate(n int, perSecond float64) []float64 {
	checkRate(n, perSecond)
	gap := 1000 / perSecond
	t := make([]float64, n)
	for k := range t {
		t[k] = float64(k) * gap
	}
	return t
}

// Poisson returns n arrival times in ms of a Poisson process of perSecond
// requests per second, the first at 0 and then exponential gaps (specs 4.3,
// 6.3: the artifact's unused variant, for robustness tests). The stream is
// determined by seed. It panics if n < 0 or perSecond is not positive and
// finite.
func Poisson(n int, perSecond float64, seed uint64) []float64 {
	checkRate(n, perSecond)
	r := rand.New(rand.NewPCG(seed, 0x706f6973736f6e)) // "poisson"
	mean := 1000 / perSecond
	t := make([]float64, n)
	for k := 1; k < n; k++ {
		t[k] = t[k-1] + mean*r.ExpFloat64()
	}
	return t
}

func checkRate(n int, perSecond float64) {
	if n < 0 {
		panic(fmt.Sprintf("apparate: %d requests", n))
	}
	if !positiveFinite(perSecond) {
		panic(fmt.Sprintf("apparate: rate %g requests per second, want positive and finite", perSecond))
	}
}

// PerMinute spreads per-minute request counts evenly within each minute, as
// the artifact replays the Azure Functions trace (specs 4.3): the c_m
// requests of minute m arrive at 60000·m + k·60000/c_m ms, k = 0…c_m−1; a
// minute with no requests only advances time. It panics on a negative count.
func PerMinute(counts []int) []float64 {
	n := 0
	for m, c := range counts {
		if c < 0 {
			panic(fmt.Sprintf("apparate: minute %d has %d requests", m, c))
		}
		n += c
	}
	t := make([]float64, 0, n)
	for m, c := range counts {
		start := 60000 * float64(m)
		for k := range c {
			t = append(t, start+float64(k)*60000/float64(c))
		}
	}
	return t
}

// AzureLike generates an Azure-Functions-like trace of per-minute request
// counts (specs 6.3), a stand-in for the unpublished row of the Azure 2019
// trace that the NLP workloads replay:
//
//	c_m = round(λ̄·60·exp(σ·z_m − σ²/2)·B_m / E[B])
//
// with z an AR(1) process of unit stationary variance, z_m = φ·z_{m−1} +
// sqrt(1−φ²)·ε_m (z_0 drawn from the stationary law), and B_m = Burst with
// probability BurstProb, else 1. Dividing by E[B] = 1 + BurstProb·(Burst−1)
// is a deviation from the spec's formula so that Rate is the mean rate. The
// zero value of every field but Minutes and Rate means the spec's default;
// the trace is determined by Seed.
type AzureLike struct {
	Minutes int     // length of the trace in minutes
	Rate    float64 // λ̄, mean requests per second
	// Sigma is the log-normal σ; zero means sqrt(ln(1+0.6²)), a per-minute
	// coefficient of variation of 0.6; negative means 0 (no noise).
	Sigma float64
	// Phi is the AR(1) coefficient φ in [0, 1); zero means 0.8; negative
	// means 0 (independent minutes).
	Phi float64
	// BurstProb is the probability of a burst minute; zero means 0.05,
	// negative means no bursts.
	BurstProb float64
	// Burst is the burst multiplier B; zero means 3.
	Burst float64
	Seed  uint64
	// MaxRequests caps the total: the minute that crosses it is trimmed to
	// reach it exactly and later minutes are dropped, as the artifact caps
	// the Azure trace at 700,000 requests (specs 4.3). Zero means no cap.
	MaxRequests int
}

// params returns σ, φ, the burst probability and multiplier with defaults
// applied.
func (a AzureLike) params() (sigma, phi, pb, burst float64) {
	sigma, phi, pb, burst = a.Sigma, a.Phi, a.BurstProb, a.Burst
	switch {
	case sigma == 0:
		sigma = math.Sqrt(math.Log(1 + 0.6*0.6))
	case sigma < 0:
		sigma = 0
	}
	switch {
	case phi == 0:
		phi = 0.8
	case phi < 0:
		phi = 0
	}
	switch {
	case pb == 0:
		pb = 0.05
	case pb < 0:
		pb = 0
	}
	if burst == 0 {
		burst = 3
	}
	return sigma, phi, pb, burst
}

// Counts returns the per-minute request counts, trimmed to MaxRequests. It
// panics on invalid parameters (Minutes < 0, Rate not positive and finite,
// Phi ≥ 1, BurstProb > 1, Burst ≤ 0, MaxRequests < 0).
func (a AzureLike) Counts() []int {
	sigma, phi, pb, burst := a.params()
	switch {
	case a.Minutes < 0:
		panic(fmt.Sprintf("apparate: AzureLike.Minutes = %d", a.Minutes))
	case !positiveFinite(a.Rate):
		panic(fmt.Sprintf("apparate: AzureLike.Rate = %g, want positive and finite", a.Rate))
	case phi >= 1:
		panic(fmt.Sprintf("apparate: AzureLike.Phi = %g, want below 1", phi))
	case pb > 1:
		panic(fmt.Sprintf("apparate: AzureLike.BurstProb = %g, want at most 1", pb))
	case !positiveFinite(burst) || !(sigma < math.Inf(1)):
		panic(fmt.Sprintf("apparate: AzureLike.Burst = %g, Sigma = %g, want positive and finite", burst, sigma))
	case a.MaxRequests < 0:
		panic(fmt.Sprintf("apparate: AzureLike.MaxRequests = %d", a.MaxRequests))
	}
	r := rand.New(rand.NewPCG(a.Seed, 0x617a757265)) // "azure"
	base := a.Rate * 60 / (1 + pb*(burst-1))
	innov := math.Sqrt(1 - phi*phi)
	counts := make([]int, 0, a.Minutes)
	total := 0
	z := r.NormFloat64()
	for m := range a.Minutes {
		if m > 0 {
			z = phi*z + innov*r.NormFloat64()
		}
		b := 1.0
		if r.Float64() < pb {
			b = burst
		}
		c := int(math.Round(base * math.Exp(sigma*z-sigma*sigma/2) * b))
		if a.MaxRequests > 0 && total+c >= a.MaxRequests {
			counts = append(counts, a.MaxRequests-total)
			break
		}
		total += c
		counts = append(counts, c)
	}
	return counts
}

// Arrivals returns the arrival times in ms: Counts spread evenly within
// each minute (PerMinute).
func (a AzureLike) Arrivals() []float64 { return PerMinute(a.Counts()) }
