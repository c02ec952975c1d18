package dataset

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSplitSizes checks the part sizes against specs/pitot.md section 4.
func TestSplitSizes(t *testing.T) {
	p, err := LoadPitot(shipped)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		level float64
		obj   string
		sizes [3]int
	}{
		{0.1, "mf", [3]int{4290, 1072, 48275}},
		{0.3, "mf", [3]int{12872, 3218, 37547}},
		{0.5, "if2", [3]int{39582, 9895, 49480}},
		{0.7, "if2", [3]int{55415, 13853, 29689}},
		{0.9, "mf", [3]int{38618, 9654, 5365}},
		{0.9, "if2", [3]int{71249, 17812, 9896}},
	}
	for _, c := range cases {
		s, err := NewSplits(p, c.level, 0, DefaultSplitSeed)
		if err != nil {
			t.Fatal(err)
		}
		sp := s.Objectives[c.obj]
		if got := [3]int{len(sp.Train), len(sp.Val), len(sp.Test)}; got != c.sizes {
			t.Errorf("level %v %s: sizes %v, want %v", c.level, c.obj, got, c.sizes)
		}
		all := append(append(append([]int{}, sp.Train...), sp.Val...), sp.Test...)
		slices.Sort(all)
		for i, x := range all {
			if x != i {
				t.Fatalf("level %v %s: parts are not a partition (position %d holds %d)", c.level, c.obj, i, x)
			}
		}
	}
}

// TestSplitDeterminism checks that splits depend only on (level, replicate,
// seed, objective): equal when those are equal, different otherwise, and
// equal to a fingerprint recorded once, so a change of PRNG or algorithm on
// any machine or Go version shows up here.
func TestSplitDeterminism(t *testing.T) {
	p, err := LoadPitot(shipped)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewSplits(p, 0.5, 1, 42)
	b, _ := NewSplits(p, 0.5, 1, 42)
	c, _ := NewSplits(p, 0.5, 2, 42)
	d, _ := NewSplits(p, 0.5, 1, 43)
	if !reflect.DeepEqual(a, b) {
		t.Error("same configuration, different splits")
	}
	if reflect.DeepEqual(a.Objectives, c.Objectives) || reflect.DeepEqual(a.Objectives, d.Objectives) {
		t.Error("different replicate or seed, same splits")
	}
	if slices.Equal(a.Objectives["mf"].Train[:100], a.Objectives["if2"].Train[:100]) {
		t.Error("objectives share a permutation")
	}
	h := fnv.New64a()
	for _, obj := range []string{"mf", "if2"} {
		fmt.Fprint(h, a.Objectives[obj].Train, a.Objectives[obj].Val)
	}
	if got, want := fmt.Sprintf("%x", h.Sum64()), splitFingerprint; got != want {
		t.Errorf("split fingerprint %s, want %s", got, want)
	}
}

// splitFingerprint is the FNV-64a hash of the level-0.5, replicate-1,
// seed-42 train and validation indices, recorded when the split algorithm
// was written.
const splitFingerprint = "74cdd59668915751"

func TestSplitFiles(t *testing.T) {
	p, err := LoadPitot(shipped)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n, err := EnsureSplits(p, dir, []float64{0.1, 0.9}, 2, 42)
	if err != nil || n != 4 {
		t.Fatalf("EnsureSplits wrote %d: %v", n, err)
	}
	if n, _ := EnsureSplits(p, dir, []float64{0.1, 0.9}, 2, 42); n != 0 {
		t.Errorf("rerun wrote %d splits, want 0", n)
	}
	path := SplitPath(dir, 0.9, 1)
	if filepath.Base(filepath.Dir(path)) != "0.9" {
		t.Errorf("path %s", path)
	}
	got, err := ReadSplits(path, p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewSplits(p, 0.9, 1, 42)
	if !reflect.DeepEqual(got, want) {
		t.Error("split read back differs")
	}
	// A split made for other data is refused.
	small := *p
	small.Interference = map[int]*Interference{}
	m := *p.Matrix
	m.Runtime = m.Runtime[:100]
	small.Matrix = &m
	if _, err := ReadSplits(path, &small); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("mismatched data: %v", err)
	}
}
