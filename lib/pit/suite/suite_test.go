package suite

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/pit"
)

func TestMeasureInterleaves(t *testing.T) {
	var order []string
	mk := func(name string) Case {
		return Case{Group: "g", X: 1, Method: name, Run: func() pit.Work {
			order = append(order, name)
			return pit.Work{MACs: int64(len(name))}
		}}
	}
	samples := 0
	rows := Measure([]Case{mk("a"), mk("bb")}, 3, func(done, total int) {
		samples++
		if total != 6 || done != samples {
			t.Fatalf("progress %d/%d after %d samples", done, total, samples)
		}
	})
	// One warm-up run each, then three rounds, round-robin.
	if got := strings.Join(order, ","); got != "a,bb,a,bb,a,bb,a,bb" {
		t.Fatalf("run order %s", got)
	}
	for _, r := range rows {
		if r.Reps != 3 || r.Min > r.Median || r.Min <= 0 || r.Work.MACs != int64(len(r.Method)) {
			t.Errorf("row %+v", r)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{1, 2, 7}, 2}, {[]float64{1, 2, 4, 9}, 3}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %g, want %g", c.in, got, c.want)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	rows := []Row{
		{Experiment: "E1", Group: "32x1", X: 0.95, Method: MPIT32x1, Reps: 5, Median: 1.5e-3, Min: 1.25e-3,
			Work: pit.Work{MACs: 1, UsefulMACs: 2, BytesGathered: 3, MicroTiles: 4, Gemms: 5, IndexReads: 6}, Buffer: 7, Note: "a, \"quoted\" note"},
		{Experiment: "E9", Group: "1x1", X: 0.5, Method: MDense, Median: 0.01, Min: 0.01, Note: ModelNote},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "E1.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if got[i] != rows[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], rows[i])
		}
	}
	bad := strings.Replace(buf.String(), "0.95", "zero", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCSV(path); err == nil || !strings.Contains(err.Error(), `line 2, column "x"`) {
		t.Errorf("bad number: error %v, want it to name line 2, column x", err)
	}
}

func TestConfigCheck(t *testing.T) {
	if err := (Config{}).Check(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	c := Config{}.Resolve()
	if c.N != 1024 || c.Reps != 5 || c.MoE.DModel != 256 || len(c.Seqlen.Sets) != 2 || c.Attention.Window != 256 {
		t.Errorf("quick defaults: %+v", c)
	}
	if f := (Config{Profile: "full"}).Resolve(); f.N != 2048 || f.Reps != 9 {
		t.Errorf("full profile: N %d, Reps %d", f.N, f.Reps)
	}
	for field, cfg := range map[string]Config{
		"Profile":                 {Profile: "huge"},
		"Attention.Globals":       {Attention: AttentionConfig{Globals: 1.5}},
		"Training.Sparsities[1]":  {Training: TrainingConfig{Sparsities: []float64{0.5, 1}}},
		"Seqlen.Sets[0].Means[0]": {Seqlen: SeqlenConfig{Sets: []LengthSet{{"x", 2, 16, []float64{40}}}}},
	} {
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v, want it to name the field", field, err)
		}
	}
}

