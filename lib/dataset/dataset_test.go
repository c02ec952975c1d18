package dataset

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/npz"
)

const shipped = "../../data/pitot"

// TestShipped checks the public files against the counts of specs/pitot.md
// 1.2 (read there with NumPy).
func TestShipped(t *testing.T) {
	p, err := LoadPitot(shipped)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(p)
	if s.Observations != 53637 || s.Workloads != 249 || s.Platforms != 231 {
		t.Errorf("matrix: %d observations of %d x %d", s.Observations, s.Workloads, s.Platforms)
	}
	if got := math.Round(10000*s.Density) / 100; got != 93.25 {
		t.Errorf("density %.2f %%, want 93.25", got)
	}
	wantSuites := map[string]int{"polybench": 90, "libsodium": 61, "mibench": 35, "vision": 27, "cortex": 24, "python": 12}
	for _, c := range s.Suites {
		if wantSuites[c.Label] != c.Entities {
			t.Errorf("suite %s: %d workloads, want %d", c.Label, c.Entities, wantSuites[c.Label])
		}
	}
	wantRuntimes := map[string]int{"iwasm-a": 22, "iwasm-i": 24, "wasm3-i": 24, "wasmedge-i": 23, "wasmer-a-cl": 23,
		"wasmer-a-ll": 23, "wasmer-j-cl": 23, "wasmer-j-sp": 23, "wasmtime-a": 23, "wasmtime-j": 23}
	for _, c := range s.Runtimes {
		if wantRuntimes[c.Label] != c.Entities {
			t.Errorf("runtime %s: %d platforms, want %d", c.Label, c.Entities, wantRuntimes[c.Label])
		}
	}
	if len(s.Interference) == 0 || s.Interference[0].Ways != 2 {
		t.Fatalf("no 2-way interference: %+v", s.Interference)
	}
	is := s.Interference[0]
	if is.Rows != 98957 || is.Workloads != 237 || is.Platforms != 230 {
		t.Errorf("if2: %d rows, %d workloads, %d platforms", is.Rows, is.Workloads, is.Platforms)
	}
	// Quantiles 1, 25, 50, 75, 99 % and max from specs/pitot.md 1.2, to the
	// two decimals given there.
	want := []float64{0.77, 1.07, 1.18, 1.56, 2.82, 9.51}
	for i, q := range SummaryQuantiles {
		if got := math.Round(100*is.Slowdown[i]) / 100; got != want[i] {
			t.Errorf("if2 slowdown q%g = %.4f, want %.2f", q, is.Slowdown[i], want[i])
		}
	}
	if math.Round(100*is.Faster) != 7 {
		t.Errorf("faster fraction %.3f, want about 0.07", is.Faster)
	}
	if n := p.Matrix.Platforms.Names[0]; Runtime(n) != "iwasm-a" || Device(n) != "hc-10" {
		t.Errorf("platform 0 = %q", n)
	}
	if w := p.Matrix.Workloads.Row(0); len(w) != 141 || w[2] != p.Matrix.Workloads.Features[2] {
		t.Error("Row(0) is not the first feature row")
	}
}

