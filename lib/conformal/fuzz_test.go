package conformal

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/npz"
)

// sampleSummary writes a small summary through Write: two levels, two
// replicates, three alphas, mf with two heads (one run never set) and if2
// with one.
func sampleSummary(t testing.TB) []byte {
	g := rand.New(rand.NewPCG(8, 0))
	alphas := []float64{0.1, 0.05, 0.01}
	s := &Summary{Levels: []float64{0.5, 0.9}, Replicates: 2, Alphas: alphas, Inputs: "sha256:0123"}
	for o, nh := range map[string]int{"mf": 2, "if2": 1} {
		for l := range 2 {
			for r := range 2 {
				if o == "mf" && l == 1 && r == 0 {
					continue
				}
				draw := func(n int) Predictions {
					p := Predictions{Y: make([]float64, n)}
					for i := range p.Y {
						p.Y[i] = 3 + g.NormFloat64()
					}
					for range nh {
						h := make([]float64, n)
						for i := range h {
							h[i] = p.Y[i] + 0.2*g.NormFloat64()
						}
						p.Heads = append(p.Heads, h)
					}
					return p
				}
				e, err := Evaluate(draw(30), draw(20), alphas, Linear)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Set(o, l, r, e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "summary.npz")
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewrite reads the archive b, lets edit change its arrays (in key order,
// nil to drop one), and writes the result.
func rewrite(t testing.TB, b []byte, edit func(keys []string, arrays map[string]*npz.Array) []string) []byte {
	f, err := npz.Parse(b, "sample")
	if err != nil {
		t.Fatal(err)
	}
	keys := f.Keys()
	arrays := map[string]*npz.Array{}
	for _, k := range keys {
		arrays[k], _ = f.Array(k)
	}
	keys = edit(keys, arrays)
	path := filepath.Join(t.TempDir(), "edited.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if a := arrays[k]; a != nil {
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

func summaryCorruptions(t testing.TB) []corruption {
	v := sampleSummary(t)
	set := func(key string, a *npz.Array) []byte {
		return rewrite(t, v, func(keys []string, m map[string]*npz.Array) []string {
			if _, ok := m[key]; !ok {
				keys = append(keys, key)
			}
			m[key] = a
			return keys
		})
	}
	// patch changes one element of the float64 or int64 array under key.
	patch := func(key string, i int, x float64) []byte {
		return rewrite(t, v, func(keys []string, m map[string]*npz.Array) []string {
			a := *m[key]
			switch d := a.Data.(type) {
			case []float64:
				d = append([]float64(nil), d...)
				d[i] = x
				a.Data = d
			case []int64:
				d = append([]int64(nil), d...)
				d[i] = int64(x)
				a.Data = d
			}
			m[key] = &a
			return keys
		})
	}
	f1 := func(v ...float64) *npz.Array { return &npz.Array{Shape: []int{len(v)}, Data: v} }
	nan := math.NaN()
	// L = 2, R = 2, A = 3; mf has 2 heads; run (1, 0) of mf is never set.
	return []corruption{
		{"empty", nil, ""},
		{"truncated", v[:len(v)/2], ""},
		{"not a zip", []byte("quantiles,splits\n90,0.5\n"), ""},
		{"no quantiles", set("quantiles", nil), "quantiles"},
		{"quantiles as strings", set("quantiles", &npz.Array{Shape: []int{3}, Data: []string{"90", "95", "99"}}), "quantiles"},
		{"quantiles 2-d", set("quantiles", &npz.Array{Shape: []int{3, 1}, Data: []float64{90, 95, 99}}), "quantiles"},
		{"quantile NaN", patch("quantiles", 1, nan), "quantiles"},
		{"quantile 100", patch("quantiles", 0, 100), "quantiles"},
		{"quantile negative", patch("quantiles", 2, -5), "quantiles"},
		{"quantiles repeated", patch("quantiles", 2, 95), "quantiles"},
		{"quantiles bool", set("quantiles", &npz.Array{Shape: []int{3}, Data: []bool{true, false, true}}), "quantiles"},
		{"no splits", set("splits", nil), "splits"},
		{"splits 0-d", set("splits", &npz.Array{Data: []float64{0.5}}), "splits"},
		{"level NaN", patch("splits", 0, nan), "splits"},
		{"level 0", patch("splits", 0, 0), "splits"},
		{"level above 1", patch("splits", 1, 90), "splits"},
		{"levels repeated", patch("splits", 1, 0.5), "splits"},
		{"no levels", set("splits", f1()), "if2_mape"},
		{"inputs a number", set("inputs", f1(1)), "inputs"},
		{"inputs two strings", set("inputs", &npz.Array{Shape: []int{2}, Data: []string{"a", "b"}}), "inputs"},
		{"mape 1-d", set("mf_mape", f1(1, 2, 3, 4)), "mf_mape"},
		{"mape of other replicates", set("if2_mape", &npz.Array{Shape: []int{2, 3}, Data: make([]float64, 6)}), "if2_"},
		{"no margin", set("mf_margin", nil), "mf_margin"},
		{"margin 3-d", set("mf_margin", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]float64, 12)}), "mf_margin"},
		{"margin with no heads", set("mf_margin", &npz.Array{Shape: []int{2, 2, 3, 0}, Data: []float64{}}), "mf_margin"},
		{"val_width of other heads", set("mf_val_width", &npz.Array{Shape: []int{2, 2, 3, 3}, Data: make([]float64, 36)}), "mf_val_width"},
		{"no coverage_raw", set("if2_coverage_raw", nil), "if2_coverage_raw"},
		{"width of other alphas", set("mf_width", &npz.Array{Shape: []int{2, 2, 2}, Data: make([]float64, 8)}), "mf_width"},
		{"width as int", set("mf_width", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]int64, 12)}), "mf_width"},
		{"no val_best", set("mf_val_best", nil), "mf_val_best"},
		{"val_best as float", set("mf_val_best", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]float64, 12)}), "mf_val_best"},
		{"val_best beyond the heads", patch("mf_val_best", 4, 2), "mf_val_best"},
		{"val_best huge", patch("if2_val_best", 0, 1<<40), "if2_val_best"},
		{"val_best negative", patch("mf_val_best", 0, -7), "mf_val_best"},
		{"val_best half set", patch("mf_val_best", 7, 0), "mf_val_best"},
		{"val_best half unset", patch("mf_val_best", 1, -1), "mf_val_best"},
		{"objective without a name", set("_mape", &npz.Array{Shape: []int{2, 2}, Data: make([]float64, 4)}), `"_mape"`},
		{"odd key and a missing one", rewrite(t, v, func(keys []string, m map[string]*npz.Array) []string {
			m["x\ny"] = f1(1)
			m["mf_width_raw"] = nil
			return append(keys, "x\ny")
		}), "mf_width_raw"},
	}
}

