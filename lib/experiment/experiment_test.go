package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/train"
)

// TestEnsure trains and evaluates a tiny grid, then checks that a second
// call reuses the summary and that a changed profile re-evaluates.
func TestEnsure(t *testing.T) {
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lab := &Lab{Data: train.Prepare(p), Workers: 2,
		Profile: train.Profile{Name: "test", Levels: []float64{0.5}, Replicates: 2, Steps: 20, ValEvery: 10},
		Results: filepath.Join(dir, "results"), Splits: filepath.Join(dir, "splits"), Summary: filepath.Join(dir, "summary")}
	if runs, steps, err := lab.Pending("pitot"); err != nil || runs != 2 || steps != 40 {
		t.Fatalf("pending %d runs, %d steps: %v", runs, steps, err)
	}
	sums, err := lab.Ensure(context.Background(), train.Hooks{}, "pitot")
	if err != nil {
		t.Fatal(err)
	}
	s := sums["pitot"]
	mape := s.MAPE("mf")
	if len(mape) != 1 || len(mape[0]) != 2 || !(mape[0][0] > 0) || math.IsNaN(mape[0][1]) {
		t.Fatalf("mf MAPE %v", mape)
	}
	for _, c := range s.Coverage("if2")[0][0] {
		if !(c > 0.5 && c <= 1) {
			t.Errorf("if2 coverage %v", c)
		}
	}
	// Per-platform errors pool the replicates' test errors: as the
	// replicates' test splits have one size, their grand mean is the mean
	// of the replicates' MAPEs.
	errs, err := lab.PlatformErrors("pitot", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	var n int
	for _, e := range errs {
		for _, x := range e {
			sum += x
			n++
		}
	}
	sp, _ := dataset.ReadSplits(dataset.SplitPath(lab.Splits, 0.5, 0), p)
	if want := 2 * len(sp.Objectives["mf"].Test); n != want {
		t.Errorf("%d platform errors, want %d", n, want)
	}
	if got, want := sum/float64(n), (mape[0][0]+mape[0][1])/2; math.Abs(got-want) > 1e-9 {
		t.Errorf("pooled platform error %v, mean MAPE %v", got, want)
	}
	st, _ := os.Stat(lab.SummaryPath("pitot"))
	if _, err := lab.Evaluate("pitot"); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(lab.SummaryPath("pitot")); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("an up-to-date summary was rewritten")
	}
	lab.Profile.Replicates = 1
	s1, err := lab.Evaluate("pitot")
	if err != nil || s1["pitot"].Replicates != 1 {
		t.Errorf("summary not redone for a new profile: %v", err)
	}
}

// TestSummaryFreshByContent: result files copied in with their old times
// (cp -p, rsync -a from a shard machine) must not leave a stale summary:
// freshness is judged by the files' content, not their times.
func TestSummaryFreshByContent(t *testing.T) {
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	newLab := func(name string, steps int) *Lab {
		return &Lab{Data: train.Prepare(p), Workers: 1,
			Profile: train.Profile{Name: "test", Levels: []float64{0.5}, Replicates: 1, Steps: steps, ValEvery: 10},
			Results: filepath.Join(dir, name, "results"), Splits: filepath.Join(dir, "splits"), Summary: filepath.Join(dir, name, "summary")}
	}
	a, b := newLab("a", 20), newLab("b", 40)
	sa, err := a.Ensure(context.Background(), train.Hooks{}, "pitot")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Ensure(context.Background(), train.Hooks{}, "pitot")
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := sa["pitot"].MAPE("mf")[0][0], sb["pitot"].MAPE("mf")[0][0]
	if ma == mb {
		t.Fatalf("20 and 40 steps gave the same MAPE %v", ma)
	}
	// b's result replaces a's, keeping a time older than a's summary.
	run := train.Run{Preset: "pitot", Level: 0.5}
	data, _ := os.ReadFile(run.ResultPath(b.Results))
	dst := run.ResultPath(a.Results)
	os.WriteFile(dst, data, 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dst, old, old)
	s, err := a.Evaluate("pitot")
	if err != nil {
		t.Fatal(err)
	}
	if got := s["pitot"].MAPE("mf")[0][0]; got != mb {
		t.Errorf("after the copy the summary says MAPE %v, the copied result's is %v (stale: %v)", got, mb, ma)
	}
}
