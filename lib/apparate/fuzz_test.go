package apparate

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

	"github.com/paperlab/paperlab/lib/npz"
)

// The readers of the files this package writes must turn any bytes into a
// result or a one-line error naming the file and the key, without panicking
// and without allocating far beyond the file's size. The fuzz targets below
// check the first two; the corrupt-file test checks the error messages of
// hand-made defects and what each read allocates.

// fuzzSchedule returns a schedule with served and dropped requests and
// batches of 1 and 4 (the one of TestScheduleJSONRoundTrip).
func fuzzSchedule(t testing.TB) *Schedule {
	t.Helper()
	v := map[int]float64{1: 10, 2: 12, 4: 15, 8: 20, 16: 30, 32: 50, 64: 90}
	p := &Profile{Model: "hand", ByBatch: map[int]Costs{}}
	for b, x := range v {
		p.ByBatch[b] = Costs{Vanilla: x}
	}
	s, err := Clockwork([]float64{0, 1, 3.5, 3.5, 3.5, 3.5, 40}, 22, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fuzzTable returns a table of two ramps and three samples.
func fuzzTable() *Table {
	return &Table{
		Conf:  [][]float32{{0.5, 1, 0.7}, {0, 0.9, 0.6}},
		Agree: [][]bool{{true, false, true}, {true, true, true}},
	}
}

// validFile writes a file with write and returns its bytes.
func validFile(t testing.TB, name string, write func(path string) error) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validSchedule(t testing.TB) []byte {
	return validFile(t, "schedule.json", func(p string) error { return WriteSchedule(p, fuzzSchedule(t)) })
}

func validProfile(t testing.TB) []byte {
	return validFile(t, "profile.json", handProfile(3).Write)
}

func validTable(t testing.TB) []byte {
	return validFile(t, "table.npz", func(p string) error { return WriteTable(p, fuzzTable(), map[string]int{"seed": 1}) })
}

// npzFile writes arrays, in order, as an .npz archive and returns its bytes.
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

func scheduleCorruptions(t testing.TB) []corruption {
	b := validSchedule(t)
	return []corruption{
		{"triple stat", edit(t, b, `[6.5,15]`, `[6.5,15,1]`), "per_request_stats[2]"},
		{"single stat", edit(t, b, `[6.5,15]`, `[6.5]`), "per_request_stats[2]"},
		{"empty stat", edit(t, b, `[6.5,15]`, `[]`), "per_request_stats[2]"},
		{"stat of strings", edit(t, b, `[6.5,15]`, `["6.5","15"]`), "per_request_stats"},
		{"NaN stat", edit(t, b, `[6.5,15]`, `[NaN,15]`), "byte"},
		{"empty object", []byte("{}"), "batching_decision"},
		{"null", []byte("null\n"), "batching_decision"},
		{"array", []byte("[1,2]"), "expected an object"},
		{"missing stats", dropKey(t, b, "per_request_stats"), "per_request_stats"},
		{"missing batches", dropKey(t, b, "batching_decision"), "batching_decision"},
		{"missing end", dropKey(t, b, "end_time_ms"), "end_time_ms"},
		{"null stats", setKey(t, b, "per_request_stats", "null"), "per_request_stats"},
		{"null batches", setKey(t, b, "batching_decision", "null"), "batching_decision"},
		{"no batches", setKey(t, b, "batching_decision", "[]"), "batching_decision"},
		{"missing slo", dropKey(t, b, "slo_ms"), "slo_ms"},
		{"string slo", edit(t, b, `"slo_ms":22`, `"slo_ms":"22"`), "slo_ms"},
		{"batch as string", edit(t, b, `"batching_decision":[1,4`, `"batching_decision":["1",4`), "batching_decision"},
		{"batch size 3", edit(t, b, `"batching_decision":[1,4`, `"batching_decision":[3,4`), "batching_decision[0]"},
		{"huge batch", edit(t, b, `"batching_decision":[1,4`, `"batching_decision":[1e30,4`), "batching_decision"},
		{"negative total", edit(t, b, `"total_num_requests":7`, `"total_num_requests":-7`), "total_num_requests"},
		{"huge total", edit(t, b, `"total_num_requests":7`, `"total_num_requests":99999999999999999999`), "total_num_requests"},
		{"short arrivals", edit(t, b, `"arrival_ms":[0,`, `"arrival_ms":[`), "arrival_ms"},
		{"decreasing arrivals", edit(t, b, `"arrival_ms":[0,1`, `"arrival_ms":[2,1`), "arrival_ms[1]"},
		{"negative arrival", edit(t, b, `"arrival_ms":[0,`, `"arrival_ms":[-1,`), "arrival_ms[0]"},
		{"unknown key", edit(t, b, `"avg_qps"`, `"qps"`), "qps"},
		{"trailing data", append(bytes.Clone(b), "{}"...), "after byte"},
		{"truncated", b[:len(b)/2], "unexpected EOF"},
		{"empty", nil, "empty file"},
	}
}

func profileCorruptions(t testing.TB) []corruption {
	b := validProfile(t)
	return []corruption{
		{"missing by_bs", dropKey(t, b, "by_bs"), "by_bs"},
		{"null by_bs", setKey(t, b, "by_bs", "null"), "by_bs"},
		{"empty by_bs", setKey(t, b, "by_bs", "{}"), "by_bs"},
		{"by_bs array", setKey(t, b, "by_bs", "[]"), "by_bs"},
		{"missing model", dropKey(t, b, "model"), "model"},
		{"missing source", dropKey(t, b, "source"), "source"},
		{"renamed model", edit(t, b, `"model"`, `"modell"`), "modell"},
		{"model as number", edit(t, b, `"model": "hand"`, `"model": 1`), "model"},
		{"null", []byte("null"), "model"},
		{"batch size key", edit(t, b, `"1": {`, `"one": {`), "by_bs"},
		{"prefix as string", edit(t, b, `"prefix_ms": [`, `"prefix_ms": ["1", `), "prefix_ms"},
		{"short ramp_ms", edit(t, b, `"ramp_ms": [
        0.1,`, `"ramp_ms": [`), "ramp_ms"},
		{"negative num_ramps", edit(t, b, `"num_ramps": 3`, `"num_ramps": -3`), "num_ramps"},
		{"huge num_ramps", edit(t, b, `"num_ramps": 3`, `"num_ramps": 1e300`), "num_ramps"},
		{"wrong batch_sizes", edit(t, b, `"batch_sizes": [
    1,`, `"batch_sizes": [`), "batch_sizes"},
		{"huge vanilla", edit(t, b, `"vanilla_ms": 10`, `"vanilla_ms": 1e400`), "vanilla_ms"},
		{"NaN vanilla", edit(t, b, `"vanilla_ms": 10`, `"vanilla_ms": NaN`), "byte"},
		{"negative vanilla", edit(t, b, `"vanilla_ms": 10`, `"vanilla_ms": -10`), "vanilla_ms"},
		{"unknown field", edit(t, b, `"vanilla_ms"`, `"vanila_ms"`), "vanila_ms"},
		{"trailing data", append(bytes.Clone(b), "x"...), "after byte"},
		{"truncated", b[:len(b)/2], "unexpected EOF"},
		{"empty", nil, "empty file"},
	}
}

func tableCorruptions(t testing.TB) []corruption {
	conf := func(shape ...int) *npz.Array {
		return &npz.Array{Shape: shape, Data: make([]float32, (&npz.Array{Shape: shape}).Len())}
	}
	agree := func(shape ...int) *npz.Array {
		return &npz.Array{Shape: shape, Data: make([]bool, (&npz.Array{Shape: shape}).Len())}
	}
	confs := func(v ...float32) *npz.Array { return &npz.Array{Shape: []int{2, len(v) / 2}, Data: v} }
	meta := func(s ...string) *npz.Array { return &npz.Array{Shape: []int{len(s)}, Data: s} }
	b := validTable(t)
	return []corruption{
		{"conf float64", npzFile(t, "conf", &npz.Array{Shape: []int{2, 3}, Data: make([]float64, 6)}, "agree", agree(2, 3)), "conf"},
		{"conf missing", npzFile(t, "agree", agree(2, 3)), "conf"},
		{"conf one dimension", npzFile(t, "conf", conf(6), "agree", agree(6)), "conf"},
		{"conf three dimensions", npzFile(t, "conf", conf(1, 2, 3), "agree", agree(1, 2, 3)), "conf"},
		{"agree transposed", npzFile(t, "conf", conf(2, 3), "agree", agree(3, 2)), "agree"},
		{"agree missing", npzFile(t, "conf", conf(2, 3)), "agree"},
		{"agree uint8", npzFile(t, "conf", conf(2, 3), "agree", &npz.Array{Shape: []int{2, 3}, Data: make([]uint8, 6)}), "agree"},
		{"NaN confidence", npzFile(t, "conf", confs(0.5, float32(math.NaN())), "agree", agree(2, 1)), "conf"},
		{"confidence above 1", npzFile(t, "conf", confs(0.5, 1.5), "agree", agree(2, 1)), "conf"},
		{"no ramps", npzFile(t, "conf", conf(0, 3), "agree", agree(0, 3)), "conf"},
		{"huge ramp count", npzFile(t, "conf", conf(1e17, 0), "agree", agree(1e17, 0)), "conf"},
		{"unknown key", npzFile(t, "conf", conf(2, 3), "agree", agree(2, 3), "extra", conf(1)), "extra"},
		{"two meta strings", npzFile(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", meta("{}", "{}")), "meta"},
		{"meta not JSON", npzFile(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", meta("{")), "meta"},
		{"meta float64", npzFile(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", &npz.Array{Shape: []int{1}, Data: []float64{1}}), "meta"},
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

func readSchedule(p string) error { _, err := ReadSchedule(p); return err }
func readProfile(p string) error  { _, err := ReadProfile(p); return err }
func readTable(p string) error    { _, err := ReadTable(p); return err }
func readTableMeta(p string) error {
	var m map[string]int
	_, err := ReadTableMeta(p, &m)
	return err
}

// TestReadersRejectCorruptFiles: every hand-made defect is a one-line error
// naming the file and the key, never a panic or a silently accepted file.
func TestReadersRejectCorruptFiles(t *testing.T) {
	for _, c := range []struct {
		name string
		file []byte
		read func(string) error
	}{
		{"schedule", validSchedule(t), readSchedule},
		{"profile", validProfile(t), readProfile},
		{"table", validTable(t), readTable},
		{"table with meta", validTable(t), readTableMeta},
	} {
		path := filepath.Join(t.TempDir(), "valid")
		os.WriteFile(path, c.file, 0o644)
		if err, _ := readOK(path, c.read); err != nil {
			t.Fatalf("valid %s refused: %v", c.name, err)
		}
	}
	t.Run("schedule", func(t *testing.T) { checkCorruptions(t, ".json", scheduleCorruptions(t), readSchedule) })
	t.Run("profile", func(t *testing.T) { checkCorruptions(t, ".json", profileCorruptions(t), readProfile) })
	t.Run("table", func(t *testing.T) { checkCorruptions(t, ".npz", tableCorruptions(t), readTable) })
	t.Run("table meta", func(t *testing.T) { checkCorruptions(t, ".npz", tableCorruptions(t), readTableMeta) })
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

func FuzzReadSchedule(f *testing.F) {
	addSeeds(f, validSchedule(f), scheduleCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, "s.json", func(p string) error {
			s, err := ReadSchedule(p)
			if err != nil {
				return err
			}
			batched, served := 0, 0
			for _, b := range s.Batches {
				batched += b
			}
			for _, r := range s.Requests {
				if !r.Dropped {
					served++
				}
			}
			if batched != served {
				t.Fatalf("read a schedule whose batches hold %d requests, %d served", batched, served)
			}
			return nil
		})
	})
}

func FuzzReadProfile(f *testing.F) {
	addSeeds(f, validProfile(f), profileCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, "p.json", func(p string) error {
			prof, err := ReadProfile(p)
			if err != nil {
				return err
			}
			if err := prof.Validate(); err != nil {
				t.Fatalf("read an invalid profile: %v", err)
			}
			return nil
		})
	})
}

func FuzzReadTable(f *testing.F) {
	addSeeds(f, validTable(f), tableCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b, "t.npz", func(p string) error {
			var meta any
			tab, err := ReadTableMeta(p, &meta)
			if err != nil {
				// Without meta, the only further errors are about meta.
				tab, err = ReadTable(p)
			}
			if err != nil {
				return err
			}
			if err := tab.Validate(); err != nil {
				t.Fatalf("read an invalid table: %v", err)
			}
			return nil
		})
	})
}