// TestReadersRejectCorruptFiles checks that every damaged summary gives an
// error on one line that names the file and the offending key.
func TestReadersRejectCorruptFiles(t *testing.T) {
	for _, c := range summaryCorruptions(t) {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "summary.npz")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSummary(path)
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

func FuzzReadSummary(f *testing.F) {
	v := sampleSummary(f)
	f.Add(v)
	for _, n := range []int{0, 1, 22, len(v) / 4, len(v) / 2, 3 * len(v) / 4, len(v) - 22, len(v) - 1} {
		f.Add(v[:n])
	}
	for _, c := range summaryCorruptions(f) {
		f.Add(c.data)
	}
	// A file shaped like Pitot's: int64 quantiles, float32 metrics.
	f.Add(rewrite(f, v, func(keys []string, m map[string]*npz.Array) []string {
		m["quantiles"] = &npz.Array{Shape: []int{3}, Data: []int64{90, 95, 99}}
		for _, k := range keys {
			if d, ok := m[k].Data.([]float64); ok && strings.HasPrefix(k, "mf_") {
				d32 := make([]float32, len(d))
				for i, x := range d {
					d32[i] = float32(x)
				}
				m[k] = &npz.Array{Shape: m[k].Shape, Data: d32}
			}
		}
		return keys
	}))
	// Small budgets, so that the bound on what a read may allocate is
	// tight: the archive's arrays may hold 64 KiB plus 16 times its size.
	oldMin := npz.MinBudget
	npz.MinBudget = 64 << 10
	f.Cleanup(func() { npz.MinBudget = oldMin })
	path := filepath.Join(f.TempDir(), "summary.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		before := allocated()
		s, err := ReadSummary(path)
		budget := uint64(npz.MinBudget + npz.MaxInflate*int64(len(b)))
		if got, limit := allocated()-before, 1<<20+8*budget; got > limit {
			t.Errorf("reading %d bytes allocated %d bytes, more than %d", len(b), got, limit)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
				t.Errorf("error is not one line naming %s: %q", path, err)
			}
			return
		}
		// Whatever reads back can be used through every accessor.
		for _, a := range s.Alphas {
			if !(a > 0 && a < 1) {
				t.Errorf("alpha %v outside (0, 1)", a)
			}
		}
		for _, o := range s.Objectives() {
			nh := s.Heads(o)
			if nh < 1 || s.Replicates < 1 {
				t.Fatalf("%s: %d heads, %d replicates", o, nh, s.Replicates)
			}
			s.MAPE(o)
			s.Width(o)
			s.Coverage(o)
			s.ValWidth(o)
			s.Margin(o)
			s.WidthRaw(o)
			s.CoverageRaw(o)
			vb := s.ValBest(o)
			for l := range s.Levels {
				for r := range s.Replicates {
					e, ok := s.Get(o, l, r)
					for a, j := range vb[l][r] {
						if ok && (j < 0 || j >= nh || e.ValBest[a] != j) || !ok && j != -1 {
							t.Fatalf("%s run (%d, %d): set %v, val_best %v", o, l, r, ok, vb[l][r])
						}
					}
					if ok {
						_ = e.Margin[len(s.Alphas)-1][nh-1]
					}
				}
			}
		}
	})
}
