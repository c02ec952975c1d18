package suite

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/pit"
)

// sampleCalibration is a small cost table of the shape Calibrate makes.
func sampleCalibration() *Calibration {
	return &Calibration{Machine: ThisMachine(), Reps: 3, Table: pit.CostTable{N: 64, Dense: 2e-4, Curves: []pit.CostCurve{
		{Tile: pit.Tile32x1, Points: []pit.CostPoint{{Sparsity: 0, Seconds: 3e-4}, {Sparsity: 0.5, Seconds: 1.5e-4}, {Sparsity: 0.99, Seconds: 1e-5}}},
		{Tile: pit.Tile1x64, Points: []pit.CostPoint{{Sparsity: 0, Seconds: 4e-4}, {Sparsity: 0.9, Seconds: 5e-5}}},
	}}}
}

// sampleRows are results rows as the experiments write them, a modelled
// E9 row (no reps) and a note that needs quoting included.
func sampleRows() []Row {
	return []Row{
		{Experiment: "E1", Group: "32x1", X: 0.95, Method: MPIT32x1, Reps: 5, Median: 1.5e-3, Min: 1.25e-3,
			Work: pit.Work{MACs: 1, UsefulMACs: 2, BytesGathered: 3, MicroTiles: 4, Gemms: 5, IndexReads: 6}, Buffer: 7, Note: "a, \"quoted\"\nnote"},
		{Experiment: "E9", Group: "1x1", X: 0.5, Method: MDense, Median: 0.01, Min: 0.01, Note: ModelNote},
	}
}