func TestQuantile(t *testing.T) {
	// Hand-computed type-7 quantiles of {1, 2, 4, 8}: h = 3q.
	x := []float64{8, 1, 4, 2}
	cases := []struct{ q, want float64 }{
		{0, 1}, {1, 8}, {0.5, 3}, {0.25, 1.75}, {0.9, 6.8}, {1.0 / 3, 2},
	}
	for _, c := range cases {
		if got := Quantile(x, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if x[0] != 8 {
		t.Error("Quantile sorted its input")
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"polybench/medium/2mm": "polybench", "python:go.py": "python", "plain": "plain"} {
		if got := Suite(in); got != want {
			t.Errorf("Suite(%q) = %q, want %q", in, got, want)
		}
	}
}

// rewrite copies src to dir/name, letting edit change the arrays first.
func rewrite(t *testing.T, src, dir, name string, edit func(arrays map[string]*npz.Array)) string {
	t.Helper()
	f, err := npz.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	arrays := map[string]*npz.Array{}
	for _, k := range f.Keys() {
		a, _ := f.Array(k)
		arrays[k] = a
	}
	edit(arrays)
	path := filepath.Join(dir, name)
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Original keys in order, then those an edit may add.
	for _, k := range append(f.Keys(), "i_interference1", "i_interference2") {
		if a, ok := arrays[k]; ok {
			if err := w.WriteArray(k, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestValidation corrupts one thing at a time and checks for a one-line
// error naming the file and the problem.
func TestValidation(t *testing.T) {
	data := filepath.Join(shipped, "data.npz")
	if2 := filepath.Join(shipped, "if2.npz")
	cases := []struct {
		name string
		src  string // data or if2
		edit func(map[string]*npz.Array)
		want string
	}{
		{"index out of range", data, func(a map[string]*npz.Array) { a["i_platform"].Data.([]int64)[17] = 231 },
			`key "i_platform": row 17: index 231 outside [0, 231), the 231 platforms`},
		{"negative runtime", data, func(a map[string]*npz.Array) { a["t"].Data.([]float32)[5] = -1 },
			`key "t": row 5: runtime -1 is not a finite positive number of µs`},
		{"NaN runtime", data, func(a map[string]*npz.Array) { a["t"].Data.([]float32)[6] = float32(math.NaN()) },
			`key "t": row 6: runtime NaN`},
		{"length mismatch", data, func(a map[string]*npz.Array) {
			v := a["i_workload"].Data.([]int64)
			a["i_workload"] = &npz.Array{Shape: []int{len(v) - 1}, Data: v[:len(v)-1]}
		}, `key "i_workload": expected length 53637 (as "t"), found length 53636`},
		{"wrong dtype", data, func(a map[string]*npz.Array) {
			a["n_platform"] = &npz.Array{Shape: []int{231}, Data: make([]float32, 231)}
		}, `key "n_platform": expected dtype <Un, found <f4`},
		{"features misaligned", data, func(a map[string]*npz.Array) {
			v := a["f_platform"].Data.([]string)
			a["f_platform"] = &npz.Array{Shape: []int{38}, Data: v[:38]}
		}, `key "d_platform": expected shape [231 38] (len n_platform x len f_platform), found shape [231 39]`},
		{"duplicate pair", data, func(a map[string]*npz.Array) {
			w, p := a["i_workload"].Data.([]int64), a["i_platform"].Data.([]int64)
			w[1], p[1] = w[0], p[0]
		}, `rows 0 and 1 both hold workload 31`},
		{"missing key", data, func(a map[string]*npz.Array) { delete(a, "i_workload") }, `key "i_workload": no such array`},
		{"2-d index", data, func(a map[string]*npz.Array) { a["i_workload"].Shape = []int{53637 / 3, 3} },
			`key "i_workload": expected a 1-d array, found shape [17879 3]`},
		{"interferer out of range", if2, func(a map[string]*npz.Array) { a["i_interference0"].Data.([]int64)[3] = -2 },
			`key "i_interference0": row 3: index -2 outside [0, 249)`},
		{"no baseline", if2, func(a map[string]*npz.Array) { a["i_platform"].Data.([]int64)[0] = 230 },
			`row 0: workload 71 (`},
		{"3-way key in 2-way file", if2, func(a map[string]*npz.Array) { a["i_interference1"] = a["i_interference0"] },
			`key "i_interference1" present: this looks like a 3-way set`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.src == data {
				rewrite(t, data, dir, "data.npz", c.edit)
				copyFile(t, if2, filepath.Join(dir, "if2.npz"))
			} else {
				copyFile(t, data, filepath.Join(dir, "data.npz"))
				rewrite(t, if2, dir, "if2.npz", c.edit)
			}
			_, err := LoadPitot(dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			file := filepath.Join(dir, filepath.Base(c.src))
			if !strings.HasPrefix(msg, file+": ") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("got  %q\nwant %q in a one-line error about %s", msg, c.want, file)
			}
		})
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(shipped, "data.npz"))
	os.WriteFile(filepath.Join(dir, "data.npz"), b[:len(b)/2], 0o644)
	_, err := LoadPitot(dir)
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "data.npz")+": not a valid NumPy file: not a zip archive") {
		t.Errorf("truncated data.npz: %v", err)
	}
}

// TestOptionalSets checks that if3/if4 are picked up when present: a 3-way
// set is built from if2 rows (a test fixture, not data).
func TestOptionalSets(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join(shipped, "data.npz"), filepath.Join(dir, "data.npz"))
	rewrite(t, filepath.Join(shipped, "if2.npz"), dir, "if3.npz", func(a map[string]*npz.Array) {
		a["i_interference1"] = a["i_interference0"]
	})
	p, err := LoadPitot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Ways()) != "[3]" || len(p.Interference[3].Interferers) != 2 {
		t.Errorf("ways %v", p.Ways())
	}
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
