package apparate_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
)

// latTol is the tolerance for sums of a few hand-written decimals.
const latTol = 1e-12

func latClose(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRoundBatch(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {9, 16}, {17, 32}, {33, 64}, {64, 64},
	} {
		got, err := apparate.RoundBatch(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("RoundBatch(%d) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, b := range []int{-1, 0, 65, 1000} {
		if got, err := apparate.RoundBatch(b); err == nil {
			t.Errorf("RoundBatch(%d) = %d, want an error", b, got)
		}
	}
}

// latSmall is a 4-ramp Costs whose exits are easy to add up by hand.
var latSmall = apparate.Costs{
	Prefix:  []float64{1, 2, 3, 4},
	Ramp:    []float64{0.1, 0.2, 0.3, 0.4},
	Vanilla: 5,
}

func TestExits(t *testing.T) {
	for _, tc := range []struct {
		active []int
		want   []float64
	}{
		{nil, []float64{5}},
		{[]int{0}, []float64{1 + 0.1, 5 + 0.1}},
		// X_1 = P_1 + Q_1; X_2 = P_3 + Q_1 + Q_3; X_3 = V + Q_1 + Q_3.
		{[]int{1, 3}, []float64{2 + 0.2, 4 + 0.2 + 0.4, 5 + 0.2 + 0.4}},
		{[]int{0, 1, 2, 3}, []float64{1.1, 2 + 0.3, 3 + 0.6, 4 + 1.0, 5 + 1.0}},
	} {
		got := latSmall.Exits(tc.active)
		if len(got) != len(tc.want) {
			t.Fatalf("Exits(%v) = %v, want %v", tc.active, got, tc.want)
		}
		for j := range got {
			if !latClose(got[j], tc.want[j], latTol) {
				t.Errorf("Exits(%v)[%d] = %g, want %g", tc.active, j, got[j], tc.want[j])
			}
		}
	}
}

func TestExitsPanics(t *testing.T) {
	for _, active := range [][]int{{-1}, {4}, {2, 1}, {1, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Exits(%v) did not panic", active)
				}
			}()
			latSmall.Exits(active)
		}()
	}
}

func TestAppendExitsReuses(t *testing.T) {
	buf := make([]float64, 0, 8)
	active := []int{0, 2}
	if n := testing.AllocsPerRun(100, func() { buf = latSmall.AppendExits(buf[:0], active) }); n != 0 {
		t.Errorf("AppendExits into a reused buffer allocates %v times", n)
	}
}

