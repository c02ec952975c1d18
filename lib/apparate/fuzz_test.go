package apparate

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"github.com/paperlab/paperlab/lib/internal/filetest"
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

func validSchedule(t testing.TB) []byte {
	return filetest.Written(t, "schedule.json", func(p string) error { return WriteSchedule(p, fuzzSchedule(t)) })
}

func validProfile(t testing.TB) []byte {
	return filetest.Written(t, "profile.json", handProfile(3).Write)
}

func validTable(t testing.TB) []byte {
	return filetest.Written(t, "table.npz", func(p string) error { return WriteTable(p, fuzzTable(), map[string]int{"seed": 1}) })
}

func scheduleCorruptions(t testing.TB) []filetest.Corruption {
	b := validSchedule(t)
	return []filetest.Corruption{
		{Name: "triple stat", Data: filetest.EditText(t, b, `[6.5,15]`, `[6.5,15,1]`), Key: "per_request_stats[2]"},
		{Name: "single stat", Data: filetest.EditText(t, b, `[6.5,15]`, `[6.5]`), Key: "per_request_stats[2]"},
		{Name: "empty stat", Data: filetest.EditText(t, b, `[6.5,15]`, `[]`), Key: "per_request_stats[2]"},
		{Name: "stat of strings", Data: filetest.EditText(t, b, `[6.5,15]`, `["6.5","15"]`), Key: "per_request_stats"},
		{Name: "NaN stat", Data: filetest.EditText(t, b, `[6.5,15]`, `[NaN,15]`), Key: "byte"},
		{Name: "empty object", Data: []byte("{}"), Key: "batching_decision"},
		{Name: "null", Data: []byte("null\n"), Key: "batching_decision"},
		{Name: "array", Data: []byte("[1,2]"), Key: "expected an object"},
		{Name: "missing stats", Data: filetest.DropJSONKey(t, b, "per_request_stats"), Key: "per_request_stats"},
		{Name: "missing batches", Data: filetest.DropJSONKey(t, b, "batching_decision"), Key: "batching_decision"},
		{Name: "missing end", Data: filetest.DropJSONKey(t, b, "end_time_ms"), Key: "end_time_ms"},
		{Name: "null stats", Data: filetest.SetJSONKey(t, b, "per_request_stats", "null"), Key: "per_request_stats"},
		{Name: "null batches", Data: filetest.SetJSONKey(t, b, "batching_decision", "null"), Key: "batching_decision"},
		{Name: "no batches", Data: filetest.SetJSONKey(t, b, "batching_decision", "[]"), Key: "batching_decision"},
		{Name: "missing slo", Data: filetest.DropJSONKey(t, b, "slo_ms"), Key: "slo_ms"},
		{Name: "string slo", Data: filetest.EditText(t, b, `"slo_ms":22`, `"slo_ms":"22"`), Key: "slo_ms"},
		{Name: "batch as string", Data: filetest.EditText(t, b, `"batching_decision":[1,4`, `"batching_decision":["1",4`), Key: "batching_decision"},
		{Name: "batch size 3", Data: filetest.EditText(t, b, `"batching_decision":[1,4`, `"batching_decision":[3,4`), Key: "batching_decision[0]"},
		{Name: "huge batch", Data: filetest.EditText(t, b, `"batching_decision":[1,4`, `"batching_decision":[1e30,4`), Key: "batching_decision"},
		{Name: "negative total", Data: filetest.EditText(t, b, `"total_num_requests":7`, `"total_num_requests":-7`), Key: "total_num_requests"},
		{Name: "huge total", Data: filetest.EditText(t, b, `"total_num_requests":7`, `"total_num_requests":99999999999999999999`), Key: "total_num_requests"},
		{Name: "short arrivals", Data: filetest.EditText(t, b, `"arrival_ms":[0,`, `"arrival_ms":[`), Key: "arrival_ms"},
		{Name: "decreasing arrivals", Data: filetest.EditText(t, b, `"arrival_ms":[0,1`, `"arrival_ms":[2,1`), Key: "arrival_ms[1]"},
		{Name: "negative arrival", Data: filetest.EditText(t, b, `"arrival_ms":[0,`, `"arrival_ms":[-1,`), Key: "arrival_ms[0]"},
		{Name: "unknown key", Data: filetest.EditText(t, b, `"avg_qps"`, `"qps"`), Key: "qps"},
		{Name: "trailing data", Data: append(bytes.Clone(b), "{}"...), Key: "after byte"},
		{Name: "truncated", Data: b[:len(b)/2], Key: "unexpected EOF"},
		{Name: "empty", Data: nil, Key: "empty file"},
	}
}

