package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/apparate"
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

// npzFile writes key, array pairs as an .npz archive and returns its bytes.
func npzFile(t testing.TB, arrays ...any) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(arrays); i += 2 {
		if err := w.WriteArray(arrays[i].(string), arrays[i+1].(*npz.Array)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corruption is a damaged file; the error reading it must name want (a
// key, or for defects of the whole file what is wrong).
type corruption struct {
	name string
	file []byte
	want string
}

// edit returns b with the first from replaced by to; it fails when b does
// not hold from, so that a changed writer cannot make a case vacuous.
func edit(t testing.TB, b []byte, from, to string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("%q not in %s", from, b)
	}
	return bytes.Replace(b, []byte(from), []byte(to), 1)
}

// setKey returns b with the value of the first key named key replaced by
// value.
func setKey(t testing.TB, b []byte, key, value string) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(`"`+key+`":`))
	if i < 0 {
		t.Fatalf("key %q not in %s", key, b)
	}
	i += len(key) + 3
	dec := json.NewDecoder(bytes.NewReader(b[i:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	return slices.Concat(b[:i], []byte(value), b[i+int(dec.InputOffset()):])
}

// dropKey returns b without the first key named key and its value.
func dropKey(t testing.TB, b []byte, key string) []byte {
	t.Helper()
	b = setKey(t, b, key, "")
	i := bytes.Index(b, []byte(`"`+key+`":`))
	j := i + len(key) + 3
	for j < len(b) && (b[j] == ' ' || b[j] == '\n') {
		j++
	}
	if j < len(b) && b[j] == ',' {
		j++
	} else {
		for i > 0 && b[i-1] != ',' {
			i--
		}
		i--
	}
	out := slices.Concat(b[:i], b[j:])
	if !json.Valid(out) {
		t.Fatalf("dropping %q left invalid JSON %s", key, out)
	}
	return out
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

func resultCorruptions(t testing.TB, r *Result, b []byte) []corruption {
	return []corruption{
		{"missing metrics", dropKey(t, b, "metrics"), "metrics"},
		{"missing workload", dropKey(t, b, "workload"), "workload"},
		{"missing start_ramps", dropKey(t, b, "start_ramps"), "start_ramps"},
		{"empty object", []byte("{}"), "workload"},
		{"null", []byte("null"), "workload"},
		{"array", []byte("[]"), "expected an object"},
		{"unknown set", setKey(t, b, "set", `"video"`), "workload"},
		{"no model", marshal(t, r, func(r *Result) { r.Workload.Model = "" }), "workload"},
		{"set as number", setKey(t, b, "set", `1`), "workload.set"},
		{"config of the other set", edit(t, b, "\"config\": {\n    \"set\": \"cv\"", "\"config\": {\n    \"set\": \"nlp\""), "config"},
		{"too few samples", marshal(t, r, func(r *Result) { r.Settings.Samples = 5 }), "config"},
		{"negative fps", marshal(t, r, func(r *Result) { r.Settings.FPS = -1 }), "config"},
		{"config mode", marshal(t, r, func(r *Result) { r.Settings.Params.Mode = apparate.NLP }), "config"},
		{"params mode", marshal(t, r, func(r *Result) { r.Params.Mode = apparate.NLP }), "params"},
		{"unknown mode", setKey(t, b, "mode", `"gpu"`), "config"},
		{"descending start ramps", marshal(t, r, func(r *Result) { r.StartRamps = []int{2, 1} }), "start_ramps"},
		{"negative start ramp", marshal(t, r, func(r *Result) { r.StartRamps = []int{-1} }), "start_ramps"},
		{"short exit_counts", marshal(t, r, func(r *Result) { r.Summary.ExitCounts = r.Summary.ExitCounts[1:] }), "summary"},
		{"more correct than exits", marshal(t, r, func(r *Result) { r.Summary.ExitCorrect[len(r.Summary.ExitCorrect)-1] += 1 }), "summary"},
		{"negative exit count", marshal(t, r, func(r *Result) { r.Summary.ExitCounts[0] = -1 }), "summary"},
		{"negative requests", marshal(t, r, func(r *Result) { r.Metrics.Requests = -1 }), "metrics.requests"},
		{"requests as string", setKey(t, b, "requests", `"90"`), "metrics.requests"},
		{"huge requests", setKey(t, b, "requests", `1e30`), "metrics.requests"},
		{"NaN agreement", setKey(t, b, "agreement", `NaN`), "byte"},
		{"unknown field", edit(t, b, `"p25_ms"`, `"p26_ms"`), "p26_ms"},
		{"unknown key", edit(t, b, `"metrics"`, `"metric"`), "metric"},
		{"trailing data", append(bytes.Clone(b), "}"...), "after byte"},
		{"truncated", b[:len(b)/2], "unexpected EOF"},
		{"empty", nil, "empty file"},
	}
}

func latencyCorruptions(t testing.TB, b []byte) []corruption {
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
	return []corruption{
		{"missing optimal", npzFile(t, good(KeyOptimal, nil)...), KeyOptimal},
		{"float64 vanilla", npzFile(t, good(KeyVanilla, &npz.Array{Shape: []int{6}, Data: make([]float64, 6)})...), KeyVanilla},
		{"two-dimensional apparate", npzFile(t, good(KeyApparate, &npz.Array{Shape: []int{2, 3}, Data: make([]float32, 6)})...), KeyApparate},
		{"scalar vanilla", npzFile(t, KeyVanilla, &npz.Array{Data: []float32{1}}, KeyApparate, f32(1), KeyOptimal, f32(1)), KeyVanilla},
		{"short optimal", npzFile(t, good(KeyOptimal, f32(1, 2))...), KeyOptimal},
		{"long apparate", npzFile(t, good(KeyApparate, f32(1, 2, 3, 4, 5, 6, 7))...), KeyApparate},
		{"NaN apparate", npzFile(t, good(KeyApparate, f32(1, 2, float32(math.NaN()), 4, 5, 6))...), KeyApparate},
		{"infinite optimal", npzFile(t, good(KeyOptimal, f32(1, 2, 3, float32(math.Inf(1)), 5, 6))...), KeyOptimal},
		{"negative vanilla", npzFile(t, good(KeyVanilla, f32(1, 2, 3, 4, -5, 6))...), KeyVanilla},
		{"unknown key", npzFile(t, append(good("", nil), "extra", f32(1))...), "extra"},
		{"truncated", b[:len(b)/2], "zip"},
		{"empty", nil, "zip"},
	}
}

// readOK calls read on path, turning a panic into an error, and returns the
// error and the bytes read allocated.
func readOK(path string, read func(string) error) (err error, alloc uint64) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		runtime.ReadMemStats(&m1)
		alloc = m1.TotalAlloc - m0.TotalAlloc
	}()
	return read(path), 0
}

// allocLimit is what reading a file of n bytes may allocate: a reader
// widens or indexes what it decodes, and npz.Parse may inflate a compressed
// member up to npz.MinBudget + npz.MaxInflate×n bytes.
func allocLimit(n int) uint64 {
	return uint64(4 * (npz.MinBudget + npz.MaxInflate*int64(n)))
}

// checkCorruptions writes every corruption, reads it with read and checks
// the error: one line, naming the file and c.want.
func checkCorruptions(t *testing.T, ext string, cs []corruption, read func(string) error) {
	t.Helper()
	dir := t.TempDir()
	for _, c := range cs {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+ext)
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		err, alloc := readOK(path, read)
		t.Logf("%s: %v", c.name, err)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.name)
		case strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) || !strings.Contains(strings.ReplaceAll(err.Error(), path, ""), c.want):
			t.Errorf("%s: error %q, want one line naming %s and %q", c.name, err, path, c.want)
		}
		if alloc > allocLimit(len(c.file)) {
			t.Errorf("%s: reading %d bytes allocated %d", c.name, len(c.file), alloc)
		}
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
	os.WriteFile(filepath.Join(dir, "r.json"), result, 0o644)
	os.WriteFile(filepath.Join(dir, "l.npz"), latencies, 0o644)
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
	t.Run("result", func(t *testing.T) { checkCorruptions(t, ".json", resultCorruptions(t, r, result), readResult) })
	t.Run("latencies", func(t *testing.T) { checkCorruptions(t, ".npz", latencyCorruptions(t, latencies), readLatencies) })
}

