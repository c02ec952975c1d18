package workload

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
	"github.com/paperlab/paperlab/lib/internal/filetest"
	"github.com/paperlab/paperlab/lib/npz"
)

// The readers of a workload's stored files must turn any bytes into a
// result or a one-line error naming the file and the key, without panicking
// and without allocating far beyond the file's size. The fuzz targets below
// check the first two; the corrupt-file test checks the error messages of
// hand-made defects and what each read allocates.

// fuzzResult runs one small CV workload (90 frames) and returns its result,
// latencies included.
func fuzzResult(t testing.TB) *Result {
	t.Helper()
	var c Config
	c.CV.Samples = 90
	s, err := c.Settings(CV)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(Workload{Set: CV, Model: "resnet18", Dataset: "auburn"}, s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// storedFiles writes r as RunAll stores it and returns the bytes of its
// result and latency files.
func storedFiles(t testing.TB, r *Result) (result, latencies []byte) {
	t.Helper()
	dir := t.TempDir()
	if err := write(dir, r); err != nil {
		t.Fatal(err)
	}
	result, err := os.ReadFile(r.Workload.ResultPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	latencies, err = os.ReadFile(r.Workload.LatencyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return result, latencies
}

// marshal returns r, changed by change, as write stores it.
func marshal(t testing.TB, r *Result, change func(r *Result)) []byte {
	t.Helper()
	c := *r
	c.StartRamps = slices.Clone(r.StartRamps)
	c.Summary.ExitCounts = slices.Clone(r.Summary.ExitCounts)
	c.Summary.ExitCorrect = slices.Clone(r.Summary.ExitCorrect)
	change(&c)
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func resultCorruptions(t testing.TB, r *Result, b []byte) []filetest.Corruption {
	return []filetest.Corruption{
		{Name: "missing metrics", Data: filetest.DropJSONKey(t, b, "metrics"), Key: "metrics"},
		{Name: "missing workload", Data: filetest.DropJSONKey(t, b, "workload"), Key: "workload"},
		{Name: "missing start_ramps", Data: filetest.DropJSONKey(t, b, "start_ramps"), Key: "start_ramps"},
		{Name: "empty object", Data: []byte("{}"), Key: "workload"},
		{Name: "null", Data: []byte("null"), Key: "workload"},
		{Name: "array", Data: []byte("[]"), Key: "expected an object"},
		{Name: "unknown set", Data: filetest.SetJSONKey(t, b, "set", `"video"`), Key: "workload"},
		{Name: "no model", Data: marshal(t, r, func(r *Result) { r.Workload.Model = "" }), Key: "workload"},
		{Name: "set as number", Data: filetest.SetJSONKey(t, b, "set", `1`), Key: "workload.set"},
		{Name: "config of the other set", Data: filetest.EditText(t, b, "\"config\": {\n    \"set\": \"cv\"", "\"config\": {\n    \"set\": \"nlp\""), Key: "config"},
		{Name: "too few samples", Data: marshal(t, r, func(r *Result) { r.Settings.Samples = 5 }), Key: "config"},
		{Name: "negative fps", Data: marshal(t, r, func(r *Result) { r.Settings.FPS = -1 }), Key: "config"},
		{Name: "config mode", Data: marshal(t, r, func(r *Result) { r.Settings.Params.Mode = apparate.NLP }), Key: "config"},
		{Name: "params mode", Data: marshal(t, r, func(r *Result) { r.Params.Mode = apparate.NLP }), Key: "params"},
		{Name: "unknown mode", Data: filetest.SetJSONKey(t, b, "mode", `"gpu"`), Key: "config"},
		{Name: "descending start ramps", Data: marshal(t, r, func(r *Result) { r.StartRamps = []int{2, 1} }), Key: "start_ramps"},
		{Name: "negative start ramp", Data: marshal(t, r, func(r *Result) { r.StartRamps = []int{-1} }), Key: "start_ramps"},
		{Name: "short exit_counts", Data: marshal(t, r, func(r *Result) { r.Summary.ExitCounts = r.Summary.ExitCounts[1:] }), Key: "summary"},
		{Name: "more correct than exits", Data: marshal(t, r, func(r *Result) { r.Summary.ExitCorrect[len(r.Summary.ExitCorrect)-1] += 1 }), Key: "summary"},
		{Name: "negative exit count", Data: marshal(t, r, func(r *Result) { r.Summary.ExitCounts[0] = -1 }), Key: "summary"},
		{Name: "negative requests", Data: marshal(t, r, func(r *Result) { r.Metrics.Requests = -1 }), Key: "metrics.requests"},
		{Name: "requests as string", Data: filetest.SetJSONKey(t, b, "requests", `"90"`), Key: "metrics.requests"},
		{Name: "huge requests", Data: filetest.SetJSONKey(t, b, "requests", `1e30`), Key: "metrics.requests"},
		{Name: "NaN agreement", Data: filetest.SetJSONKey(t, b, "agreement", `NaN`), Key: "byte"},
		{Name: "unknown field", Data: filetest.EditText(t, b, `"p25_ms"`, `"p26_ms"`), Key: "p26_ms"},
		{Name: "unknown key", Data: filetest.EditText(t, b, `"metrics"`, `"metric"`), Key: "metric"},
		{Name: "trailing data", Data: append(bytes.Clone(b), "}"...), Key: "after byte"},
		{Name: "truncated", Data: b[:len(b)/2], Key: "unexpected EOF"},
		{Name: "empty", Data: nil, Key: "empty file"},
	}
}

func latencyCorruptions(t testing.TB, b []byte) []filetest.Corruption {
	f32 := func(v ...float32) *npz.Array { return &npz.Array{Shape: []int{len(v)}, Data: v} }
	good := func(except string, a *npz.Array) []any {
		var out []any
		for _, k := range []string{KeyVanilla, KeyApparate, KeyOptimal} {
			switch {
			case k != except:
				out = append(out, k, f32(6, 5, 4, 3, 2, 1))
			case a != nil:
				out = append(out, k, a)
			}
		}
		return out
	}
	return []filetest.Corruption{
		{Name: "missing optimal", Data: filetest.NPZ(t, good(KeyOptimal, nil)...), Key: KeyOptimal},
		{Name: "float64 vanilla", Data: filetest.NPZ(t, good(KeyVanilla, &npz.Array{Shape: []int{6}, Data: make([]float64, 6)})...), Key: KeyVanilla},
		{Name: "two-dimensional apparate", Data: filetest.NPZ(t, good(KeyApparate, &npz.Array{Shape: []int{2, 3}, Data: make([]float32, 6)})...), Key: KeyApparate},
		{Name: "scalar vanilla", Data: filetest.NPZ(t, KeyVanilla, &npz.Array{Data: []float32{1}}, KeyApparate, f32(1), KeyOptimal, f32(1)), Key: KeyVanilla},
		{Name: "short optimal", Data: filetest.NPZ(t, good(KeyOptimal, f32(1, 2))...), Key: KeyOptimal},
		{Name: "long apparate", Data: filetest.NPZ(t, good(KeyApparate, f32(1, 2, 3, 4, 5, 6, 7))...), Key: KeyApparate},
		{Name: "NaN apparate", Data: filetest.NPZ(t, good(KeyApparate, f32(1, 2, float32(math.NaN()), 4, 5, 6))...), Key: KeyApparate},
		{Name: "infinite optimal", Data: filetest.NPZ(t, good(KeyOptimal, f32(1, 2, 3, float32(math.Inf(1)), 5, 6))...), Key: KeyOptimal},
		{Name: "negative vanilla", Data: filetest.NPZ(t, good(KeyVanilla, f32(1, 2, 3, 4, -5, 6))...), Key: KeyVanilla},
		{Name: "unknown key", Data: filetest.NPZ(t, append(good("", nil), "extra", f32(1))...), Key: "extra"},
		{Name: "truncated", Data: b[:len(b)/2], Key: "zip"},
		{Name: "empty", Data: nil, Key: "zip"},
	}
}

func readResult(p string) error    { _, err := ReadResult(p); return err }
func readLatencies(p string) error { _, err := ReadLatencies(p); return err }

// TestReadersRejectCorruptFiles: every hand-made defect is a one-line error
// naming the file and the key, never a panic or a silently accepted file.
func TestReadersRejectCorruptFiles(t *testing.T) {
	r := fuzzResult(t)
	result, latencies := storedFiles(t, r)
	dir := t.TempDir()
	filetest.WriteFile(t, filepath.Join(dir, "r.json"), result)
	filetest.WriteFile(t, filepath.Join(dir, "l.npz"), latencies)
	got, err := ReadResult(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatalf("valid result refused: %v", err)
	}
	want := *r
	want.Latencies = nil
	if !bytes.Equal(marshal(t, got, func(*Result) {}), marshal(t, &want, func(*Result) {})) {
		t.Errorf("result read back differs from the one written")
	}
	if _, err := ReadLatencies(filepath.Join(dir, "l.npz")); err != nil {
		t.Fatalf("valid latencies refused: %v", err)
	}
	t.Run("result", func(t *testing.T) { filetest.CheckCorruptions(t, ".json", resultCorruptions(t, r, result), readResult) })
	t.Run("latencies", func(t *testing.T) {
		filetest.CheckCorruptions(t, ".npz", latencyCorruptions(t, latencies), readLatencies)
	})
}

func FuzzReadResult(f *testing.F) {
	r := fuzzResult(f)
	result, _ := storedFiles(f, r)
	filetest.AddSeeds(f, result, resultCorruptions(f, r, result))
	f.Fuzz(func(t *testing.T, b []byte) {
		filetest.FuzzRead(t, b, "r.json", func(p string) error {
			r, err := ReadResult(p)
			if err != nil {
				return err
			}
			if sm := r.Summary; len(sm.ExitCounts) != len(sm.ExitRates) || len(sm.ExitCorrect) != len(sm.ExitRates) {
				t.Fatalf("read a summary with %d exit rates, %d counts, %d correct", len(sm.ExitRates), len(sm.ExitCounts), len(sm.ExitCorrect))
			}
			return nil
		})
	})
}

func FuzzReadLatencies(f *testing.F) {
	_, latencies := storedFiles(f, fuzzResult(f))
	filetest.AddSeeds(f, latencies, latencyCorruptions(f, latencies))
	f.Fuzz(func(t *testing.T, b []byte) {
		filetest.FuzzRead(t, b, "l.npz", func(p string) error {
			l, err := ReadLatencies(p)
			if err != nil {
				return err
			}
			if len(l.Apparate) != len(l.Vanilla) || len(l.Optimal) != len(l.Vanilla) {
				t.Fatalf("read latencies of lengths %d, %d, %d", len(l.Vanilla), len(l.Apparate), len(l.Optimal))
			}
			return nil
		})
	})
}