func profileCorruptions(t testing.TB) []filetest.Corruption {
	b := validProfile(t)
	return []filetest.Corruption{
		{Name: "missing by_bs", Data: filetest.DropJSONKey(t, b, "by_bs"), Key: "by_bs"},
		{Name: "null by_bs", Data: filetest.SetJSONKey(t, b, "by_bs", "null"), Key: "by_bs"},
		{Name: "empty by_bs", Data: filetest.SetJSONKey(t, b, "by_bs", "{}"), Key: "by_bs"},
		{Name: "by_bs array", Data: filetest.SetJSONKey(t, b, "by_bs", "[]"), Key: "by_bs"},
		{Name: "missing model", Data: filetest.DropJSONKey(t, b, "model"), Key: "model"},
		{Name: "missing source", Data: filetest.DropJSONKey(t, b, "source"), Key: "source"},
		{Name: "renamed model", Data: filetest.EditText(t, b, `"model"`, `"modell"`), Key: "modell"},
		{Name: "model as number", Data: filetest.EditText(t, b, `"model": "hand"`, `"model": 1`), Key: "model"},
		{Name: "null", Data: []byte("null"), Key: "model"},
		{Name: "batch size key", Data: filetest.EditText(t, b, `"1": {`, `"one": {`), Key: "by_bs"},
		{Name: "prefix as string", Data: filetest.EditText(t, b, `"prefix_ms": [`, `"prefix_ms": ["1", `), Key: "prefix_ms"},
		{Name: "short ramp_ms", Data: filetest.EditText(t, b, `"ramp_ms": [
        0.1,`, `"ramp_ms": [`), Key: "ramp_ms"},
		{Name: "negative num_ramps", Data: filetest.EditText(t, b, `"num_ramps": 3`, `"num_ramps": -3`), Key: "num_ramps"},
		{Name: "huge num_ramps", Data: filetest.EditText(t, b, `"num_ramps": 3`, `"num_ramps": 1e300`), Key: "num_ramps"},
		{Name: "wrong batch_sizes", Data: filetest.EditText(t, b, `"batch_sizes": [
    1,`, `"batch_sizes": [`), Key: "batch_sizes"},
		{Name: "huge vanilla", Data: filetest.EditText(t, b, `"vanilla_ms": 10`, `"vanilla_ms": 1e400`), Key: "vanilla_ms"},
		{Name: "NaN vanilla", Data: filetest.EditText(t, b, `"vanilla_ms": 10`, `"vanilla_ms": NaN`), Key: "byte"},
		{Name: "negative vanilla", Data: filetest.EditText(t, b, `"vanilla_ms": 10`, `"vanilla_ms": -10`), Key: "vanilla_ms"},
		{Name: "unknown field", Data: filetest.EditText(t, b, `"vanilla_ms"`, `"vanila_ms"`), Key: "vanila_ms"},
		{Name: "trailing data", Data: append(bytes.Clone(b), "x"...), Key: "after byte"},
		{Name: "truncated", Data: b[:len(b)/2], Key: "unexpected EOF"},
		{Name: "empty", Data: nil, Key: "empty file"},
	}
}

