package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// baselineShapes are M, K, N of the baseline tests: multiples of the
// 32×64 block and shapes that are not.
var baselineShapes = [][3]int{{64, 128, 32}, {100, 70, 33}, {31, 200, 17}, {1, 1, 1}}

// baselineSparsities are the element sparsities the issue asks for.
var baselineSparsities = []float64{0, 0.5, 0.9, 0.99}

func TestCSRMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, sh := range baselineShapes {
		for _, s := range append(baselineSparsities, 1) {
			m := randomMask(rng, sh[0], sh[1], Tile1x1, s, 1)
			a := randomMatrix(rng, sh[0], sh[1]) // values outside m must be ignored
			am := masked(a, m)
			x, cv := NewCSR(a, m)
			name := fmt.Sprintf("%v s=%g", sh, s)
			if back := x.Dense(); !slices.Equal(back.Data, am.Data) {
				t.Fatalf("%s: CSR round trip differs from the masked matrix", name)
			}
			if cv.Reads != int64(sh[0]*sh[1]) || cv.BytesWritten != 8*int64(x.NNZ())+4*int64(sh[0]+1) {
				t.Errorf("%s: conversion %+v for %d nnz", name, cv, x.NNZ())
			}
			b := randomMatrix(rng, sh[1], sh[2])
			c1 := randomMatrix(rng, sh[0], sh[2]) // garbage: must be overwritten
			w := CSRMatmul(x, b, c1, 3)
			if e := relErr(c1.Data, naive(am, b)); e > relTol {
				t.Errorf("%s: rel err %g", name, e)
			}
			c2 := NewMatrix(sh[0], sh[2])
			CSRMatmul(x, b, c2, 1)
			if !slices.Equal(c1.Data, c2.Data) {
				t.Errorf("%s: product depends on the worker count", name)
			}
			if want := int64(x.NNZ()) * int64(sh[2]); w.MACs != want || w.UsefulMACs != want {
				t.Errorf("%s: work %+v, want MACs %d", name, w, want)
			}
		}
	}
}

// TestSparseWorkIgnoresValues: CSR and BCSR counters and conversion costs
// depend on the mask only.
func TestSparseWorkIgnoresValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const rows, cols, n = 96, 150, 20
	m := randomMask(rng, rows, cols, Tile1x1, 0.8, 1)
	b, c := randomMatrix(rng, cols, n), NewMatrix(rows, n)
	type result struct {
		csr, bcsr     Work
		csrCv, bcsrCv Conversion
	}
	run := func(a Matrix) result {
		var r result
		x, cv := NewCSR(a, m)
		r.csr, r.csrCv = CSRMatmul(x, b, c, 2), cv
		y, cv := NewBCSR(a, m, Block32x64, 2)
		r.bcsr, r.bcsrCv = BCSRMatmul(y, b, c, 2), cv
		return r
	}
	want := run(randomMatrix(rng, rows, cols))
	for _, a := range []Matrix{NewMatrix(rows, cols), masked(randomMatrix(rng, rows, cols), m)} {
		if got := run(a); got != want {
			t.Errorf("work depends on the values: %+v, want %+v", got, want)
		}
	}
}
