package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
)

// testSamples keeps the tests fast: 2,000 samples give a bootstrap table of
// 222 and every NLP trace at least a few minutes.
const testSamples = 2000

func smallConfig() Config {
	var c Config
	c.CV.Samples, c.NLP.Samples = testSamples, testSamples
	return c
}

func TestWorkloads(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want int
	}{{CV, 48}, {NLP, 8}, {"all", 56}} {
		ws, err := Workloads(tc.set)
		if err != nil || len(ws) != tc.want {
			t.Errorf("Workloads(%q): %d workloads, err %v; want %d", tc.set, len(ws), err, tc.want)
		}
		seen := map[Workload]bool{}
		for _, w := range ws {
			if seen[w] {
				t.Errorf("Workloads(%q): %s twice", tc.set, w)
			}
			seen[w] = true
		}
	}
	if _, err := Workloads("speech"); err == nil || !strings.Contains(err.Error(), "speech") {
		t.Errorf("Workloads(speech): err %v", err)
	}
	w := Workload{NLP, "bert-base", "imdb"}
	if w.String() != "nlp/bert-base/imdb" || w.Mode() != apparate.NLP {
		t.Errorf("%v: mode %v", w, w.Mode())
	}
}

// TestSeed: a workload's seed depends on the base seed and on every part
// of the workload, and on nothing else.
func TestSeed(t *testing.T) {
	w := Workload{CV, "resnet50", "auburn"}
	if w.Seed(42) != w.Seed(42) {
		t.Fatal("seed not deterministic")
	}
	others := []uint64{w.Seed(43),
		Workload{CV, "resnet18", "auburn"}.Seed(42),
		Workload{CV, "resnet50", "coral"}.Seed(42),
		Workload{NLP, "resnet50", "auburn"}.Seed(42)}
	for i, s := range others {
		if s == w.Seed(42) {
			t.Errorf("variant %d has the same seed as %s", i, w)
		}
	}
}

func TestSettingsDefaults(t *testing.T) {
	cv, err := Config{}.Settings(CV)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Seed != 42 || cv.Samples != DefaultSamples || cv.FPS != 30 || cv.SLO != 1 || cv.Params.Mode != apparate.CV || cv.Models != nil {
		t.Errorf("cv defaults %+v", cv)
	}
	nlp, err := Config{}.Settings(NLP)
	if err != nil {
		t.Fatal(err)
	}
	if nlp.Load != 0.6 || nlp.SLO != 3 || nlp.Params.Mode != apparate.NLP || !reflect.DeepEqual(nlp.Models, calibration[NLP]) {
		t.Errorf("nlp defaults %+v", nlp)
	}
	var c Config
	c.NLP.Uncalibrated = true
	if s, _ := c.Settings(NLP); s.Models != nil {
		t.Errorf("uncalibrated: models %v", s.Models)
	}
	// Per-model inputs: the override's fields, the set's for zero ones.
	o := nlp.model("bert-large")
	if o.Load != 0.2 || o.SLO != 3 || o.Ease != 2 {
		t.Errorf("bert-large inputs %+v", o)
	}
	if p := cv.params("resnet18"); p.RampBudget != 1 {
		t.Errorf("resnet18 ramp budget %d, want 1 (DefaultParams)", p.RampBudget)
	}
	// Settings survive a JSON round trip byte for byte (the rerun guard).
	var back Settings
	if err := json.Unmarshal(nlp.JSON(), &back); err != nil || !bytes.Equal(back.JSON(), nlp.JSON()) {
		t.Errorf("JSON round trip: %v\n%s\n%s", err, nlp.JSON(), back.JSON())
	}
}

