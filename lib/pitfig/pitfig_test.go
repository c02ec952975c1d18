package pitfig

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/pit"
	"github.com/paperlab/paperlab/lib/pit/suite"
)

// machine is the synthetic machine of the tests.
var machine = suite.Machine{CPU: "Test CPU 9000", Cores: 2, BLAS: "openblas", BLASCore: "Haswell", Kernel: "Gemm",
	GoVersion: "go1.26", GOOS: "linux", Arch: "amd64"}

// synth returns one row per group, x and method, with positive times that
// fall with x, dense work of n³ multiply-adds and sparse work falling with
// x; note, if not nil, gives each row's note.
func synth(exp string, groups []string, xs []float64, methods []string, note func(g, m string, x float64) string) []suite.Row {
	const n = 64
	var rows []suite.Row
	for gi, g := range groups {
		for _, x := range xs {
			for mi, m := range methods {
				frac := 1.0
				if m != suite.MDense && x < 1 {
					frac = 1 - x
				}
				r := suite.Row{Experiment: exp, Group: g, X: x, Method: m, Reps: 5,
					Median: 1e-3 * float64(mi+1+gi) * (1.5 - math.Min(x, 1)),
					Work:   pit.Work{MACs: int64(frac * n * n * n), UsefulMACs: int64((1 - math.Min(x, 0.99)) * n * n * n), IndexReads: 4096},
					Buffer: int64(mi+1) << 20}
				r.Min = r.Median * 0.9
				if note != nil {
					r.Note = note(g, m, x)
				}
				rows = append(rows, r)
			}
		}
	}
	return rows
}

func patternGroups() []string {
	var out []string
	for _, t := range suite.Patterns {
		out = append(out, t.String())
	}
	return out
}

func e1Rows() []suite.Row {
	return synth("E1", patternGroups(), suite.E1Sparsities, KernelMethods, func(g, m string, x float64) string {
		if m != suite.MPITAuto {
			return ""
		}
		if x == 0.5 {
			return "picked dense (0.012 s)"
		}
		return fmt.Sprintf("picked 32x1 (s_eff %.3f, 0.002 s)", x)
	})
}

func e4Rows() []suite.Row {
	rows := synth("E4", []string{"T=4096", "T=1024"}, []float64{64, 128, 256},
		[]string{suite.MLoop, suite.MCap125, suite.MCap2, suite.MPadded, suite.MPIT, suite.MPITIndex},
		func(g, m string, x float64) string { return "dropped 0, padded rows 0" })
	for i := range rows {
		if rows[i].Method == suite.MPITIndex {
			rows[i].Buffer = 0
		}
	}
	return append(rows, suite.Row{Experiment: "E4", Group: "T=1024", X: 64, Method: suite.MAllExperts, Reps: 5,
		Median: 0.5, Min: 0.4, Buffer: 70 << 20})
}

func e9Rows() []suite.Row {
	rows := synth("E9", patternGroups(), suite.E1Sparsities, []string{suite.MDense, suite.MBlock, suite.MPITAuto},
		func(g, m string, x float64) string {
			if m == suite.MPITAuto {
				return suite.ModelNote + "; picked 16x1"
			}
			return suite.ModelNote
		})
	for i := range rows {
		rows[i].Reps = 0
	}
	return rows
}

func calibration() *suite.Calibration {
	tb := pit.CostTable{N: 64, Dense: 0.01}
	for i, t := range suite.CalibrationTiles {
		cv := pit.CostCurve{Tile: t}
		for _, s := range suite.CalibrationSparsities {
			cv.Points = append(cv.Points, pit.CostPoint{Sparsity: s, Seconds: 0.012 * float64(i+1) * (1.01 - s)})
		}
		tb.Curves = append(tb.Curves, cv)
	}
	return &suite.Calibration{Machine: machine, Reps: 3, Table: tb}
}

// build is one figure function on its synthetic rows.
type build struct {
	name       string
	id         string
	rows, cols int
	rowsOf     func() []suite.Row
	draw       func(rows []suite.Row) (*figure.Figure, error)
}

