package pit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// seqlenMethods are the sequence-length linear operators under test.
var seqlenMethods = []struct {
	name string
	f    func(x Matrix, lens []int, w, y Matrix, workers int) Work
}{
	{"SeqlenDense", SeqlenDense},
	{"SeqlenTileSkip", SeqlenTileSkip},
	{"SeqlenGather", SeqlenGather},
	{"SeqlenUnpadded", SeqlenUnpadded},
}

// seqlenReference is y = x·w in float64 on the valid rows and 0 on the
// padded ones, from the naive product.
func seqlenReference(x Matrix, lens []int, w Matrix) []float64 {
	want := naive(x, w)
	L := x.Rows / len(lens)
	for b, n := range lens {
		clear(want[(b*L+n)*w.Cols : (b+1)*L*w.Cols])
	}
	return want
}

func TestSeqlenMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const B, L, d, n = 5, 70, 24, 40
	for _, lens := range [][]int{{0, 70, 33, 64, 1}, {31, 32, 69, 0, 70}, {0, 0, 0, 0, 0}, {70, 70, 70, 70, 70}} {
		x := randomMatrix(rng, B*L, d)
		w := randomMatrix(rng, d, n)
		want := seqlenReference(x, lens, w)
		for _, k := range kernels {
			for _, m := range seqlenMethods {
				name := fmt.Sprintf("%s/%s lens=%v", k.name, m.name, lens)
				y1 := randomMatrix(rng, B*L, n) // garbage: must be overwritten
				y3 := randomMatrix(rng, B*L, n)
				var w1, w3 Work
				withKernel(k.f, func() {
					w1 = m.f(x, lens, w, y1, 1)
					w3 = m.f(x, lens, w, y3, 3)
				})
				if e := relErr(y1.Data, want); e > relTol {
					t.Errorf("%s: rel err %g", name, e)
				}
				for b, ln := range lens {
					for i := ln; i < L; i++ {
						for _, v := range y1.Row(b*L + i) {
							if v != 0 {
								t.Fatalf("%s: padded row %d of sample %d is not zero", name, i, b)
							}
						}
					}
				}
				if !slices.Equal(y1.Data, y3.Data) {
					t.Errorf("%s: result depends on the worker count", name)
				}
				if w1 != w3 {
					t.Errorf("%s: work depends on the worker count: %+v vs %+v", name, w1, w3)
				}
				if w1.UsefulMACs > w1.MACs {
					t.Errorf("%s: work %+v", name, w1)
				}
			}
		}
	}
}

// TestSeqlenWork checks the counters against hand-computed values for
// B = 5, L = 70 (tiles of 32, 32 and 6 rows per sample).
func TestSeqlenWork(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const B, L, d, n = 5, 70, 24, 40
	lens := []int{0, 70, 33, 64, 1} // 168 tokens
	x1, x2 := randomMatrix(rng, B*L, d), NewMatrix(B*L, d)
	w1, w2 := randomMatrix(rng, d, n), randomMatrix(rng, d, n)
	y := NewMatrix(B*L, n)
	const dn = d * n
	want := map[string]Work{
		"SeqlenDense": {MACs: B * L * dn, UsefulMACs: 168 * dn, Gemms: 6}, // 350 rows in 64-row stripes
		// Tiles run: sample 1: 32+32+6 rows; sample 2: 32+32; sample 3:
		// 32+32; sample 4: 32. 8 tiles, 230 rows.
		"SeqlenTileSkip": {MACs: 230 * dn, UsefulMACs: 168 * dn, MicroTiles: 8, Gemms: 8},
		"SeqlenGather": {MACs: 168 * dn, UsefulMACs: 168 * dn, BytesGathered: 4 * 168 * d,
			MicroTiles: 168, Gemms: 6, IndexReads: B}, // ⌈168/32⌉ panels
		"SeqlenUnpadded": {MACs: 168 * dn, UsefulMACs: 168 * dn, Gemms: 4},
	}
	for _, m := range seqlenMethods {
		a := m.f(x1, lens, w1, y, 2)
		b := m.f(x2, lens, w2, y, 3)
		if a != b {
			t.Errorf("%s: work depends on the values: %+v vs %+v", m.name, a, b)
		}
		if a != want[m.name] {
			t.Errorf("%s: work %+v, want %+v", m.name, a, want[m.name])
		}
	}
}

func TestSeqlenPanics(t *testing.T) {
	x, w, y := NewMatrix(10, 4), NewMatrix(4, 3), NewMatrix(10, 3)
	cases := []struct {
		lens []int
		want string
	}{
		{[]int{1, 2, 3}, "not a multiple of 3 samples"},
		{[]int{6, 2}, "lens[0] = 6 outside [0, 5]"},
		{[]int{-1, 2}, "lens[0] = -1"},
		{nil, "lens is empty"},
	}
	for _, m := range seqlenMethods {
		for _, c := range cases {
			func() {
				defer func() {
					r := fmt.Sprint(recover())
					if !strings.Contains(r, "pit: "+m.name+": ") || !strings.Contains(r, c.want) {
						t.Errorf("%s lens=%v: panic %q, want %q", m.name, c.lens, r, c.want)
					}
				}()
				m.f(x, c.lens, w, y, 1)
			}()
		}
		func() {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, "pit: "+m.name+": ") {
					t.Errorf("%s: shape panic %q", m.name, r)
				}
			}()
			m.f(x, []int{5, 5}, NewMatrix(5, 3), y, 1)
		}()
	}
}

func TestLogNormalLengths(t *testing.T) {
	a := LogNormalLengths(7, 2000, 512, 50, 0.6)
	b := LogNormalLengths(7, 2000, 512, 50, 0.6)
	c := LogNormalLengths(8, 2000, 512, 50, 0.6)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different lengths")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same lengths")
	}
	sum := 0
	for _, n := range a {
		if n < 1 || n > 512 {
			t.Fatalf("length %d outside [1, 512]", n)
		}
		sum += n
	}
	if mean := float64(sum) / 2000; mean < 50*0.85 || mean > 50*1.15 {
		t.Errorf("mean length %g, want about 50", mean)
	}
	for _, n := range LogNormalLengths(9, 500, 16, 40, 1) {
		if n < 1 || n > 16 {
			t.Fatalf("clipped length %d outside [1, 16]", n)
		}
	}
	if got := LogNormalLengths(1, 3, 100, 20, 0); !slices.Equal(got, []int{20, 20, 20}) {
		t.Errorf("sigma 0: %v, want all 20", got)
	}
}
