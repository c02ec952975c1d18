package dataset

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/paperlab/paperlab/lib/internal/filetest"
	"github.com/paperlab/paperlab/lib/npz"
)

// smallPitot is the shipped dataset cut to its first 60 matrix and 40 if2
// observations, so that its split files are small enough to fuzz quickly.
func smallPitot(p *Pitot) *Pitot {
	small := *p
	m := *p.Matrix
	m.Runtime = m.Runtime[:60]
	small.Matrix = &m
	small.Interference = map[int]*Interference{}
	if s := p.Interference[2]; s != nil {
		s2 := *s
		s2.Runtime = s2.Runtime[:40]
		small.Interference[2] = &s2
	}
	return &small
}

func loadShipped(t testing.TB) *Pitot {
	p, err := LoadPitot(shipped)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// splitFile writes the level-0.5, replicate-1 split of p and returns its
// bytes.
func splitFile(t testing.TB, p *Pitot) []byte {
	s, err := NewSplits(p, 0.5, 1, DefaultSplitSeed)
	if err != nil {
		t.Fatal(err)
	}
	return filetest.Written(t, "1.npz", s.Write)
}

func splitCorruptions(t testing.TB, p *Pitot) []filetest.Corruption {
	v := splitFile(t, p)
	e := func(f func(m map[string]*npz.Array)) []byte {
		return filetest.EditNPZ(t, v, func(keys []string, m map[string]*npz.Array) []string { f(m); return keys })
	}
	ints := func(key string) []int64 {
		f, err := npz.Parse(v, "split")
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := f.Int64(key)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(d)
	}
	vec := func(d []int64) *npz.Array { return &npz.Array{Shape: []int{len(d)}, Data: d} }
	// set replaces element i of the index array under key by x.
	set := func(key string, i int, x int64) []byte {
		d := ints(key)
		d[i] = x
		return e(func(m map[string]*npz.Array) { m[key] = vec(d) })
	}
	n := p.Observations("mf")
	train, val := ints("mf_train"), ints("mf_val")
	return []filetest.Corruption{
		{Name: "empty", Data: nil, Key: ""},
		{Name: "truncated", Data: v[:len(v)/2], Key: ""},
		{Name: "not a zip", Data: []byte("mf_train\n1,2,3\n"), Key: ""},
		{Name: "no level", Data: e(func(m map[string]*npz.Array) { m["level"] = nil }), Key: "level"},
		{Name: "level as float32", Data: e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float32{0.5}} }), Key: "level"},
		{Name: "two levels", Data: e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{2}, Data: []float64{0.5, 0.9}} }), Key: "level"},
		{Name: "level NaN", Data: e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{math.NaN()}} }), Key: "level"},
		{Name: "level 0", Data: e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{0}} }), Key: "level"},
		{Name: "level above 1", Data: e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{50}} }), Key: "level"},
		{Name: "no replicate", Data: e(func(m map[string]*npz.Array) { m["replicate"] = nil }), Key: "replicate"},
		{Name: "replicate as float", Data: e(func(m map[string]*npz.Array) { m["replicate"] = &npz.Array{Shape: []int{1}, Data: []float64{1}} }), Key: "replicate"},
		{Name: "replicate negative", Data: e(func(m map[string]*npz.Array) { m["replicate"] = vec([]int64{-3}) }), Key: "replicate"},
		{Name: "two replicates", Data: e(func(m map[string]*npz.Array) { m["replicate"] = vec([]int64{1, 2}) }), Key: "replicate"},
		{Name: "no seed", Data: e(func(m map[string]*npz.Array) { m["seed"] = nil }), Key: "seed"},
		{Name: "seed as string", Data: e(func(m map[string]*npz.Array) { m["seed"] = &npz.Array{Shape: []int{1}, Data: []string{"42"}} }), Key: "seed"},
		{Name: "no mf_val", Data: e(func(m map[string]*npz.Array) { m["mf_val"] = nil }), Key: "mf_val"},
		{Name: "no if2_test", Data: e(func(m map[string]*npz.Array) { m["if2_test"] = nil }), Key: "if2_test"},
		{Name: "odd key and a missing one", Data: e(func(m map[string]*npz.Array) { m["if2_val"] = nil; m["x\ny"] = vec([]int64{1}) }), Key: "if2_val"},
		{Name: "train as float", Data: e(func(m map[string]*npz.Array) {
			f := make([]float64, len(train))
			for i, x := range train {
				f[i] = float64(x)
			}
			m["mf_train"] = &npz.Array{Shape: []int{len(f)}, Data: f}
		}), Key: "mf_train"},
		{Name: "train as bool", Data: e(func(m map[string]*npz.Array) { m["mf_train"] = &npz.Array{Shape: []int{2}, Data: []bool{true, false}} }), Key: "mf_train"},
		{Name: "val 2-d", Data: e(func(m map[string]*npz.Array) { m["mf_val"] = &npz.Array{Shape: []int{1, len(val)}, Data: val} }), Key: "mf_val"},
		{Name: "val 0-d", Data: e(func(m map[string]*npz.Array) { m["mf_val"] = &npz.Array{Data: val[:1]} }), Key: "mf_val"},
		{Name: "negative index", Data: set("mf_train", 3, -1), Key: "mf_train"},
		{Name: "index past the end", Data: set("mf_test", 0, int64(n)), Key: "mf_test"},
		{Name: "huge index", Data: set("if2_val", 1, 1<<62), Key: "if2_val"},
		{Name: "repeated in a part", Data: set("mf_train", 1, train[0]), Key: "mf_train"},
		{Name: "repeated across parts", Data: set("mf_val", 0, train[0]), Key: "mf_val"},
		{Name: "index dropped", Data: e(func(m map[string]*npz.Array) { m["mf_test"] = vec(ints("mf_test")[1:]) }), Key: "mf_"},
		{Name: "parts swapped across objectives", Data: e(func(m map[string]*npz.Array) { m["mf_train"], m["if2_train"] = m["if2_train"], m["mf_train"] }), Key: "mf_train"},
		{Name: "uint8 indices beyond the observations", Data: e(func(m map[string]*npz.Array) {
			m["mf_val"] = &npz.Array{Shape: []int{4 * n}, Data: make([]uint8, 4*n)}
		}), Key: "mf_val"},
	}
}