func builds() []build {
	m := machine
	grans3 := []string{"1x1", "16x16", "32x32"}
	return []build{
		{"Kernels", "E1", 2, 4, e1Rows, func(r []suite.Row) (*figure.Figure, error) { return Kernels(r, m) }},
		{"MicroTileOverhead", "E2", 1, 2, func() []suite.Row {
			return synth("E2", []string{"32x64 vs 32x1"}, suite.E2Sparsities, []string{suite.MBlockKern, suite.MPITKernel}, nil)
		}, func(r []suite.Row) (*figure.Figure, error) { return MicroTileOverhead(r, m) }},
		{"IndexCost", "E3", 1, 3, func() []suite.Row {
			return append(synth("E3", grans3, suite.E1Sparsities, IndexMethods[:5], nil),
				synth("E3", grans3[:1], suite.E1Sparsities, []string{suite.MCSRConv}, nil)...)
		}, func(r []suite.Row) (*figure.Figure, error) { return IndexCost(r, m) }},
		{"MoE", "E4", 2, 2, e4Rows, func(r []suite.Row) (*figure.Figure, error) { return MoE(r, m) }},
		{"Seqlen", "E5", 1, 2, func() []suite.Row {
			return append(synth("E5", []string{"GLUE-like, 32x128"}, []float64{16, 32, 64}, SeqlenMethods,
				func(g, m string, x float64) string { return "80.0 % padding" }),
				synth("E5", []string{"long docs, 4x2048"}, []float64{256, 512}, SeqlenMethods, nil)...)
		}, func(r []suite.Row) (*figure.Figure, error) { return Seqlen(r, m) }},
		{"Attention", "E6", 1, 2, func() []suite.Row {
			return synth("E6", AttentionGroups, []float64{2048, 4096}, AttentionMethods, nil)
		}, func(r []suite.Row) (*figure.Figure, error) { return Attention(r, m) }},
		{"Activation", "E7", 1, 2, func() []suite.Row {
			return synth("E7", ActivationGroups, []float64{0.9, 0.95, 0.99}, ActivationMethods, func(g, m string, x float64) string {
				if m == suite.MPITAuto {
					return "picked 4x1 (s_eff 0.815, 0.00998 s)"
				}
				return ""
			})
		}, func(r []suite.Row) (*figure.Figure, error) { return Activation(r, m) }},
		{"Training", "E8", 1, 2, func() []suite.Row {
			return synth("E8", TrainingGroups, []float64{0.5, 0.9, 0.98}, TrainingMethods, nil)
		}, func(r []suite.Row) (*figure.Figure, error) { return Training(r, m) }},
		{"Chooser", "E1", 1, 2, e1Rows, func(r []suite.Row) (*figure.Figure, error) { return Chooser(calibration(), r) }},
		{"GPUModel", "E9", 1, 4, e9Rows, func(r []suite.Row) (*figure.Figure, error) { return GPUModel(r) }},
	}
}

// TestFigures draws every figure from synthetic rows, renders it to SVG
// and checks its panel grid and note.
func TestFigures(t *testing.T) {
	for _, b := range builds() {
		t.Run(b.name, func(t *testing.T) {
			f, err := b.draw(b.rowsOf())
			if err != nil {
				t.Fatal(err)
			}
			if f.Paper != Paper {
				t.Errorf("paper %q, want %q", f.Paper, Paper)
			}
			if len(f.Panels) != b.rows || len(f.Panels[0]) != b.cols {
				t.Errorf("panels %dx%d, want %dx%d", len(f.Panels), len(f.Panels[0]), b.rows, b.cols)
			}
			if len(f.Legend) == 0 {
				t.Error("no figure legend")
			}
			if !strings.Contains(f.Note, b.id) {
				t.Errorf("note does not name %s: %s", b.id, f.Note)
			}
			if b.id != "E9" {
				if !strings.Contains(f.Note, machine.String()) {
					t.Errorf("note does not name the machine %q: %s", machine, f.Note)
				}
				if !strings.Contains(f.Note, "OpenBLAS") || !strings.Contains(f.Note, "pit.Gemm") {
					t.Errorf("note does not name the kernel: %s", f.Note)
				}
				if !strings.Contains(f.Note, "median of 5 interleaved repetitions") {
					t.Errorf("note does not give the repetitions: %s", f.Note)
				}
			}
			for _, line := range strings.Split(f.Note, "\n") {
				if n := len([]rune(line)); n > noteWidth {
					t.Errorf("note line of %d characters: %q", n, line)
				}
			}
			svg, err := f.Render("svg")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(svg[:min(len(svg), 400)], []byte("<svg")) {
				t.Error("not an SVG")
			}
		})
	}
}

