package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Sparse attention with a dynamic mask (specs/pit.md §2.1 "Sparse
// attention", §2.3 item 3, §2.4 LongformerSparseAttention and
// DynamicSparseAttention rows, §5.3 SparseAttention, §5.5 E6).
//
// One head: q, k and v are L×d and out[i] = Σ_j P[i,j]·v[j], where row i
// of P is the softmax of q[i]·k[j]/√d over the keys j the L×L mask allows
// (mask bit (i, j) true). A query with no allowed key gets a zero row. The
// softmax is taken in float32 after subtracting the row maximum; masked
// scores are excluded exactly (set to −∞), not pushed down by a large
// constant as the artifact does with −1000. Every operator's Work has
// UsefulMACs = 2·nnz(mask)·d (scores and P·v) and depends on the shapes and
// the mask only.

// attnBlock is the block size of the attention operators: the artifact's
// 32×32 BCSR blocks (specs/pit.md §2.4) and the query stripe height.
const attnBlock = 32

// checkAttention panics unless q, k, v and out are all L×d, and returns L
// and d.
func checkAttention(op string, q, k, v, out Matrix) (L, d int) {
	q.check(op, "q")
	k.check(op, "k")
	v.check(op, "v")
	out.check(op, "out")
	L, d = q.Rows, q.Cols
	for _, m := range []struct {
		name string
		m    Matrix
	}{{"k", k}, {"v", v}, {"out", out}} {
		if m.m.Rows != L || m.m.Cols != d {
			panic(fmt.Sprintf("pit: %s: %s is %s, want %dx%d like q", op, m.name, m.m.shape(), L, d))
		}
	}
	return L, d
}

// checkAttnMask panics unless mask is L×L.
func checkAttnMask(op string, mask Mask, L int) {
	mask.check(op)
	if mask.Rows != L || mask.Cols != L {
		panic(fmt.Sprintf("pit: %s: mask is %dx%d, want %dx%d for L = %d", op, mask.Rows, mask.Cols, L, L, L))
	}
}

// attnScale is 1/√d, the score scale.
func attnScale(d int) float32 { return float32(1 / math.Sqrt(float64(d))) }

var attnNegInf = float32(math.Inf(-1))

// attnSegment is one panel of scores of a query block: h rows of w scores for
// the keys j0…j0+w−1 (or, for gathered keys, the keys a list names),
// stored row-major in s.
type attnSegment struct {
	s []float32
	w int
}

// attnSoftmax turns the scores of an h-row query block, spread over segs,
// into probabilities in place: for each row, one softmax over the entries
// of all segments, −∞ entries excluded (they become 0). A row with no
// finite entry becomes all zeros.
func attnSoftmax(segs []attnSegment, h int) {
	for i := range h {
		m := attnNegInf
		for _, g := range segs {
			for _, x := range g.s[i*g.w : (i+1)*g.w] {
				m = max(m, x)
			}
		}
		if m == attnNegInf {
			for _, g := range segs {
				clear(g.s[i*g.w : (i+1)*g.w])
			}
			continue
		}
		var sum float32
		for _, g := range segs {
			row := g.s[i*g.w : (i+1)*g.w]
			for j, x := range row {
				e := float32(math.Exp(float64(x - m)))
				row[j] = e
				sum += e
			}
		}
		inv := 1 / sum
		for _, g := range segs {
			row := g.s[i*g.w : (i+1)*g.w]
			for j := range row {
				row[j] *= inv
			}
		}
	}
}

// attnMaskScores sets to −∞ the scores of s (rows i0…, keys j0…j0+s.Cols−1)
// whose mask bit is false and returns the number of true bits read.
func attnMaskScores(s Matrix, mask Mask, i0, j0 int) int64 {
	var nnz int64
	for i := range s.Rows {
		row := s.Row(i)
		bits := mask.Bits[(i0+i)*mask.Cols+j0 : (i0+i)*mask.Cols+j0+s.Cols]
		for j, b := range bits {
			if b {
				nnz++
			} else {
				row[j] = attnNegInf
			}
		}
	}
	return nnz
}

// AttentionReference computes masked attention in float64 with plain loops,
// the reference the operators are tested against: it returns the L·d
// values of out, row-major.
func AttentionReference(q, k, v Matrix, mask Mask) []float64 {
	L, d := checkAttention("AttentionReference", q, k, v, q)
	checkAttnMask("AttentionReference", mask, L)
	out := make([]float64, L*d)
	s := make([]float64, L)
	scale := 1 / math.Sqrt(float64(d))
	for i := range L {
		best := math.Inf(-1)
		for j := range L {
			if !mask.Bits[i*L+j] {
				continue
			}
			var dot float64
			for p := range d {
				dot += float64(q.Data[i*d+p]) * float64(k.Data[j*d+p])
			}
			s[j] = dot * scale
			best = math.Max(best, s[j])
		}
		if math.IsInf(best, -1) {
			continue
		}
		var sum float64
		for j := range L {
			if mask.Bits[i*L+j] {
				s[j] = math.Exp(s[j] - best)
				sum += s[j]
			}
		}
		for j := range L {
			if mask.Bits[i*L+j] {
				for p := range d {
					out[i*d+p] += s[j] / sum * float64(v.Data[j*d+p])
				}
			}
		}
	}
	return out
}

// AttentionDense is the dense masked-attention baseline (PyTorch in the
// paper's Figures 11 and 12; specs/pit.md §5.4, §5.5 E6): for each stripe
// of 32 query rows (in parallel over workers, ≤ 0: GOMAXPROCS) it computes
// all L scores with Kernel (q·kᵀ, transB), applies the mask and the
// softmax per row, and multiplies P by v with Kernel. Every score is
// computed whatever the mask: MACs = 2·L·L·d.
func AttentionDense(q, k, v Matrix, mask Mask, out Matrix, workers int) Work {
	L, d := checkAttention("AttentionDense", q, k, v, out)
	checkAttnMask("AttentionDense", mask, L)
	if L == 0 || d == 0 {
		return Work{}
	}
	stripes := ceilDiv(L, attnBlock)
	sc := newScratch(workers)
	scale := attnScale(d)
	forEach(stripes, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*attnBlock, min((r+1)*attnBlock, L)
		h := r1 - r0
		sm := Matrix{h, L, grow(&s.a, h*L)}
		Kernel(false, true, scale, q.Slice(r0, r1), k, 0, sm)
		s.work.UsefulMACs += 2 * attnMaskScores(sm, mask, r0, 0) * int64(d)
		attnSoftmax([]attnSegment{{sm.Data, L}}, h)
		Kernel(false, false, 1, sm, v, 0, out.Slice(r0, r1))
	})
	w := sumWork(sc)
	w.MACs = 2 * int64(L) * int64(L) * int64(d)
	w.Gemms = 2 * int64(stripes)
	return w
}

