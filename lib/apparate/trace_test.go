package apparate_test

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
)

func TestFixedRate(t *testing.T) {
	// 30 FPS: one frame every 1000/30 ms (specs 4.3); 70,000 is the
	// artifact's default length.
	const n, fps = 70000, 30.0
	a := apparate.FixedRate(n, fps)
	if len(a) != n || a[0] != 0 {
		t.Fatalf("FixedRate: %d arrivals starting at %g, want %d from 0", len(a), a[0], n)
	}
	for k := range a {
		// k·(1000/30) has no accumulated rounding error: relative 1e-15.
		if want := float64(k) * 1000 / fps; !latClose(a[k], want, 1e-15*want) {
			t.Fatalf("arrival %d at %g ms, want %g", k, a[k], want)
		}
	}
	if got := apparate.FixedRate(0, fps); len(got) != 0 {
		t.Errorf("FixedRate(0) = %v", got)
	}
}

func TestPerMinute(t *testing.T) {
	got := apparate.PerMinute([]int{2, 0, 3})
	want := []float64{0, 30000, 120000, 140000, 160000}
	if !slices.Equal(got, want) {
		t.Errorf("PerMinute({2,0,3}) = %v, want %v", got, want)
	}
	if got := apparate.PerMinute(nil); len(got) != 0 {
		t.Errorf("PerMinute(nil) = %v", got)
	}
}

func TestTracePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"negative count": func() { apparate.PerMinute([]int{1, -1}) },
		"zero rate":      func() { apparate.FixedRate(3, 0) },
		"negative n":     func() { apparate.Poisson(-1, 1, 0) },
		"Azure rate":     func() { apparate.AzureLike{Minutes: 3}.Counts() },
		"Azure phi":      func() { apparate.AzureLike{Minutes: 3, Rate: 1, Phi: 1}.Counts() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestPoisson(t *testing.T) {
	const n, rate = 200000, 50.0
	a := apparate.Poisson(n, rate, 2023)
	if !slices.Equal(a, apparate.Poisson(n, rate, 2023)) {
		t.Error("Poisson not deterministic for a seed")
	}
	if slices.Equal(a[:10], apparate.Poisson(10, rate, 2024)) {
		t.Error("Poisson equal for two seeds")
	}
	if !slices.IsSorted(a) || a[0] != 0 {
		t.Error("Poisson arrivals not sorted from 0")
	}
	// The mean gap of n exponential gaps has relative sd 1/sqrt(n) ≈ 0.2 %;
	// allow 5 sd.
	mean := a[n-1] / (n - 1)
	if want := 1000 / rate; !latClose(mean, want, 5*want/math.Sqrt(n)) {
		t.Errorf("mean gap %g ms, want %g", mean, want)
	}
}

func TestAzureLikeDeterministic(t *testing.T) {
	a := apparate.AzureLike{Minutes: 500, Rate: 20, Seed: 7}
	c := a.Counts()
	if !slices.Equal(c, a.Counts()) {
		t.Error("Counts not deterministic for a seed")
	}
	b := a
	b.Seed = 8
	if slices.Equal(c, b.Counts()) {
		t.Error("Counts equal for seeds 7 and 8")
	}
	// Zero fields mean the spec's defaults (specs 6.3).
	explicit := apparate.AzureLike{Minutes: 500, Rate: 20, Seed: 7,
		Sigma: math.Sqrt(math.Log(1.36)), Phi: 0.8, BurstProb: 0.05, Burst: 3}
	if !slices.Equal(c, explicit.Counts()) {
		t.Error("zero fields differ from the explicit defaults")
	}
	if got := a.Arrivals(); !reflect.DeepEqual(got, apparate.PerMinute(c)) {
		t.Error("Arrivals differs from PerMinute(Counts())")
	}
}

func TestAzureLikeRate(t *testing.T) {
	// 100,000 minutes: the per-minute noise (CV 0.6, AR(1) φ = 0.8, hence
	// about 1/9 as many independent minutes) averages to well under 1 %.
	const minutes, rate, tol = 100000, 10.0, 0.03
	for _, a := range []apparate.AzureLike{
		{Minutes: minutes, Rate: rate, Seed: 1},
		{Minutes: minutes, Rate: rate, Seed: 2, BurstProb: 0.2, Burst: 5},
	} {
		c := a.Counts()
		total := 0
		for _, x := range c {
			total += x
		}
		got := float64(total) / (60 * minutes)
		if math.Abs(got/rate-1) > tol {
			t.Errorf("%+v: mean rate %g/s, want %g within %g", a, got, rate, tol)
		}
	}
	// Without bursts the per-minute counts have a coefficient of variation
	// of about 0.6 (the log-normal's).
	c := apparate.AzureLike{Minutes: minutes, Rate: rate, Seed: 3, BurstProb: -1}.Counts()
	var s, s2 float64
	for _, x := range c {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	m := s / minutes
	if cv := math.Sqrt(s2/minutes-m*m) / m; math.Abs(cv-0.6) > 0.05 {
		t.Errorf("coefficient of variation %g, want 0.6 within 0.05", cv)
	}
}

func TestAzureLikeMaxRequests(t *testing.T) {
	full := apparate.AzureLike{Minutes: 1000, Rate: 5, Seed: 11}
	capped := full
	capped.MaxRequests = 10000
	fc, cc := full.Counts(), capped.Counts()
	total := 0
	for _, x := range cc {
		total += x
	}
	if total != capped.MaxRequests {
		t.Fatalf("capped total %d, want %d", total, capped.MaxRequests)
	}
	last := len(cc) - 1
	if !slices.Equal(cc[:last], fc[:last]) || cc[last] > fc[last] {
		t.Errorf("capping changed minutes before the last, or grew the last: %d vs %d", cc[last], fc[last])
	}
	if got := len(capped.Arrivals()); got != capped.MaxRequests {
		t.Errorf("%d arrivals, want %d", got, capped.MaxRequests)
	}
}

func ExamplePerMinute() {
	// Two requests in minute 0, none in minute 1, three in minute 2.
	fmt.Println(apparate.PerMinute([]int{2, 0, 3}))
	// Output: [0 30000 120000 140000 160000]
}