// addSeeds adds valid, a few of its prefixes, an empty file and the
// corruptions to f's corpus.
func addSeeds(f *testing.F, valid []byte, cs []corruption) {
	f.Add(valid)
	for _, n := range []int{1, 10, len(valid) / 3, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:max(0, min(n, len(valid)))])
	}
	f.Add([]byte{})
	for _, c := range cs {
		f.Add(c.file)
	}
}

// fuzzRead writes b to a file, reads it with read and fails on a panic, on
// an error that is not one line naming the file, or on an allocation far
// beyond len(b).
func fuzzRead(t *testing.T, b []byte, name string, read func(string) error) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err, alloc := readOK(path, read)
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) || strings.HasPrefix(err.Error(), "panic:")) {
		t.Fatalf("error %q: want one line naming %s", err, path)
	}
	if alloc > allocLimit(len(b)) {
		t.Fatalf("reading %d bytes allocated %d", len(b), alloc)
	}
}

func FuzzReadResult(f *testing.F) {
	r := fuzzResult(f)
	result, _ := storedFiles(f, r)
	addSeeds(f, result, resultCorruptions(f, r, result))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, "r.json", func(p string) error {
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
	addSeeds(f, latencies, latencyCorruptions(f, latencies))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, "l.npz", func(p string) error {
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