// AttentionBlocks is block-sparse attention over blocks, an index of the
// L×L mask with any block shape (specs/pit.md §2.4 DynamicSparseAttention,
// §5.4 BCSRCover32×32): the columns of a block row may come in any order
// (§2.3 item 3: the softmax is invariant under a permutation of the keys).
// For each query block row r (in parallel over workers, ≤ 0: GOMAXPROCS)
// and each listed key block c it computes S_rc = q_r·k_cᵀ/√d with Kernel
// (SDD), applies the element-wise mask inside the block, takes one softmax
// per row over all the row's listed blocks, and accumulates
// out_r = Σ_c P_rc·v_c with Kernel (DSD, beta = 1) in the index order. It
// serves both the block-cover baseline (Triton / PyTorch-S: a 32×32 cover
// converted on every call, whose cost the caller adds) and PIT's online
// BCSR for Museformer-like masks. MACs = 2·Σ_blocks h·w·d with h×w the
// block clipped at the edges; MicroTiles counts the blocks and Gemms the
// kernel calls. UsefulMACs counts the true mask bits inside the listed
// blocks, 2·nnz(mask)·d when the index covers the mask; the index's own
// build cost (IndexReads) is not included.
func AttentionBlocks(q, k, v Matrix, blocks Index, mask Mask, out Matrix, workers int) Work {
	L, d := checkAttention("AttentionBlocks", q, k, v, out)
	checkAttnMask("AttentionBlocks", mask, L)
	if blocks.Rows != L || blocks.Cols != L {
		panic(fmt.Sprintf("pit: AttentionBlocks: index of a %dx%d mask for L = %d", blocks.Rows, blocks.Cols, L))
	}
	t := blocks.Tile
	t.check("AttentionBlocks")
	if blocks.TileRows != ceilDiv(L, t.Rows) || blocks.TileCols != ceilDiv(L, t.Cols) || len(blocks.RowPtr) != blocks.TileRows+1 {
		panic(fmt.Sprintf("pit: AttentionBlocks: index of %dx%d tiles %s does not match L = %d", blocks.TileRows, blocks.TileCols, t, L))
	}
	if L == 0 || d == 0 {
		return Work{}
	}
	scale := attnScale(d)
	sc := newScratch(workers)
	segs := make([][]attnSegment, len(sc))
	forEach(blocks.TileRows, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*t.Rows, min((r+1)*t.Rows, L)
		h := r1 - r0
		qr, ob := q.Slice(r0, r1), out.Slice(r0, r1)
		cols := blocks.RowTiles(r)
		clear(ob.Data)
		if len(cols) == 0 {
			return
		}
		buf := grow(&s.a, len(cols)*h*t.Cols)
		seg := segs[id][:0]
		for slot, c := range cols {
			j0, j1 := int(c)*t.Cols, min((int(c)+1)*t.Cols, L)
			sm := Matrix{h, j1 - j0, buf[slot*h*t.Cols : slot*h*t.Cols+h*(j1-j0)]}
			Kernel(false, true, scale, qr, k.Slice(j0, j1), 0, sm)
			s.work.UsefulMACs += 2 * attnMaskScores(sm, mask, r0, j0) * int64(d)
			s.work.MACs += 2 * int64(h) * int64(j1-j0) * int64(d)
			seg = append(seg, attnSegment{sm.Data, j1 - j0})
		}
		attnSoftmax(seg, h)
		for slot, c := range cols {
			j0, j1 := int(c)*t.Cols, min((int(c)+1)*t.Cols, L)
			Kernel(false, false, 1, Matrix{h, j1 - j0, seg[slot].s}, v.Slice(j0, j1), 1, ob)
		}
		segs[id] = seg
		s.work.MicroTiles += int64(len(cols))
		s.work.Gemms += 2 * int64(len(cols))
	})
	return sumWork(sc)
}

