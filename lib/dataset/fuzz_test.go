package dataset

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

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
	path := filepath.Join(t.TempDir(), "1.npz")
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewriteSplit reads the archive b, lets edit change its arrays (nil drops
// one; keys added go last), and writes the result.
func rewriteSplit(t testing.TB, b []byte, edit func(m map[string]*npz.Array)) []byte {
	f, err := npz.Parse(b, "split")
	if err != nil {
		t.Fatal(err)
	}
	keys := f.Keys()
	m := map[string]*npz.Array{}
	for _, k := range keys {
		m[k], _ = f.Array(k)
	}
	edit(m)
	for k := range m {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	path := filepath.Join(t.TempDir(), "edited.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if a := m[k]; a != nil {
			if err := w.WriteArray(k, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// corruption is a damaged file and the key its error must name.
type corruption struct {
	name string
	data []byte
	key  string
}

func splitCorruptions(t testing.TB, p *Pitot) []corruption {
	v := splitFile(t, p)
	e := func(f func(m map[string]*npz.Array)) []byte { return rewriteSplit(t, v, f) }
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
	return []corruption{
		{"empty", nil, ""},
		{"truncated", v[:len(v)/2], ""},
		{"not a zip", []byte("mf_train\n1,2,3\n"), ""},
		{"no level", e(func(m map[string]*npz.Array) { m["level"] = nil }), "level"},
		{"level as float32", e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float32{0.5}} }), "level"},
		{"two levels", e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{2}, Data: []float64{0.5, 0.9}} }), "level"},
		{"level NaN", e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{math.NaN()}} }), "level"},
		{"level 0", e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{0}} }), "level"},
		{"level above 1", e(func(m map[string]*npz.Array) { m["level"] = &npz.Array{Shape: []int{1}, Data: []float64{50}} }), "level"},
		{"no replicate", e(func(m map[string]*npz.Array) { m["replicate"] = nil }), "replicate"},
		{"replicate as float", e(func(m map[string]*npz.Array) { m["replicate"] = &npz.Array{Shape: []int{1}, Data: []float64{1}} }), "replicate"},
		{"replicate negative", e(func(m map[string]*npz.Array) { m["replicate"] = vec([]int64{-3}) }), "replicate"},
		{"two replicates", e(func(m map[string]*npz.Array) { m["replicate"] = vec([]int64{1, 2}) }), "replicate"},
		{"no seed", e(func(m map[string]*npz.Array) { m["seed"] = nil }), "seed"},
		{"seed as string", e(func(m map[string]*npz.Array) { m["seed"] = &npz.Array{Shape: []int{1}, Data: []string{"42"}} }), "seed"},
		{"no mf_val", e(func(m map[string]*npz.Array) { m["mf_val"] = nil }), "mf_val"},
		{"no if2_test", e(func(m map[string]*npz.Array) { m["if2_test"] = nil }), "if2_test"},
		{"odd key and a missing one", e(func(m map[string]*npz.Array) { m["if2_val"] = nil; m["x\ny"] = vec([]int64{1}) }), "if2_val"},
		{"train as float", e(func(m map[string]*npz.Array) {
			f := make([]float64, len(train))
			for i, x := range train {
				f[i] = float64(x)
			}
			m["mf_train"] = &npz.Array{Shape: []int{len(f)}, Data: f}
		}), "mf_train"},
		{"train as bool", e(func(m map[string]*npz.Array) { m["mf_train"] = &npz.Array{Shape: []int{2}, Data: []bool{true, false}} }), "mf_train"},
		{"val 2-d", e(func(m map[string]*npz.Array) { m["mf_val"] = &npz.Array{Shape: []int{1, len(val)}, Data: val} }), "mf_val"},
		{"val 0-d", e(func(m map[string]*npz.Array) { m["mf_val"] = &npz.Array{Data: val[:1]} }), "mf_val"},
		{"negative index", set("mf_train", 3, -1), "mf_train"},
		{"index past the end", set("mf_test", 0, int64(n)), "mf_test"},
		{"huge index", set("if2_val", 1, 1<<62), "if2_val"},
		{"repeated in a part", set("mf_train", 1, train[0]), "mf_train"},
		{"repeated across parts", set("mf_val", 0, train[0]), "mf_val"},
		{"index dropped", e(func(m map[string]*npz.Array) { m["mf_test"] = vec(ints("mf_test")[1:]) }), "mf_"},
		{"parts swapped across objectives", e(func(m map[string]*npz.Array) { m["mf_train"], m["if2_train"] = m["if2_train"], m["mf_train"] }), "mf_train"},
		{"uint8 indices beyond the observations", e(func(m map[string]*npz.Array) {
			m["mf_val"] = &npz.Array{Shape: []int{4 * n}, Data: make([]uint8, 4*n)}
		}), "mf_val"},
	}
}

// TestReadersRejectCorruptFiles checks that every damaged split file of the
// shipped dataset gives an error on one line that names the file and the
// offending key.
func TestReadersRejectCorruptFiles(t *testing.T) {
	p := loadShipped(t)
	for _, c := range splitCorruptions(t, p) {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "1.npz")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSplits(path, p)
			t.Log(err)
			switch {
			case err == nil:
				t.Fatal("no error")
			case strings.Contains(err.Error(), "\n"):
				t.Errorf("error spans lines: %q", err)
			case !strings.Contains(err.Error(), path):
				t.Errorf("error does not name the file: %v", err)
			case c.key != "" && !strings.Contains(err.Error(), c.key):
				t.Errorf("error does not name %s: %v", c.key, err)
			}
		})
	}
}

// allocated returns the bytes allocated on the heap so far. It reads
// runtime/metrics, which unlike runtime.ReadMemStats does not stop the
// world (doing that on every input starves the fuzzing engine's timers).
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
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
		f.Add(c.data)
	}
	// Small budgets, so that the bound on what a read may allocate is
	// tight: the archive's arrays may hold 64 KiB plus 16 times its size.
	oldMin := npz.MinBudget
	npz.MinBudget = 64 << 10
	f.Cleanup(func() { npz.MinBudget = oldMin })
	dir := f.TempDir()
	path := filepath.Join(dir, "1.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, q := range []*Pitot{small, p} {
			before := allocated()
			s, err := ReadSplits(path, q)
			// The data as stored, its conversion to int, and one byte per
			// observation of the dataset.
			budget := uint64(npz.MinBudget + npz.MaxInflate*int64(len(b)))
			if got, limit := allocated()-before, 1<<20+16*budget+2*uint64(len(b)); got > limit {
				t.Errorf("reading %d bytes allocated %d bytes, more than %d", len(b), got, limit)
			}
			if err != nil {
				if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
					t.Errorf("error is not one line naming %s: %q", path, err)
				}
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
