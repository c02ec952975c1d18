package train

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paperlab/paperlab/lib/internal/filetest"
	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/repo"
)

// rewrite copies the npz at src to dst through edit, which may change an
// array, drop it (return nil) or keep it; extra arrays are added after.
func rewrite(t testing.TB, src, dst string, edit func(key string, a *npz.Array) *npz.Array, extra map[string]*npz.Array) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b = filetest.EditNPZ(t, b, func(keys []string, m map[string]*npz.Array) []string {
		if edit != nil {
			for _, k := range keys {
				m[k] = edit(k, m[k])
			}
		}
		maps.Copy(m, extra)
		return keys
	})
	filetest.WriteFile(t, dst, b)
}

// only applies change to the array under key.
func only(key string, change func(*npz.Array) *npz.Array) func(string, *npz.Array) *npz.Array {
	return func(k string, a *npz.Array) *npz.Array {
		if k == key {
			return change(a)
		}
		return a
	}
}

func drop(prefix string) func(string, *npz.Array) *npz.Array {
	return func(k string, a *npz.Array) *npz.Array {
		if strings.HasPrefix(k, prefix) {
			return nil
		}
		return a
	}
}

// transposed swaps the dimensions of the first 2-D non-square parameter.
func transposed(prefix string) func(string, *npz.Array) *npz.Array {
	done := false
	return func(k string, a *npz.Array) *npz.Array {
		if !done && strings.HasPrefix(k, prefix) && len(a.Shape) == 2 && a.Shape[0] != a.Shape[1] {
			done = true
			return &npz.Array{Shape: []int{a.Shape[1], a.Shape[0]}, Data: a.Data}
		}
		return a
	}
}

// corruptions are result-file defects, each of which ReadResult must
// report naming the key.
var resultCorruptions = []struct {
	name, key string
	edit      func(string, *npz.Array) *npz.Array
	extra     map[string]*npz.Array
}{
	{"empty best_step", "best_step", only("best_step", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{0}, Data: []int64{}} }), nil},
	{"float32 best_val", "best_val", only("best_val", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{1}, Data: []float32{1}} }), nil},
	{"missing seconds", "seconds", drop("seconds"), nil},
	{"int32 replicate", "replicate", only("replicate", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{1}, Data: []int32{0}} }), nil},
	{"int64 log entry", "log/val", only("log/val", func(a *npz.Array) *npz.Array { return &npz.Array{Shape: a.Shape, Data: make([]int64, a.Len())} }), nil},
	{"short log column", "log/train_mf", only("log/train_mf", func(a *npz.Array) *npz.Array {
		return &npz.Array{Shape: []int{a.Len() - 1}, Data: a.Data.([]float64)[1:]}
	}), nil},
	{"no validation log", "log/val", drop("log/val"), nil},
	{"no test MAPE", "test_mape_", drop("test_mape_"), nil},
	{"config not JSON", "config", only("config", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{1}, Data: []string{"{"}} }), nil},
	{"float64 parameter", "param/", func(k string, a *npz.Array) *npz.Array {
		if v, ok := a.Data.([]float32); ok && strings.HasPrefix(k, "param/") {
			d := make([]float64, len(v))
			return &npz.Array{Shape: a.Shape, Data: d}
		}
		return a
	}, nil},
	{"level out of range", "level", only("level", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{1}, Data: []float64{0}} }), nil},
	{"unknown key", "surprise", nil, map[string]*npz.Array{"surprise": {Shape: []int{1}, Data: []float64{1}}}},
}