func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  string
		mod  func(c *Config)
		want string
	}{
		{"set", "speech", func(c *Config) {}, `set "speech"`},
		{"samples", CV, func(c *Config) { c.CV.Samples = 5 }, "cv.samples = 5"},
		{"fps", CV, func(c *Config) { c.CV.FPS = -30 }, "cv.fps = -30"},
		{"load", NLP, func(c *Config) { c.NLP.Load = -1 }, "nlp.load = -1"},
		{"slo", NLP, func(c *Config) { c.NLP.SLO = -2 }, "nlp.slo = -2"},
		{"model", NLP, func(c *Config) { c.NLP.Models = map[string]Override{"resnet50": {}} }, "nlp.models = resnet50"},
		{"ease", CV, func(c *Config) { c.CV.Models = map[string]Override{"vgg11": {Ease: -1}} }, "cv.models.vgg11.ease = -1"},
	} {
		var c Config
		tc.mod(&c)
		_, err := c.Settings(tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	cv, _ := smallConfig().Settings(CV)
	nlp, _ := smallConfig().Settings(NLP)
	for _, tc := range []struct {
		w    Workload
		s    Settings
		want string
	}{
		{Workload{CV, "bert-base", "auburn"}, cv, `unknown model "bert-base"`},
		{Workload{CV, "resnet50", "imdb"}, cv, `unknown video "imdb"`},
		{Workload{NLP, "gpt2-medium", "sst2"}, nlp, `unknown NLP dataset "sst2"`},
		{Workload{NLP, "gpt2-medium", "imdb"}, cv, `settings of set "cv"`},
	} {
		_, err := Run(tc.w, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.w.String()) {
			t.Errorf("%s: err %v, want it to name the workload and contain %q", tc.w, err, tc.want)
		}
	}
}

// countHooks counts Start and Done calls.
func countHooks(started, finished *atomic.Int32) Hooks {
	return Hooks{
		Start: func(Workload) { started.Add(1) },
		Done: func(w Workload, r *Result, err error) {
			if err == nil && r != nil && r.Workload == w {
				finished.Add(1)
			}
		},
	}
}

// TestRunAllDeterministic: one worker and two workers give the same
// results and byte-identical files; a rerun does no work and reads the
// same results back.
func TestRunAllDeterministic(t *testing.T) {
	set := "all"
	if testing.Short() {
		set = NLP
	}
	cfg := smallConfig()
	ctx := context.Background()
	dirs := []string{t.TempDir(), t.TempDir()}
	var runs [2][]*Result
	for i, workers := range []int{1, 2} {
		var started, finished atomic.Int32
		res, err := RunAll(ctx, cfg, set, dirs[i], workers, countHooks(&started, &finished))
		if err != nil {
			t.Fatal(err)
		}
		ws, _ := Workloads(set)
		if len(res) != len(ws) || int(started.Load()) != len(ws) || int(finished.Load()) != len(ws) {
			t.Fatalf("workers %d: %d results, %d started, %d done; want %d", workers, len(res), started.Load(), finished.Load(), len(ws))
		}
		for j, r := range res {
			if r.Workload != ws[j] || r.Latencies == nil {
				t.Fatalf("result %d is %s (latencies %v), want %s", j, r.Workload, r.Latencies != nil, ws[j])
			}
		}
		runs[i] = res
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Error("results differ between 1 and 2 workers")
	}
	sameFiles(t, dirs[0], dirs[1])

	var started, finished atomic.Int32
	again, err := RunAll(ctx, cfg, set, dirs[0], 2, countHooks(&started, &finished))
	if err != nil {
		t.Fatal(err)
	}
	if started.Load() != 0 || finished.Load() != 0 {
		t.Errorf("rerun started %d and finished %d workloads, want none", started.Load(), finished.Load())
	}
	if p, err := Pending(cfg, set, dirs[0]); err != nil || len(p) != 0 {
		t.Errorf("pending after a run: %v, %v", p, err)
	}
	for i, r := range again {
		if r.Latencies != nil {
			t.Fatalf("%s: read-back result has latencies", r.Workload)
		}
		fresh := *runs[0][i]
		fresh.Latencies = nil
		if !reflect.DeepEqual(r, &fresh) {
			t.Errorf("%s: read-back result differs from the run", r.Workload)
		}
	}
}

// sameFiles fails unless the two trees hold the same files, byte for byte.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		out := map[string][]byte{}
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				out[rel], _ = os.ReadFile(p)
			}
			return err
		})
		return out
	}
	fa, fb := files(a), files(b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%d files vs %d", len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between the runs", name)
		}
	}
}