// TestV100Model checks the E9 model against the artifact's published
// numbers it was fitted to (specs/pit.md §4.1 H2-H4, §5.5b).
func TestV100Model(t *testing.T) {
	var g V100
	const n = 4096
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4g ms, want %.4g ms", name, 1e3*got, 1e3*want)
		}
	}
	near("dense", g.Dense(n, n, n), 10.22e-3, 1e-9)
	for _, c := range []struct{ s, ms float64 }{{0, 14.47}, {0.9, 1.755}, {0.95, 0.941}, {0.99, 0.387}} {
		sec, ok := g.PIT(32, n, n, n, c.s)
		if !ok {
			t.Fatal("no 32x1 curve")
		}
		near("PIT 32x1", sec, c.ms*1e-3, 1e-9)
	}
	sec, _ := g.PIT(16, n, n, n, 0.5)
	near("PIT 16x1 @0.5", sec, 11.0e-3, 1e-9)
	if _, ok := g.PIT(2, n, n, n, 0.5); ok {
		t.Error("a 2x1 curve exists; the artifact has none")
	}
	near("block d=0.5", g.Block(n, n, n, 0.5), 6.9e-3, 1e-9)
	st, ok := g.Static(pit.Tile32x1, n, n, n, 0.9)
	if !ok {
		t.Fatal("no static 32x1 at 0.9")
	}
	near("static 32x1 @0.9", st, 7.27e-3, 1e-9)
	// Half the size is an eighth of the time.
	near("dense 2048", g.Dense(2048, 2048, 2048), 10.22e-3/8, 1e-9)
	// PIT on 32x1 masks beats dense from 30 % sparsity (the break-even of
	// §4.2): 10.20 ms at 0.3 against 10.22.
	p3, _ := g.PIT(32, n, n, n, 0.3)
	p2, _ := g.PIT(32, n, n, n, 0.2)
	if !(p3 < g.Dense(n, n, n) && p2 > g.Dense(n, n, n)) {
		t.Errorf("break-even: %.3g ms at 0.2 and %.3g ms at 0.3 against dense 10.22", 1e3*p2, 1e3*p3)
	}
}

