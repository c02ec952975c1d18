package dataset

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/paperlab/paperlab/lib/npz"
)

// Split divides one objective's observations (row indices of the matrix or
// of an interference set) into train, validation and test parts.
type Split struct {
	Train, Val, Test []int
}

// Splits holds one replicate's split of every objective at one data level.
// Objectives are named "mf" (the matrix) and "if2", "if3", "if4".
type Splits struct {
	Level      float64
	Replicate  int
	Seed       uint64
	Objectives map[string]Split
}

// Levels are the paper's data levels: train + validation take this fraction
// of every objective's observations (specs/pitot.md section 4).
var Levels = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}

// DefaultSplitSeed is the base seed of the paper's splits (`split --seed 42`).
const DefaultSplitSeed = 42

// Objectives lists the objective names of p in order: "mf", then "ifK" for
// each interference set present.
func (p *Pitot) Objectives() []string {
	obj := []string{"mf"}
	for _, k := range p.Ways() {
		obj = append(obj, fmt.Sprintf("if%d", k))
	}
	return obj
}

// Observations returns the number of observations of an objective.
func (p *Pitot) Observations(objective string) int {
	if objective == "mf" {
		return p.Matrix.Len()
	}
	for _, k := range p.Ways() {
		if objective == fmt.Sprintf("if%d", k) {
			return p.Interference[k].Len()
		}
	}
	return 0
}

// NewSplits splits every objective of p at level (train 0.8*level,
// validation 0.2*level, test the rest, each over observations), as
// specs/pitot.md section 4 does, but with this package's own random stream
// so that splits are identical on every machine: each objective is permuted
// independently by a PCG generator seeded from (level, replicate, seed,
// objective).
func NewSplits(p *Pitot, level float64, replicate int, seed uint64) (*Splits, error) {
	if !(level > 0 && level <= 1) {
		return nil, fmt.Errorf("dataset: split level %v outside (0, 1]", level)
	}
	s := &Splits{Level: level, Replicate: replicate, Seed: seed, Objectives: map[string]Split{}}
	for _, obj := range p.Objectives() {
		s.Objectives[obj] = split(p.Observations(obj), level, Stream("split", LevelName(level), strconv.Itoa(replicate), strconv.FormatUint(seed, 10), obj))
	}
	return s, nil
}

func split(n int, level float64, rng *rand.Rand) Split {
	perm := Permutation(rng, n)
	nTrain := int(float64(n) * (0.8 * level))
	nVal := int(float64(n) * (0.2 * level))
	return Split{Train: perm[:nTrain], Val: perm[nTrain : nTrain+nVal], Test: perm[nTrain+nVal:]}
}

// Stream returns a PCG random stream seeded by hashing the given parts: the
// project's way to derive a seed from a configuration, never the clock.
func Stream(parts ...string) *rand.Rand {
	h := fnv.New128a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	var a, b uint64
	for i := range 8 {
		a = a<<8 | uint64(sum[i])
		b = b<<8 | uint64(sum[8+i])
	}
	return rand.New(rand.NewPCG(a, b))
}