// TestRunAllGuard: results of other settings are refused, by the set's
// config.json and, were that removed, by each result's "config".
func TestRunAllGuard(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	ctx := context.Background()
	if _, err := RunAll(ctx, cfg, NLP, dir, 2, Hooks{}); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.NLP.Samples = testSamples + 1
	_, err := RunAll(ctx, other, NLP, dir, 2, Hooks{})
	if err == nil || !strings.Contains(err.Error(), ConfigPath(dir, NLP)) || !strings.Contains(err.Error(), "remove") {
		t.Errorf("other settings: err %v, want one naming %s", err, ConfigPath(dir, NLP))
	}
	if err := os.Remove(ConfigPath(dir, NLP)); err != nil {
		t.Fatal(err)
	}
	w := Workload{NLP, NLPModels[0], NLPDatasets[0]}
	_, err = RunAll(ctx, other, NLP, dir, 2, Hooks{})
	if err == nil || !strings.Contains(err.Error(), w.ResultPath(dir)) || !strings.Contains(err.Error(), `"config"`) {
		t.Errorf("other settings without config.json: err %v, want one naming %s", err, w.ResultPath(dir))
	}
	if _, err := Pending(other, NLP, dir); err == nil {
		t.Error("Pending accepted results of other settings")
	}
	// The CV set in the same directory has its own config.json.
	if _, err := Pending(other, CV, dir); err != nil {
		t.Errorf("cv pending: %v", err)
	}
}

// TestRunAllCancel: a cancelled context stops RunAll before any work.
func TestRunAllCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var started, finished atomic.Int32
	_, err := RunAll(ctx, smallConfig(), CV, t.TempDir(), 2, countHooks(&started, &finished))
	if err != context.Canceled || started.Load() != 0 {
		t.Errorf("err %v, %d started; want context.Canceled and none", err, started.Load())
	}
}

// TestCVStructure checks the structural predictions of specs 4.12 on a CV
// workload at 30 FPS with SLO = V(1): every batch holds one frame, no
// frame queues or is dropped, and every vanilla latency is V(1).
func TestCVStructure(t *testing.T) {
	s, err := smallConfig().Settings(CV)
	if err != nil {
		t.Fatal(err)
	}
	w := Workload{CV, "resnet50", "coral"}
	in, err := generate(w, s)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := apparate.Clockwork(in.arrivals, in.desc.SLO, in.profile)
	if err != nil {
		t.Fatal(err)
	}
	v := in.profile.ByBatch[1].Vanilla
	if len(sched.Batches) != testSamples || slices.ContainsFunc(sched.Batches, func(b int) bool { return b != 1 }) {
		t.Fatalf("%d batches, sizes %v…; want %d of size 1", len(sched.Batches), sched.Batches[:min(10, len(sched.Batches))], testSamples)
	}
	for i, r := range sched.Requests {
		if r.Dropped || r.Queue != 0 || r.Vanilla != v {
			t.Fatalf("frame %d: %+v, want served at once in V(1) = %v", i, r, v)
		}
	}
	r, err := Run(w, s)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics
	if m.Requests != testSamples || m.Dropped != 0 || m.MaxBatch != 1 || m.MeanQueue != 0 {
		t.Errorf("metrics %+v: want %d requests, no drops, batches of 1, no queueing", m, testSamples)
	}
	if m.Vanilla.P25 != v || m.Vanilla.P95 != v || in.desc.SLO != v {
		t.Errorf("vanilla p25 %v, p95 %v, SLO %v; want V(1) = %v", m.Vanilla.P25, m.Vanilla.P95, in.desc.SLO, v)
	}
}

