package workload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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

// ReadResult reads a workload's result file. Its Latencies are nil.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	var r Result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("workload: %s: %w", path, err)
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
// float64). Errors name the file and the key.
func ReadLatencies(path string) (*Latencies, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	var l Latencies
	for _, a := range []struct {
		key string
		dst *[]float64
	}{{KeyVanilla, &l.Vanilla}, {KeyApparate, &l.Apparate}, {KeyOptimal, &l.Optimal}} {
		x, _, err := f.Float32(a.key)
		if err != nil {
			return nil, err
		}
		*a.dst = make([]float64, len(x))
		for i, v := range x {
			(*a.dst)[i] = float64(v)
		}
	}
	if len(l.Apparate) != len(l.Vanilla) || len(l.Optimal) != len(l.Vanilla) {
		return nil, &npz.Error{File: path, Key: KeyApparate,
			Expected: fmt.Sprintf("%d values (as %s) in %s and %s", len(l.Vanilla), KeyVanilla, KeyApparate, KeyOptimal),
			Found:    fmt.Sprintf("%d and %d", len(l.Apparate), len(l.Optimal))}
	}
	return &l, nil
}
