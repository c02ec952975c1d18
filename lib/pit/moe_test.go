package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// moeMethod is one MoE operator with its parameters bound.
type moeMethod struct {
	name string
	f    func(x Matrix, route []int32, ex Experts, y Matrix, workers int) MoEStats
}

// moeMethods are the operators that compute every token (no drops):
// MoECapacity with factor E has C = T.
func moeMethods(experts int) []moeMethod {
	return []moeMethod{
		{"PIT", MoEPIT},
		{"Loop", MoELoop},
		{"Capacity", func(x Matrix, r []int32, ex Experts, y Matrix, w int) MoEStats {
			return MoECapacity(x, r, ex, y, float64(experts), w)
		}},
		{"AllExperts", MoEAllExperts},
		{"BlockPadded32", func(x Matrix, r []int32, ex Experts, y Matrix, w int) MoEStats {
			return MoEBlockPadded(x, r, ex, y, 32, w)
		}},
		{"BlockPadded5", func(x Matrix, r []int32, ex Experts, y Matrix, w int) MoEStats {
			return MoEBlockPadded(x, r, ex, y, 5, w)
		}},
	}
}

// moeRoute is a skewed routing of tokens over experts in which the last
// expert (when there are several) gets no token.
func moeRoute(seed uint64, tokens, experts int) []int32 {
	r := ZipfRoute(seed, tokens, experts, 1)
	if experts > 1 {
		for t, e := range r {
			if int(e) == experts-1 {
				r[t] = int32(t % (experts - 1))
			}
		}
	}
	return r
}

// moeCounts counts the tokens of each expert.
func moeCounts(route []int32, experts int) []int {
	c := make([]int, experts)
	for _, e := range route {
		c[e]++
	}
	return c
}

func TestMoEMethodsMatchReference(t *testing.T) {
	const T, d, f = 77, 24, 40
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range kernels {
		for _, E := range []int{1, 3, 16} {
			ex := RandomExperts(uint64(E), E, d, f)
			x := randomMatrix(rng, T, d)
			route := moeRoute(uint64(E)+7, T, E)
			if E > 1 && moeCounts(route, E)[E-1] != 0 {
				t.Fatalf("E=%d: the last expert should have no token", E)
			}
			want := MoEReference(x, route, ex)
			for _, m := range moeMethods(E) {
				name := fmt.Sprintf("%s/%s E=%d", k.name, m.name, E)
				y1 := randomMatrix(rng, T, d) // garbage: must be overwritten
				y3 := randomMatrix(rng, T, d)
				var s1, s3 MoEStats
				withKernel(k.f, func() {
					s1 = m.f(x, route, ex, y1, 1)
					s3 = m.f(x, route, ex, y3, 3)
				})
				if e := relErr(y1.Data, want); e > relTol {
					t.Errorf("%s: rel err %g", name, e)
				}
				if !slices.Equal(y1.Data, y3.Data) {
					t.Errorf("%s: output depends on the worker count", name)
				}
				s1.BufferBytes, s3.BufferBytes = 0, 0 // PIT's panels scale with the workers
				if s1 != s3 {
					t.Errorf("%s: stats depend on the worker count: %+v, %+v", name, s1, s3)
				}
				if s1.Dropped != 0 || s1.Work.UsefulMACs != 2*T*d*f || s1.Work.MACs < s1.Work.UsefulMACs {
					t.Errorf("%s: stats %+v", name, s1)
				}
			}
		}
	}
}

func TestMoECapacityDrops(t *testing.T) {
	const T, d, f = 77, 24, 40
	rng := rand.New(rand.NewPCG(43, 44))
	for _, k := range kernels {
		for _, E := range []int{1, 3, 16} {
			for _, factor := range []float64{0.5, 1, 1.25} {
				ex := RandomExperts(3, E, d, f)
				x := randomMatrix(rng, T, d)
				route := moeRoute(9, T, E)
				want := MoEReference(x, route, ex)
				C := (int(factor*100)*T + 100*E - 1) / (100 * E) // ⌈factor·T/E⌉ in integers
				// Hand count: the first C tokens of each expert, in token order, are kept.
				seen := make([]int, E)
				keep := make([]bool, T)
				kept := 0
				for tk, e := range route {
					if seen[e] < C {
						keep[tk] = true
						kept++
					}
					seen[e]++
				}
				y := randomMatrix(rng, T, d)
				var st MoEStats
				withKernel(k.f, func() { st = MoECapacity(x, route, ex, y, factor, 3) })
				name := fmt.Sprintf("%s E=%d factor=%g", k.name, E, factor)
				var got []float32
				var ref []float64
				for tk := range T {
					if keep[tk] {
						got = append(got, y.Row(tk)...)
						ref = append(ref, want[tk*d:(tk+1)*d]...)
					} else if slices.ContainsFunc(y.Row(tk), func(v float32) bool { return v != 0 }) {
						t.Fatalf("%s: dropped token %d has a non-zero output row", name, tk)
					}
				}
				if e := relErr(got, ref); e > relTol {
					t.Errorf("%s: kept rows rel err %g", name, e)
				}
				if st.Dropped != T-kept || st.PaddedRows != E*C-kept ||
					st.Work.MACs != int64(2*E*C*d*f) || st.BufferBytes != int64(4*E*C*(2*d+f)) {
					t.Errorf("%s: stats %+v, want C=%d, dropped %d, padded %d", name, st, C, T-kept, E*C-kept)
				}
				if factor == 0.5 && E > 1 && st.Dropped == 0 {
					t.Errorf("%s: expected drops", name)
				}
			}
		}
	}
}

