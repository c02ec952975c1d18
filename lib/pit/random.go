package pit

import "math/rand/v2"

// RandomMask returns a rows×cols mask made of whole micro-tiles of shape
// t, each one empty with probability sparsity independently: the
// t-granular random masks of the paper's kernel benchmarks (specs/pit.md
// §3.1, Fig. 15). Edge tiles are clipped. The mask depends on seed only.
func RandomMask(seed uint64, rows, cols int, t Tile, sparsity float64) Mask {
	t.check("RandomMask")
	return tileMask(rand.New(rand.NewPCG(seed, 0x6d61736b)), rows, cols, t, sparsity)
}

// RandomMatrix returns a rows×cols matrix of standard normal values drawn
// from seed.
func RandomMatrix(seed uint64, rows, cols int) Matrix {
	return randomDense(rand.New(rand.NewPCG(seed, 0x6d617472)), rows, cols)
}

// Masked returns a copy of a with the elements outside m set to zero: a
// sparse operand whose non-zeros m covers.
func Masked(a Matrix, m Mask) Matrix {
	a.check("Masked", "a")
	m.check("Masked")
	if m.Rows != a.Rows || m.Cols != a.Cols {
		panic("pit: Masked: mask is " + Matrix{m.Rows, m.Cols, nil}.shape() + ", a is " + a.shape())
	}
	out := NewMatrix(a.Rows, a.Cols)
	for i, b := range m.Bits[:a.Rows*a.Cols] {
		if b {
			out.Data[i] = a.Data[i]
		}
	}
	return out
}