// LongformerGlobals draws the data-dependent global tokens of a Longformer
// mask (specs/pit.md §2.1, §5.5 E6): position 0 (the [CLS] token) plus
// round(frac·L)−1 further distinct positions drawn uniformly from 1…L−1,
// sorted ascending. At least position 0 is returned when L > 0, and at
// most all L positions. The draws come from a PCG generator seeded with
// seed, so the result is deterministic.
func LongformerGlobals(seed uint64, L int, frac float64) []int32 {
	if L < 0 || !(frac >= 0) {
		panic(fmt.Sprintf("pit: LongformerGlobals: L %d, frac %g", L, frac))
	}
	if L == 0 {
		return nil
	}
	n := max(1, min(L, int(math.Round(frac*float64(L)))))
	rng := rand.New(rand.NewPCG(seed, 0x10f6))
	g := []int32{0}
	for _, p := range rng.Perm(L - 1)[:n-1] {
		g = append(g, int32(p+1))
	}
	slices.Sort(g)
	return g
}

// LongformerMask is the L×L Longformer attention mask (specs/pit.md §2.1,
// §2.4): (i, j) is true iff |i−j| < window (the sliding window), or j is a
// global token (every query attends to it), or i is a global token (it
// attends to every key).
func LongformerMask(L, window int, globals []int32) Mask {
	isGlobal := attnGlobalFlags("LongformerMask", L, globals)
	m := Mask{Rows: L, Cols: L, Bits: make([]bool, L*L)}
	for i := range L {
		row := m.Bits[i*L : (i+1)*L]
		for j := range L {
			row[j] = isGlobal[i] || isGlobal[j] || i-j < window && j-i < window
		}
	}
	return m
}

// attnGlobalFlags returns a slice of L flags, true at the global positions,
// panicking unless they are distinct and in [0, L).
func attnGlobalFlags(op string, L int, globals []int32) []bool {
	f := make([]bool, L)
	for _, g := range globals {
		if g < 0 || int(g) >= L {
			panic(fmt.Sprintf("pit: %s: global token %d outside [0, %d)", op, g, L))
		}
		if f[g] {
			panic(fmt.Sprintf("pit: %s: global token %d listed twice", op, g))
		}
		f[g] = true
	}
	return f
}

