package pit

import "math/bits"

// bitRows is a mask packed 64 elements to a word: row i is
// w[i*words:(i+1)*words], element j is bit j%64 of word j/64.
type bitRows struct {
	rows, cols, words int
	w                 []uint64
}

// packBits packs m, rows split over workers goroutines.
func packBits(m Mask, workers int) bitRows {
	b := bitRows{rows: m.Rows, cols: m.Cols, words: ceilDiv(m.Cols, 64)}
	b.w = make([]uint64, b.rows*b.words)
	const stripe = 16
	forEach(ceilDiv(m.Rows, stripe), workers, func(_, s int) {
		for i := s * stripe; i < min((s+1)*stripe, m.Rows); i++ {
			src := m.Bits[i*m.Cols : (i+1)*m.Cols]
			dst := b.w[i*b.words : (i+1)*b.words]
			for k := range dst {
				var word uint64
				chunk := src[k*64 : min((k+1)*64, len(src))]
				for j, v := range chunk {
					if v {
						word |= 1 << uint(j)
					}
				}
				dst[k] = word
			}
		}
	})
	return b
}

// activeTiles counts the micro-tiles of shape t holding a set bit.
func (b bitRows) activeTiles(t Tile) int {
	acc := make([]uint64, b.words)
	n := 0
	pow2 := t.Cols <= 64 && t.Cols&(t.Cols-1) == 0
	var low uint64 // the lowest bit of every t.Cols-bit segment
	if pow2 {
		for s := 0; s < 64; s += t.Cols {
			low |= 1 << uint(s)
		}
	}
	for r0 := 0; r0 < b.rows; r0 += t.Rows {
		copy(acc, b.w[r0*b.words:(r0+1)*b.words])
		for i := r0 + 1; i < min(r0+t.Rows, b.rows); i++ {
			row := b.w[i*b.words : (i+1)*b.words]
			for k, v := range row {
				acc[k] |= v
			}
		}
		if pow2 {
			// Fold each segment onto its lowest bit, then count.
			for _, v := range acc {
				for s := t.Cols / 2; s >= 1; s /= 2 {
					v |= v >> uint(s)
				}
				n += bits.OnesCount64(v & low)
			}
			continue
		}
		for c := 0; c*t.Cols < b.cols; c++ {
			if anyBit(acc, c*t.Cols, min((c+1)*t.Cols, b.cols)) {
				n++
			}
		}
	}
	return n
}

// anyBit reports whether acc has a set bit in [lo, hi).
func anyBit(acc []uint64, lo, hi int) bool {
	for lo < hi {
		k, off := lo/64, uint(lo%64)
		span := min(64-int(off), hi-lo)
		mask := ^uint64(0) >> uint(64-span) << off
		if acc[k]&mask != 0 {
			return true
		}
		lo += span
	}
	return false
}

// EffectiveSparsities returns EffectiveSparsity(m, t, workers) for each
// shape in tiles, reading m once: the mask is packed into 64-bit words
// (in parallel), and every candidate's empty micro-tiles are then counted
// on the words, OR-ing the rows of a tile row and folding each tile's
// columns onto one bit (specs/pit.md §2.7 step 2, the pooled zero count).
// Choose uses it, so that online selection costs about one pass over the
// mask however many candidates there are.
func EffectiveSparsities(m Mask, tiles []Tile, workers int) []float64 {
	m.check("EffectiveSparsities")
	out := make([]float64, len(tiles))
	b := packBits(m, workers)
	for i, t := range tiles {
		t.check("EffectiveSparsities")
		total := ceilDiv(m.Rows, t.Rows) * ceilDiv(m.Cols, t.Cols)
		if total == 0 {
			out[i] = 1
			continue
		}
		out[i] = 1 - float64(b.activeTiles(t))/float64(total)
	}
	return out
}
