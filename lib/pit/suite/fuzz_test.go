package suite

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/paperlab/paperlab/lib/internal/filetest"
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
	return filetest.Written(t, "costtable.json", func(p string) error { return WriteCalibration(p, sampleCalibration()) })
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

func obj(v any) map[string]any { return v.(map[string]any) }
func arr(v any) []any          { return v.([]any) }

func table(m map[string]any) map[string]any { return obj(m["Table"]) }
func curve(m map[string]any, i int) map[string]any {
	return obj(arr(table(m)["Curves"])[i])
}
func point(m map[string]any, c, i int) map[string]any {
	return obj(arr(curve(m, c)["Points"])[i])
}

func calibrationCorruptions(t testing.TB) []filetest.Corruption {
	v := validCalibration(t)
	e := func(f func(m map[string]any)) []byte { return filetest.EditJSON(t, v, f) }
	return []filetest.Corruption{
		{Name: "empty", Data: nil, Key: ""},
		{Name: "truncated", Data: v[:len(v)/2], Key: ""},
		{Name: "null", Data: []byte("null"), Key: ""},
		{Name: "array", Data: []byte("[1, 2]"), Key: ""},
		{Name: "trailing garbage", Data: append(append([]byte{}, v...), "}x"...), Key: ""},
		{Name: "no Machine", Data: e(func(m map[string]any) { delete(m, "Machine") }), Key: "Machine"},
		{Name: "Machine null", Data: e(func(m map[string]any) { m["Machine"] = nil }), Key: "Machine"},
		{Name: "Machine without Kernel", Data: e(func(m map[string]any) { delete(obj(m["Machine"]), "Kernel") }), Key: "Machine.Kernel"},
		{Name: "Machine.Cores zero", Data: e(func(m map[string]any) { obj(m["Machine"])["Cores"] = 0 }), Key: "Machine.Cores"},
		{Name: "Machine.Cores string", Data: e(func(m map[string]any) { obj(m["Machine"])["Cores"] = "2" }), Key: "Machine.Cores"},
		{Name: "no Reps", Data: e(func(m map[string]any) { delete(m, "Reps") }), Key: "Reps"},
		{Name: "negative Reps", Data: e(func(m map[string]any) { m["Reps"] = -1 }), Key: "Reps"},
		{Name: "Reps too big for int", Data: e(func(m map[string]any) { m["Reps"] = 1e30 }), Key: "Reps"},
		{Name: "no Table", Data: e(func(m map[string]any) { delete(m, "Table") }), Key: "Table"},
		{Name: "Table an array", Data: e(func(m map[string]any) { m["Table"] = []int{1} }), Key: "Table"},
		{Name: "no N", Data: e(func(m map[string]any) { delete(table(m), "N") }), Key: "Table.N"},
		{Name: "N zero", Data: e(func(m map[string]any) { table(m)["N"] = 0 }), Key: "Table.N"},
		{Name: "N fractional", Data: e(func(m map[string]any) { table(m)["N"] = 6.5 }), Key: "Table.N"},
		{Name: "no Dense", Data: e(func(m map[string]any) { delete(table(m), "Dense") }), Key: "Table.Dense"},
		{Name: "Dense negative", Data: e(func(m map[string]any) { table(m)["Dense"] = -1 }), Key: "Table.Dense"},
		{Name: "Curves an object", Data: e(func(m map[string]any) { table(m)["Curves"] = map[string]int{"a": 1} }), Key: "Table.Curves"},
		{Name: "tile 0x1", Data: e(func(m map[string]any) { obj(curve(m, 0)["Tile"])["Rows"] = 0 }), Key: "Table.Curves[0].Tile"},
		{Name: "tile -1 columns", Data: e(func(m map[string]any) { obj(curve(m, 1)["Tile"])["Cols"] = -1 }), Key: "Table.Curves[1].Tile"},
		{Name: "huge tile", Data: e(func(m map[string]any) { obj(curve(m, 0)["Tile"])["Rows"] = int64(1) << 62 }), Key: "Table.Curves[0].Tile"},
		{Name: "no tile", Data: e(func(m map[string]any) { delete(curve(m, 0), "Tile") }), Key: "Table.Curves[0].Tile"},
		{Name: "duplicate tile", Data: e(func(m map[string]any) { curve(m, 1)["Tile"] = curve(m, 0)["Tile"] }), Key: "Table.Curves[1].Tile"},
		{Name: "sparsity above 1", Data: e(func(m map[string]any) { point(m, 0, 2)["Sparsity"] = 1.5 }), Key: "Table.Curves[0].Points[2].Sparsity"},
		{Name: "sparsity negative", Data: e(func(m map[string]any) { point(m, 1, 0)["Sparsity"] = -0.1 }), Key: "Table.Curves[1].Points[0].Sparsity"},
		{Name: "points unsorted", Data: e(func(m map[string]any) { point(m, 0, 1)["Sparsity"] = 0.999 }), Key: "Table.Curves[0].Points[2].Sparsity"},
		{Name: "seconds zero", Data: e(func(m map[string]any) { point(m, 0, 1)["Seconds"] = 0 }), Key: "Table.Curves[0].Points[1].Seconds"},
		{Name: "seconds negative", Data: e(func(m map[string]any) { point(m, 1, 1)["Seconds"] = -1e-3 }), Key: "Table.Curves[1].Points[1].Seconds"},
		{Name: "no seconds", Data: e(func(m map[string]any) { delete(point(m, 1, 1), "Seconds") }), Key: "Table.Curves[1].Points[1].Seconds"},
		{Name: "null point", Data: e(func(m map[string]any) { arr(curve(m, 1)["Points"])[0] = nil }), Key: "Table.Curves[1].Points[0]"},
	}
}

