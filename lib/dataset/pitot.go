// Package dataset loads and validates the Pitot datasets: the workload x
// platform runtime matrix with side information (data.npz) and the
// co-location interference sets (if2.npz, if3.npz, if4.npz), as described
// in specs/pitot.md section 1 and in the Pitot paper (MLSys 2025),
// section 5.1.
//
// Runtimes are in microseconds (specs/pitot.md 1.4). Every loader checks
// what the model relies on (lengths agree, indices in range, runtimes finite
// and positive, names and feature tables line up, every interference row has
// an isolated baseline) and reports the first violation as one line naming
// the file, the key and the problem.
package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/paperlab/paperlab/lib/npz"
)

// Side holds the side information of one axis: a name per entity and a
// row-major feature table with a name per column.
type Side struct {
	Names        []string  // n_{axis}: one per entity
	FeatureNames []string  // f_{axis}: one per feature column
	Features     []float32 // d_{axis}: len(Names) x len(FeatureNames), row-major
}

// Len returns the number of entities.
func (s *Side) Len() int { return len(s.Names) }

// Row returns the feature vector of entity i (a view, not a copy).
func (s *Side) Row(i int) []float32 {
	d := len(s.FeatureNames)
	return s.Features[i*d : (i+1)*d]
}

// Matrix is the isolated-runtime matrix of data.npz: observation k is
// workload Workload[k] run alone on platform Platform[k] in Runtime[k] µs.
type Matrix struct {
	Path      string    // the file it was read from
	Runtime   []float64 // t, µs (stored as float32)
	Workload  []int     // i_workload, indexes Workloads
	Platform  []int     // i_platform, indexes Platforms
	Workloads Side      // n_workload, f_workload, d_workload (WASM opcode counts, ln(1+count))
	Platforms Side      // n_platform, f_platform, d_platform (runtime x device features)
}

// Len returns the number of observations.
func (m *Matrix) Len() int { return len(m.Runtime) }

// Interference is one k-way interference set (ifK.npz): workload Workload[r]
// ran on platform Platform[r] beside the Ways-1 workloads
// Interferers[0][r], ..., Interferers[Ways-2][r], in Runtime[r] µs. Indices
// point into the Matrix's axes.
type Interference struct {
	Path        string
	Ways        int // 2, 3 or 4
	Runtime     []float64
	Workload    []int
	Platform    []int
	Interferers [][]int // i_interference0 .. i_interference{Ways-2}
}

// Len returns the number of rows.
func (s *Interference) Len() int { return len(s.Runtime) }

// Pitot is the whole MLSys 2025 dataset: the matrix and the interference
// sets present on disk, keyed by ways (2, 3, 4).
type Pitot struct {
	Dir          string
	Matrix       *Matrix
	Interference map[int]*Interference
}

// Ways lists the interference sets loaded, in increasing order.
func (p *Pitot) Ways() []int {
	var ways []int
	for k := 2; k <= 4; k++ {
		if p.Interference[k] != nil {
			ways = append(ways, k)
		}
	}
	return ways
}

// LoadPitot reads dir/data.npz and whichever of dir/if2.npz, if3.npz and
// if4.npz exist (if3 and if4 are not public; drop them into dir to use them).
func LoadPitot(dir string) (*Pitot, error) {
	m, err := LoadMatrix(filepath.Join(dir, "data.npz"))
	if err != nil {
		return nil, err
	}
	p := &Pitot{Dir: dir, Matrix: m, Interference: map[int]*Interference{}}
	for k := 2; k <= 4; k++ {
		path := filepath.Join(dir, fmt.Sprintf("if%d.npz", k))
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		s, err := LoadInterference(path, k, m)
		if err != nil {
			return nil, err
		}
		p.Interference[k] = s
	}
	return p, nil
}

// LoadMatrix reads and validates a Pitot data.npz.
func LoadMatrix(path string) (*Matrix, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Path: path}
	if m.Runtime, _, err = vector(f.Floats, f, "t"); err != nil {
		return nil, err
	}
	if m.Workload, _, err = vector(f.Ints, f, "i_workload"); err != nil {
		return nil, err
	}
	if m.Platform, _, err = vector(f.Ints, f, "i_platform"); err != nil {
		return nil, err
	}
	if err := side(f, "workload", &m.Workloads); err != nil {
		return nil, err
	}
	if err := side(f, "platform", &m.Platforms); err != nil {
		return nil, err
	}
	n := m.Len()
	if err := sameLen(path, n, "t", map[string]int{"i_workload": len(m.Workload), "i_platform": len(m.Platform)}); err != nil {
		return nil, err
	}
	if err := runtimes(path, "t", m.Runtime); err != nil {
		return nil, err
	}
	if err := indices(path, "i_workload", m.Workload, m.Workloads.Len(), "workloads (n_workload)"); err != nil {
		return nil, err
	}
	if err := indices(path, "i_platform", m.Platform, m.Platforms.Len(), "platforms (n_platform)"); err != nil {
		return nil, err
	}
	seen := make(map[[2]int]int, n)
	for k := range n {
		key := [2]int{m.Workload[k], m.Platform[k]}
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: rows %d and %d both hold workload %d (%s) on platform %d (%s)",
				path, j, k, key[0], m.Workloads.Names[key[0]], key[1], m.Platforms.Names[key[1]])
		}
		seen[key] = k
	}
	return m, nil
}