// trainedResult trains one short run and returns its data, result path and
// a checkpoint taken after 3 of its 6 epochs.
func trainedResult(t testing.TB) (data *Data, run Run, result, ckpt string) {
	t.Helper()
	data, s := testData(t)
	dir := t.TempDir()
	run = Run{Preset: "pitot", Level: 0.5}
	ctx, cancel := context.WithCancel(context.Background())
	Train(ctx, data, shortConfig(), run, s, dir, Hooks{Epoch: func(p Progress) {
		if p.Step == 30 {
			cancel()
		}
	}})
	ckpt = filepath.Join(t.TempDir(), "ckpt.npz")
	b, err := os.ReadFile(run.checkpointPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(ckpt, b, 0o644)
	if _, err := Train(context.Background(), data, shortConfig(), run, s, dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	return data, run, run.ResultPath(dir), ckpt
}

func oneLine(t *testing.T, what string, err error, key string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted", what)
		return
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, key) {
		t.Errorf("%s: error %q is not one line naming %q", what, msg, key)
	}
}

// TestCorruptFiles feeds ReadResult, Restore and a resuming run files with
// one defect each: every one is a one-line error naming the file and key,
// none a panic, a silently accepted zero or a wrongly shaped model.
func TestCorruptFiles(t *testing.T) {
	data, run, result, ckpt := trainedResult(t)
	dir := t.TempDir()
	if _, err := ReadResult(result); err != nil {
		t.Fatalf("valid result refused: %v", err)
	}
	for _, c := range resultCorruptions {
		path := filepath.Join(dir, "r.npz")
		rewrite(t, result, path, c.edit, c.extra)
		_, err := ReadResult(path)
		oneLine(t, "result with "+c.name, err, c.key)
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("result with %s: error %q does not name the file", c.name, err)
		}
	}
	for _, b := range [][]byte{nil, []byte("x"), []byte("PK\x03\x04 truncated")} {
		path := filepath.Join(dir, "short.npz")
		os.WriteFile(path, b, 0o644)
		_, err := ReadResult(path)
		oneLine(t, "result of "+strings.TrimSpace(string(b))+"(bytes)", err, path)
	}

	// A transposed parameter has the right number of elements: the file
	// reads, but the model must refuse it.
	path := filepath.Join(dir, "t.npz")
	rewrite(t, result, path, transposed("param/"), nil)
	r, err := ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Run = run
	_, err = Restore(data, r)
	oneLine(t, "transposed parameter", err, "shape")

	// Checkpoints: the run must stop with the error, not panic or resume
	// from a half-read state.
	_, s := testData(t)
	for _, c := range []struct {
		name, key string
		edit      func(string, *npz.Array) *npz.Array
		extra     map[string]*npz.Array
	}{
		{"int32 rng", "rng", only("rng", func(a *npz.Array) *npz.Array { return &npz.Array{Shape: []int{a.Len()}, Data: make([]int32, a.Len())} }), nil},
		{"empty step", "step", only("step", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{0}, Data: []int64{}} }), nil},
		{"missing best_step", "best_step", drop("best_step"), nil},
		{"missing seconds", "seconds", drop("seconds"), nil},
		{"transposed parameter", "param/", transposed("param/"), nil},
		{"transposed best parameter", "best/", transposed("best/"), nil},
		{"short optimizer slot", "opt/", func(k string, a *npz.Array) *npz.Array {
			if v, ok := a.Data.([]float32); ok && strings.HasPrefix(k, "opt/") && len(v) > 1 {
				return &npz.Array{Shape: []int{len(v) - 1}, Data: v[1:]}
			}
			return a
		}, nil},
		{"short log", "log/val", only("log/val", func(a *npz.Array) *npz.Array {
			return &npz.Array{Shape: []int{a.Len() - 1}, Data: a.Data.([]float64)[1:]}
		}), nil},
		{"int64 log", "log/val", only("log/val", func(a *npz.Array) *npz.Array { return &npz.Array{Shape: a.Shape, Data: make([]int64, a.Len())} }), nil},
		{"step past the end", "step", only("step", func(*npz.Array) *npz.Array { return &npz.Array{Shape: []int{1}, Data: []int64{1 << 40}} }), nil},
		{"unknown key", "surprise", nil, map[string]*npz.Array{"surprise": {Shape: []int{1}, Data: []float64{1}}}},
	} {
		rdir := t.TempDir()
		rewrite(t, ckpt, run.checkpointPath(rdir), c.edit, c.extra)
		_, err := Train(context.Background(), data, shortConfig(), run, s, rdir, Hooks{})
		oneLine(t, "checkpoint with "+c.name, err, c.key)
		if _, serr := os.Stat(run.ResultPath(rdir)); serr == nil {
			t.Errorf("checkpoint with %s: the run trained on", c.name)
		}
	}
}

// FuzzReadResult checks that no result file, however damaged, panics the
// reader.
func FuzzReadResult(f *testing.F) {
	dir := f.TempDir()
	_, _, src, _ := trainedResult(f)
	b, _ := os.ReadFile(src)
	f.Add(b)
	for _, c := range resultCorruptions {
		p := filepath.Join(dir, "c.npz")
		rewrite(f, src, p, c.edit, c.extra)
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "r.npz")
		os.WriteFile(p, b, 0o644)
		ReadResult(p)
	})
}

