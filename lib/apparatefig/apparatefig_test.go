package apparatefig

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
	"github.com/paperlab/paperlab/lib/apparate/workload"
	"github.com/paperlab/paperlab/lib/figure"
)

const testSamples = 3000

var (
	resultsOnce sync.Once
	resultsDir  string
	results     []*workload.Result
	resultsErr  error
)

// testResults runs every workload once on tiny inputs (testSamples per
// workload) into a temporary directory shared by the tests.
func testResults(t *testing.T) ([]*workload.Result, string) {
	t.Helper()
	resultsOnce.Do(func() {
		resultsDir, resultsErr = os.MkdirTemp("", "apparatefig")
		if resultsErr != nil {
			return
		}
		cfg := workload.Config{CV: workload.SetConfig{Samples: testSamples}, NLP: workload.SetConfig{Samples: testSamples}}
		results, resultsErr = workload.RunAll(context.Background(), cfg, "all", resultsDir, 4, workload.Hooks{})
	})
	if resultsErr != nil {
		t.Fatal(resultsErr)
	}
	return results, resultsDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if resultsDir != "" {
		os.RemoveAll(resultsDir)
	}
	os.Exit(code)
}

// checkFigure renders f to SVG and checks its panel grid and that the
// note mentions synthetic inputs and the sample count.
func checkFigure(t *testing.T, f *figure.Figure, rows, cols int) {
	t.Helper()
	if len(f.Panels) != rows || len(f.Panels[0]) != cols {
		t.Errorf("%s: panels %dx%d, want %dx%d", f.Name, len(f.Panels), len(f.Panels[0]), rows, cols)
	}
	if !strings.Contains(f.Note, "synthetic") || !strings.Contains(f.Note, "3000 samples") {
		t.Errorf("%s: note lacks the inputs: %s", f.Name, f.Note)
	}
	b, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<?xml")) && !bytes.Contains(b[:min(len(b), 200)], []byte("<svg")) {
		t.Errorf("%s: not an SVG", f.Name)
	}
}

// TestCV draws Fig. 12 and 13 from the tiny run and checks the groups, the
// floored Apparate error bars and the errors for missing models.
func TestCV(t *testing.T) {
	rs, _ := testResults(t)
	f, err := CVMedian(rs)
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, 1, 1)
	if f.Name != "cv_results_median" || !strings.Contains(f.Note, "7 videos per model") {
		t.Errorf("%s: note %s", f.Name, f.Note)
	}
	ticks := f.Panel(0, 0).X.Tick.Marker.Ticks(0, 5)
	if len(ticks) != 6 || ticks[0].Label != "ResNet18" || ticks[5].Label != "VGG16" {
		t.Errorf("ticks %v", ticks)
	}
	if f, err = CVP95(rs); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f, 1, 1)

	var noVGG16 []*workload.Result
	for _, r := range rs {
		if r.Workload.Model != "vgg16" {
			noVGG16 = append(noVGG16, r)
		}
	}
	for _, draw := range []func([]*workload.Result) (*figure.Figure, error){CVMedian, CVP95} {
		if _, err := draw(noVGG16); err == nil || !strings.Contains(err.Error(), `"vgg16"`) {
			t.Errorf("missing model: %v", err)
		}
	}
}

