package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/internal/jsonfile"

	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/repo"
)

// Storage: a set's results live under <dir>/<set>/: config.json (the set's
// Settings) and, per workload, <model>/<dataset>.json (the Result) and
// <model>/<dataset>.npz (the aligned latencies). Both are written
// atomically, the .npz first, so a .json marks a finished workload.

// Keys of a workload's latency file: float32 ms per served request, in
// serving order (specs 4.12). float32 keeps the file small (12 bytes a
// request); the metrics are computed in float64 before rounding.
const (
	KeyVanilla  = "vanilla_ms"
	KeyApparate = "apparate_ms"
	KeyOptimal  = "optimal_ms"
)

// ConfigPath returns <dir>/<set>/config.json.
func ConfigPath(dir, set string) string { return filepath.Join(dir, set, "config.json") }

// ResultPath returns <dir>/<set>/<model>/<dataset>.json.
func (w Workload) ResultPath(dir string) string {
	return filepath.Join(dir, w.Set, w.Model, w.Dataset+".json")
}

// LatencyPath returns <dir>/<set>/<model>/<dataset>.npz.
func (w Workload) LatencyPath(dir string) string {
	return filepath.Join(dir, w.Set, w.Model, w.Dataset+".npz")
}

// guardConfig writes s as the set's config.json under dir unless that file
// exists; an existing file with other settings is an error, since results
// of two configurations must not mix in one directory.
func guardConfig(dir string, s Settings) error {
	path := ConfigPath(dir, s.Set)
	want := s.JSON()
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if !bytes.Equal(old, want) {
			return fmt.Errorf("workload: %s holds other settings than the ones requested; remove %s or use another results directory", path, filepath.Dir(path))
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("workload: %w", err)
	}
	return repo.WriteFile(path, want)
}

// done reports whether w has a stored result made with settings s, and
// returns it. A result made with other settings is an error naming the
// file.
func done(dir string, w Workload, s Settings) (*Result, bool, error) {
	path := w.ResultPath(dir)
	if _, err := os.Stat(w.LatencyPath(dir)); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	r, err := ReadResult(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !bytes.Equal(r.Settings.JSON(), s.JSON()) {
		return nil, false, fmt.Errorf("workload: %s: key \"config\" holds other settings than the ones requested; remove %s or use another results directory", path, filepath.Join(dir, w.Set))
	}
	if r.Workload != w {
		return nil, false, fmt.Errorf("workload: %s: key \"workload\" is %s, want %s", path, r.Workload, w)
	}
	return r, true, nil
}

// ReadResult reads a workload's result file and checks it: every key the
// writer puts there, a workload of a known set with a model and a dataset,
// settings of that set that pass Settings' checks, controller parameters
// (in the settings and as run) of the set's mode, start ramps ascending, and exit counts of one length
// with no more correct samples than samples. Its Latencies are nil. Errors
// are one line naming the file and the key.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	var r Result
	if err := jsonfile.DecodeObject(path, b, []jsonfile.Key{
		jsonfile.Required("workload", &r.Workload),
		jsonfile.Required("config", &r.Settings),
		jsonfile.Required("inputs", &r.Inputs),
		jsonfile.Required("params", &r.Params),
		jsonfile.Required("start_ramps", &r.StartRamps),
		jsonfile.Required("summary", &r.Summary),
		jsonfile.Required("metrics", &r.Metrics),
	}); err != nil {
		return nil, fmt.Errorf("workload: result %w", err)
	}
	bad := func(key, expected, found string) (*Result, error) {
		return nil, fmt.Errorf("workload: result %w", &npz.Error{File: path, Key: key, Expected: expected, Found: found})
	}
	w, sm, m := r.Workload, r.Summary, r.Metrics
	switch {
	case w.Set != CV && w.Set != NLP:
		return bad("workload", fmt.Sprintf("set %q or %q", CV, NLP), fmt.Sprintf("set %q", w.Set))
	case w.Model == "" || w.Dataset == "":
		return bad("workload", "a model and a dataset", fmt.Sprintf("model %q, dataset %q", w.Model, w.Dataset))
	case r.Settings.Set != w.Set:
		return bad("config", fmt.Sprintf("set %q (as the workload)", w.Set), fmt.Sprintf("set %q", r.Settings.Set))
	case r.Settings.Params.Mode != w.Mode():
		return bad("config", fmt.Sprintf("params.mode %v (of set %q)", w.Mode(), w.Set), fmt.Sprintf("params.mode %v", r.Settings.Params.Mode))
	case r.Params.Mode != w.Mode():
		return bad("params", fmt.Sprintf("mode %v (of set %q)", w.Mode(), w.Set), fmt.Sprintf("mode %v", r.Params.Mode))
	}
	if err := r.Settings.validate(); err != nil {
		return bad("config", "settings that pass their checks", err.Error())
	}
	for i, x := range r.StartRamps {
		if x < 0 || (i > 0 && x <= r.StartRamps[i-1]) {
			return bad("start_ramps", "ascending ramp indices", fmt.Sprint(r.StartRamps))
		}
	}
	if len(sm.ExitCounts) != len(sm.ExitRates) || len(sm.ExitCorrect) != len(sm.ExitRates) {
		return bad("summary", fmt.Sprintf("exit_counts and exit_correct of %d entries (as exit_rates)", len(sm.ExitRates)),
			fmt.Sprintf("%d and %d", len(sm.ExitCounts), len(sm.ExitCorrect)))
	}
	for q, c := range sm.ExitCounts {
		if c < 0 || sm.ExitCorrect[q] < 0 || sm.ExitCorrect[q] > c {
			return bad("summary", "0 ≤ exit_correct ≤ exit_counts", fmt.Sprintf("exit_counts[%d] = %d, exit_correct[%d] = %d", q, c, q, sm.ExitCorrect[q]))
		}
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"summary.samples", sm.Samples}, {"summary.batches", sm.Batches}, {"metrics.requests", m.Requests}, {"metrics.dropped", m.Dropped}, {"metrics.batches", m.Batches}, {"metrics.max_batch", m.MaxBatch}} {
		if c.v < 0 {
			return bad(c.name, "a non-negative count", fmt.Sprint(c.v))
		}
	}
	return &r, nil
}