// TestMissing drops a group or a method the figure needs and checks the
// error names the figure.
func TestMissing(t *testing.T) {
	for _, b := range builds() {
		t.Run(b.name, func(t *testing.T) {
			if _, err := b.draw(nil); err == nil || !strings.Contains(err.Error(), b.name) {
				t.Errorf("no rows: error %v, want one naming %s", err, b.name)
			}
			rows := b.rowsOf()
			// Drop the second method of the first group (E2: the PIT
			// kernel), which every figure needs.
			drop := rows[1]
			rest := slices.DeleteFunc(slices.Clone(rows), func(r suite.Row) bool {
				return r.Group == drop.Group && r.Method == drop.Method
			})
			if b.name == "Chooser" {
				rest = slices.DeleteFunc(slices.Clone(rows), func(r suite.Row) bool { return r.Method == suite.MPITAuto })
				drop.Method = suite.MPITAuto
			}
			_, err := b.draw(rest)
			if err == nil {
				t.Fatalf("without %q in %q: no error", drop.Method, drop.Group)
			}
			if !strings.Contains(err.Error(), b.name) || !strings.Contains(err.Error(), drop.Method) {
				t.Errorf("without %q in %q: error %q, want one naming %s and the method", drop.Method, drop.Group, err, b.name)
			}
		})
	}
	if _, err := Chooser(nil, e1Rows()); err == nil || !strings.Contains(err.Error(), "Chooser") {
		t.Errorf("Chooser without a cost table: error %v", err)
	}
	no32x1 := slices.DeleteFunc(e1Rows(), func(r suite.Row) bool { return r.Group == "32x1" })
	if _, err := Kernels(no32x1, machine); err == nil || !strings.Contains(err.Error(), "32x1") {
		t.Errorf("Kernels without granularity 32x1: error %v, want one naming it", err)
	}
}

// TestGPUModelLabel checks that E9 says it is a model everywhere.
func TestGPUModelLabel(t *testing.T) {
	f, err := GPUModel(e9Rows())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ReplaceAll(f.Note, "\n  ", " "), "V100 model fitted to the artifact's published data, not a measurement") {
		t.Errorf("note: %s", f.Note)
	}
	for _, p := range f.Panels[0] {
		if !strings.Contains(p.Title.Text, "not measured") {
			t.Errorf("panel title %q does not say it is not measured", p.Title.Text)
		}
	}
}

// TestPickedTile parses the notes the suite writes.
func TestPickedTile(t *testing.T) {
	for _, c := range []struct {
		note, tile string
		seff       float64
		ok         bool
	}{
		{"picked 16x1 (s_eff 0.499, 0.0133 s)", "16x1", 0.499, true},
		{"picked dense (0.0232 s)", "dense", math.NaN(), true},
		{suite.ModelNote + "; picked 8x1", "8x1", math.NaN(), true},
		{"format built beforehand", "", math.NaN(), false},
	} {
		tile, seff, ok := pickedTile(c.note)
		if tile != c.tile || ok != c.ok || !(seff == c.seff || math.IsNaN(seff) && math.IsNaN(c.seff)) {
			t.Errorf("pickedTile(%q) = %q, %v, %v; want %q, %v, %v", c.note, tile, seff, ok, c.tile, c.seff, c.ok)
		}
	}
}

// TestWrapNote checks that long lines break at spaces.
func TestWrapNote(t *testing.T) {
	long := strings.Repeat("word ", 60)
	got := wrapNote("short", long)
	lines := strings.Split(got, "\n")
	if lines[0] != "short" || len(lines) < 3 {
		t.Fatalf("wrapNote: %q", got)
	}
	for _, l := range lines {
		if len(l) > noteWidth {
			t.Errorf("line of %d characters", len(l))
		}
	}
}

// TestTable prints a small table and checks its layout.
func TestTable(t *testing.T) {
	rows := synth("E8", TrainingGroups, []float64{0.5, 0.9}, TrainingMethods, nil)
	rows = slices.DeleteFunc(rows, func(r suite.Row) bool { return r.Method == suite.MPIT && r.X == 0.9 })
	var b bytes.Buffer
	err := Table(&b, rows, append([]string{"absent"}, TrainingMethods...), func(r suite.Row) string {
		return fmt.Sprintf("%.2f", float64(r.Work.MACs)/float64(r.Work.UsefulMACs))
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"32x64 mask", "32x1 mask", "0.5", "0.9", "  dense", "PIT", "-"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "absent") {
		t.Errorf("table lists a method without rows:\n%s", out)
	}
	if got := strings.Count(out, "\n"); got != 2*(1+len(TrainingMethods))+1 {
		t.Errorf("table has %d lines:\n%s", got, out)
	}
}