func machineCorruptions(t testing.TB) []filetest.Corruption {
	v := validMachine(t)
	e := func(f func(m map[string]any)) []byte { return filetest.EditJSON(t, v, f) }
	return []filetest.Corruption{
		{Name: "empty", Data: nil, Key: ""},
		{Name: "truncated", Data: v[:len(v)/2], Key: ""},
		{Name: "null", Data: []byte("null"), Key: ""},
		{Name: "empty object", Data: []byte("{}"), Key: "CPU"},
		{Name: "string", Data: []byte(`"machine"`), Key: ""},
		{Name: "trailing garbage", Data: append(append([]byte{}, v...), "{}"...), Key: ""},
		{Name: "no CPU", Data: e(func(m map[string]any) { delete(m, "CPU") }), Key: "CPU"},
		{Name: "no Cores", Data: e(func(m map[string]any) { delete(m, "Cores") }), Key: "Cores"},
		{Name: "no Arch", Data: e(func(m map[string]any) { delete(m, "Arch") }), Key: "Arch"},
		{Name: "Kernel null", Data: e(func(m map[string]any) { m["Kernel"] = nil }), Key: "Kernel"},
		{Name: "Cores zero", Data: e(func(m map[string]any) { m["Cores"] = 0 }), Key: "Cores"},
		{Name: "Cores negative", Data: e(func(m map[string]any) { m["Cores"] = -4 }), Key: "Cores"},
		{Name: "Cores huge", Data: e(func(m map[string]any) { m["Cores"] = 1e40 }), Key: "Cores"},
		{Name: "Cores string", Data: e(func(m map[string]any) { m["Cores"] = "two" }), Key: "Cores"},
		{Name: "BLAS number", Data: e(func(m map[string]any) { m["BLAS"] = 7 }), Key: "BLAS"},
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

func csvCorruptions(t testing.TB) []filetest.Corruption {
	v := validCSV(t)
	f := func(line, col int, val string) []byte { return replaceField(t, v, line, col, val) }
	recs := func(edit func([][]string) [][]string) []byte { return writeRecords(t, edit(csvRecords(t, v))) }
	return []filetest.Corruption{
		{Name: "empty", Data: nil, Key: "header"},
		{Name: "header only half", Data: v[:40], Key: "column"},
		{Name: "unterminated quote", Data: v[:len(v)-len(ModelNote)+3], Key: ""},
		{Name: "header misspelt", Data: f(0, 5, "median"), Key: `"median_s"`},
		{Name: "note column missing", Data: recs(func(r [][]string) [][]string {
			for i := range r {
				r[i] = r[i][:14]
			}
			return r
		}), Key: `"note"`},
		{Name: "extra column", Data: recs(func(r [][]string) [][]string {
			for i := range r {
				r[i] = append(r[i], "x")
			}
			return r
		}), Key: "columns"},
		{Name: "short row", Data: recs(func(r [][]string) [][]string { r[2] = r[2][:9]; return r }), Key: "line 4"},
		{Name: "x not a number", Data: f(1, 2, "zero"), Key: `column "x"`},
		{Name: "x infinite", Data: f(1, 2, "Inf"), Key: `column "x"`},
		{Name: "median NaN", Data: f(2, 5, "NaN"), Key: `column "median_s"`},
		{Name: "min negative", Data: f(1, 6, "-1e-3"), Key: `column "min_s"`},
		{Name: "reps negative", Data: f(1, 4, "-5"), Key: `column "reps"`},
		{Name: "reps fractional", Data: f(1, 4, "2.5"), Key: `column "reps"`},
		{Name: "reps overflows", Data: f(1, 4, "99999999999999999999"), Key: `column "reps"`},
		{Name: "macs negative", Data: f(1, 7, "-1"), Key: `column "macs"`},
		{Name: "index_reads huge", Data: f(2, 12, "1e300"), Key: `column "index_reads"`},
		{Name: "buffer negative", Data: f(2, 13, "-7"), Key: `column "buffer_bytes"`},
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
		corrupt func(testing.TB) []filetest.Corruption
	}{
		{"ReadCalibration", "costtable.json", func(p string) error { _, err := ReadCalibration(p); return err }, calibrationCorruptions},
		{"ReadMachine", "machine.json", func(p string) error { _, err := ReadMachine(filepath.Dir(p)); return err }, machineCorruptions},
		{"ReadCSV", "E1.csv", func(p string) error { _, err := ReadCSV(p); return err }, csvCorruptions},
	}
	for _, r := range readers {
		for _, c := range r.corrupt(t) {
			t.Run(r.name+"/"+c.Name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), r.file)
				filetest.WriteFile(t, path, c.Data)
				err := r.read(path)
				t.Log(err)
				filetest.CheckOneLine(t, err, path, c.Key)
			})
		}
	}
}

// seed adds the valid file b, some of its prefixes, an empty file and the
// corruptions to f's corpus.
func seed(f *testing.F, b []byte, cs []filetest.Corruption) {
	f.Add(b)
	for _, n := range []int{0, 1, len(b) / 4, len(b) / 2, 3 * len(b) / 4, len(b) - 1} {
		f.Add(b[:n])
	}
	for _, c := range cs {
		f.Add(c.Data)
	}
}

// check writes b to path and checks read of it as filetest.CheckRead does,
// allowing 1 MiB plus 64 bytes per byte of input.
func check(t *testing.T, path string, b []byte, read func() error) error {
	t.Helper()
	return filetest.CheckRead(t, path, b, uint64(1<<20+64*len(b)), read)
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