// write stores r (latencies first, then the result) under dir.
func write(dir string, r *Result) error {
	if r.Latencies == nil {
		return fmt.Errorf("workload: %s: no latencies to write", r.Workload)
	}
	if err := writeLatencies(r.Workload.LatencyPath(dir), r.Latencies); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("workload: %s: %w", r.Workload.ResultPath(dir), err)
	}
	return repo.WriteFile(r.Workload.ResultPath(dir), append(b, '\n'))
}

func writeLatencies(path string, l *Latencies) error {
	w, err := npz.Create(path)
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	for _, a := range []struct {
		key string
		x   []float64
	}{{KeyVanilla, l.Vanilla}, {KeyApparate, l.Apparate}, {KeyOptimal, l.Optimal}} {
		if err := w.Write(a.key, toFloat32(a.x)); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

func toFloat32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// ReadLatencies reads a workload's latency file (float32 widened to
// float64): exactly the keys vanilla_ms, apparate_ms and optimal_ms, each
// one-dimensional, of one length, and holding finite non-negative
// latencies. Errors are one line naming the file and the key.
func ReadLatencies(path string) (*Latencies, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	keys := []string{KeyVanilla, KeyApparate, KeyOptimal}
	for _, k := range f.Keys() {
		if !slices.Contains(keys, k) {
			return nil, &npz.Error{File: path, Key: k, Expected: "only the keys " + strings.Join(keys, ", "), Found: "an unknown key"}
		}
	}
	var l Latencies
	for _, a := range []struct {
		key string
		dst *[]float64
	}{{KeyVanilla, &l.Vanilla}, {KeyApparate, &l.Apparate}, {KeyOptimal, &l.Optimal}} {
		x, shape, err := f.Float32(a.key)
		if err != nil {
			return nil, err
		}
		if len(shape) != 1 {
			return nil, &npz.Error{File: path, Key: a.key, Expected: "one dimension", Found: "shape " + npz.ShapeString(shape)}
		}
		if a.key != KeyVanilla && len(x) != len(l.Vanilla) {
			return nil, &npz.Error{File: path, Key: a.key, Expected: fmt.Sprintf("%d values (as %s)", len(l.Vanilla), KeyVanilla), Found: fmt.Sprint(len(x))}
		}
		*a.dst = make([]float64, len(x))
		for i, v := range x {
			if !(v >= 0) || math.IsInf(float64(v), 1) {
				return nil, &npz.Error{File: path, Key: a.key, Expected: "finite non-negative latencies in ms", Found: fmt.Sprintf("%v at index %d", v, i)}
			}
			(*a.dst)[i] = float64(v)
		}
	}
	return &l, nil
}