// BlockStructureMask is a Museformer-like dynamic structure mask
// (specs/pit.md §2.1, §5.5 E6): the L×L mask is cut into block×block
// blocks (clipped at the edges); every diagonal block is active and causal
// inside (j ≤ i), each block below the diagonal (block row r > block
// column c) is active with probability density and then fully true, and
// blocks above the diagonal are empty. Blocks are drawn row by row, left
// to right, from a PCG generator seeded with seed, so the mask is
// deterministic.
func BlockStructureMask(seed uint64, L, block int, density float64) Mask {
	if L < 0 || block < 1 {
		panic(fmt.Sprintf("pit: BlockStructureMask: L %d, block %d", L, block))
	}
	rng := rand.New(rand.NewPCG(seed, 0xb10c))
	m := Mask{Rows: L, Cols: L, Bits: make([]bool, L*L)}
	nb := ceilDiv(L, block)
	for r := range nb {
		i0, i1 := r*block, min((r+1)*block, L)
		for c := range r {
			if rng.Float64() >= density {
				continue
			}
			for i := i0; i < i1; i++ {
				row := m.Bits[i*L+c*block : i*L+(c+1)*block]
				for j := range row {
					row[j] = true
				}
			}
		}
		for i := i0; i < i1; i++ {
			for j := i0; j <= i; j++ {
				m.Bits[i*L+j] = true
			}
		}
	}
	return m
}

// attnLongformerNNZ is the number of true elements of LongformerMask(L,
// window, globals), counted from the window and the global flags without
// building the mask: a global row has L, another row its window plus the
// global keys outside it.
func attnLongformerNNZ(L, window int, isGlobal []bool) int64 {
	prefix := make([]int, L+1) // prefix[j] = number of globals before j
	for j, g := range isGlobal {
		prefix[j+1] = prefix[j]
		if g {
			prefix[j+1]++
		}
	}
	g := prefix[L]
	var nnz int64
	for i := range L {
		if isGlobal[i] {
			nnz += int64(L)
			continue
		}
		lo, hi := 0, 0 // window [lo, hi)
		if window > 0 {
			lo, hi = max(0, i-window+1), min(L, i+window)
		}
		nnz += int64(hi-lo) + int64(g-(prefix[hi]-prefix[lo]))
	}
	return nnz
}

// attnBandBlock reports whether block (r, c) of an L×L mask cut into b×b
// blocks holds some (i, j) with |i−j| < window.
func attnBandBlock(r, c, b, L, window int) bool {
	i0, i1 := r*b, min((r+1)*b, L)-1
	j0, j1 := c*b, min((c+1)*b, L)-1
	dist := 0
	switch {
	case j0 > i1:
		dist = j0 - i1
	case i0 > j1:
		dist = i0 - j1
	}
	return dist < window
}

