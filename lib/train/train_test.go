package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/nn"
	"github.com/paperlab/paperlab/lib/pitot"
)

func testData(t testing.TB) (*Data, *dataset.Splits) {
	t.Helper()
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dataset.NewSplits(p, 0.5, 0, 42)
	if err != nil {
		t.Fatal(err)
	}
	return Prepare(p), s
}

func shortConfig() pitot.Config {
	c, _ := pitot.Preset("pitot")
	c.Train.Steps, c.Train.ValEvery, c.Train.BatchSize = 60, 10, 128
	return c
}

func equalParams(t *testing.T, a, b *Result) bool {
	t.Helper()
	for i, p := range a.Params.List {
		if !slices.Equal(p.Data, b.Params.List[i].Data) {
			return false
		}
	}
	return true
}

// TestTrain checks that a short run lowers the validation loss, that the
// same seed gives bit-identical parameters, and that a different replicate
// does not.
func TestTrain(t *testing.T) {
	data, s := testData(t)
	run := Run{Preset: "pitot", Level: 0.5}
	a, err := Train(context.Background(), data, shortConfig(), run, s, t.TempDir(), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	val := a.Log["val"]
	if len(val) != 6 || !(val[len(val)-1] < 0.5*val[0]) {
		t.Errorf("validation loss did not halve: %v", val)
	}
	b, _ := Train(context.Background(), data, shortConfig(), run, s, t.TempDir(), Hooks{})
	if !equalParams(t, a, b) {
		t.Error("same run, different parameters")
	}
	run.Replicate = 1
	c, _ := Train(context.Background(), data, shortConfig(), run, s, t.TempDir(), Hooks{})
	if equalParams(t, a, c) {
		t.Error("different replicate, same parameters")
	}
	if a.TestMAPE["mf"] <= 0 || a.TestMAPE["mf"] > 1 {
		t.Errorf("test MAPE %v", a.TestMAPE)
	}
	r, err := ReadResult(run.ResultPath(filepath.Join(t.TempDir(), "none")))
	if err == nil || r != nil {
		t.Error("reading a missing result succeeded")
	}
}

// TestResume kills a run after 3 epochs and checks that resuming gives
// exactly the parameters and log of an uninterrupted run.
func TestResume(t *testing.T) {
	data, s := testData(t)
	run := Run{Preset: "pitot", Level: 0.5}
	want, err := Train(context.Background(), data, shortConfig(), run, s, t.TempDir(), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Train(ctx, data, shortConfig(), run, s, dir, Hooks{Epoch: func(p Progress) {
		if p.Step == 30 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(run.checkpointPath(dir)); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	resumed := false
	got, err := Train(context.Background(), data, shortConfig(), run, s, dir, Hooks{Start: func(_ Run, r bool) { resumed = r }})
	if err != nil {
		t.Fatal(err)
	}
	if !resumed {
		t.Error("the second run did not resume")
	}
	if !equalParams(t, want, got) || !slices.Equal(want.Log["val"], got.Log["val"]) || want.BestStep != got.BestStep {
		t.Errorf("resumed run differs: val %v vs %v", got.Log["val"], want.Log["val"])
	}
	if _, err := os.Stat(run.checkpointPath(dir)); err == nil {
		t.Error("checkpoint left after the run finished")
	}
	read, err := ReadResult(run.ResultPath(dir))
	if err != nil || !equalParams(t, got, read) || read.TestMAPE["mf"] != got.TestMAPE["mf"] {
		t.Errorf("result read back differs: %v", err)
	}
}

// TestGrid runs a two-run grid twice: the second time nothing is pending,
// and a conflicting configuration is refused.
func TestGrid(t *testing.T) {
	data, _ := testData(t)
	dir := t.TempDir()
	prof := Profile{Name: "test", Levels: []float64{0.5}, Replicates: 2, Steps: 20, ValEvery: 10}
	g := Grid{Presets: []string{"pitot"}, Profile: prof, Workers: 2, ResultsDir: filepath.Join(dir, "results"), SplitsDir: filepath.Join(dir, "splits")}
	if err := g.Execute(context.Background(), data, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if p, _, err := g.Pending(); len(p) != 0 || err != nil {
		n := len(p)
		t.Errorf("%d runs pending after Execute", n)
	}
	if _, err := os.Stat(filepath.Join(g.ResultsDir, "pitot", "config.json")); err != nil {
		t.Error(err)
	}
	// Predictions of the restored model reproduce the recorded test MAPE (to
	// 1e-6: training computes it against float32 ln t, Predict in float64).
	run := Run{Preset: "pitot", Level: 0.5, Replicate: 1}
	res, err := ReadResult(run.ResultPath(g.ResultsDir))
	if err != nil {
		t.Fatal(err)
	}
	_, test, cfg, err := RunParts(data, g.ResultsDir, g.SplitsDir, run)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Train.Steps != 20 || res.Config.Train.Steps != 20 {
		t.Errorf("config read back with %d steps", cfg.Train.Steps)
	}
	var ape float64
	mf := test["mf"]
	for i, y := range mf.Y {
		ape += math.Abs(math.Exp(y-mf.Heads[0][i]) - 1)
	}
	if got, want := ape/float64(len(mf.Y)), res.TestMAPE["mf"]; math.Abs(got-want) > 1e-6*want {
		t.Errorf("restored model's test MAPE %v, recorded %v", got, want)
	}

	g.Profile.Steps = 30
	if err := g.Execute(context.Background(), data, Hooks{}); err == nil {
		t.Error("a grid with another configuration wrote into the same results")
	}
	shard := Grid{Presets: []string{"pitot", "embedding/4"}, Profile: prof, Shard: 1, Shards: 2}
	if runs := shard.Runs(); len(runs) != 2 || runs[0].Replicate != 1 || runs[1].Preset != "embedding/4" {
		t.Errorf("shard 1/2 runs %v", runs)
	}
}

// TestParallelLanes checks that a run alone on the machine, whose steps
// run the towers and the two halves of every batch on two goroutines,
// ends with bit-identical parameters to the same run on one goroutine.
func TestParallelLanes(t *testing.T) {
	data, s := testData(t)
	cfg := shortConfig()
	run := Run{Preset: "pitot", Level: 0.5}
	params := func(parallel bool) *nn.Params[float32] {
		tr, err := newTrainer(data, cfg, run, s, true)
		if err != nil {
			t.Fatal(err)
		}
		if tr.lanes == nil {
			t.Fatal("pitot is not laned")
		}
		tr.setParallel(parallel)
		losses := make([]float64, len(tr.active))
		for range 20 {
			tr.trainStep(losses)
		}
		return tr.model.Params()
	}
	a, b := params(true), params(false)
	for i, p := range a.List {
		if !slices.Equal(p.Data, b.List[i].Data) {
			t.Fatalf("%s differs between parallel and serial lanes", p.Name)
		}
	}
}

// TestScheduleResume: a run with warm-up and cosine decay trains other
// parameters than the constant rate, and resumes from a checkpoint to
// exactly the parameters of an uninterrupted run (the rate depends on the
// step alone).
func TestScheduleResume(t *testing.T) {
	data, s := testData(t)
	run := Run{Preset: "pitot", Level: 0.5}
	cfg := shortConfig()
	cfg.Train.Warmup, cfg.Train.Decay = 10, pitot.DecayCosine
	want, err := Train(context.Background(), data, cfg, run, s, t.TempDir(), Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := Train(context.Background(), data, shortConfig(), run, s, t.TempDir(), Hooks{})
	if equalParams(t, want, flat) {
		t.Error("the schedule changed nothing")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	Train(ctx, data, cfg, run, s, dir, Hooks{Epoch: func(p Progress) {
		if p.Step == 30 {
			cancel()
		}
	}})
	got, err := Train(context.Background(), data, cfg, run, s, dir, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalParams(t, want, got) {
		t.Error("resumed scheduled run differs")
	}
}