// TestReadersRejectCorruptFiles checks that every damaged split file of the
// shipped dataset gives an error on one line that names the file and the
// offending key.
func TestReadersRejectCorruptFiles(t *testing.T) {
	p := loadShipped(t)
	for _, c := range splitCorruptions(t, p) {
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "1.npz")
			filetest.WriteFile(t, path, c.Data)
			_, err := ReadSplits(path, p)
			t.Log(err)
			filetest.CheckOneLine(t, err, path, c.Key)
		})
	}
}

// FuzzReadSplits reads every input against a small cut of the shipped
// dataset (seeded with its split files, to fuzz quickly) and against the
// whole one (seeded with one real split file).
func FuzzReadSplits(f *testing.F) {
	p := loadShipped(f)
	small := smallPitot(p)
	v := splitFile(f, small)
	f.Add(v)
	f.Add(splitFile(f, p))
	for _, n := range []int{0, 1, 22, len(v) / 4, len(v) / 2, 3 * len(v) / 4, len(v) - 22, len(v) - 1} {
		f.Add(v[:n])
	}
	for _, c := range splitCorruptions(f, small) {
		f.Add(c.Data)
	}
	// Small budgets, so that the bound on what a read may allocate is
	// tight: the archive's arrays may hold 64 KiB plus 16 times its size.
	oldMin := npz.MinBudget
	npz.MinBudget = 64 << 10
	f.Cleanup(func() { npz.MinBudget = oldMin })
	dir := f.TempDir()
	path := filepath.Join(dir, "1.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, q := range []*Pitot{small, p} {
			// The data as stored, its conversion to int, and one byte per
			// observation of the dataset.
			limit := 1<<20 + 16*filetest.Budget(len(b)) + 2*uint64(len(b))
			var s *Splits
			if err := filetest.CheckRead(t, path, b, limit, func() (err error) { s, err = ReadSplits(path, q); return err }); err != nil {
				continue
			}
			// A split that reads back partitions every objective.
			for _, obj := range q.Objectives() {
				sp := s.Objectives[obj]
				all := slices.Concat(sp.Train, sp.Val, sp.Test)
				slices.Sort(all)
				for i, x := range all {
					if x != i || len(all) != q.Observations(obj) {
						t.Fatalf("%s: parts are not a partition of %d observations", obj, q.Observations(obj))
					}
				}
			}
			again := filepath.Join(dir, "again.npz")
			if err := s.Write(again); err != nil {
				t.Fatal(err)
			}
			back, err := ReadSplits(again, q)
			if err != nil || !reflect.DeepEqual(back, s) {
				t.Errorf("rewritten split reads back differently: %v", err)
			}
		}
	})
}
