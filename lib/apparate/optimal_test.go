package apparate

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestOptimalHand checks Optimal on a table small enough to price by hand.
func TestOptimalHand(t *testing.T) {
	// Three ramps; Conf is irrelevant to the oracle.
	tab := &Table{
		Conf: [][]float32{{.5, .5, .5, .5, .5, .5}, {.5, .5, .5, .5, .5, .5}, {.5, .5, .5, .5, .5, .5}},
		Agree: [][]bool{
			{true, false, false, false, true, true},
			{true, true, false, false, false, true},
			{false, true, true, false, false, true},
		},
	}
	// bs 1: X = 1+0.1, 2+0.2, 3+0.3 = 1.1, 2.2, 3.3; V = 10.
	// bs 2: prefixes doubled, ramps ×1.5: X = 2.15, 4.3, 6.45; V = 5 caps
	// ramp 2 (6.45 > 5).
	costs := map[int]Costs{
		1: {Prefix: []float64{1, 2, 3}, Ramp: []float64{0.1, 0.1, 0.1}, Vanilla: 10},
		2: {Prefix: []float64{2, 4, 6}, Ramp: []float64{0.15, 0.15, 0.15}, Vanilla: 5},
	}
	calls := 0
	costsFor := func(b int) (Costs, error) { calls++; return costs[b], nil }
	// Batches: [s0], [s1 s2], [s3], [s4 s5] would need 6 samples; the
	// schedule 1, 2, 1, 1, 2 stops at the last batch (1 sample left).
	got, err := Optimal(tab, costsFor, []int{1, 2, 1, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		1.1, // s0, bs 1: ramp 0
		4.3, // s1, bs 2: ramp 1
		5,   // s2, bs 2: ramp 2 at 6.45, capped at V = 5
		10,  // s3, bs 1: no ramp agrees: V
		1.1, // s4, bs 1: ramp 0
	}
	const tol = 1e-12 // sums of three decimals
	if len(got) != len(want) {
		t.Fatalf("got %d latencies %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("sample %d: %v ms, want %v", i, got[i], want[i])
		}
	}
	if calls != 2 {
		t.Errorf("costsFor called %d times, want once per size (2)", calls)
	}
}

func TestOptimalBoundedByVanilla(t *testing.T) {
	g, err := CVTable("coral", 16, 5000, 11)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	// Costs where late ramps overrun V, so the cap binds.
	c := Costs{Prefix: make([]float64, 16), Ramp: make([]float64, 16), Vanilla: 5}
	for r := range c.Prefix {
		c.Prefix[r], c.Ramp[r] = 0.25+0.31*float64(r+1), 0.11
	}
	batches := make([]int, 0)
	for range 5000 {
		batches = append(batches, 1)
	}
	got, err := Optimal(tab, func(int) (Costs, error) { return c, nil }, batches)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != tab.Len() {
		t.Fatalf("%d latencies for %d samples", len(got), tab.Len())
	}
	for i, o := range got {
		if !(o > 0 && o <= c.Vanilla) {
			t.Fatalf("sample %d: O = %v not in (0, V = %v]", i, o, c.Vanilla)
		}
	}
}

func TestOptimalErrors(t *testing.T) {
	tab := &Table{Conf: [][]float32{{.5, .5}}, Agree: [][]bool{{true, true}}}
	two := func(int) (Costs, error) {
		return Costs{Prefix: []float64{1, 2}, Ramp: []float64{.1, .1}, Vanilla: 3}, nil
	}
	one := func(int) (Costs, error) { return Costs{Prefix: []float64{1}, Ramp: []float64{.1}, Vanilla: 3}, nil }
	missing := func(b int) (Costs, error) { return Costs{}, fmt.Errorf("no costs for batch size %d", b) }
	for _, tc := range []struct {
		name    string
		costs   func(int) (Costs, error)
		batches []int
		want    string
	}{
		{"ramp count", two, []int{1}, "table has 1 ramps"},
		{"zero batch", one, []int{1, 0}, "batch 1 has size 0"},
		{"nil costs", nil, []int{1}, "nil costsFor"},
		{"costs error", missing, []int{1}, "batch 0: no costs for batch size 1"},
	} {
		if _, err := Optimal(tab, tc.costs, tc.batches); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// A schedule longer than the table just stops.
	got, err := Optimal(tab, one, []int{1, 1, 1})
	if err != nil || len(got) != 2 {
		t.Errorf("long schedule: %v, %v", got, err)
	}
}

// TestOptimalWithProfile prices a CV table with a synthetic profile through
// Profile.At, as a caller would.
func TestOptimalWithProfile(t *testing.T) {
	sp, ok := SyntheticModel("resnet18")
	if !ok {
		t.Skip("no synthetic resnet18 profile")
	}
	p, err := sp.Profile()
	if err != nil {
		t.Fatal(err)
	}
	g, err := CVTable("auburn", p.Ramps(), 300, 1)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Optimal(tab, p.At, []int{1, 2, 4, 3, 64, 64, 64, 64, 64})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 2 + 4 + 3 + 4*64; len(got) != want {
		t.Errorf("%d latencies, want %d (the fifth 64-batch does not fit in 300)", len(got), want)
	}
}