func TestBoundary(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    apparate.Costs
		want int
	}{
		{"all usable", latSmall, 3},
		// Ramp 1 costs 4.5+0.6 > 5; ramp 2 (4.95) is usable but the scan
		// has stopped.
		{"stops at first", apparate.Costs{Prefix: []float64{1, 4.5, 4.9}, Ramp: []float64{0.1, 0.6, 0.05}, Vanilla: 5}, 0},
		{"equal is usable", apparate.Costs{Prefix: []float64{4.5}, Ramp: []float64{0.5}, Vanilla: 5}, 0},
		{"ramp 0 fails", apparate.Costs{Prefix: []float64{4.95}, Ramp: []float64{0.1}, Vanilla: 5}, -1},
		{"no ramps", apparate.Costs{Vanilla: 5}, -1},
	} {
		if got := tc.c.Boundary(); got != tc.want {
			t.Errorf("%s: Boundary() = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// latProfile returns a fresh copy of a valid profile (DistilBERT-like).
func latProfile(t *testing.T) *apparate.Profile {
	t.Helper()
	s, ok := apparate.SyntheticModel("distilbert-base")
	if !ok {
		t.Fatal("no distilbert-base in SyntheticModels")
	}
	p, err := s.Profile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAt(t *testing.T) {
	p := latProfile(t)
	c, err := p.At(3)
	if err != nil || c.Vanilla != p.ByBatch[4].Vanilla {
		t.Errorf("At(3) = %v, %v; want the costs of batch size 4", c, err)
	}
	delete(p.ByBatch, 8)
	_, err = p.At(5)
	if err == nil || !strings.Contains(err.Error(), "distilbert-base") || !strings.Contains(err.Error(), "batch size 8") {
		t.Errorf("At(5) without batch size 8: error %v, want one naming the model and batch size 8", err)
	}
	if _, err := p.At(65); err == nil || !strings.Contains(err.Error(), "65") {
		t.Errorf("At(65): error %v, want one naming 65", err)
	}
}

func TestValidate(t *testing.T) {
	if err := latProfile(t).Validate(); err != nil {
		t.Fatalf("valid profile: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(p *apparate.Profile)
		want   []string // substrings of the error
	}{
		{"missing batch size", func(p *apparate.Profile) { delete(p.ByBatch, 8) }, []string{"batch size 8", "missing"}},
		{"extra batch size", func(p *apparate.Profile) { p.ByBatch[3] = p.ByBatch[4] }, []string{"batch size 3"}},
		{"ramp count differs", func(p *apparate.Profile) {
			c := p.ByBatch[16]
			c.Prefix, c.Ramp = c.Prefix[:4], c.Ramp[:4]
			p.ByBatch[16] = c
		}, []string{"batch size 16", "4 ramps"}},
		{"ramp length", func(p *apparate.Profile) {
			c := p.ByBatch[2]
			c.Ramp = c.Ramp[:3]
			p.ByBatch[2] = c
		}, []string{"batch size 2", "ramp_ms"}},
		{"no ramps", func(p *apparate.Profile) {
			c := p.ByBatch[1]
			c.Prefix, c.Ramp = nil, nil
			p.ByBatch[1] = c
		}, []string{"batch size 1", "prefix_ms"}},
		{"decreasing prefix", func(p *apparate.Profile) { p.ByBatch[4].Prefix[2] = p.ByBatch[4].Prefix[1] / 2 }, []string{"batch size 4", "prefix_ms[2]", "non-decreasing"}},
		{"NaN ramp", func(p *apparate.Profile) { p.ByBatch[32].Ramp[1] = math.NaN() }, []string{"batch size 32", "ramp_ms[1]"}},
		{"infinite prefix", func(p *apparate.Profile) { p.ByBatch[64].Prefix[4] = math.Inf(1) }, []string{"batch size 64", "prefix_ms[4]"}},
		{"zero vanilla", func(p *apparate.Profile) {
			c := p.ByBatch[1]
			c.Vanilla = 0
			p.ByBatch[1] = c
		}, []string{"batch size 1", "vanilla_ms"}},
		{"prefix not below vanilla", func(p *apparate.Profile) {
			c := p.ByBatch[1]
			c.Vanilla = c.Prefix[4]
			p.ByBatch[1] = c
		}, []string{"batch size 1", "prefix_ms[4]", "vanilla_ms"}},
	} {
		p := latProfile(t)
		tc.mutate(p)
		err := p.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tc.name)
			continue
		}
		for _, w := range append(tc.want, "distilbert-base") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestProfileJSONRoundTrip(t *testing.T) {
	p := latProfile(t)
	path := filepath.Join(t.TempDir(), "distilbert-base.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	q, err := apparate.ReadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the profile:\n%+v\n%+v", p, q)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, `"num_ramps": 5`) || !strings.Contains(s, `"batch_sizes": [`) {
		t.Errorf("file lacks num_ramps or batch_sizes (specs 6.7):\n%s", s)
	}
	if i2, i16 := strings.Index(s, `"2": {`), strings.Index(s, `"16": {`); i2 < 0 || i16 < i2 {
		t.Errorf("by_bs keys not in numeric order:\n%s", s)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("Write left %d files in its directory, want 1", len(entries))
	}
}

func TestReadProfileErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := latProfile(t).Write(good); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"syntax", "{", "unexpected EOF"},
		{"unknown field", strings.Replace(string(data), `"vanilla_ms"`, `"vanila_ms"`, 1), "vanila_ms"},
		{"num_ramps", strings.Replace(string(data), `"num_ramps": 5`, `"num_ramps": 6`, 1), "num_ramps"},
		{"invalid", strings.Replace(string(data), `"vanilla_ms": 14.`, `"vanilla_ms": -14.`, 1), "vanilla_ms"},
	} {
		path := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := apparate.ReadProfile(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s and %q", tc.name, err, path, tc.want)
		}
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := apparate.ReadProfile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v, want one naming it", err)
	}
	if err := (&apparate.Profile{Model: "x"}).Write(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("Write of an invalid profile succeeded")
	}
}

// The real DistilBERT profile at batch size 1 (A6000, specs 3.4).
var (
	distilPrefix  = []float64{2.7427, 5.0714, 7.4001, 9.7288, 12.0575} // first R = 5 of 6
	distilRamp    = 0.12348
	distilVanilla = 14.7201
)

func TestSyntheticDistilBERT(t *testing.T) {
	// The spec's tables print 4–5 significant digits.
	const tol = 0.01
	// Literal formula of specs 6.1 with R = 5 blocks: the prefixes match,
	// but V = 0.414 + 5·2.3287 + 0.334 = 12.3915 falls one layer short of
	// the real 14.7201: the real profile has 6 layers with 6 highways, of
	// which the last is dropped (specs 3.2), leaving R = 5 usable ramps
	// before a sixth layer.
	literal := apparate.SyntheticProfile{Model: "distilbert-base", Ramps: 5, Stem: 0.414, Block: 2.3287, Head: 0.334, Ramp: 0.1235}
	p, err := literal.Profile()
	if err != nil {
		t.Fatal(err)
	}
	c := p.ByBatch[1]
	for r := range 5 {
		if want := 0.414 + float64(r+1)*2.3287; !latClose(c.Prefix[r], want, latTol) {
			t.Errorf("literal P_%d(1) = %g, want %g", r, c.Prefix[r], want)
		}
	}
	if want := 0.414 + 5*2.3287 + 0.334; !latClose(c.Vanilla, want, latTol) {
		t.Errorf("literal V(1) = %g, want %g", c.Vanilla, want)
	}

	// SyntheticModels has Blocks = 6 and so matches the real profile.
	s, _ := apparate.SyntheticModel("distilbert-base")
	p, err = s.Profile()
	if err != nil {
		t.Fatal(err)
	}
	c = p.ByBatch[1]
	for r, want := range distilPrefix {
		if !latClose(c.Prefix[r], want, tol) {
			t.Errorf("P_%d(1) = %g, real %g", r, c.Prefix[r], want)
		}
		if !latClose(c.Ramp[r], distilRamp, tol) {
			t.Errorf("Q_%d(1) = %g, real %g", r, c.Ramp[r], distilRamp)
		}
	}
	if !latClose(c.Vanilla, distilVanilla, tol) {
		t.Errorf("V(1) = %g, real %g", c.Vanilla, distilVanilla)
	}
	if !strings.Contains(p.Source, "synthetic") || !strings.Contains(p.Source, "stem=0.414") || !strings.Contains(p.Source, "blocks=6") {
		t.Errorf("Source %q does not state synthetic and its parameters", p.Source)
	}
	// Batch scaling: P scales by s(64) = 15.9, Q by (1+0.05)^6.
	c64 := p.ByBatch[64]
	if want := (0.414 + 2.3287) * 15.9; !latClose(c64.Prefix[0], want, latTol) {
		t.Errorf("P_0(64) = %g, want %g", c64.Prefix[0], want)
	}
	if want := 0.1235 * math.Pow(1.05, 6); !latClose(c64.Ramp[0], want, latTol) {
		t.Errorf("Q_0(64) = %g, want %g", c64.Ramp[0], want)
	}
}

func TestSyntheticModels(t *testing.T) {
	// V(1) column of the table of specs 6.1, which prints two decimals at
	// most and rounds VGG-16's 4.89 to 4.9 (and BERT-base's 28.69 to 28.7).
	const tol = 0.015
	want := map[string]struct {
		ramps   int
		vanilla float64
		startBS int // the start-up table's batch size (specs 5)
	}{
		"resnet18":        {8, 2.83, 4},
		"resnet50":        {16, 5.31, 4},
		"resnet101":       {33, 10.58, 4},
		"vgg11":           {8, 3.0, 4},
		"vgg13":           {10, 3.9, 4},
		"vgg16":           {13, 4.9, 4},
		"distilbert-base": {5, 14.72, 1},
		"bert-base":       {11, 28.7, 1},
		"bert-large":      {23, 99.3, 1},
		"gpt2-medium":     {23, 99.3, 1},
	}
	if len(apparate.SyntheticModels) != len(want) {
		t.Errorf("%d synthetic models, want %d", len(apparate.SyntheticModels), len(want))
	}
	for _, s := range apparate.SyntheticModels {
		w, ok := want[s.Model]
		if !ok {
			t.Errorf("unexpected model %q", s.Model)
			continue
		}
		p, err := s.Profile()
		if err != nil {
			t.Errorf("%s: %v", s.Model, err)
			continue
		}
		if p.Ramps() != w.ramps {
			t.Errorf("%s: %d ramps, want %d", s.Model, p.Ramps(), w.ramps)
		}
		if v := p.ByBatch[1].Vanilla; !latClose(v, w.vanilla, tol) {
			t.Errorf("%s: V(1) = %g, spec table %g", s.Model, v, w.vanilla)
		}
		// Every ramp is usable at the start-up batch size, as in real
		// profiles (specs 4.2).
		if b := p.ByBatch[w.startBS].Boundary(); b != w.ramps-1 {
			t.Errorf("%s: Boundary at batch size %d = %d, want %d", s.Model, w.startBS, b, w.ramps-1)
		}
	}
	// At batch size 1 the ResNets' last ramp is not usable: it sits before
	// the 0.10 ms head and costs 0.11 ms, so P_{R−1} + Q > V.
	s, _ := apparate.SyntheticModel("resnet18")
	p, _ := s.Profile()
	if b := p.ByBatch[1].Boundary(); b != 6 {
		t.Errorf("resnet18: Boundary at batch size 1 = %d, want 6", b)
	}
}

func TestSyntheticProfileErrors(t *testing.T) {
	good := apparate.SyntheticProfile{Model: "m", Ramps: 3, Stem: 0.1, Block: 1, Head: 0.2, Ramp: 0.05}
	for _, tc := range []struct {
		field  string
		mutate func(s *apparate.SyntheticProfile)
	}{
		{"Ramps", func(s *apparate.SyntheticProfile) { s.Ramps = 0 }},
		{"Blocks", func(s *apparate.SyntheticProfile) { s.Blocks = 2 }},
		{"Block", func(s *apparate.SyntheticProfile) { s.Block = 0 }},
		{"Stem", func(s *apparate.SyntheticProfile) { s.Stem = math.NaN() }},
		{"Ramp", func(s *apparate.SyntheticProfile) { s.Ramp = -1 }},
		{"Scaling[64]", func(s *apparate.SyntheticProfile) {
			s.Scaling = map[int]float64{1: 1, 2: 2, 4: 4, 8: 8, 16: 16, 32: 32}
		}},
	} {
		s := good
		tc.mutate(&s)
		if _, err := s.Profile(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming the field", tc.field, err)
		}
	}
	// Head = 0 puts the last prefix on the vanilla latency.
	s := good
	s.Head = 0
	if _, err := s.Profile(); err == nil {
		t.Error("Head = 0, Blocks = Ramps: want a prefix-not-below-vanilla error")
	}
}

func ExampleCosts_Exits() {
	c := apparate.Costs{
		Prefix:  []float64{1, 2, 3, 4},
		Ramp:    []float64{0.25, 0.25, 0.25, 0.25},
		Vanilla: 5,
	}
	// Ramps 1 and 3 active: exits at 2+0.25 and 4+0.5; the rest at 5+0.5.
	fmt.Println(c.Exits([]int{1, 3}), c.Boundary())
	// Output: [2.25 4.5 5.5] 3
}