// TestNLPCDF draws Fig. 14 for every NLP model, from in-memory latencies
// and from the stored files, and checks the errors.
func TestNLPCDF(t *testing.T) {
	rs, dir := testResults(t)
	for _, m := range workload.NLPModels {
		f, err := NLPCDF(rs, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkFigure(t, f, 1, 2)
		if f.Panel(0, 0).Title.Text != "Amazon" || f.Panel(0, 1).Title.Text != "IMDB" || !strings.Contains(f.Note, "p25 win") {
			t.Errorf("%s: titles or note: %s", m, f.Note)
		}
	}
	// Results read back from disk have no latencies: load them.
	var stored []*workload.Result
	for _, r := range rs {
		s, err := workload.ReadResult(r.Workload.ResultPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s)
	}
	if _, err := NLPCDF(stored, "bert-base", nil); err == nil || !strings.Contains(err.Error(), "no latencies") {
		t.Errorf("no loader: %v", err)
	}
	if f, err := NLPCDF(stored, "bert-base", StoredLatencies(dir)); err != nil {
		t.Error(err)
	} else {
		checkFigure(t, f, 1, 2)
	}
	if _, err := NLPCDF(rs, "gpt5", nil); err == nil || !strings.Contains(err.Error(), `"gpt5"`) {
		t.Errorf("unknown model: %v", err)
	}
}

// TestInputsNote checks the note of hand-made results: synthetic or not,
// and several sample counts.
func TestInputsNote(t *testing.T) {
	a := &workload.Result{Inputs: workload.Inputs{Kind: "synthetic"}}
	a.Settings.Samples, a.Settings.Seed = 100, 42
	b := &workload.Result{Inputs: workload.Inputs{Kind: "synthetic"}}
	b.Settings.Samples, b.Settings.Seed = 200, 42
	if n := inputsNote([]*workload.Result{a, b}); n != "synthetic inputs (specs/apparate.md section 6): 100/200 samples per workload, base seed 42" {
		t.Errorf("note %q", n)
	}
	b.Inputs.Kind = "real"
	if n := inputsNote([]*workload.Result{a, b}); strings.HasPrefix(n, "synthetic") {
		t.Errorf("mixed inputs called synthetic: %q", n)
	}
}

// replay runs the controller on a small synthetic CV workload.
func replay(t *testing.T) *apparate.Run {
	t.Helper()
	sp, ok := apparate.SyntheticModel("resnet50")
	if !ok {
		t.Fatal("no synthetic resnet50")
	}
	prof, err := sp.Profile()
	if err != nil {
		t.Fatal(err)
	}
	g, err := apparate.CVTable("bellevue1", sp.Ramps, testSamples, 7)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	boot, err := g.Bootstrap()
	if err != nil {
		t.Fatal(err)
	}
	sched, err := apparate.Clockwork(apparate.FixedRate(testSamples, 30), prof.ByBatch[1].Vanilla, prof)
	if err != nil {
		t.Fatal(err)
	}
	run, err := apparate.Replay(prof, sim, boot, sched.Batches, apparate.DefaultParams(apparate.CV, "resnet50"))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestTunerTimeline draws the timeline of a small replay and of a
// hand-made run, and checks the downsampling and the errors.
func TestTunerTimeline(t *testing.T) {
	run := replay(t)
	f, err := TunerTimeline(run, "ResNet50 / Bellevue1 (synthetic)")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 3 || len(f.Panels[0]) != 1 {
		t.Fatalf("panels %dx%d", len(f.Panels), len(f.Panels[0]))
	}
	if _, err := f.Render("svg"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Note, "batches (x: 2000 of them)") {
		t.Errorf("note %s", f.Note)
	}

	ks := sampleBatches(12345, TimelinePoints)
	if len(ks) != TimelinePoints || ks[0] != 0 || ks[len(ks)-1] != 12344 {
		t.Errorf("sampled %d batches, %d..%d", len(ks), ks[0], ks[len(ks)-1])
	}

	// A hand-made run: ramp 2 then ramps 1 and 3.
	hand := &apparate.Run{
		Batches: []apparate.Batch{{Start: 0, Config: 0, Size: 1, Correct: 1}, {Start: 1, Config: 0, Size: 1, Correct: 1},
			{Start: 2, Config: 1, Size: 1, Correct: 0}, {Start: 3, Config: 1, Size: 1, Correct: 1}},
		Configs: []apparate.Config{{Batch: 0, Ramps: []int{2}, Thresholds: []float64{0.1}},
			{Batch: 2, Ramps: []int{1, 3}, Thresholds: []float64{0.2, 0.3}}},
		Correct: []bool{true, true, false, true},
	}
	ids, pos, thr, err := rampTracks(hand, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] != 1 || pos[1][0] != 2 || thr[2][3] != 0.3 || thr[0][2] != 0.2 || !math.IsNaN(pos[0][0]) {
		t.Errorf("tracks %v %v %v", ids, pos, thr)
	}
	if c := rampChanges(hand); len(c) != 1 || c[0] != 2 {
		t.Errorf("ramp changes %v", c)
	}
	if _, err := TunerTimeline(hand, ""); err != nil {
		t.Error(err)
	}
	hand.Batches[3].Config = 5
	if _, err := TunerTimeline(hand, ""); err == nil || !strings.Contains(err.Error(), "batch 3") {
		t.Errorf("bad config index: %v", err)
	}
	if _, err := TunerTimeline(&apparate.Run{}, ""); err == nil {
		t.Error("empty run accepted")
	}
}
