package pit

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Sequence-length sparsity (specs/pit.md §2.1 "Dynamic sequence length",
// §2.4 seqlen row, §5.3 SeqlenLinear, §5.4 UnpaddedPerSample, §5.5 E5).
//
// A batch of B sequences is padded to a common length L and stored as one
// (B·L)×d matrix x: row b·L+i is token i of sample b, valid when
// i < lens[b]. The linear layer y = x·w (w is d×n) only matters on the
// valid rows; the padded rows of y are written as zeros by every method
// below, so the methods differ only in how much padding they multiply.
// UsefulMACs is (Σ lens)·d·n for all of them.

// seqTile is the height of the row tiles SeqlenTileSkip runs and of the
// token panels SeqlenGather packs: the artifact's 32-row dense tile
// (specs/pit.md §2.4).
const seqTile = 32

// checkSeqlen panics unless x, w and y form a product, len(lens) divides
// the rows of x and every length lies in [0, L]; it returns L and the
// number of valid tokens.
func checkSeqlen(op string, x Matrix, lens []int, w, y Matrix) (L int, valid int64) {
	dims(op, false, false, x, w, y)
	if len(lens) == 0 {
		panic(fmt.Sprintf("pit: %s: lens is empty for x %s", op, x.shape()))
	}
	if x.Rows%len(lens) != 0 {
		panic(fmt.Sprintf("pit: %s: x has %d rows, not a multiple of %d samples (lens)", op, x.Rows, len(lens)))
	}
	L = x.Rows / len(lens)
	for b, n := range lens {
		if n < 0 || n > L {
			panic(fmt.Sprintf("pit: %s: lens[%d] = %d outside [0, %d]", op, b, n, L))
		}
		valid += int64(n)
	}
	return L, valid
}

// seqZeroPadding clears the padded rows of every sample in y.
func seqZeroPadding(y Matrix, lens []int, L int) {
	for b, n := range lens {
		clear(y.Data[(b*L+n)*y.Cols : (b+1)*L*y.Cols])
	}
}

// SeqlenDense is the padded dense baseline of specs/pit.md §5.5 E5 (the
// "PyTorch" bar of the paper's Figures 10 and 13): all B·L rows of x,
// padding included, are multiplied by w with Kernel in stripes of rows over
// workers goroutines (≤ 0: GOMAXPROCS), then the padded rows of y are
// zeroed. MACs = B·L·d·n.
func SeqlenDense(x Matrix, lens []int, w, y Matrix, workers int) Work {
	L, valid := checkSeqlen("SeqlenDense", x, lens, w, y)
	stripes := ceilDiv(x.Rows, denseStripe)
	forEach(stripes, workers, func(_, s int) {
		r0, r1 := s*denseStripe, min((s+1)*denseStripe, x.Rows)
		Kernel(false, false, 1, x.Slice(r0, r1), w, 0, y.Slice(r0, r1))
	})
	seqZeroPadding(y, lens, L)
	dn := int64(w.Rows) * int64(w.Cols)
	return Work{MACs: int64(x.Rows) * dn, UsefulMACs: valid * dn, Gemms: int64(stripes)}
}

// SeqlenTileSkip is PIT's sequence-length kernel (specs/pit.md §2.4,
// seqlen_dynamic_sparse_linear_forward_kernel.cu; §5.3 SeqlenLinear): each
// sample is cut into 32-row tiles and a tile runs (one Kernel call) iff its
// first row is a valid token, the analogue of the thread block's early exit
// when by·32 ≥ seqlen[b]. The rows of a partial tile past the length are
// computed anyway (coverage waste, counted in MACs) and then zeroed;
// skipped tiles are zeroed. Tiles run on workers goroutines (≤ 0:
// GOMAXPROCS). MicroTiles and Gemms count the tiles run.
func SeqlenTileSkip(x Matrix, lens []int, w, y Matrix, workers int) Work {
	L, valid := checkSeqlen("SeqlenTileSkip", x, lens, w, y)
	per := ceilDiv(L, seqTile)
	forEach(len(lens)*per, workers, func(_, t int) {
		b, i0 := t/per, (t%per)*seqTile
		i1 := min(i0+seqTile, L)
		r0, r1 := b*L+i0, b*L+i1
		yt := y.Slice(r0, r1)
		if i0 >= lens[b] {
			clear(yt.Data)
			return
		}
		Kernel(false, false, 1, x.Slice(r0, r1), w, 0, yt)
		if lens[b] < i1 {
			clear(y.Data[(b*L+lens[b])*y.Cols : r1*y.Cols])
		}
	})
	var rows, tiles int64
	for _, n := range lens {
		for i0 := 0; i0 < n; i0 += seqTile {
			rows += int64(min(i0+seqTile, L) - i0)
			tiles++
		}
	}
	dn := int64(w.Rows) * int64(w.Cols)
	return Work{MACs: rows * dn, UsefulMACs: valid * dn, MicroTiles: tiles, Gemms: tiles}
}

// SeqlenGather is PIT's row-axis permutation applied to tokens
// (specs/pit.md §2.3 item 2, §5.3 SeqlenLinear "gather valid tokens of all
// samples into dense tiles"): the valid token rows of all samples, in
// order, form a list of 1×d micro-tiles; each group of 32 is gathered by
// SReadCol (Tile{1, d}) into a dense panel, multiplied by w with Kernel and
// scattered back to its rows of y by SWrite (Overwrite: every token is in
// one group). Only the last panel is short, and it is not padded, so no
// padded row is multiplied: MACs = UsefulMACs. Groups run on workers
// goroutines (≤ 0: GOMAXPROCS); padded rows of y are zeroed.
// BytesGathered = 4·(valid tokens)·d; MicroTiles counts the tokens and
// IndexReads the B lengths read to list them.
func SeqlenGather(x Matrix, lens []int, w, y Matrix, workers int) Work {
	L, valid := checkSeqlen("SeqlenGather", x, lens, w, y)
	tokens := make([]int32, 0, valid)
	for b, n := range lens {
		for i := range n {
			tokens = append(tokens, int32(b*L+i))
		}
	}
	d, n := x.Cols, w.Cols
	groups := ceilDiv(len(tokens), seqTile)
	sc := newScratch(workers)
	forEach(groups, workers, func(id, g int) {
		s := &sc[id]
		grp := tokens[g*seqTile : min((g+1)*seqTile, len(tokens))]
		h := len(grp)
		ap := Matrix{h, d, grow(&s.a, h*d)}
		cp := Matrix{h, n, grow(&s.c, h*n)}
		SReadCol(ap, x, Tile{1, d}, 0, grp)
		Kernel(false, false, 1, ap, w, 0, cp)
		SWrite(y, Tile{1, n}, 0, grp, cp, Overwrite)
	})
	seqZeroPadding(y, lens, L)
	macs := valid * int64(d) * int64(n)
	return Work{MACs: macs, UsefulMACs: macs, BytesGathered: 4 * valid * int64(d),
		MicroTiles: valid, Gemms: int64(groups), IndexReads: int64(len(lens))}
}

// SeqlenUnpadded is the TurboTransformers "smart batching" baseline
// (specs/pit.md §5.4 UnpaddedPerSample): one Kernel call per sample on its
// lens[b] valid rows, taken as a view of x (no copy), so nothing is wasted
// but each sample pays for its own, possibly small, GEMM. Samples run on
// workers goroutines (≤ 0: GOMAXPROCS); padded rows of y are zeroed.
// Gemms counts the non-empty samples.
func SeqlenUnpadded(x Matrix, lens []int, w, y Matrix, workers int) Work {
	L, valid := checkSeqlen("SeqlenUnpadded", x, lens, w, y)
	forEach(len(lens), workers, func(_, b int) {
		r0, r1 := b*L, b*L+lens[b]
		if r1 > r0 {
			Kernel(false, false, 1, x.Slice(r0, r1), w, 0, y.Slice(r0, r1))
		}
		clear(y.Data[r1*y.Cols : (b+1)*L*y.Cols])
	})
	var gemms int64
	for _, n := range lens {
		if n > 0 {
			gemms++
		}
	}
	macs := valid * int64(w.Rows) * int64(w.Cols)
	return Work{MACs: macs, UsefulMACs: macs, Gemms: gemms}
}

// LogNormalLengths draws batch sequence lengths for the E5 workload
// (specs/pit.md §5.5: GLUE-like log-normal lengths): round(exp(N(μ, σ)))
// with μ = log(mean) − σ²/2, so that the mean of the unclipped lengths is
// mean, clipped to [1, maxLen]. The draws come from a PCG generator seeded
// with seed, so the result is deterministic.
func LogNormalLengths(seed uint64, batch, maxLen int, mean, sigma float64) []int {
	if batch < 0 || maxLen < 1 || !(mean > 0) || !(sigma >= 0) {
		panic(fmt.Sprintf("pit: LogNormalLengths: batch %d, maxLen %d, mean %g, sigma %g", batch, maxLen, mean, sigma))
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e91e2))
	mu := math.Log(mean) - sigma*sigma/2
	out := make([]int, batch)
	for i := range out {
		v := math.Round(math.Exp(mu + sigma*rng.NormFloat64()))
		out[i] = int(max(1, min(float64(maxLen), v)))
	}
	return out
}