// AttentionLongformerPIT is PIT's Longformer operator (specs/pit.md §2.1,
// §2.3 item 3, §2.4 LongformerSparseAttention, §5.3 SparseAttention). It
// computes attention under LongformerMask(L, window, globals) without
// building or scanning that mask:
//
//   - the sliding window is a static band of 32×32 blocks, derived from
//     window alone: block (r, c) is listed iff it holds some |i−j| <
//     window; their scores are computed per block with Kernel (SDD), and
//     the global key columns inside them are masked out exactly, so every
//     key is counted once;
//   - the data-dependent global key columns are 1-column micro-tiles: the
//     rows of k and v at the global positions are gathered (SReadCol with
//     Tile{1, d}) into dense g×d panels, and each query block's scores
//     against them are one dense Kernel call;
//   - one softmax per row runs over band ∪ global columns (permutation
//     invariance of the key axis), then out_r = Σ P·v over the band blocks
//     and the gathered v panel (DSD, beta = 1);
//   - global query rows attend to every key: their q rows are gathered,
//     multiplied densely against all of k and v in stripes of 32, and
//     their output rows overwritten (SWrite).
//
// Query blocks, then global stripes, run on workers goroutines (≤ 0:
// GOMAXPROCS), each handled by one goroutine, so out does not depend on
// the worker count. MACs = 2·Σ_band h·w·d + 2·L·g·d (global key columns,
// all query rows) + 2·g·L·d (global query rows; their band and global-key
// scores are computed too and then overwritten). BytesGathered counts the
// gathered rows of k, v and q; MicroTiles the band blocks plus g key
// columns plus g query rows; UsefulMACs = 2·nnz(LongformerMask)·d.
func AttentionLongformerPIT(q, k, v Matrix, window int, globals []int32, out Matrix, workers int) Work {
	L, d := checkAttention("AttentionLongformerPIT", q, k, v, out)
	isGlobal := attnGlobalFlags("AttentionLongformerPIT", L, globals)
	if L == 0 || d == 0 {
		return Work{}
	}
	const b = attnBlock
	g := len(globals)
	nb := ceilDiv(L, b)
	scale := attnScale(d)
	var w Work

	// The static band: a fixed list of block columns per block row.
	band := make([][]int32, nb)
	for r := range nb {
		for c := range nb {
			if attnBandBlock(r, c, b, L, window) {
				band[r] = append(band[r], int32(c))
			}
		}
	}

	// The dynamic global key columns, gathered once.
	var kg, vg Matrix
	if g > 0 {
		kg, vg = NewMatrix(g, d), NewMatrix(g, d)
		w.BytesGathered += 4 * SReadCol(kg, k, Tile{1, d}, 0, globals)
		w.BytesGathered += 4 * SReadCol(vg, v, Tile{1, d}, 0, globals)
		w.MicroTiles += int64(g)
	}

	sc := newScratch(workers)
	segs := make([][]attnSegment, len(sc))
	forEach(nb, workers, func(id, r int) {
		s := &sc[id]
		r0, r1 := r*b, min((r+1)*b, L)
		h := r1 - r0
		qr, ob := q.Slice(r0, r1), out.Slice(r0, r1)
		cols := band[r]
		buf := grow(&s.a, len(cols)*h*b+h*g)
		seg := segs[id][:0]
		for slot, c := range cols {
			j0, j1 := int(c)*b, min((int(c)+1)*b, L)
			sm := Matrix{h, j1 - j0, buf[slot*h*b : slot*h*b+h*(j1-j0)]}
			Kernel(false, true, scale, qr, k.Slice(j0, j1), 0, sm)
			for i := range h {
				row := sm.Row(i)
				for j := range row {
					if dj := r0 + i - (j0 + j); dj >= window || -dj >= window || isGlobal[j0+j] {
						row[j] = attnNegInf
					}
				}
			}
			seg = append(seg, attnSegment{sm.Data, j1 - j0})
		}
		var sg Matrix
		if g > 0 {
			off := len(cols) * h * b
			sg = Matrix{h, g, buf[off : off+h*g]}
			Kernel(false, true, scale, qr, kg, 0, sg)
			seg = append(seg, attnSegment{sg.Data, g})
		}
		attnSoftmax(seg, h)
		clear(ob.Data)
		for slot, c := range cols {
			j0, j1 := int(c)*b, min((int(c)+1)*b, L)
			Kernel(false, false, 1, Matrix{h, j1 - j0, seg[slot].s}, v.Slice(j0, j1), 1, ob)
		}
		if g > 0 {
			Kernel(false, false, 1, sg, vg, 1, ob)
		}
		segs[id] = seg
	})

	// Global query rows attend to every key, densely, and overwrite.
	stripes := ceilDiv(g, b)
	var gathered []int64
	if g > 0 {
		gathered = make([]int64, stripes)
		forEach(stripes, workers, func(id, t int) {
			s := &sc[id]
			rows := globals[t*b : min((t+1)*b, g)]
			h := len(rows)
			qg := Matrix{h, d, grow(&s.b, h*d)}
			og := Matrix{h, d, grow(&s.c, h*d)}
			gathered[t] = SReadCol(qg, q, Tile{1, d}, 0, rows)
			sm := Matrix{h, L, grow(&s.a, h*L)}
			Kernel(false, true, scale, qg, k, 0, sm)
			attnSoftmax([]attnSegment{{sm.Data, L}}, h)
			Kernel(false, false, 1, sm, v, 0, og)
			SWrite(out, Tile{1, d}, 0, rows, og, Overwrite)
		})
	}
	for _, n := range gathered {
		w.BytesGathered += 4 * n
	}

	// Work, from the shapes, the window and the global positions only.
	ld := int64(L) * int64(d)
	for r := range nb {
		h := int64(min((r+1)*b, L) - r*b)
		for _, c := range band[r] {
			w.MACs += 2 * h * int64(min((int(c)+1)*b, L)-int(c)*b) * int64(d)
		}
		w.MicroTiles += int64(len(band[r]))
		w.Gemms += 2 * int64(len(band[r]))
		if g > 0 {
			w.Gemms += 2
		}
	}
	w.MACs += 2*int64(g)*ld + 2*int64(g)*ld
	w.MicroTiles += int64(g)
	w.Gemms += 2 * int64(stripes)
	w.UsefulMACs = 2 * attnLongformerNNZ(L, window, isGlobal) * int64(d)
	return w
}