func validCalibration(t testing.TB) []byte {
	path := filepath.Join(t.TempDir(), "costtable.json")
	if err := WriteCalibration(path, sampleCalibration()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func validCSV(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleRows()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func validMachine(t testing.TB) []byte {
	dir := t.TempDir()
	if err := writeMachine(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editJSON decodes b, lets edit change the value, and encodes it again.
func editJSON(t testing.TB, b []byte, edit func(m map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// corruption is a damaged file and the key (or column) its error must name.
type corruption struct {
	name string
	data []byte
	key  string
}

func obj(v any) map[string]any { return v.(map[string]any) }
func arr(v any) []any          { return v.([]any) }

func table(m map[string]any) map[string]any { return obj(m["Table"]) }
func curve(m map[string]any, i int) map[string]any {
	return obj(arr(table(m)["Curves"])[i])
}
func point(m map[string]any, c, i int) map[string]any {
	return obj(arr(curve(m, c)["Points"])[i])
}

func calibrationCorruptions(t testing.TB) []corruption {
	v := validCalibration(t)
	e := func(f func(m map[string]any)) []byte { return editJSON(t, v, f) }
	return []corruption{
		{"empty", nil, ""},
		{"truncated", v[:len(v)/2], ""},
		{"null", []byte("null"), ""},
		{"array", []byte("[1, 2]"), ""},
		{"trailing garbage", append(append([]byte{}, v...), "}x"...), ""},
		{"no Machine", e(func(m map[string]any) { delete(m, "Machine") }), "Machine"},
		{"Machine null", e(func(m map[string]any) { m["Machine"] = nil }), "Machine"},
		{"Machine without Kernel", e(func(m map[string]any) { delete(obj(m["Machine"]), "Kernel") }), "Machine.Kernel"},
		{"Machine.Cores zero", e(func(m map[string]any) { obj(m["Machine"])["Cores"] = 0 }), "Machine.Cores"},
		{"Machine.Cores string", e(func(m map[string]any) { obj(m["Machine"])["Cores"] = "2" }), "Machine.Cores"},
		{"no Reps", e(func(m map[string]any) { delete(m, "Reps") }), "Reps"},
		{"negative Reps", e(func(m map[string]any) { m["Reps"] = -1 }), "Reps"},
		{"Reps too big for int", e(func(m map[string]any) { m["Reps"] = 1e30 }), "Reps"},
		{"no Table", e(func(m map[string]any) { delete(m, "Table") }), "Table"},
		{"Table an array", e(func(m map[string]any) { m["Table"] = []int{1} }), "Table"},
		{"no N", e(func(m map[string]any) { delete(table(m), "N") }), "Table.N"},
		{"N zero", e(func(m map[string]any) { table(m)["N"] = 0 }), "Table.N"},
		{"N fractional", e(func(m map[string]any) { table(m)["N"] = 6.5 }), "Table.N"},
		{"no Dense", e(func(m map[string]any) { delete(table(m), "Dense") }), "Table.Dense"},
		{"Dense negative", e(func(m map[string]any) { table(m)["Dense"] = -1 }), "Table.Dense"},
		{"Curves an object", e(func(m map[string]any) { table(m)["Curves"] = map[string]int{"a": 1} }), "Table.Curves"},
		{"tile 0x1", e(func(m map[string]any) { obj(curve(m, 0)["Tile"])["Rows"] = 0 }), "Table.Curves[0].Tile"},
		{"tile -1 columns", e(func(m map[string]any) { obj(curve(m, 1)["Tile"])["Cols"] = -1 }), "Table.Curves[1].Tile"},
		{"huge tile", e(func(m map[string]any) { obj(curve(m, 0)["Tile"])["Rows"] = int64(1) << 62 }), "Table.Curves[0].Tile"},
		{"no tile", e(func(m map[string]any) { delete(curve(m, 0), "Tile") }), "Table.Curves[0].Tile"},
		{"duplicate tile", e(func(m map[string]any) { curve(m, 1)["Tile"] = curve(m, 0)["Tile"] }), "Table.Curves[1].Tile"},
		{"sparsity above 1", e(func(m map[string]any) { point(m, 0, 2)["Sparsity"] = 1.5 }), "Table.Curves[0].Points[2].Sparsity"},
		{"sparsity negative", e(func(m map[string]any) { point(m, 1, 0)["Sparsity"] = -0.1 }), "Table.Curves[1].Points[0].Sparsity"},
		{"points unsorted", e(func(m map[string]any) { point(m, 0, 1)["Sparsity"] = 0.999 }), "Table.Curves[0].Points[2].Sparsity"},
		{"seconds zero", e(func(m map[string]any) { point(m, 0, 1)["Seconds"] = 0 }), "Table.Curves[0].Points[1].Seconds"},
		{"seconds negative", e(func(m map[string]any) { point(m, 1, 1)["Seconds"] = -1e-3 }), "Table.Curves[1].Points[1].Seconds"},
		{"no seconds", e(func(m map[string]any) { delete(point(m, 1, 1), "Seconds") }), "Table.Curves[1].Points[1].Seconds"},
		{"null point", e(func(m map[string]any) { arr(curve(m, 1)["Points"])[0] = nil }), "Table.Curves[1].Points[0]"},
	}
}

func machineCorruptions(t testing.TB) []corruption {
	v := validMachine(t)
	e := func(f func(m map[string]any)) []byte { return editJSON(t, v, f) }
	return []corruption{
		{"empty", nil, ""},
		{"truncated", v[:len(v)/2], ""},
		{"null", []byte("null"), ""},
		{"empty object", []byte("{}"), "CPU"},
		{"string", []byte(`"machine"`), ""},
		{"trailing garbage", append(append([]byte{}, v...), "{}"...), ""},
		{"no CPU", e(func(m map[string]any) { delete(m, "CPU") }), "CPU"},
		{"no Cores", e(func(m map[string]any) { delete(m, "Cores") }), "Cores"},
		{"no Arch", e(func(m map[string]any) { delete(m, "Arch") }), "Arch"},
		{"Kernel null", e(func(m map[string]any) { m["Kernel"] = nil }), "Kernel"},
		{"Cores zero", e(func(m map[string]any) { m["Cores"] = 0 }), "Cores"},
		{"Cores negative", e(func(m map[string]any) { m["Cores"] = -4 }), "Cores"},
		{"Cores huge", e(func(m map[string]any) { m["Cores"] = 1e40 }), "Cores"},
		{"Cores string", e(func(m map[string]any) { m["Cores"] = "two" }), "Cores"},
		{"BLAS number", e(func(m map[string]any) { m["BLAS"] = 7 }), "BLAS"},
	}
}

// replaceField sets column col of record line (0 is the header) of the
// CSV b to v.
func replaceField(t testing.TB, b []byte, line, col int, v string) []byte {
	recs := csvRecords(t, b)
	recs[line][col] = v
	return writeRecords(t, recs)
}

func csvRecords(t testing.TB, b []byte) [][]string {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func csvCorruptions(t testing.TB) []corruption {
	v := validCSV(t)
	f := func(line, col int, val string) []byte { return replaceField(t, v, line, col, val) }
	recs := func(edit func([][]string) [][]string) []byte { return writeRecords(t, edit(csvRecords(t, v))) }
	return []corruption{
		{"empty", nil, "header"},
		{"header only half", v[:40], "column"},
		{"unterminated quote", v[:len(v)-len(ModelNote)+3], ""},
		{"header misspelt", f(0, 5, "median"), `"median_s"`},
		{"note column missing", recs(func(r [][]string) [][]string {
			for i := range r {
				r[i] = r[i][:14]
			}
			return r
		}), `"note"`},
		{"extra column", recs(func(r [][]string) [][]string {
			for i := range r {
				r[i] = append(r[i], "x")
			}
			return r
		}), "columns"},
		{"short row", recs(func(r [][]string) [][]string { r[2] = r[2][:9]; return r }), "line 4"},
		{"x not a number", f(1, 2, "zero"), `column "x"`},
		{"x infinite", f(1, 2, "Inf"), `column "x"`},
		{"median NaN", f(2, 5, "NaN"), `column "median_s"`},
		{"min negative", f(1, 6, "-1e-3"), `column "min_s"`},
		{"reps negative", f(1, 4, "-5"), `column "reps"`},
		{"reps fractional", f(1, 4, "2.5"), `column "reps"`},
		{"reps overflows", f(1, 4, "99999999999999999999"), `column "reps"`},
		{"macs negative", f(1, 7, "-1"), `column "macs"`},
		{"index_reads huge", f(2, 12, "1e300"), `column "index_reads"`},
		{"buffer negative", f(2, 13, "-7"), `column "buffer_bytes"`},
	}
}

func writeRecords(t testing.TB, recs [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadersRejectCorruptFiles checks that every damaged file gives an
// error on one line that names the file and the offending key or column.
func TestReadersRejectCorruptFiles(t *testing.T) {
	readers := []struct {
		name    string
		file    string
		read    func(path string) error
		corrupt func(testing.TB) []corruption
	}{
		{"ReadCalibration", "costtable.json", func(p string) error { _, err := ReadCalibration(p); return err }, calibrationCorruptions},
		{"ReadMachine", "machine.json", func(p string) error { _, err := ReadMachine(filepath.Dir(p)); return err }, machineCorruptions},
		{"ReadCSV", "E1.csv", func(p string) error { _, err := ReadCSV(p); return err }, csvCorruptions},
	}
	for _, r := range readers {
		for _, c := range r.corrupt(t) {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), r.file)
				if err := os.WriteFile(path, c.data, 0o644); err != nil {
					t.Fatal(err)
				}
				err := r.read(path)
				t.Log(err)
				switch {
				case err == nil:
					t.Fatal("no error")
				case strings.Contains(err.Error(), "\n"):
					t.Errorf("error spans lines: %q", err)
				case !strings.Contains(err.Error(), path):
					t.Errorf("error does not name the file: %v", err)
				case c.key != "" && !strings.Contains(err.Error(), c.key):
					t.Errorf("error does not name %s: %v", c.key, err)
				}
			})
		}
	}
}

// seed adds the valid file b, some of its prefixes, an empty file and the
// corruptions to f's corpus.
func seed(f *testing.F, b []byte, cs []corruption) {
	f.Add(b)
	for _, n := range []int{0, 1, len(b) / 4, len(b) / 2, 3 * len(b) / 4, len(b) - 1} {
		f.Add(b[:n])
	}
	for _, c := range cs {
		f.Add(c.data)
	}
}

// check runs read on the bytes b written to path, and fails on an error
// that is not one line naming the file, or on a read that allocates far
// more than the input's size.
func check(t *testing.T, path string, b []byte, read func() error) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := allocated()
	err := read()
	if got, limit := allocated()-before, uint64(1<<20+64*len(b)); got > limit {
		t.Errorf("reading %d bytes allocated %d bytes, more than %d", len(b), got, limit)
	}
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path)) {
		t.Errorf("error is not one line naming %s: %q", path, err)
	}
	return err
}

// allocated returns the bytes allocated on the heap so far. It reads
// runtime/metrics, which unlike runtime.ReadMemStats does not stop the
// world (doing that on every input starves the fuzzing engine's timers).
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func FuzzReadCalibration(f *testing.F) {
	seed(f, validCalibration(f), calibrationCorruptions(f))
	path := filepath.Join(f.TempDir(), "costtable.json")
	mask := pit.Mask{Rows: 8, Cols: 8, Bits: make([]bool, 64)}
	mask.Bits[3] = true
	f.Fuzz(func(t *testing.T, b []byte) {
		var c *Calibration
		err := check(t, path, b, func() (err error) { c, err = ReadCalibration(path); return err })
		if err != nil {
			return
		}
		// A table that reads back is one the chooser and the figures can use.
		var tiles []pit.Tile
		for _, cv := range c.Table.Curves {
			tiles = append(tiles, cv.Tile)
			for _, s := range []float64{-1, 0, 0.5, 1, 2} {
				c.Table.Predict(cv.Tile, s)
			}
			BreakEven(c.Table, cv.Tile)
		}
		pit.Choose(mask, c.Table, tiles)
		if err := WriteCalibration(path, c); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCalibration(path)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Errorf("rewritten table reads back as %+v, %v; want %+v", back, err, c)
		}
	})
}

func FuzzReadMachine(f *testing.F) {
	seed(f, validMachine(f), machineCorruptions(f))
	dir := f.TempDir()
	path := filepath.Join(dir, "machine.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Machine
		err := check(t, path, b, func() (err error) { m, err = ReadMachine(dir); return err })
		if err == nil && m.Cores < 1 {
			t.Errorf("machine with %d cores accepted", m.Cores)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	seed(f, validCSV(f), csvCorruptions(f))
	path := filepath.Join(f.TempDir(), "E1.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		var rows []Row
		err := check(t, path, b, func() (err error) { rows, err = ReadCSV(path); return err })
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, rows); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(path)
		if err != nil || !reflect.DeepEqual(back, rows) {
			t.Errorf("rewritten rows read back as %+v, %v; want %+v", back, err, rows)
		}
	})
}

// TestCalibrateRecordsReps checks that a cost table measured with reps < 1
// (which times each point once) records 1, so that it reads back.
func TestCalibrateRecordsReps(t *testing.T) {
	c := Calibrate(64, 0)
	if c.Reps != 1 {
		t.Errorf("Reps = %d, want 1", c.Reps)
	}
	path := filepath.Join(t.TempDir(), "costtable.json")
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCalibration(path); err != nil {
		t.Error(err)
	}
}
