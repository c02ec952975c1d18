package conformal

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/internal/filetest"
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
	return filetest.Written(t, "summary.npz", s.Write)
}

func summaryCorruptions(t testing.TB) []filetest.Corruption {
	v := sampleSummary(t)
	set := func(key string, a *npz.Array) []byte {
		return filetest.EditNPZ(t, v, func(keys []string, m map[string]*npz.Array) []string {
			if _, ok := m[key]; !ok {
				keys = append(keys, key)
			}
			m[key] = a
			return keys
		})
	}
	// patch changes one element of the float64 or int64 array under key.
	patch := func(key string, i int, x float64) []byte {
		return filetest.EditNPZ(t, v, func(keys []string, m map[string]*npz.Array) []string {
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
	return []filetest.Corruption{
		{Name: "empty", Data: nil, Key: ""},
		{Name: "truncated", Data: v[:len(v)/2], Key: ""},
		{Name: "not a zip", Data: []byte("quantiles,splits\n90,0.5\n"), Key: ""},
		{Name: "no quantiles", Data: set("quantiles", nil), Key: "quantiles"},
		{Name: "quantiles as strings", Data: set("quantiles", &npz.Array{Shape: []int{3}, Data: []string{"90", "95", "99"}}), Key: "quantiles"},
		{Name: "quantiles 2-d", Data: set("quantiles", &npz.Array{Shape: []int{3, 1}, Data: []float64{90, 95, 99}}), Key: "quantiles"},
		{Name: "quantile NaN", Data: patch("quantiles", 1, nan), Key: "quantiles"},
		{Name: "quantile 100", Data: patch("quantiles", 0, 100), Key: "quantiles"},
		{Name: "quantile negative", Data: patch("quantiles", 2, -5), Key: "quantiles"},
		{Name: "quantiles repeated", Data: patch("quantiles", 2, 95), Key: "quantiles"},
		{Name: "quantiles bool", Data: set("quantiles", &npz.Array{Shape: []int{3}, Data: []bool{true, false, true}}), Key: "quantiles"},
		{Name: "no splits", Data: set("splits", nil), Key: "splits"},
		{Name: "splits 0-d", Data: set("splits", &npz.Array{Data: []float64{0.5}}), Key: "splits"},
		{Name: "level NaN", Data: patch("splits", 0, nan), Key: "splits"},
		{Name: "level 0", Data: patch("splits", 0, 0), Key: "splits"},
		{Name: "level above 1", Data: patch("splits", 1, 90), Key: "splits"},
		{Name: "levels repeated", Data: patch("splits", 1, 0.5), Key: "splits"},
		{Name: "no levels", Data: set("splits", f1()), Key: "if2_mape"},
		{Name: "inputs a number", Data: set("inputs", f1(1)), Key: "inputs"},
		{Name: "inputs two strings", Data: set("inputs", &npz.Array{Shape: []int{2}, Data: []string{"a", "b"}}), Key: "inputs"},
		{Name: "mape 1-d", Data: set("mf_mape", f1(1, 2, 3, 4)), Key: "mf_mape"},
		{Name: "mape of other replicates", Data: set("if2_mape", &npz.Array{Shape: []int{2, 3}, Data: make([]float64, 6)}), Key: "if2_"},
		{Name: "no margin", Data: set("mf_margin", nil), Key: "mf_margin"},
		{Name: "margin 3-d", Data: set("mf_margin", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]float64, 12)}), Key: "mf_margin"},
		{Name: "margin with no heads", Data: set("mf_margin", &npz.Array{Shape: []int{2, 2, 3, 0}, Data: []float64{}}), Key: "mf_margin"},
		{Name: "val_width of other heads", Data: set("mf_val_width", &npz.Array{Shape: []int{2, 2, 3, 3}, Data: make([]float64, 36)}), Key: "mf_val_width"},
		{Name: "no coverage_raw", Data: set("if2_coverage_raw", nil), Key: "if2_coverage_raw"},
		{Name: "width of other alphas", Data: set("mf_width", &npz.Array{Shape: []int{2, 2, 2}, Data: make([]float64, 8)}), Key: "mf_width"},
		{Name: "width as int", Data: set("mf_width", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]int64, 12)}), Key: "mf_width"},
		{Name: "no val_best", Data: set("mf_val_best", nil), Key: "mf_val_best"},
		{Name: "val_best as float", Data: set("mf_val_best", &npz.Array{Shape: []int{2, 2, 3}, Data: make([]float64, 12)}), Key: "mf_val_best"},
		{Name: "val_best beyond the heads", Data: patch("mf_val_best", 4, 2), Key: "mf_val_best"},
		{Name: "val_best huge", Data: patch("if2_val_best", 0, 1<<40), Key: "if2_val_best"},
		{Name: "val_best negative", Data: patch("mf_val_best", 0, -7), Key: "mf_val_best"},
		{Name: "val_best half set", Data: patch("mf_val_best", 7, 0), Key: "mf_val_best"},
		{Name: "val_best half unset", Data: patch("mf_val_best", 1, -1), Key: "mf_val_best"},
		{Name: "objective without a name", Data: set("_mape", &npz.Array{Shape: []int{2, 2}, Data: make([]float64, 4)}), Key: `"_mape"`},
		{Name: "odd key and a missing one", Data: filetest.EditNPZ(t, v, func(keys []string, m map[string]*npz.Array) []string {
			m["x\ny"] = f1(1)
			m["mf_width_raw"] = nil
			return append(keys, "x\ny")
		}), Key: "mf_width_raw"},
	}
}

// TestReadersRejectCorruptFiles checks that every damaged summary gives an
// error on one line that names the file and the offending key.
func TestReadersRejectCorruptFiles(t *testing.T) {
	for _, c := range summaryCorruptions(t) {
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "summary.npz")
			filetest.WriteFile(t, path, c.Data)
			_, err := ReadSummary(path)
			t.Log(err)
			filetest.CheckOneLine(t, err, path, c.Key)
		})
	}
}

func FuzzReadSummary(f *testing.F) {
	v := sampleSummary(f)
	f.Add(v)
	for _, n := range []int{0, 1, 22, len(v) / 4, len(v) / 2, 3 * len(v) / 4, len(v) - 22, len(v) - 1} {
		f.Add(v[:n])
	}
	for _, c := range summaryCorruptions(f) {
		f.Add(c.Data)
	}
	// A file shaped like Pitot's: int64 quantiles, float32 metrics.
	f.Add(filetest.EditNPZ(f, v, func(keys []string, m map[string]*npz.Array) []string {
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
		var s *Summary
		limit := 1<<20 + 8*filetest.Budget(len(b))
		if err := filetest.CheckRead(t, path, b, limit, func() (err error) { s, err = ReadSummary(path); return err }); err != nil {
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