// TestPendingValidates: a run is finished only when its result reads back
// as its own; a results tree that cannot be read is an error.
func TestPendingValidates(t *testing.T) {
	_, _, result, _ := trainedResult(t)
	dir := t.TempDir()
	prof := Profile{Name: "test", Levels: []float64{0.5}, Replicates: 3, Steps: 20, ValEvery: 10}
	g := Grid{Presets: []string{"pitot"}, Profile: prof, ResultsDir: dir}
	runs := g.Runs()
	b, _ := os.ReadFile(result)
	os.MkdirAll(filepath.Dir(runs[0].ResultPath(dir)), 0o755)
	os.WriteFile(runs[0].ResultPath(dir), b, 0o644)   // valid, replicate 0
	os.WriteFile(runs[1].ResultPath(dir), nil, 0o644) // zero bytes
	os.WriteFile(runs[2].ResultPath(dir), b, 0o644)   // replicate 0's result under replicate 2
	pending, invalid, err := g.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0] != runs[1] || pending[1] != runs[2] || len(invalid) != 2 {
		t.Errorf("pending %v, invalid %v; want replicates 1 and 2, both invalid", pending, invalid)
	}
	// A level directory that is a file cannot hold results: an error,
	// not "3 runs to train".
	bad := t.TempDir()
	os.MkdirAll(filepath.Join(bad, "pitot"), 0o755)
	os.WriteFile(filepath.Join(bad, "pitot", "0.5"), []byte("x"), 0o644)
	g.ResultsDir = bad
	if _, _, err := g.Pending(); err == nil {
		t.Error("a level path that is a file gave no error")
	}
	if os.Geteuid() != 0 { // root reads any directory
		os.Chmod(filepath.Dir(runs[0].ResultPath(dir)), 0)
		defer os.Chmod(filepath.Dir(runs[0].ResultPath(dir)), 0o755)
		g.ResultsDir = dir
		if _, _, err := g.Pending(); err == nil {
			t.Error("an unreadable results directory gave no error")
		}
	}
}

// TestNoRunAfterCancel: once the grid is cancelled (Ctrl-C, SIGTERM, a
// failed run), no other run starts, not even for one epoch.
func TestNoRunAfterCancel(t *testing.T) {
	data, _ := testData(t)
	dir := t.TempDir()
	prof := Profile{Name: "test", Levels: []float64{0.5}, Replicates: 3, Steps: 40, ValEvery: 10}
	g := Grid{Presets: []string{"pitot"}, Profile: prof, Workers: 1, ResultsDir: filepath.Join(dir, "results"), SplitsDir: filepath.Join(dir, "splits")}
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	err := g.Execute(ctx, data, Hooks{
		Start: func(Run, bool) { started.Add(1) },
		Epoch: func(p Progress) { cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Execute: %v, want context.Canceled", err)
	}
	if n := started.Load(); n != 1 {
		t.Errorf("%d runs started, want 1", n)
	}
	for _, r := range g.Runs()[1:] {
		if _, err := os.Stat(r.checkpointPath(g.ResultsDir)); err == nil {
			t.Errorf("%s trained after the cancellation", r)
		}
	}
}

// TestClaims: a run claimed by another process is skipped, two grids on
// one results tree train each run once, and a killed writer's temporary
// files are removed.
func TestClaims(t *testing.T) {
	data, _ := testData(t)
	dir := t.TempDir()
	prof := Profile{Name: "test", Levels: []float64{0.5}, Replicates: 2, Steps: 20, ValEvery: 10}
	g := Grid{Presets: []string{"pitot"}, Profile: prof, Workers: 1, ResultsDir: filepath.Join(dir, "results"), SplitsDir: filepath.Join(dir, "splits")}
	runs := g.Runs()
	lock, err := repo.TryLock(runs[0].lockPath(g.ResultsDir))
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(filepath.Dir(runs[1].ResultPath(g.ResultsDir)), ".1.npz.tmp123")
	os.WriteFile(stale, []byte("half"), 0o644)
	var skipped []Run
	if err := g.Execute(context.Background(), data, Hooks{Skip: func(r Run, _ string) { skipped = append(skipped, r) }}); err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0] != runs[0] {
		t.Errorf("skipped %v, want %v", skipped, runs[0])
	}
	if _, err := os.Stat(runs[0].ResultPath(g.ResultsDir)); err == nil {
		t.Error("a claimed run was trained")
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temporary file left")
	}
	lock.Unlock()

	// Two grids at once on a fresh tree: each run trains exactly once.
	g.ResultsDir = filepath.Join(dir, "results2")
	var trained atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := g.Execute(context.Background(), data, Hooks{Start: func(Run, bool) { trained.Add(1) }}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := trained.Load(); n != 2 {
		t.Errorf("two grids trained %d runs, want 2", n)
	}
	if p, _, _ := g.Pending(); len(p) != 0 {
		t.Errorf("%d runs left", len(p))
	}
}

// FuzzRestore checks that no checkpoint, however damaged, panics a
// resuming run.
func FuzzRestore(f *testing.F) {
	data, run, _, ckpt := trainedResult(f)
	b, _ := os.ReadFile(ckpt)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	_, s := testData(f)
	tr, err := newTrainer(data, shortConfig().Resolve(), run, s, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "c.npz")
		os.WriteFile(p, b, 0o644)
		tr.restore(p)
	})
}