// TestMoEHandCounts checks the counters of every method on the routing
// with counts {5, 0, 40}.
func TestMoEHandCounts(t *testing.T) {
	const d, f, T = 8, 12, 45
	route := make([]int32, T)
	for i := range route {
		route[i] = 2
	}
	for _, i := range []int{0, 7, 13, 30, 44} {
		route[i] = 0
	}
	rng := rand.New(rand.NewPCG(45, 46))
	x, ex, y := randomMatrix(rng, T, d), RandomExperts(1, 3, d, f), NewMatrix(T, d)
	per := int64(d * f)
	useful := 2 * T * per
	check := func(name string, got, want MoEStats) {
		t.Helper()
		want.Work.UsefulMACs = useful
		if got != want {
			t.Errorf("%s: stats %+v, want %+v", name, got, want)
		}
	}
	check("PIT", MoEPIT(x, route, ex, y, 2), MoEStats{
		Work: Work{MACs: useful, BytesGathered: 4 * T * d, MicroTiles: T, Gemms: 2 * (1 + 2), IndexReads: T},
		// 3 items (5 tokens; 32 + 8 tokens), 2 workers.
		BufferBytes: 4*2*32*(2*d+f) + 4*(T+3+1),
	})
	check("Loop", MoELoop(x, route, ex, y, 2), MoEStats{
		Work:        Work{MACs: useful, BytesGathered: 4 * T * d, MicroTiles: T, Gemms: 2 * (1 + 1), IndexReads: T},
		BufferBytes: 4 * 40 * (2*d + f),
	})
	// C = ⌈45/3⌉ = 15: keeps 5 + 0 + 15.
	check("Capacity", MoECapacity(x, route, ex, y, 1, 2), MoEStats{
		Work:    Work{MACs: 2 * 3 * 15 * per, BytesGathered: 4 * 20 * d, MicroTiles: 20, Gemms: 2 * 3, IndexReads: T},
		Dropped: 25, PaddedRows: 45 - 20, BufferBytes: 4 * 45 * (2*d + f),
	})
	check("AllExperts", MoEAllExperts(x, route, ex, y, 2), MoEStats{
		Work:        Work{MACs: 2 * 3 * T * per, Gemms: 2 * 3, IndexReads: T},
		BufferBytes: 4*T*f + 4*3*T*d,
	})
	// Block 32: padded 32 + 0 + 64 = 96 rows in 3 blocks.
	check("BlockPadded", MoEBlockPadded(x, route, ex, y, 32, 2), MoEStats{
		Work:       Work{MACs: 2 * 96 * per, BytesGathered: 4 * T * d, MicroTiles: T, Gemms: 2 * 3, IndexReads: T},
		PaddedRows: 96 - 45, BufferBytes: 4 * 96 * (2*d + f),
	})
	if e := relErr(y.Data, MoEReference(x, route, ex)); e > relTol {
		t.Errorf("BlockPadded hand case: rel err %g", e)
	}
}

// TestMoEStatsIgnoreValues: other values of x and of the experts, zeros
// included, give the same stats for the same routing.
func TestMoEStatsIgnoreValues(t *testing.T) {
	const T, d, f, E = 77, 24, 40, 16
	rng := rand.New(rand.NewPCG(47, 48))
	route := moeRoute(5, T, E)
	zero := RandomExperts(1, E, d, f)
	for e := range E {
		clear(zero.W1[e].Data)
		clear(zero.W2[e].Data)
	}
	inputs := []struct {
		x  Matrix
		ex Experts
	}{
		{randomMatrix(rng, T, d), RandomExperts(1, E, d, f)},
		{randomMatrix(rng, T, d), RandomExperts(2, E, d, f)},
		{NewMatrix(T, d), zero},
	}
	methods := append(moeMethods(E), moeMethod{"Capacity0.5", func(x Matrix, r []int32, ex Experts, y Matrix, w int) MoEStats {
		return MoECapacity(x, r, ex, y, 0.5, w)
	}})
	for _, m := range methods {
		var first MoEStats
		for i, in := range inputs {
			st := m.f(in.x, route, in.ex, NewMatrix(T, d), 2)
			if i == 0 {
				first = st
			} else if st != first {
				t.Errorf("%s: stats depend on the values: %+v, want %+v", m.name, st, first)
			}
		}
	}
}