func tableCorruptions(t testing.TB) []filetest.Corruption {
	conf := func(shape ...int) *npz.Array {
		return &npz.Array{Shape: shape, Data: make([]float32, (&npz.Array{Shape: shape}).Len())}
	}
	agree := func(shape ...int) *npz.Array {
		return &npz.Array{Shape: shape, Data: make([]bool, (&npz.Array{Shape: shape}).Len())}
	}
	confs := func(v ...float32) *npz.Array { return &npz.Array{Shape: []int{2, len(v) / 2}, Data: v} }
	meta := func(s ...string) *npz.Array { return &npz.Array{Shape: []int{len(s)}, Data: s} }
	b := validTable(t)
	return []filetest.Corruption{
		{Name: "conf float64", Data: filetest.NPZ(t, "conf", &npz.Array{Shape: []int{2, 3}, Data: make([]float64, 6)}, "agree", agree(2, 3)), Key: "conf"},
		{Name: "conf missing", Data: filetest.NPZ(t, "agree", agree(2, 3)), Key: "conf"},
		{Name: "conf one dimension", Data: filetest.NPZ(t, "conf", conf(6), "agree", agree(6)), Key: "conf"},
		{Name: "conf three dimensions", Data: filetest.NPZ(t, "conf", conf(1, 2, 3), "agree", agree(1, 2, 3)), Key: "conf"},
		{Name: "agree transposed", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", agree(3, 2)), Key: "agree"},
		{Name: "agree missing", Data: filetest.NPZ(t, "conf", conf(2, 3)), Key: "agree"},
		{Name: "agree uint8", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", &npz.Array{Shape: []int{2, 3}, Data: make([]uint8, 6)}), Key: "agree"},
		{Name: "NaN confidence", Data: filetest.NPZ(t, "conf", confs(0.5, float32(math.NaN())), "agree", agree(2, 1)), Key: "conf"},
		{Name: "confidence above 1", Data: filetest.NPZ(t, "conf", confs(0.5, 1.5), "agree", agree(2, 1)), Key: "conf"},
		{Name: "no ramps", Data: filetest.NPZ(t, "conf", conf(0, 3), "agree", agree(0, 3)), Key: "conf"},
		{Name: "huge ramp count", Data: filetest.NPZ(t, "conf", conf(1e17, 0), "agree", agree(1e17, 0)), Key: "conf"},
		{Name: "unknown key", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", agree(2, 3), "extra", conf(1)), Key: "extra"},
		{Name: "two meta strings", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", meta("{}", "{}")), Key: "meta"},
		{Name: "meta not JSON", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", meta("{")), Key: "meta"},
		{Name: "meta float64", Data: filetest.NPZ(t, "conf", conf(2, 3), "agree", agree(2, 3), "meta", &npz.Array{Shape: []int{1}, Data: []float64{1}}), Key: "meta"},
		{Name: "truncated", Data: b[:len(b)/2], Key: "zip"},
		{Name: "empty", Data: nil, Key: "zip"},
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
		filetest.WriteFile(t, path, c.file)
		if _, err := filetest.Read(func() error { return c.read(path) }); err != nil {
			t.Fatalf("valid %s refused: %v", c.name, err)
		}
	}
	t.Run("schedule", func(t *testing.T) { filetest.CheckCorruptions(t, ".json", scheduleCorruptions(t), readSchedule) })
	t.Run("profile", func(t *testing.T) { filetest.CheckCorruptions(t, ".json", profileCorruptions(t), readProfile) })
	t.Run("table", func(t *testing.T) { filetest.CheckCorruptions(t, ".npz", tableCorruptions(t), readTable) })
	t.Run("table meta", func(t *testing.T) { filetest.CheckCorruptions(t, ".npz", tableCorruptions(t), readTableMeta) })
}

func FuzzReadSchedule(f *testing.F) {
	filetest.AddSeeds(f, validSchedule(f), scheduleCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		filetest.FuzzRead(t, b, "s.json", func(p string) error {
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
	filetest.AddSeeds(f, validProfile(f), profileCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		filetest.FuzzRead(t, b, "p.json", func(p string) error {
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
	filetest.AddSeeds(f, validTable(f), tableCorruptions(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		filetest.FuzzRead(t, b, "t.npz", func(p string) error {
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