// TestMetrics checks the metrics of every NLP workload against their
// definitions (specs 4.12) and the oracle's bound: a request's optimal
// latency never exceeds its vanilla one (O_i ≤ V_i, the same q_i), so
// neither does the optimal median.
func TestMetrics(t *testing.T) {
	ws, _ := Workloads(NLP)
	s, err := smallConfig().Settings(NLP)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-9 // rounding of sums and interpolation
	for _, w := range ws {
		r, err := Run(w, s)
		if err != nil {
			t.Fatal(err)
		}
		l, m := r.Latencies, r.Metrics
		if len(l.Apparate) != m.Requests || len(l.Optimal) != m.Requests || m.Requests == 0 {
			t.Fatalf("%s: %d/%d/%d latencies, %d requests", w, len(l.Vanilla), len(l.Apparate), len(l.Optimal), m.Requests)
		}
		for i := range l.Vanilla {
			if l.Optimal[i] > l.Vanilla[i]+tol {
				t.Fatalf("%s: request %d: optimal %v > vanilla %v ms", w, i, l.Optimal[i], l.Vanilla[i])
			}
		}
		if m.Optimal.P50 > m.Vanilla.P50 {
			t.Errorf("%s: optimal median %v > vanilla median %v", w, m.Optimal.P50, m.Vanilla.P50)
		}
		if want := 100 * (1 - m.Apparate.P25/m.Vanilla.P25); abs(m.P25Win-want) > tol {
			t.Errorf("%s: p25 win %v, want %v", w, m.P25Win, want)
		}
		if want := m.Vanilla.P50 - m.Apparate.P50; abs(m.AbsP50Win-want) > tol {
			t.Errorf("%s: absolute p50 win %v, want %v", w, m.AbsP50Win, want)
		}
		if want := 1 - r.Summary.ExitRates[len(r.Summary.ExitRates)-1]; m.ExitRate != want || m.Agreement != r.Summary.Agreement {
			t.Errorf("%s: exit rate %v, agreement %v; summary %v, %v", w, m.ExitRate, m.Agreement, want, r.Summary.Agreement)
		}
		if m.Requests+m.Dropped != testSamples {
			t.Errorf("%s: %d served + %d dropped, want %d requests", w, m.Requests, m.Dropped, testSamples)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestLatencyFile: the stored latencies are the run's, rounded to float32.
func TestLatencyFile(t *testing.T) {
	dir := t.TempDir()
	res, err := RunAll(context.Background(), smallConfig(), NLP, dir, 1, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	got, err := ReadLatencies(r.Workload.LatencyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2][]float64{
		KeyVanilla:  {got.Vanilla, r.Latencies.Vanilla},
		KeyApparate: {got.Apparate, r.Latencies.Apparate},
		KeyOptimal:  {got.Optimal, r.Latencies.Optimal},
	} {
		if len(pair[0]) != len(pair[1]) {
			t.Fatalf("%s: %d values, want %d", name, len(pair[0]), len(pair[1]))
		}
		for i := range pair[0] {
			if pair[0][i] != float64(float32(pair[1][i])) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, pair[0][i], float32(pair[1][i]))
			}
		}
	}
	if _, err := ReadLatencies(filepath.Join(dir, "missing.npz")); err == nil {
		t.Error("reading a missing file succeeded")
	}
}

// TestCVBars: the bars take the median, minimum and maximum over the
// plotted videos only (Ohio is run but not plotted, specs 4.12).
func TestCVBars(t *testing.T) {
	var results []*Result
	for i, v := range apparate.Videos {
		r := &Result{Workload: Workload{CV, "vgg13", v}}
		r.Metrics.MedianWin = float64(10 * (i + 1))
		if v == "ohio" {
			r.Metrics.MedianWin = 1000
		}
		r.Metrics.OptimalMedianWin = 90
		r.Metrics.Apparate.P95, r.Metrics.Vanilla.P95 = 4, 3.9
		results = append(results, r)
	}
	results = append(results, &Result{Workload: Workload{NLP, "bert-base", "imdb"}}, nil)
	bars := CVBars(results)
	if len(bars) != 1 || bars[0].Model != "vgg13" || bars[0].Videos != 7 {
		t.Fatalf("bars %+v, want one vgg13 bar over 7 videos", bars)
	}
	// Plotted videos sit at indices 0-5 and 7: wins 10-60 and 80.
	want := apparate.Bar{Median: 40, Min: 10, Max: 80}
	if b := bars[0]; b.Apparate != want || b.Optimal != (apparate.Bar{Median: 90, Min: 90, Max: 90}) || b.P95Vanilla.Median != 3.9 {
		t.Errorf("bar %+v, want Apparate %+v", b, want)
	}
}

// TestCalibration checks what calibration.go claims for the base seed on
// the default settings: DistilBERT's median and p25 wins, and BERT-large's
// and GPT2-medium's median wins, within the paper's bands (specs 10 items
// 2 and 3).
func TestCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 6 NLP workloads of 100,000 requests")
	}
	s, err := Config{}.Settings(NLP)
	if err != nil {
		t.Fatal(err)
	}
	in := func(x, lo, hi float64) bool { return x >= lo && x <= hi }
	for _, model := range []string{"distilbert-base", "bert-large", "gpt2-medium"} {
		for _, ds := range NLPDatasets {
			r, err := Run(Workload{NLP, model, ds}, s)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metrics
			t.Logf("%s/%s: median win %.1f %%, p25 win %.1f %%, agreement %.4f", model, ds, m.MedianWin, m.P25Win, m.Agreement)
			if !in(m.MedianWin, 10, 24.2) || model == "distilbert-base" && !in(m.P25Win, 16, 37.3) {
				t.Errorf("%s/%s: median win %.1f %%, p25 win %.1f %%; want 10–24.2 %% (and 16–37.3 %% for distilbert-base)", model, ds, m.MedianWin, m.P25Win)
			}
		}
	}
}