// TestMoEPITIndexPermutation: any order of the tokens within an expert
// gives the same layer (specs/pit.md §2.3 item 2).
func TestMoEPITIndexPermutation(t *testing.T) {
	const T, d, f, E = 150, 24, 40, 3
	rng := rand.New(rand.NewPCG(49, 50))
	x, ex := randomMatrix(rng, T, d), RandomExperts(4, E, d, f)
	route := ZipfRoute(6, T, E, 0)
	idx := BuildTokenIndex(route, E, 2)
	for e := range E {
		toks := idx.Tokens[idx.Ptr[e]:idx.Ptr[e+1]]
		rng.Shuffle(len(toks), func(i, j int) { toks[i], toks[j] = toks[j], toks[i] })
	}
	y := NewMatrix(T, d)
	st := MoEPITIndexed(x, idx, ex, y, 3)
	if e := relErr(y.Data, MoEReference(x, route, ex)); e > relTol {
		t.Errorf("shuffled token index: rel err %g", e)
	}
	if st.Work.IndexReads != 0 || st.Work.MicroTiles != T {
		t.Errorf("indexed stats %+v", st)
	}
}

func TestBuildTokenIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, T := range []int{0, 1, 77, 1000} {
		for _, E := range []int{1, 5, 64} {
			route := make([]int32, T)
			for i := range route {
				route[i] = int32(rng.IntN(E))
			}
			for _, workers := range []int{1, 3, 0} {
				x := BuildTokenIndex(route, E, workers)
				if x.Experts != E || len(x.Ptr) != E+1 || len(x.Tokens) != T {
					t.Fatalf("T=%d E=%d: index %d experts, %d pointers, %d tokens", T, E, x.Experts, len(x.Ptr), len(x.Tokens))
				}
				for e := range E {
					var want []int32
					for tk, r := range route {
						if int(r) == e {
							want = append(want, int32(tk))
						}
					}
					got := x.Tokens[x.Ptr[e]:x.Ptr[e+1]]
					if !slices.Equal(got, want) || x.Count(e) != len(want) {
						t.Fatalf("T=%d E=%d workers=%d expert %d: tokens %v, want %v", T, E, workers, e, got, want)
					}
				}
			}
		}
	}
	for _, bad := range []int32{-1, 4} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "pit: BuildTokenIndex") {
					t.Errorf("route %d: panic %v, want pit: BuildTokenIndex", bad, r)
				}
			}()
			BuildTokenIndex([]int32{0, 1, bad, 2, 3, 1}, 4, 3)
		}()
	}
}

func TestZipfRoute(t *testing.T) {
	const T, E = 20000, 8
	a := ZipfRoute(1, T, E, 0)
	if !slices.Equal(a, ZipfRoute(1, T, E, 0)) || slices.Equal(a, ZipfRoute(2, T, E, 0)) {
		t.Fatal("ZipfRoute is not a deterministic function of the seed")
	}
	// Uniform: each count is T/E = 2500 ± 15 % (sd ≈ 47).
	for e, c := range moeCounts(a, E) {
		if c < 2125 || c > 2875 {
			t.Errorf("alpha=0: expert %d has %d tokens, want ≈ %d", e, c, T/E)
		}
	}
	// alpha = 1: shares 1/((r+1)·H_8), H_8 = 2.718: 0.368 for the top
	// expert, 0.046 for the last (sd < 0.004).
	c := moeCounts(ZipfRoute(3, T, E, 1), E)
	slices.Sort(c)
	if top, last := float64(c[E-1])/T, float64(c[0])/T; top < 0.348 || top > 0.388 || last < 0.036 || last > 0.056 {
		t.Errorf("alpha=1: shares top %.3f last %.3f, want ≈ 0.368 and 0.046 (counts %v)", top, last, c)
	}
	for _, e := range ZipfRoute(4, 1000, 3, 2) {
		if e < 0 || e >= 3 {
			t.Fatalf("route %d out of range", e)
		}
	}
}

