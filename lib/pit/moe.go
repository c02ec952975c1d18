package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// This file holds the Mixture-of-Experts FFN layer of the paper's Figure 8
// (specs/pit.md §2.1 "MoE token routing", §2.4 MoE row, §5.3 MoEForward,
// §5.4 MoE baselines, §5.5 E4): a Switch-style top-1 layer
//
//	Y[t] = ReLU(X[t]·W1[e]) · W2[e],  e = route[t],
//
// computed by PIT's gather-GEMM-scatter (MoEPIT) and by four baselines
// (MoELoop, MoECapacity, MoEAllExperts, MoEBlockPadded). Every product goes
// through Kernel; every method returns MoEStats, whose counters depend on
// the shapes and the routing only, never on the values.
//
// Work items are cut the same way whatever the worker count (32-token
// chunks, 64-row stripes, blocks), and each output row is produced by one
// Kernel call, so the result does not depend on the number of workers.

// moeChunk is the number of tokens one MoEPIT work item gathers: the
// artifact's 32-row dense tile (specs/pit.md §2.4, the MoE kernel gathers
// up to 32 token rows per thread block).
const moeChunk = 32

// moeStripe is the number of rows one baseline work item multiplies, the
// same stripe as Dense: the baselines split their big GEMMs into row
// stripes so that they use the workers as a multithreaded BLAS would.
const moeStripe = denseStripe

// Experts are the E expert FFNs of a MoE layer (specs/pit.md §5.5 E4):
// expert e maps a d-vector x to ReLU(x·W1[e])·W2[e], with W1[e] d×f and
// W2[e] f×d. There are no biases.
type Experts struct{ W1, W2 []Matrix }