// TestE9Picks checks the model's selection: dense where no micro-tile
// pays, the 32×1 tile on a 32×1 mask at high sparsity, and the coverage
// arithmetic of §2.2 for the block kernel.
func TestE9Picks(t *testing.T) {
	rows, err := e9(Config{}.Resolve(), nil, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	find := func(g string, s float64, m string) Row {
		for _, r := range rows {
			if r.Group == g && r.X == s && r.Method == m {
				return r
			}
		}
		t.Fatalf("no row %s %g %s", g, s, m)
		return Row{}
	}
	if r := find("32x1", 0.99, MPITAuto); !strings.Contains(r.Note, "picked 32x1") || math.Abs(r.Median-0.387e-3) > 1e-9 {
		t.Errorf("32x1 @0.99: %+v", r)
	}
	if r := find("1x1", 0.5, MPITAuto); !strings.Contains(r.Note, "picked dense") {
		t.Errorf("1x1 @0.5: %+v", r)
	}
	// 95 % sparsity at 32×1 granularity: 1 − 0.95^64 of the 32×64 blocks
	// are active, 96.2 %.
	want := (0.15 + 13.5*(1-math.Pow(0.95, 64))) * 1e-3
	if r := find("32x1", 0.95, "block 32x64"); math.Abs(r.Median-want) > 1e-9 {
		t.Errorf("block on 32x1 @0.95: %g, want %g", r.Median, want)
	}
	for _, r := range rows {
		if !strings.HasPrefix(r.Note, ModelNote) {
			t.Errorf("row %+v is not labelled as a model", r)
		}
	}
}

// tiny is a configuration small enough to run every experiment in a test.
func tiny() Config {
	return Config{Reps: 1, Workers: 2, N: 64, MaskN: 64,
		MoE:        MoEConfig{Tokens: []int{40}, Experts: []int{4, 8}, DModel: 16, DFF: 24, Block: 8},
		Seqlen:     SeqlenConfig{Width: 16, Sets: []LengthSet{{"tiny", 4, 40, []float64{10, 20}}}},
		Attention:  AttentionConfig{Lengths: []int{70}, Head: 8, Window: 10},
		Activation: ActivationConfig{Tokens: 64, Hidden: 96, Model: 16},
		Training:   TrainingConfig{Width: 64, Tokens: 40, Sparsities: []float64{0.5, 0.9}},
	}
}

func TestRunAllTiny(t *testing.T) {
	dir := t.TempDir()
	cfg := tiny()
	var cached []string
	h := Hooks{Start: func(e Experiment, c bool) {
		if c {
			cached = append(cached, e.ID)
		}
	}}
	out, err := Run(cfg, dir, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(experiments) || len(cached) != 0 {
		t.Fatalf("%d experiments run, %d cached", len(out), len(cached))
	}
	for _, e := range Experiments() {
		if len(out[e.ID]) == 0 {
			t.Errorf("%s: no rows", e.ID)
		}
		if _, err := os.Stat(e.Path(dir)); err != nil {
			t.Errorf("%s: %v", e.ID, err)
		}
	}
	// E1: PIT with 32×1 micro-tiles on a 32×1-granular mask executes
	// exactly the active strips: MACs = active tiles · 32 · N, and the
	// 32×64 block cover executes at least as much.
	for _, r := range out["E1"] {
		if r.Group == "32x1" && r.Method == MPIT32x1 {
			if r.Work.MACs != r.Work.MicroTiles*32*64 || r.Work.MACs != r.Work.UsefulMACs {
				t.Errorf("E1 PIT 32x1 on a 32x1 mask: %+v", r.Work)
			}
		}
	}
	// A rerun reads everything back.
	cached = nil
	again, err := Run(cfg, dir, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(cached) != len(experiments) {
		t.Errorf("rerun: %d of %d experiments cached", len(cached), len(experiments))
	}
	if len(again["E4"]) != len(out["E4"]) {
		t.Errorf("rerun: E4 has %d rows, first run %d", len(again["E4"]), len(out["E4"]))
	}
	if _, err := ReadMachine(dir); err != nil {
		t.Error(err)
	}
	// Another configuration in the same directory is refused.
	other := cfg
	other.Seed = 99
	if _, err := Run(other, dir, []string{"E9"}, Hooks{}); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("other config: error %v, want one naming config.json", err)
	}
	if _, err := Run(cfg, dir, []string{"E10"}, Hooks{}); err == nil {
		t.Error("unknown experiment accepted")
	}
}

func TestCalibrationFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "costtable.json")
	c := Calibrate(64, 1)
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Table.N != 64 || len(back.Table.Curves) != len(CalibrationTiles) {
		t.Errorf("read back %+v", back.Table)
	}
	if err := os.WriteFile(path, []byte(`{"Table": {"N": 0}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCalibration(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad table: error %v, want it to name the file", err)
	}
}

func TestBreakEven(t *testing.T) {
	tb := pit.CostTable{Dense: 10, Curves: []pit.CostCurve{{Tile: pit.Tile32x1,
		Points: []pit.CostPoint{{Sparsity: 0, Seconds: 14}, {Sparsity: 0.5, Seconds: 6}, {Sparsity: 0.9, Seconds: 2}}}}}
	// 14 → 6 over 0 → 0.5 crosses 10 half-way: 0.25.
	if s, ok := BreakEven(tb, pit.Tile32x1); !ok || math.Abs(s-0.25) > 1e-12 {
		t.Errorf("break-even %g, %v; want 0.25", s, ok)
	}
	if _, ok := BreakEven(tb, pit.Tile1x64); ok {
		t.Error("break-even for a tile without a curve")
	}
	tb.Dense = 1
	if _, ok := BreakEven(tb, pit.Tile32x1); ok {
		t.Error("break-even where the curve never crosses")
	}
}

func TestHeadlinesFromTinyRun(t *testing.T) {
	dir := t.TempDir()
	out, err := Run(tiny(), dir, []string{"E1", "E2", "E4"}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ReadCalibration(filepath.Join(dir, "costtable.json"))
	if err != nil {
		t.Fatal(err)
	}
	hs := Headlines(out, cal)
	names := map[string]bool{}
	for _, h := range hs {
		names[strings.SplitN(h.Name, " at ", 2)[0]] = true
		if h.Ours == "" || h.Paper == "" {
			t.Errorf("headline %+v has an empty side", h)
		}
	}
	for _, want := range []string{"break-even sparsity, PIT 32x1 vs dense (cost table, index included)",
		"PIT 32x1 over dense", "PIT 32x1 vs block 32x64 + convert", "micro-tile overhead: PIT 32x1 kernel / 32x64 block kernel"} {
		if !names[want] {
			t.Errorf("no headline %q in %v", want, names)
		}
	}
}