func TestRouteArgmax(t *testing.T) {
	// Scores x·router, by hand:
	//   token 0: (1, 2)·router = (1, 4, -1)   → 1
	//   token 1: (0, 1)·router = (1, 1, 0)    → 0 (tie: lowest)
	//   token 2: (-1, 0)·router = (1, -2, 1)  → 0 (tie)
	//   token 3: (2, -1)·router = (-3, 6, -2) → 1
	//   token 4: (0, -1)·router = (-1, -1, 0) → 2
	x := Matrix{5, 2, []float32{1, 2, 0, 1, -1, 0, 2, -1, 0, -1}}
	router := Matrix{2, 3, []float32{-1, 2, -1, 1, 1, 0}}
	for _, k := range kernels {
		var got []int32
		withKernel(k.f, func() { got = RouteArgmax(x, router) })
		if want := []int32{1, 0, 0, 1, 2}; !slices.Equal(got, want) {
			t.Errorf("%s: routes %v, want %v", k.name, got, want)
		}
	}
}

func TestRandomExperts(t *testing.T) {
	a, b := RandomExperts(7, 4, 24, 40), RandomExperts(7, 4, 24, 40)
	if a.Len() != 4 {
		t.Fatalf("Len %d", a.Len())
	}
	if d, f := a.Dims(); d != 24 || f != 40 || a.W2[3].Rows != 40 || a.W2[3].Cols != 24 {
		t.Fatalf("Dims %d, %d; W2 %s", d, f, a.W2[3].shape())
	}
	for e := range 4 {
		if !slices.Equal(a.W1[e].Data, b.W1[e].Data) || !slices.Equal(a.W2[e].Data, b.W2[e].Data) {
			t.Fatal("RandomExperts is not deterministic")
		}
	}
	// W1 entries are N(0, 1/24): the mean square over 4·24·40 values is 1/24 ± 5 %.
	var ss float64
	for _, w := range a.W1 {
		for _, v := range w.Data {
			ss += float64(v) * float64(v)
		}
	}
	if ms := ss / (4 * 24 * 40); ms < 0.95/24 || ms > 1.05/24 {
		t.Errorf("W1 mean square %g, want ≈ %g", ms, 1.0/24)
	}
}

func TestMoEShapePanics(t *testing.T) {
	const T, d, f = 10, 6, 4
	ex := RandomExperts(1, 2, d, f)
	x, y := NewMatrix(T, d), NewMatrix(T, d)
	route := make([]int32, T)
	cases := []struct {
		op   string
		f    func()
		want string
	}{
		{"MoEPIT", func() { MoEPIT(x, route, ex, NewMatrix(T, d+1), 1) }, "y"},
		{"MoELoop", func() { MoELoop(x, route[:T-1], ex, y, 1) }, "route"},
		{"MoECapacity", func() { MoECapacity(NewMatrix(T, d+1), route, ex, y, 1, 1) }, "x"},
		{"MoECapacity", func() { MoECapacity(x, route, ex, y, 0, 1) }, "factor"},
		{"MoEAllExperts", func() { MoEAllExperts(x, route, Experts{W1: ex.W1, W2: ex.W2[:1]}, y, 1) }, "W2"},
		{"MoEBlockPadded", func() { MoEBlockPadded(x, route, ex, y, 0, 1) }, "block"},
		{"MoEPIT", func() { MoEPITIndexed(x, BuildTokenIndex(route[:T-1], 2, 1), ex, y, 1) }, "index"},
	}
	for _, c := range cases {
		func() {
			defer func() {
				r := fmt.Sprint(recover())
				if !strings.HasPrefix(r, "pit: "+c.op+":") || !strings.Contains(r, c.want) {
					t.Errorf("%s: panic %q, want pit: %s: … naming %s", c.op, r, c.op, c.want)
				}
			}()
			c.f()
		}()
	}
}

// BenchmarkMoE times the methods on an E4-sized layer (specs/pit.md §5.5
// E4: d = 256, f = 1024, T = 1024, Zipf α = 0.5); MoEAllExperts only at
// E = 64, where the spec caps it.
func BenchmarkMoE(b *testing.B) {
	const T, d, f = 1024, 256, 1024
	rng := rand.New(rand.NewPCG(53, 54))
	x := randomMatrix(rng, T, d)
	for _, E := range []int{64, 256} {
		ex := RandomExperts(uint64(E), E, d, f)
		route := ZipfRoute(uint64(E), T, E, 0.5)
		methods := moeMethods(E)
		methods = append(methods, moeMethod{"Capacity1.25", func(x Matrix, r []int32, ex Experts, y Matrix, w int) MoEStats {
			return MoECapacity(x, r, ex, y, 1.25, w)
		}})
		for _, m := range methods {
			if m.name == "AllExperts" && E > 64 || m.name == "Capacity" {
				continue
			}
			b.Run(fmt.Sprintf("E=%d/%s", E, m.name), func(b *testing.B) {
				y := NewMatrix(T, d)
				var st MoEStats
				for b.Loop() {
					st = m.f(x, route, ex, y, 0)
				}
				b.ReportMetric(float64(st.Work.MACs)/1e6, "MMACs")
				b.ReportMetric(float64(st.BufferBytes)/(1<<20), "MiB")
			})
		}
	}
}
