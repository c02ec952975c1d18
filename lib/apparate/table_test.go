package apparate

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testSamples is large enough for the statistical checks below (thousands
// of regimes' worth of NLP samples, a few dozen CV regimes) and small enough
// to run in milliseconds.
const testSamples = 20000

func mustCV(t *testing.T, video string, ramps, n int, seed uint64) SyntheticTable {
	t.Helper()
	g, err := CVTable(video, ramps, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustNLP(t *testing.T, dataset string, ramps, n int, seed uint64) SyntheticTable {
	t.Helper()
	g, err := NLPTable(dataset, ramps, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustGenerate(t *testing.T, g SyntheticTable) *Table {
	t.Helper()
	tab, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestSyntheticDeterministic(t *testing.T) {
	for _, g := range []SyntheticTable{mustCV(t, "coral", 8, 3000, 1), mustNLP(t, "imdb", 5, 3000, 1)} {
		a, b := mustGenerate(t, g), mustGenerate(t, g)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two tables from seed 1 differ", g.Dataset)
		}
		g2 := g
		g2.Seed = 2
		if reflect.DeepEqual(a, mustGenerate(t, g2)) {
			t.Errorf("%s: seeds 1 and 2 give the same table", g.Dataset)
		}
		boot, err := g.Bootstrap()
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(boot.Conf[0], a.Conf[0][:boot.Len()]) {
			t.Errorf("%s: bootstrap table repeats the simulation stream", g.Dataset)
		}
	}
}

func TestSyntheticShapes(t *testing.T) {
	for _, tc := range []struct {
		g          SyntheticTable
		ramps, sim int
	}{
		{mustCV(t, "auburn", 16, 900, 7), 16, 900},
		{mustCV(t, "ohio", 1, 10, 7), 1, 10},
		{mustNLP(t, "amazon_reviews", 11, 95, 7), 11, 95},
	} {
		sim := mustGenerate(t, tc.g)
		boot, err := tc.g.Bootstrap()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			tab  *Table
			n    int
		}{{"simulation", sim, tc.sim}, {"bootstrap", boot, tc.sim / 9}} {
			if err := c.tab.Validate(); err != nil {
				t.Errorf("%s %s: %v", tc.g.Dataset, c.name, err)
			}
			if c.tab.Ramps() != tc.ramps || c.tab.Len() != c.n {
				t.Errorf("%s %s: shape [%d, %d], want [%d, %d]", tc.g.Dataset, c.name, c.tab.Ramps(), c.tab.Len(), tc.ramps, c.n)
			}
		}
	}
}

// TestSyntheticDepthAndConfidence checks the two properties the simulator
// relies on (specs 6.2): deeper ramps agree more often, and confidence
// predicts agreement.
func TestSyntheticDepthAndConfidence(t *testing.T) {
	gens := []SyntheticTable{mustNLP(t, "amazon_reviews", 11, testSamples, 3), mustNLP(t, "imdb", 11, testSamples, 3)}
	for _, v := range Videos {
		gens = append(gens, mustCV(t, v, 16, testSamples, 3))
	}
	for _, g := range gens {
		tab := mustGenerate(t, g)
		rates := make([]float64, tab.Ramps())
		var confYes, confNo float64
		var nYes, nNo int
		for r := range tab.Ramps() {
			for i, ok := range tab.Agree[r] {
				c := float64(tab.Conf[r][i])
				if ok {
					rates[r]++
					confYes += c
					nYes++
				} else {
					confNo += c
					nNo++
				}
			}
			rates[r] /= float64(tab.Len())
		}
		// Agreement need not rise at every step (neighbouring ramps differ
		// little and their noise is independent), but the deeper half must
		// beat the shallower half and the last ramp the first.
		half := len(rates) / 2
		if mean(rates[half:]) <= mean(rates[:half]) || rates[len(rates)-1] <= rates[0] {
			t.Errorf("%s: agreement does not rise with depth: %.3f", g.Dataset, rates)
		}
		if nNo == 0 {
			t.Errorf("%s: no ramp ever disagrees", g.Dataset)
			continue
		}
		if yes, no := confYes/float64(nYes), confNo/float64(nNo); yes <= no {
			t.Errorf("%s: mean confidence %.3f when agreeing, %.3f when not", g.Dataset, yes, no)
		}
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// TestSyntheticSharedStream checks that the difficulty stream depends on
// the dataset and seed only: two models (ramp counts) on one video see
// the same hard and easy stretches, so their first ramps disagree on the same
// samples far more often than chance.
func TestSyntheticSharedStream(t *testing.T) {
	a := mustGenerate(t, mustCV(t, "coral", 8, testSamples, 5))
	b := mustGenerate(t, mustCV(t, "coral", 16, testSamples, 5))
	var both, eitherWrong int
	for i := range a.Len() {
		wa, wb := !a.Agree[0][i], !b.Agree[0][i]
		if wa || wb {
			eitherWrong++
		}
		if wa && wb {
			both++
		}
	}
	// Independent streams would make joint disagreements rare (the product
	// of two rates of ~0.3); a shared stream makes most of them joint.
	if float64(both) < 0.5*float64(eitherWrong) {
		t.Errorf("ramp 0 of 8 and of 16 ramps disagree jointly on %d of %d samples", both, eitherWrong)
	}
}

func TestPresetsUnknown(t *testing.T) {
	if _, err := CVTable("atlantis", 8, 10, 1); err == nil || !strings.Contains(err.Error(), "atlantis") {
		t.Errorf("CVTable(atlantis): err = %v", err)
	}
	if _, err := NLPTable("sst2", 8, 10, 1); err == nil || !strings.Contains(err.Error(), "sst2") {
		t.Errorf("NLPTable(sst2): err = %v", err)
	}
	for _, v := range Videos {
		if _, err := CVTable(v, 8, 10, 1); err != nil {
			t.Error(err)
		}
	}
	if len(PlottedVideos) != 7 || contains(PlottedVideos, "ohio") {
		t.Errorf("PlottedVideos = %v", PlottedVideos)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSyntheticCheck(t *testing.T) {
	g := mustCV(t, "auburn", 8, 10, 1)
	for _, tc := range []struct {
		field string
		edit  func(*SyntheticTable)
	}{
		{"Ramps", func(g *SyntheticTable) { g.Ramps = 0 }},
		{"Segment", func(g *SyntheticTable) { g.Segment = 0 }},
		{"Rho", func(g *SyntheticTable) { g.Rho = 1.5 }},
		{"K", func(g *SyntheticTable) { g.K = math.NaN() }},
		{"EasyB", func(g *SyntheticTable) { g.EasyB = -1 }},
	} {
		bad := g
		tc.edit(&bad)
		if _, err := bad.Generate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("bad %s: err = %v", tc.field, err)
		}
	}
}

func TestTableRoundTrip(t *testing.T) {
	g := mustNLP(t, "imdb", 5, 1000, 9)
	want := mustGenerate(t, g)
	path := filepath.Join(t.TempDir(), "tables", "simulation_imdb_distilbert-base.npz")
	if err := WriteTable(path, want, g); err != nil {
		t.Fatal(err)
	}
	var meta SyntheticTable
	got, err := ReadTableMeta(path, &meta)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("table read back differs from the one written")
	}
	if meta != g {
		t.Errorf("meta read back %+v, wrote %+v", meta, g)
	}
	if _, err := ReadTable(path); err != nil {
		t.Error(err)
	}

	// Without meta, asking for it fails naming the key.
	bare := filepath.Join(t.TempDir(), "bare.npz")
	if err := WriteTable(bare, want, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTableMeta(bare, &meta); err == nil || !strings.Contains(err.Error(), `"meta"`) {
		t.Errorf("reading absent meta: err = %v", err)
	}
	if _, err := ReadTable(filepath.Join(t.TempDir(), "absent.npz")); err == nil {
		t.Error("reading an absent file succeeded")
	}
}

func TestTableValidate(t *testing.T) {
	good := func() *Table {
		return &Table{
			Conf:  [][]float32{{0.5, 1, 0.7}, {0, 0.9, 0.6}},
			Agree: [][]bool{{true, false, true}, {true, true, true}},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good table: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Table)
		want string // in the error
	}{
		{"NaN", func(t *Table) { t.Conf[1][2] = float32(math.NaN()) }, "ramp 1, sample 2"},
		{"above 1", func(t *Table) { t.Conf[0][1] = 1.5 }, "ramp 0, sample 1"},
		{"negative", func(t *Table) { t.Conf[1][0] = -0.1 }, "ramp 1, sample 0"},
		{"ragged conf", func(t *Table) { t.Conf[1] = t.Conf[1][:2] }, "ramp 1"},
		{"ragged agree", func(t *Table) { t.Agree[0] = append(t.Agree[0], true) }, "ramp 0"},
		{"missing agree row", func(t *Table) { t.Agree = t.Agree[:1] }, "agreements for 1"},
		{"no ramps", func(t *Table) { t.Conf, t.Agree = nil, nil }, "no ramps"},
	} {
		tab := good()
		tc.edit(tab)
		err := tab.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.want)
		}
	}
	bad := good()
	bad.Conf[0][0] = float32(math.NaN())
	if err := WriteTable(filepath.Join(t.TempDir(), "bad.npz"), bad, nil); err == nil {
		t.Error("WriteTable accepted a NaN confidence")
	}
}

func ExampleCVTable() {
	g, err := CVTable("auburn", 8, 9000, 42) // ResNet-18-like: 8 ramps
	if err != nil {
		fmt.Println(err)
		return
	}
	sim, _ := g.Generate()
	boot, _ := g.Bootstrap()
	fmt.Println("simulation:", sim.Ramps(), "ramps ×", sim.Len(), "samples")
	fmt.Println("bootstrap: ", boot.Ramps(), "ramps ×", boot.Len(), "samples")
	// Output:
	// simulation: 8 ramps × 9000 samples
	// bootstrap:  8 ramps × 1000 samples
}