// LoadInterference reads and validates a ways-way interference set whose
// indices point into m.
func LoadInterference(path string, ways int, m *Matrix) (*Interference, error) {
	if ways < 2 || ways > 4 {
		return nil, fmt.Errorf("%s: interference sets are 2-, 3- or 4-way, not %d-way", path, ways)
	}
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	s := &Interference{Path: path, Ways: ways}
	if s.Runtime, _, err = vector(f.Floats, f, "t"); err != nil {
		return nil, err
	}
	if s.Workload, _, err = vector(f.Ints, f, "i_workload"); err != nil {
		return nil, err
	}
	if s.Platform, _, err = vector(f.Ints, f, "i_platform"); err != nil {
		return nil, err
	}
	lens := map[string]int{"i_workload": len(s.Workload), "i_platform": len(s.Platform)}
	for j := range ways - 1 {
		key := fmt.Sprintf("i_interference%d", j)
		idx, _, err := vector(f.Ints, f, key)
		if err != nil {
			return nil, err
		}
		s.Interferers = append(s.Interferers, idx)
		lens[key] = len(idx)
	}
	if extra := fmt.Sprintf("i_interference%d", ways-1); f.Has(extra) {
		return nil, fmt.Errorf("%s: key %q present: this looks like a %d-way set, loaded as %d-way", path, extra, ways+1, ways)
	}
	if err := sameLen(path, s.Len(), "t", lens); err != nil {
		return nil, err
	}
	if err := runtimes(path, "t", s.Runtime); err != nil {
		return nil, err
	}
	if err := indices(path, "i_workload", s.Workload, m.Workloads.Len(), "workloads in "+m.Path); err != nil {
		return nil, err
	}
	if err := indices(path, "i_platform", s.Platform, m.Platforms.Len(), "platforms in "+m.Path); err != nil {
		return nil, err
	}
	for j, idx := range s.Interferers {
		if err := indices(path, fmt.Sprintf("i_interference%d", j), idx, m.Workloads.Len(), "workloads in "+m.Path); err != nil {
			return nil, err
		}
	}
	iso := m.Index()
	for r := range s.Len() {
		if _, ok := iso[[2]int{s.Workload[r], s.Platform[r]}]; !ok {
			return nil, fmt.Errorf("%s: row %d: workload %d (%s) on platform %d (%s) has no isolated runtime in %s",
				path, r, s.Workload[r], m.Workloads.Names[s.Workload[r]], s.Platform[r], m.Platforms.Names[s.Platform[r]], m.Path)
		}
	}
	return s, nil
}

// Index maps each observed (workload, platform) pair to its row.
func (m *Matrix) Index() map[[2]int]int {
	idx := make(map[[2]int]int, m.Len())
	for k := range m.Len() {
		idx[[2]int{m.Workload[k], m.Platform[k]}] = k
	}
	return idx
}

func vector[T any](get func(string) ([]T, []int, error), f *npz.File, key string) ([]T, []int, error) {
	v, shape, err := get(key)
	if err != nil {
		return nil, nil, err
	}
	if len(shape) != 1 {
		return nil, nil, &npz.Error{File: f.Path, Key: key, Expected: "a 1-d array", Found: fmt.Sprintf("shape %v", shape)}
	}
	return v, shape, nil
}

func side(f *npz.File, axis string, s *Side) error {
	var err error
	nk, fk, dk := "n_"+axis, "f_"+axis, "d_"+axis
	if s.Names, _, err = vector(f.Strings, f, nk); err != nil {
		return err
	}
	if s.FeatureNames, _, err = vector(f.Strings, f, fk); err != nil {
		return err
	}
	var shape []int
	if s.Features, shape, err = f.Float32(dk); err != nil {
		return err
	}
	if want := []int{len(s.Names), len(s.FeatureNames)}; len(shape) != 2 || shape[0] != want[0] || shape[1] != want[1] {
		return &npz.Error{File: f.Path, Key: dk, Expected: fmt.Sprintf("shape %v (len %s x len %s)", want, nk, fk), Found: fmt.Sprintf("shape %v", shape)}
	}
	for i, x := range s.Features {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			d := len(s.FeatureNames)
			return fmt.Errorf("%s: key %q: %s feature %q is %v", f.Path, dk, s.Names[i/d], s.FeatureNames[i%d], x)
		}
	}
	seen := map[string]bool{}
	for _, name := range s.Names {
		if seen[name] {
			return fmt.Errorf("%s: key %q: name %q appears twice", f.Path, nk, name)
		}
		seen[name] = true
	}
	return nil
}

func sameLen(path string, n int, ref string, lens map[string]int) error {
	for _, key := range sortedKeys(lens) {
		if lens[key] != n {
			return &npz.Error{File: path, Key: key, Expected: fmt.Sprintf("length %d (as %q)", n, ref), Found: fmt.Sprintf("length %d", lens[key])}
		}
	}
	return nil
}

func runtimes(path, key string, t []float64) error {
	for r, x := range t {
		if !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: key %q: row %d: runtime %v is not a finite positive number of µs", path, key, r, x)
		}
	}
	return nil
}

func indices(path, key string, idx []int, n int, what string) error {
	for r, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("%s: key %q: row %d: index %d outside [0, %d), the %d %s", path, key, r, i, n, n, what)
		}
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
