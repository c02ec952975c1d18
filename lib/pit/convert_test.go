package pit

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// convertShapes are mask shapes, most of them not multiples of the tiles.
var convertShapes = [][2]int{{1, 1}, {64, 128}, {100, 70}, {33, 200}, {97, 131}}

// convertTiles are the micro-tiles and blocks of the conversion tests.
var convertTiles = []Tile{Tile1x1, Tile32x1, Tile1x64, Tile16x16, Tile32x32, Block32x64, {3, 5}}

func TestTritonLayoutEqualsBuildIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, sh := range convertShapes {
		for _, tl := range convertTiles {
			for _, s := range sparsities {
				m := randomMask(rng, sh[0], sh[1], Tile{2, 3}, s, 0.6)
				name := fmt.Sprintf("%v tile %v s=%g", sh, tl, s)
				got, cv := TritonLayout(m, tl)
				want := BuildIndex(m, tl, 1)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: TritonLayout %+v, want %+v", name, got, want)
				}
				layout := int64(want.TileRows * want.TileCols)
				bytes := layout + 8*int64(want.Len()) + 4*int64(want.TileRows+1+want.Len())
				if cv.Reads != int64(sh[0]*sh[1]) || cv.BytesWritten != bytes {
					t.Errorf("%s: conversion %+v, want reads %d bytes %d", name, cv, sh[0]*sh[1], bytes)
				}
			}
		}
	}
	if x, cv := TritonLayout(Mask{}, Tile32x1); x.Len() != 0 || len(x.RowPtr) != 1 || cv != (Conversion{BytesWritten: 4}) {
		t.Errorf("empty mask: %+v, %+v", x, cv)
	}
}

// sortedRows returns x's tile columns with each row sorted.
func sortedRows(x Index) []int32 {
	out := slices.Clone(x.Col)
	for r := range x.TileRows {
		slices.Sort(out[x.RowPtr[r]:x.RowPtr[r+1]])
	}
	return out
}

func TestBuildIndexAtomic(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	for _, sh := range convertShapes {
		for _, tl := range convertTiles {
			for _, s := range sparsities {
				m := randomMask(rng, sh[0], sh[1], Tile1x1, s, 1)
				want := BuildIndex(m, tl, 1)
				for _, workers := range []int{1, 2, 7} {
					name := fmt.Sprintf("%v tile %v s=%g workers=%d", sh, tl, s, workers)
					got := BuildIndexAtomic(m, tl, workers)
					if got.Tile != want.Tile || got.Rows != want.Rows || got.Cols != want.Cols ||
						got.TileRows != want.TileRows || got.TileCols != want.TileCols {
						t.Fatalf("%s: header %+v, want %+v", name, got, want)
					}
					if !slices.Equal(got.RowPtr, want.RowPtr) || !slices.Equal(sortedRows(got), want.Col) {
						t.Fatalf("%s: rows %v cols %v, want %v %v", name, got.RowPtr, got.Col, want.RowPtr, want.Col)
					}
					if got.NNZ != want.NNZ || got.Reads != want.Reads {
						t.Errorf("%s: NNZ %d Reads %d, want %d %d", name, got.NNZ, got.Reads, want.NNZ, want.Reads)
					}
				}
			}
		}
	}
	if x := BuildIndexAtomic(Mask{}, Tile32x1, 4); x.Len() != 0 || len(x.RowPtr) != 1 {
		t.Errorf("empty mask: %+v", x)
	}
}

// TestMatmulKAtomicIndex: the unordered index drives PIT's K permutation
// to the dense result.
func TestMatmulKAtomicIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	for _, k := range kernels {
		for _, sh := range [][3]int{{100, 70, 33}, {64, 256, 40}, {31, 200, 17}} {
			for _, s := range []float64{0, 0.5, 0.9, 0.99} {
				m := randomMask(rng, sh[0], sh[1], Tile32x1, s, 0.7)
				a := masked(randomMatrix(rng, sh[0], sh[1]), m)
				b := randomMatrix(rng, sh[1], sh[2])
				c := randomMatrix(rng, sh[0], sh[2]) // garbage: must be overwritten
				x := BuildIndexAtomic(m, Tile32x1, 7)
				var w Work
				withKernel(k.f, func() { w = MatmulKIndexed(a, x, b, c, 3) })
				name := fmt.Sprintf("%s %v s=%g", k.name, sh, s)
				if e := relErr(c.Data, naive(a, b)); e > relTol {
					t.Errorf("%s: rel err %g", name, e)
				}
				if w.UsefulMACs != x.NNZ*int64(sh[2]) || w.MicroTiles != int64(x.Len()) {
					t.Errorf("%s: work %+v", name, w)
				}
			}
		}
	}
}