// RandomExperts returns experts with independent Gaussian weights scaled
// by 1/√fan-in (N(0,1)/√d in W1, N(0,1)/√f in W2), drawn from a
// math/rand/v2 PCG seeded from seed, expert by expert, so they are
// deterministic (specs/pit.md §5.5 E4).
func RandomExperts(seed uint64, experts, d, f int) Experts {
	if experts < 1 || d < 1 || f < 1 {
		panic(fmt.Sprintf("pit: RandomExperts: %d experts of %dx%d", experts, d, f))
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	fill := func(m Matrix, fanIn int) Matrix {
		s := 1 / math.Sqrt(float64(fanIn))
		for i := range m.Data {
			m.Data[i] = float32(rng.NormFloat64() * s)
		}
		return m
	}
	ex := Experts{W1: make([]Matrix, experts), W2: make([]Matrix, experts)}
	for e := range experts {
		ex.W1[e] = fill(NewMatrix(d, f), d)
		ex.W2[e] = fill(NewMatrix(f, d), f)
	}
	return ex
}

// Len is the number of experts E.
func (e Experts) Len() int { return len(e.W1) }

// Dims returns the model width d and the hidden width f (0, 0 when there
// are no experts).
func (e Experts) Dims() (d, f int) {
	if len(e.W1) == 0 {
		return 0, 0
	}
	return e.W1[0].Rows, e.W1[0].Cols
}

// check panics unless there is at least one expert and all experts share
// one d×f, f×d shape; it returns d and f.
func (e Experts) check(op string) (d, f int) {
	if len(e.W1) == 0 || len(e.W1) != len(e.W2) {
		panic(fmt.Sprintf("pit: %s: experts have %d W1 and %d W2 matrices, want the same number ≥ 1",
			op, len(e.W1), len(e.W2)))
	}
	d, f = e.Dims()
	for i := range e.W1 {
		w1, w2 := e.W1[i], e.W2[i]
		if w1.Rows != d || w1.Cols != f || len(w1.Data) < d*f ||
			w2.Rows != f || w2.Cols != d || len(w2.Data) < f*d {
			panic(fmt.Sprintf("pit: %s: expert %d has W1 %s (%d elements) and W2 %s (%d elements), want %dx%d and %dx%d",
				op, i, w1.shape(), len(w1.Data), w2.shape(), len(w2.Data), d, f, f, d))
		}
	}
	return d, f
}

// RouteArgmax is the top-1 router of a Switch layer (specs/pit.md §2.1,
// §5.5 E4): token t goes to the expert with the largest score
// (x·router)[t, e], the lowest e on ties. router is d×E; the scores are
// computed in float32 with Dense (Kernel, all cores).
func RouteArgmax(x Matrix, router Matrix) []int32 {
	x.check("RouteArgmax", "x")
	router.check("RouteArgmax", "router")
	if router.Rows != x.Cols || router.Cols < 1 {
		panic(fmt.Sprintf("pit: RouteArgmax: router is %s for x %s, want %dxE with E ≥ 1",
			router.shape(), x.shape(), x.Cols))
	}
	s := NewMatrix(x.Rows, router.Cols)
	Dense(x, router, s, 0)
	route := make([]int32, x.Rows)
	for t := range x.Rows {
		best := 0
		row := s.Row(t)
		for e, v := range row {
			if v > row[best] {
				best = e
			}
		}
		route[t] = int32(best)
	}
	return route
}

// ZipfRoute draws a synthetic top-1 routing of tokens over experts
// (specs/pit.md §5.5 E4 "Zipf skew"): the experts are ranked by a random
// permutation and each token independently picks the expert of rank r
// with probability ∝ 1/(r+1)^alpha. alpha = 0 is uniform; alpha = 1 gives
// the most popular expert a share 1/H_E (H_E the E-th harmonic number),
// E/H_E times the average.
// It is deterministic from seed (math/rand/v2 PCG).
func ZipfRoute(seed uint64, tokens, experts int, alpha float64) []int32 {
	if tokens < 0 || experts < 1 || math.IsNaN(alpha) || math.IsInf(alpha, 0) {
		panic(fmt.Sprintf("pit: ZipfRoute: %d tokens, %d experts, alpha %g", tokens, experts, alpha))
	}
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	perm := rng.Perm(experts)
	cdf := make([]float64, experts)
	total := 0.0
	for r := range experts {
		total += math.Pow(float64(r+1), -alpha)
		cdf[r] = total
	}
	route := make([]int32, tokens)
	for t := range route {
		u := rng.Float64() * total
		r := min(sort.Search(experts, func(i int) bool { return cdf[i] > u }), experts-1)
		route[t] = int32(perm[r])
	}
	return route
}

// TokenIndex is the per-expert token list, the MoE special case of PIT's
// online index (specs/pit.md §2.5 "MoE special case"): the tokens routed
// to expert e are Tokens[Ptr[e]:Ptr[e+1]]. Each token is a 1×d micro-tile
// of X along the token axis (§2.1).
type TokenIndex struct {
	Experts int
	Ptr     []int32 // Experts+1 offsets into Tokens
	Tokens  []int32 // a permutation of 0..T-1 grouped by expert
}

// Count is the number of tokens routed to expert e.
func (x TokenIndex) Count(e int) int { return int(x.Ptr[e+1] - x.Ptr[e]) }

// BuildTokenIndex groups the tokens by expert (specs/pit.md §2.5): the
// tokens are cut into one contiguous range per worker (≤ 0: GOMAXPROCS);
// each worker counts its range per expert, an exclusive scan over (expert,
// range) gives every range its own slots, and each worker fills them in
// token order. There are no atomics, and the tokens of an expert come out
// ascending whatever the worker count (the artifact's atomicAdd order is
// arbitrary; PIT needs no order, §2.3, but a fixed one keeps results
// reproducible). It panics if a route is outside [0, experts).
func BuildTokenIndex(route []int32, experts, workers int) TokenIndex {
	if experts < 1 {
		panic(fmt.Sprintf("pit: BuildTokenIndex: %d experts", experts))
	}
	T := len(route)
	w := clampWorkers(workers, T)
	counts := make([]int32, w*experts)
	bad := make([]int, w)
	forEach(w, w, func(_, c int) {
		bad[c] = -1
		cnt := counts[c*experts : (c+1)*experts]
		for t := c * T / w; t < (c+1)*T/w; t++ {
			e := route[t]
			if e < 0 || int(e) >= experts {
				bad[c] = t
				return
			}
			cnt[e]++
		}
	})
	for _, t := range bad {
		if t >= 0 {
			panic(fmt.Sprintf("pit: BuildTokenIndex: route[%d] = %d outside [0, %d)", t, route[t], experts))
		}
	}
	x := TokenIndex{Experts: experts, Ptr: make([]int32, experts+1), Tokens: make([]int32, T)}
	// Turn counts[c][e] into the first slot of range c in expert e.
	for e := range experts {
		next := x.Ptr[e]
		for c := range w {
			n := counts[c*experts+e]
			counts[c*experts+e] = next
			next += n
		}
		x.Ptr[e+1] = next
	}
	forEach(w, w, func(_, c int) {
		next := counts[c*experts : (c+1)*experts]
		for t := c * T / w; t < (c+1)*T/w; t++ {
			e := route[t]
			x.Tokens[next[e]] = int32(t)
			next[e]++
		}
	})
	return x
}

// check panics unless x is a partition of the T tokens among E experts.
func (x TokenIndex) check(op string, experts, tokens int) {
	if x.Experts != experts || len(x.Ptr) != experts+1 || len(x.Tokens) != tokens ||
		x.Ptr[0] != 0 || int(x.Ptr[experts]) != tokens {
		panic(fmt.Sprintf("pit: %s: token index for %d experts with %d pointers and %d tokens, want %d experts and %d tokens",
			op, x.Experts, len(x.Ptr), len(x.Tokens), experts, tokens))
	}
	seen := make([]bool, tokens)
	for e := range experts {
		if x.Ptr[e+1] < x.Ptr[e] {
			panic(fmt.Sprintf("pit: %s: token index pointers decrease at expert %d", op, e))
		}
	}
	for _, t := range x.Tokens {
		if t < 0 || int(t) >= tokens || seen[t] {
			panic(fmt.Sprintf("pit: %s: token index lists token %d out of range or twice", op, t))
		}
		seen[t] = true
	}
}

// MoEStats is what a MoE operator did beyond Work (specs/pit.md §5.5 E4,
// Fig 8). Like Work it depends on the shapes and the routing only.
type MoEStats struct {
	Work        Work
	Dropped     int   // tokens not computed (capacity overflow); their output rows are zero
	PaddedRows  int   // rows computed that hold no token (capacity or block padding)
	BufferBytes int64 // bytes of the temporary buffers one call allocates, a formula of the shapes (Fig 8b's memory bar); documented per method
}

// checkMoE panics unless x is T×d with T = tokens, y is T×d and the
// experts are consistent; it returns d and f.
func checkMoE(op string, x Matrix, tokens int, ex Experts, y Matrix) (d, f int) {
	x.check(op, "x")
	y.check(op, "y")
	d, f = ex.check(op)
	if x.Cols != d {
		panic(fmt.Sprintf("pit: %s: x is %s, the experts take d = %d", op, x.shape(), d))
	}
	if tokens != x.Rows {
		panic(fmt.Sprintf("pit: %s: route has %d tokens for x %s", op, tokens, x.shape()))
	}
	if y.Rows != x.Rows || y.Cols != d {
		panic(fmt.Sprintf("pit: %s: y is %s, want %dx%d like x", op, y.shape(), x.Rows, d))
	}
	return d, f
}

// moeReLU applies max(v, 0) in place.
func moeReLU(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// moeFFN computes out = ReLU(in·w1)·w2 with two Kernel calls, h being the
// hidden rows.
func moeFFN(in, w1, w2, h, out Matrix) {
	Kernel(false, false, 1, in, w1, 0, h)
	moeReLU(h.Data[:h.Rows*h.Cols])
	Kernel(false, false, 1, h, w2, 0, out)
}

// usefulMoE is the true work of a layer, 2·T·d·f: two products per token.
func usefulMoE(tokens, d, f int) int64 { return 2 * int64(tokens) * int64(d) * int64(f) }

// MoEPIT is PIT's MoE layer (specs/pit.md §5.3 MoEForward): it builds the
// per-expert token lists online (BuildTokenIndex, reading each route once:
// Work.IndexReads = T) and runs MoEPITIndexed.
func MoEPIT(x Matrix, route []int32, ex Experts, y Matrix, workers int) MoEStats {
	checkMoE("MoEPIT", x, len(route), ex, y)
	idx := BuildTokenIndex(route, ex.Len(), workers)
	st := MoEPITIndexed(x, idx, ex, y, workers)
	st.Work.IndexReads = int64(len(route))
	return st
}

// MoEPITIndexed is PIT's gather-GEMM-scatter for MoE (specs/pit.md §2.3
// item 2, §2.4 MoE row, §5.3 MoEForward). The work items are (expert e,
// chunk of up to 32 of e's tokens), handed out to workers goroutines (≤ 0:
// GOMAXPROCS) in any order. An item SReads its token rows of x (1×d
// micro-tiles) into a packed panel, multiplies it by W1[e] with Kernel,
// applies ReLU, multiplies by W2[e] and SWrites the rows back to y at the
// token positions (Overwrite). There is no capacity, no drop and no
// padding: an expert's last chunk is simply a shorter panel, and experts
// without tokens cost nothing. idx must be a partition of the tokens
// (BuildTokenIndex gives one; it is checked), so every row of y is written
// exactly once: y is not cleared first, and distinct items write distinct
// rows, without races.
//
// Work: MACs = UsefulMACs = 2·T·d·f, BytesGathered = 4·T·d, MicroTiles = T
// (token rows), Gemms = 2·items. BufferBytes = 4·w·32·(d+f+d) for the
// per-worker panels (gathered x, hidden, output; w = goroutines started,
// min(workers, items)) plus 4·(T+E+1) for the index.
func MoEPITIndexed(x Matrix, idx TokenIndex, ex Experts, y Matrix, workers int) MoEStats {
	d, f := checkMoE("MoEPIT", x, x.Rows, ex, y)
	E, T := ex.Len(), x.Rows
	idx.check("MoEPIT", E, T)
	type item struct{ e, lo, hi int32 }
	items := make([]item, 0, T/moeChunk+E)
	for e := range E {
		for lo := idx.Ptr[e]; lo < idx.Ptr[e+1]; lo += moeChunk {
			items = append(items, item{int32(e), lo, min(lo+moeChunk, idx.Ptr[e+1])})
		}
	}
	row := Tile{1, d}
	sc := newScratch(workers)
	forEach(len(items), workers, func(id, i int) {
		s := &sc[id]
		it := items[i]
		toks := idx.Tokens[it.lo:it.hi]
		n := len(toks)
		xp := Matrix{n, d, grow(&s.a, moeChunk*d)[:n*d]}
		hp := Matrix{n, f, grow(&s.b, moeChunk*f)[:n*f]}
		yp := Matrix{n, d, grow(&s.c, moeChunk*d)[:n*d]}
		SReadCol(xp, x, row, 0, toks)
		moeFFN(xp, ex.W1[it.e], ex.W2[it.e], hp, yp)
		SWrite(y, row, 0, toks, yp, Overwrite)
	})
	useful := usefulMoE(T, d, f)
	w := clampWorkers(workers, len(items))
	return MoEStats{
		Work: Work{MACs: useful, UsefulMACs: useful, BytesGathered: 4 * int64(T) * int64(d),
			MicroTiles: int64(T), Gemms: 2 * int64(len(items))},
		BufferBytes: 4*int64(w)*moeChunk*int64(2*d+f) + 4*int64(T+E+1),
	}
}

// maxCount is the largest number of tokens routed to one expert.
func (x TokenIndex) maxCount() int {
	m := 0
	for e := range x.Experts {
		m = max(m, x.Count(e))
	}
	return m
}

// MoELoop is the PyTorch (HuggingFace Switch) loop over experts
// (specs/pit.md §5.4 "PyTorch MoE loop"): experts run one after the other,
// e = 0..E-1; for each expert with tokens, its token rows are copied into
// a contiguous buffer (index_select), multiplied by W1[e], passed through
// ReLU, multiplied by W2[e] and copied back to y. One expert's rows are
// split into stripes of 64 over workers goroutines (≤ 0: GOMAXPROCS), as a
// multithreaded BLAS would split that expert's GEMM (OpenBLAS runs one
// thread here), but the experts stay sequential, so at large E the small
// per-expert GEMMs leave workers idle; that is the overhead Fig 8 shows.
//
// Work: MACs = UsefulMACs = 2·T·d·f, BytesGathered = 4·T·d, MicroTiles = T,
// Gemms = 2·Σ_e ⌈count_e/64⌉, IndexReads = T (the token lists).
// BufferBytes = 4·maxCount·(d+f+d): gathered rows, hidden and output of the
// largest expert, reused by every expert.
func MoELoop(x Matrix, route []int32, ex Experts, y Matrix, workers int) MoEStats {
	d, f := checkMoE("MoELoop", x, len(route), ex, y)
	E, T := ex.Len(), x.Rows
	idx := BuildTokenIndex(route, E, workers)
	mc := idx.maxCount()
	xb, hb, yb := NewMatrix(mc, d), NewMatrix(mc, f), NewMatrix(mc, d)
	row := Tile{1, d}
	var gemms int64
	for e := range E {
		toks := idx.Tokens[idx.Ptr[e]:idx.Ptr[e+1]]
		stripes := ceilDiv(len(toks), moeStripe)
		forEach(stripes, workers, func(_, s int) {
			r0, r1 := s*moeStripe, min((s+1)*moeStripe, len(toks))
			part := toks[r0:r1]
			xs := xb.Slice(r0, r1)
			ys := yb.Slice(r0, r1)
			SReadCol(xs, x, row, 0, part)
			moeFFN(xs, ex.W1[e], ex.W2[e], hb.Slice(r0, r1), ys)
			SWrite(y, row, 0, part, ys, Overwrite)
		})
		gemms += 2 * int64(stripes)
	}
	useful := usefulMoE(T, d, f)
	return MoEStats{
		Work: Work{MACs: useful, UsefulMACs: useful, BytesGathered: 4 * int64(T) * int64(d),
			MicroTiles: int64(T), Gemms: gemms, IndexReads: int64(T)},
		BufferBytes: 4 * int64(mc) * int64(2*d+f),
	}
}

// MoECapacity is the Tutel / DeepSpeed-MoE layer with a capacity
// (specs/pit.md §5.4): every expert takes C = ⌈factor·T/E⌉ rows. Tokens
// are dispatched in token order into a zeroed E×C×d buffer; the first C
// tokens of an expert are kept and the rest are dropped (their rows of y
// are zero, the Switch convention without the residual). All E experts
// then run on all C rows, padding rows included, as one batched GEMM would
// (split into (expert, 64-row stripe) items over workers goroutines, ≤ 0:
// GOMAXPROCS), and the kept rows are combined back into y (Overwrite).
//
// Stats: Dropped = T − kept, PaddedRows = E·C − kept. Work: MACs =
// 2·E·C·d·f (UsefulMACs stays 2·T·d·f, so with drops MACs may fall below
// it), BytesGathered = 4·kept·d, MicroTiles = kept, Gemms = 2·E·⌈C/64⌉,
// IndexReads = T (the dispatch reads each route once). BufferBytes =
// 4·E·C·(d+f+d): the dispatch, hidden and combine buffers.
func MoECapacity(x Matrix, route []int32, ex Experts, y Matrix, factor float64, workers int) MoEStats {
	d, f := checkMoE("MoECapacity", x, len(route), ex, y)
	E, T := ex.Len(), x.Rows
	if !(factor > 0) || math.IsInf(factor, 0) {
		panic(fmt.Sprintf("pit: MoECapacity: capacity factor %g, want > 0", factor))
	}
	C := int(math.Ceil(factor * float64(T) / float64(E)))
	// Dispatch plan: slot[e·C + j] is the j-th kept token of expert e.
	slot := make([]int32, E*C)
	fill := make([]int, E)
	kept := 0
	for t, e := range route {
		if e < 0 || int(e) >= E {
			panic(fmt.Sprintf("pit: MoECapacity: route[%d] = %d outside [0, %d)", t, e, E))
		}
		if fill[e] < C {
			slot[int(e)*C+fill[e]] = int32(t)
			fill[e]++
			kept++
		} else {
			clear(y.Row(t))
		}
	}
	disp, hid, out := NewMatrix(E*C, d), NewMatrix(E*C, f), NewMatrix(E*C, d)
	row := Tile{1, d}
	stripes := ceilDiv(C, moeStripe)
	forEach(E*stripes, workers, func(_, i int) {
		e, s := i/stripes, i%stripes
		r0, r1 := e*C+s*moeStripe, e*C+min((s+1)*moeStripe, C)
		// Kept tokens of this stripe; the rows past them stay zero (padding).
		toks := slot[r0:max(r0, min(r1, e*C+fill[e]))]
		if len(toks) > 0 {
			SReadCol(disp.Slice(r0, r0+len(toks)), x, row, 0, toks)
		}
		ys := out.Slice(r0, r1)
		moeFFN(disp.Slice(r0, r1), ex.W1[e], ex.W2[e], hid.Slice(r0, r1), ys)
		if len(toks) > 0 {
			SWrite(y, row, 0, toks, ys.Slice(0, len(toks)), Overwrite)
		}
	})
	return MoEStats{
		Work: Work{MACs: 2 * int64(E) * int64(C) * int64(d) * int64(f), UsefulMACs: usefulMoE(T, d, f),
			BytesGathered: 4 * int64(kept) * int64(d), MicroTiles: int64(kept),
			Gemms: 2 * int64(E) * int64(stripes), IndexReads: int64(T)},
		Dropped:     T - kept,
		PaddedRows:  E*C - kept,
		BufferBytes: 4 * int64(E) * int64(C) * int64(2*d+f),
	}
}

// MoEAllExperts is the artifact's "Tutel" emulation in Fig 8
// (specs/pit.md §7 item 1, §5.4 MoEAllExpertsMasked): every token goes
// through every expert, H_e = ReLU(X·W1[e]) and Y_e = H_e·W2[e] on all T
// rows, and then Y[t] = Σ_e [route[t] = e]·Y_e[t], which with a one-hot
// mask is the row of Y_{route[t]} (it is copied, not summed). It costs E
// times the useful work, so use it only for small E·T (the spec caps it at
// T = 1024, E = 64); it exists because the artifact's bar labelled Tutel
// measures exactly this, not the Tutel library (MoECapacity is the real
// library's behaviour). Experts run one after the other, each split into
// 64-row stripes over workers goroutines (≤ 0: GOMAXPROCS).
//
// Work: MACs = 2·E·T·d·f, UsefulMACs = 2·T·d·f, BytesGathered = 0 (x is
// used in place; the combine is an output selection), MicroTiles = 0,
// Gemms = 2·E·⌈T/64⌉, IndexReads = T (the combine reads each route).
// BufferBytes = 4·T·f + 4·E·T·d: one hidden buffer reused by every expert,
// and the per-expert outputs Y_e, all materialised before the combine as
// the einsum does.
func MoEAllExperts(x Matrix, route []int32, ex Experts, y Matrix, workers int) MoEStats {
	d, f := checkMoE("MoEAllExperts", x, len(route), ex, y)
	E, T := ex.Len(), x.Rows
	for t, e := range route {
		if e < 0 || int(e) >= E {
			panic(fmt.Sprintf("pit: MoEAllExperts: route[%d] = %d outside [0, %d)", t, e, E))
		}
	}
	hid, out := NewMatrix(T, f), NewMatrix(E*T, d)
	stripes := ceilDiv(T, moeStripe)
	for e := range E {
		ye := out.Slice(e*T, (e+1)*T)
		forEach(stripes, workers, func(_, s int) {
			r0, r1 := s*moeStripe, min((s+1)*moeStripe, T)
			moeFFN(x.Slice(r0, r1), ex.W1[e], ex.W2[e], hid.Slice(r0, r1), ye.Slice(r0, r1))
		})
	}
	forEach(stripes, workers, func(_, s int) {
		for t := s * moeStripe; t < min((s+1)*moeStripe, T); t++ {
			copy(y.Row(t), out.Row(int(route[t])*T+t))
		}
	})
	return MoEStats{
		Work: Work{MACs: 2 * int64(E) * int64(T) * int64(d) * int64(f), UsefulMACs: usefulMoE(T, d, f),
			Gemms: 2 * int64(E) * int64(stripes), IndexReads: int64(T)},
		BufferBytes: 4*int64(T)*int64(f) + 4*int64(E)*int64(T)*int64(d),
	}
}

// MoEBlockPadded is the MegaBlocks layer (specs/pit.md §5.4): each
// expert's token count is padded up to a multiple of block (128, or 32 for
// small runs); the tokens are gathered in expert order into a (Σ padded
// counts)×d buffer whose padding rows are zero, so the layer is one
// block-diagonal block-sparse product: every block of block rows belongs
// to one expert and is multiplied by that expert's W1 and, after ReLU, W2
// (one item per block, over workers goroutines, ≤ 0: GOMAXPROCS). The real
// rows are scattered back to y (Overwrite). Nothing is dropped.
//
// Stats: PaddedRows = Σ_e (padded_e − count_e). Work: MACs =
// 2·Σpadded·d·f, UsefulMACs = 2·T·d·f, BytesGathered = 4·T·d, MicroTiles =
// T, Gemms = 2·Σpadded/block, IndexReads = T (the expert sort).
// BufferBytes = 4·Σpadded·(d+f+d): the gathered, hidden and output
// buffers.
func MoEBlockPadded(x Matrix, route []int32, ex Experts, y Matrix, block int, workers int) MoEStats {
	d, f := checkMoE("MoEBlockPadded", x, len(route), ex, y)
	E, T := ex.Len(), x.Rows
	if block < 1 {
		panic(fmt.Sprintf("pit: MoEBlockPadded: block %d, want ≥ 1", block))
	}
	idx := BuildTokenIndex(route, E, workers)
	// Blocks: expert, first token position in idx.Tokens, real rows, and
	// the block's first row in the padded buffer.
	type blk struct{ e, lo, n, row int }
	var blocks []blk
	padded := 0
	for e := range E {
		lo, hi := int(idx.Ptr[e]), int(idx.Ptr[e+1])
		for p := lo; p < hi; p += block {
			blocks = append(blocks, blk{e, p, min(block, hi-p), padded})
			padded += block
		}
	}
	xb, hb, yb := NewMatrix(padded, d), NewMatrix(padded, f), NewMatrix(padded, d)
	row := Tile{1, d}
	forEach(len(blocks), workers, func(_, i int) {
		b := blocks[i]
		toks := idx.Tokens[b.lo : b.lo+b.n]
		r0, r1 := b.row, b.row+block
		SReadCol(xb.Slice(r0, r0+b.n), x, row, 0, toks)
		moeFFN(xb.Slice(r0, r1), ex.W1[b.e], ex.W2[b.e], hb.Slice(r0, r1), yb.Slice(r0, r1))
		SWrite(y, row, 0, toks, yb.Slice(r0, r0+b.n), Overwrite)
	})
	return MoEStats{
		Work: Work{MACs: 2 * int64(padded) * int64(d) * int64(f), UsefulMACs: usefulMoE(T, d, f),
			BytesGathered: 4 * int64(T) * int64(d), MicroTiles: int64(T),
			Gemms: 2 * int64(len(blocks)), IndexReads: int64(T)},
		PaddedRows:  padded - T,
		BufferBytes: 4 * int64(padded) * int64(2*d+f),
	}
}

// MoEReference computes the layer in float64, token by token, straight
// from the definition Y[t] = ReLU(X[t]·W1[e])·W2[e], e = route[t]
// (specs/pit.md §5.3 "MoE output equals the per-token reference"). It is
// the check for the operators, not a fast path. It returns T·d values,
// row-major.
func MoEReference(x Matrix, route []int32, ex Experts) []float64 {
	d, f := ex.check("MoEReference")
	x.check("MoEReference", "x")
	if x.Cols != d || len(route) != x.Rows {
		panic(fmt.Sprintf("pit: MoEReference: x is %s with %d routes, experts take d = %d", x.shape(), len(route), d))
	}
	y := make([]float64, x.Rows*d)
	h := make([]float64, f)
	for t, e := range route {
		if e < 0 || int(e) >= ex.Len() {
			panic(fmt.Sprintf("pit: MoEReference: route[%d] = %d outside [0, %d)", t, e, ex.Len()))
		}
		w1, w2 := ex.W1[e], ex.W2[e]
		xt := x.Row(t)
		for j := range f {
			var s float64
			for k := range d {
				s += float64(xt[k]) * float64(w1.Data[k*f+j])
			}
			h[j] = max(s, 0)
		}
		yt := y[t*d : (t+1)*d]
		for k := range d {
			var s float64
			for j := range f {
				s += h[j] * float64(w2.Data[j*d+k])
			}
			yt[k] = s
		}
	}
	return y
}