// BenchmarkSimulate1M times the pipeline of one CV workload of 10^6 frames
// (ResNet-50 on Bellevue1, 30 FPS): the Clockwork schedule, the replay, the
// optimal oracle and the metrics. Generating the profile, the tables and
// the arrivals is excluded (BenchmarkGenerate1M times it).
func BenchmarkSimulate1M(b *testing.B) {
	in := benchInput(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := simulate(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/frame")
}

// BenchmarkGenerate1M times the inputs of BenchmarkSimulate1M: profile,
// simulation and bootstrap tables, arrivals.
func BenchmarkGenerate1M(b *testing.B) {
	for b.Loop() {
		benchInput(b)
	}
}

func benchInput(b *testing.B) *input {
	b.Helper()
	var c Config
	c.CV.Samples = 1_000_000
	s, err := c.Settings(CV)
	if err != nil {
		b.Fatal(err)
	}
	in, err := generate(Workload{CV, "resnet50", "bellevue1"}, s)
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func ExampleRun() {
	var c Config
	c.CV.Samples = 9000 // five minutes of 30 FPS video
	s, err := c.Settings(CV)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := Run(Workload{CV, "resnet18", "hampton"}, s)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := r.Metrics
	fmt.Printf("%d frames, batches of at most %d, agreement %.4f\n", m.Requests, m.MaxBatch, m.Agreement)
	fmt.Printf("median win %.1f %% (optimal %.1f %%)\n", m.MedianWin, m.OptimalMedianWin)
	// Output:
	// 9000 frames, batches of at most 1, agreement 1.0000
	// median win 65.4 % (optimal 76.3 %)
}