// Permutation returns a uniformly random permutation of 0..n-1 by
// Fisher-Yates, drawing bounded integers with Lemire's multiply-and-reject
// method from rng.Uint64, so the result depends only on the PCG stream and
// not on the standard library's shuffling algorithm.
func Permutation(rng *rand.Rand, n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uniform(rng, uint64(i+1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// uniform returns a uniform integer in [0, n) (Lemire 2019, "Fast random
// integer generation in an interval").
func uniform(rng *rand.Rand, n uint64) uint64 {
	hi, lo := bits.Mul64(rng.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(rng.Uint64(), n)
		}
	}
	return hi
}

// LevelName formats a level as used in paths: 0.9 -> "0.9".
func LevelName(level float64) string { return strconv.FormatFloat(level, 'f', -1, 64) }

// SplitPath returns dir/<level>/<replicate>.npz.
func SplitPath(dir string, level float64, replicate int) string {
	return filepath.Join(dir, LevelName(level), strconv.Itoa(replicate)+".npz")
}

// Write saves s atomically as an .npz with keys "<objective>_train",
// "_val" and "_test" (int64 observation indices), plus "level",
// "replicate" and "seed".
func (s *Splits) Write(path string) error {
	w, err := npz.Create(path)
	if err != nil {
		return err
	}
	objs := make([]string, 0, len(s.Objectives))
	for o := range s.Objectives {
		objs = append(objs, o)
	}
	slices.Sort(objs)
	for _, o := range objs {
		sp := s.Objectives[o]
		for _, part := range []struct {
			name string
			idx  []int
		}{{"train", sp.Train}, {"val", sp.Val}, {"test", sp.Test}} {
			if err := w.Write(o+"_"+part.name, toInt64(part.idx)); err != nil {
				w.Abort()
				return err
			}
		}
	}
	w.Write("level", []float64{s.Level})
	w.Write("replicate", []int64{int64(s.Replicate)})
	if err := w.Write("seed", []int64{int64(s.Seed)}); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ReadSplits loads a split file written by Write and checks it against p:
// "level" one float64 in (0, 1], "replicate" one non-negative integer,
// "seed" one integer, and for every objective of p the three parts, each
// a one-dimensional integer array, together a permutation of the
// objective's observations. Errors are one line naming the file, the key,
// what was expected and what was found; indices are checked before any
// memory is spent on them.
func ReadSplits(path string, p *Pitot) (*Splits, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	s := &Splits{Objectives: map[string]Split{}}
	if !f.Has("level") {
		return nil, &npz.Error{File: path, Key: "level", Expected: "one float64", Found: "no such key"}
	}
	if s.Level, err = f.Float64Scalar("level"); err != nil {
		return nil, err
	}
	if !(s.Level > 0 && s.Level <= 1) {
		return nil, &npz.Error{File: path, Key: "level", Expected: "a level in (0, 1]", Found: fmt.Sprint(s.Level)}
	}
	rep, err := oneInt(f, "replicate")
	if err != nil {
		return nil, err
	}
	if rep < 0 {
		return nil, &npz.Error{File: path, Key: "replicate", Expected: "a non-negative integer", Found: fmt.Sprint(rep)}
	}
	s.Replicate = int(rep)
	seed, err := oneInt(f, "seed")
	if err != nil {
		return nil, err
	}
	s.Seed = uint64(seed)
	for _, obj := range p.Objectives() {
		var sp Split
		n := p.Observations(obj)
		// part[j] is 1 + the part that holds observation j, 0 if none yet.
		part := make([]uint8, n)
		names := []string{"train", "val", "test"}
		total := 0
		for i, dst := range []*[]int{&sp.Train, &sp.Val, &sp.Test} {
			key := obj + "_" + names[i]
			if !f.Has(key) {
				return nil, &npz.Error{File: path, Key: key, Expected: "an array of observation indices", Found: "no such key"}
			}
			a, err := f.Array(key)
			if err != nil {
				return nil, err
			}
			if len(a.Shape) != 1 {
				return nil, &npz.Error{File: path, Key: key, Expected: "1 dimension", Found: "shape " + npz.ShapeString(a.Shape)}
			}
			at, ok := indexer(a.Data)
			if !ok {
				return nil, &npz.Error{File: path, Key: key, Expected: "an integer dtype", Found: a.DType}
			}
			m := a.Len()
			for r := range m {
				j := at(r)
				if j < 0 || j >= int64(n) {
					return nil, &npz.Error{File: path, Key: key, Expected: fmt.Sprintf("indices in [0, %d), the observations of %s", n, obj),
						Found: fmt.Sprintf("%d at [%d], out of range", j, r)}
				}
				if k := part[j]; k != 0 {
					return nil, &npz.Error{File: path, Key: key, Expected: "each observation in one part, once",
						Found: fmt.Sprintf("%d at [%d], repeated from %s_%s", j, r, obj, names[k-1])}
				}
				part[j] = uint8(i + 1)
			}
			// Every index is distinct and in range, so m ≤ n: the copy
			// costs no more than the observations.
			idx := make([]int, m)
			for r := range idx {
				idx[r] = int(at(r))
			}
			total += m
			*dst = idx
		}
		if total != n {
			return nil, &npz.Error{File: path, Key: obj + "_train/_val/_test", Expected: fmt.Sprintf("%d indices together, the observations of %s", n, obj),
				Found: fmt.Sprintf("%d; the split was made for other data", total)}
		}
		s.Objectives[obj] = sp
	}
	return s, nil
}

// oneInt returns the single element of the integer array under key.
func oneInt(f *npz.File, key string) (int64, error) {
	if !f.Has(key) {
		return 0, &npz.Error{File: f.Path, Key: key, Expected: "one integer", Found: "no such key"}
	}
	a, err := f.Array(key)
	if err != nil {
		return 0, err
	}
	at, ok := indexer(a.Data)
	switch {
	case !ok:
		return 0, &npz.Error{File: f.Path, Key: key, Expected: "one integer", Found: "dtype " + a.DType}
	case a.Len() != 1:
		return 0, &npz.Error{File: f.Path, Key: key, Expected: "one integer", Found: "shape " + npz.ShapeString(a.Shape)}
	}
	return at(0), nil
}

// indexer returns a function reading element i of an integer array's data
// as int64, and false for data of another type.
func indexer(data any) (func(i int) int64, bool) {
	switch v := data.(type) {
	case []int64:
		return func(i int) int64 { return v[i] }, true
	case []int32:
		return func(i int) int64 { return int64(v[i]) }, true
	case []int16:
		return func(i int) int64 { return int64(v[i]) }, true
	case []int8:
		return func(i int) int64 { return int64(v[i]) }, true
	case []uint32:
		return func(i int) int64 { return int64(v[i]) }, true
	case []uint16:
		return func(i int) int64 { return int64(v[i]) }, true
	case []uint8:
		return func(i int) int64 { return int64(v[i]) }, true
	}
	return nil, false
}

// EnsureSplits writes the splits of every level and replicate under dir
// that are not there yet, and returns how many it wrote. Existing files are
// kept: a split never changes once made.
func EnsureSplits(p *Pitot, dir string, levels []float64, replicates int, seed uint64) (int, error) {
	written := 0
	for _, level := range levels {
		for r := range replicates {
			path := SplitPath(dir, level, r)
			if _, err := os.Stat(path); err == nil {
				continue
			} else if !errors.Is(err, fs.ErrNotExist) {
				return written, err
			}
			s, err := NewSplits(p, level, r, seed)
			if err != nil {
				return written, err
			}
			if err := s.Write(path); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}

func toInt64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
