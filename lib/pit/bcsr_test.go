package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBCSRMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	blocks := []Tile{Block32x64, Tile16x16, {3, 5}}
	for _, k := range kernels {
		for _, bl := range blocks {
			for _, sh := range baselineShapes {
				for _, s := range append(baselineSparsities, 1) {
					m := randomMask(rng, sh[0], sh[1], Tile1x1, s, 1)
					a := randomMatrix(rng, sh[0], sh[1])
					am := masked(a, m)
					name := fmt.Sprintf("%s block %v %v s=%g", k.name, bl, sh, s)
					x, cv := NewBCSR(a, m, bl, 3)
					if back := x.Dense(); !slices.Equal(back.Data, am.Data) {
						t.Fatalf("%s: BCSR round trip differs from the masked matrix", name)
					}
					blocks := bruteIndex(m, bl)
					if x.Index.Len() != len(blocks) || len(x.Val) != len(blocks)*bl.Rows*bl.Cols {
						t.Fatalf("%s: %d blocks, %d values; want %d blocks", name, x.Index.Len(), len(x.Val), len(blocks))
					}
					if cv.Reads < int64(sh[0]*sh[1]) || cv.BytesWritten < 4*int64(len(x.Val)) {
						t.Errorf("%s: conversion %+v", name, cv)
					}
					b := randomMatrix(rng, sh[1], sh[2])
					c1 := randomMatrix(rng, sh[0], sh[2]) // garbage: must be overwritten
					var w Work
					withKernel(k.f, func() { w = BCSRMatmul(x, b, c1, 3) })
					if e := relErr(c1.Data, naive(am, b)); e > relTol {
						t.Errorf("%s: rel err %g", name, e)
					}
					c2 := NewMatrix(sh[0], sh[2])
					withKernel(k.f, func() { BCSRMatmul(x, b, c2, 1) })
					if k.name == "GemmGo" && !slices.Equal(c1.Data, c2.Data) {
						t.Errorf("%s: product depends on the worker count", name)
					}
					var macs int64
					for _, blk := range blocks {
						h := min(int(blk[0]+1)*bl.Rows, sh[0]) - int(blk[0])*bl.Rows
						macs += int64(h * bl.Cols * sh[2])
					}
					if w.MACs != macs || w.UsefulMACs != x.Index.NNZ*int64(sh[2]) || w.Gemms != int64(len(blocks)) {
						t.Errorf("%s: work %+v, want MACs %d", name, w, macs)
					}
				}
			}
		}
	}
}

// TestBCSRCoverageWaste: an i.i.d. 32×1 pattern at s = 0.95 under 32×64
// blocks executes about 1/η ≈ 19 times the useful MACs (specs/pit.md §2.2:
// P(active) = 1 − s^64 = 0.962, η = 0.05/0.962 = 5.2 %).
func TestBCSRCoverageWaste(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	const rows, cols, n = 512, 1024, 8
	m := randomMask(rng, rows, cols, Tile32x1, 0.95, 1)
	x, _ := NewBCSR(NewMatrix(rows, cols), m, Block32x64, 0)
	w := BCSRMatmul(x, NewMatrix(cols, n), NewMatrix(rows, n), 0)
	// 16×16 = 256 blocks: the binomial sd of the active fraction is ≈ 0.012,
	// and of the useful fraction 1−s about 0.0017; 0.01 on η is > 5 sd.
	if eta := w.Efficiency(); eta < 0.052-0.01 || eta > 0.052+0.01 {
		t.Errorf("efficiency %.4f, want ≈ 0.052 (work %+v)", eta, w)
	}
}
