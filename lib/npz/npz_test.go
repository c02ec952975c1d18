package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	refnpz "codeberg.org/sbinet/npyio/npz"
)

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		data  any
		shape []int
		dtype string
	}{
		{"f4", []float32{1.5, -2, float32(math.Inf(1)), 3e-38}, nil, "<f4"},
		{"f8", []float64{math.Pi, -0.0, 1e300, 5e-324, 7, 8}, []int{2, 3}, "<f8"},
		{"i1", []int8{-128, 0, 127}, nil, "|i1"},
		{"i2", []int16{-32768, 1, 32767}, nil, "<i2"},
		{"i4", []int32{math.MinInt32, 0, math.MaxInt32}, nil, "<i4"},
		{"i8", []int64{math.MinInt64, 42, math.MaxInt64}, nil, "<i8"},
		{"u1", []uint8{0, 255}, nil, "|u1"},
		{"u2", []uint16{0, 65535}, nil, "<u2"},
		{"u4", []uint32{0, math.MaxUint32}, nil, "<u4"},
		{"b1", []bool{true, false, true, true}, []int{2, 2}, "|b1"},
		{"U", []string{"alpha", "beta", "γ", ""}, nil, "<U5"},
		{"scalar", []float64{2.5}, []int{}, "<f8"},
		{"empty", []float32{}, []int{0, 3}, "<f4"},
	}
	path := filepath.Join(t.TempDir(), "all.npz")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var err error
		if c.shape != nil {
			err = w.WriteArray(c.name, &Array{Shape: c.shape, Data: c.data})
		} else {
			err = w.Write(c.name, c.data)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Keys()); got != len(cases) {
		t.Fatalf("keys: got %d, want %d", got, len(cases))
	}
	for i, c := range cases {
		a, err := f.Array(c.name)
		if err != nil {
			t.Fatal(err)
		}
		want := c.shape
		if want == nil {
			want = []int{reflect.ValueOf(c.data).Len()}
		}
		if f.Keys()[i] != c.name || a.DType != c.dtype || !reflect.DeepEqual(a.Shape, want) || !reflect.DeepEqual(a.Data, c.data) {
			t.Errorf("%s: got %s %v %v, want %s %v %v", c.name, a.DType, a.Shape, a.Data, c.dtype, want, c.data)
		}
	}
}

// TestAgainstReference checks our writer against the independent npyio
// reader, so that a bug shared by our reader and writer cannot hide.
func TestAgainstReference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ref.npz")
	w, _ := Create(path)
	w.Write("f", []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	w.Write("i", []int64{7, -8})
	w.Write("s", []string{"iwasm-a:hc-10", "γ"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := refnpz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var fs []float32
	var is []int64
	var ss []string
	if err := r.Read("f.npy", &fs); err != nil {
		t.Fatal(err)
	}
	r.Read("i.npy", &is)
	r.Read("s.npy", &ss)
	if !reflect.DeepEqual(fs, []float32{1, 2, 3, 4, 5, 6}) || !reflect.DeepEqual(is, []int64{7, -8}) || !reflect.DeepEqual(ss, []string{"iwasm-a:hc-10", "γ"}) {
		t.Errorf("reference read %v %v %q", fs, is, ss)
	}
	if got := r.Header("f.npy").Descr.Shape; !reflect.DeepEqual(got, []int{2, 3}) {
		t.Errorf("reference shape %v", got)
	}
}

// TestHeaderLayout checks the exact bytes of a small .npy against NEP 1:
// magic, version 1.0, header length, dict, space padding to 64, newline.
func TestHeaderLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNPY(&buf, &Array{Shape: []int{2}, Data: []int32{1, -1}}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	dict := "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }"
	hlen := int(binary.LittleEndian.Uint16(b[8:]))
	if string(b[:8]) != "\x93NUMPY\x01\x00" || (10+hlen)%64 != 0 || !strings.HasPrefix(string(b[10:]), dict) || b[9+hlen] != '\n' {
		t.Fatalf("bad header %q", b[:10+hlen])
	}
	if got := b[10+hlen:]; !bytes.Equal(got, []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("data bytes %v", got)
	}
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		p := filepath.Join(dir, "d.npz")
		w, _ := Create(p)
		w.Write("x", []float64{1, 2})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(p)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("same arrays gave different archives")
	}
}

func TestFortranOrder(t *testing.T) {
	// A 2x3 array [[0,1,2],[3,4,5]] stored column-major: 0 3 1 4 2 5.
	npy := npyBytes("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }", 0, 3, 1, 4, 2, 5)
	a, err := ReadNPY(bytes.NewReader(npy), "f.npy")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 1, 2, 3, 4, 5}; !reflect.DeepEqual(a.Data, want) {
		t.Errorf("got %v, want %v", a.Data, want)
	}
}

func npyBytes(dict string, vals ...int64) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)+1))
	b.WriteString(dict + "\n")
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npz")
	w, _ := Create(path)
	w.Write("t", []int64{1})
	w.Close()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Float32("t")
	if want := path + `: key "t": expected dtype <f4, found <i8`; err == nil || err.Error() != want {
		t.Errorf("dtype error %q, want %q", err, want)
	}
	_, _, err = f.Floats("missing")
	if err == nil || !strings.Contains(err.Error(), `key "missing": no such array (have t)`) {
		t.Errorf("missing key error %q", err)
	}

	bad := []struct {
		name, dict string
		vals       []int64
		want       string
	}{
		{"short data", "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", []int64{1}, "needs 24 data bytes, found 8"},
		{"huge shape", "{'descr': '<i8', 'fortran_order': False, 'shape': (1099511627776, 1024), }", nil, "needs 9007199254740992 data bytes, found 0"},
		{"overflow", "{'descr': '<i8', 'fortran_order': False, 'shape': (999999999999999999, 999999999999999999), }", nil, "overflows"},
		{"big endian", "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", []int64{1}, "only little-endian"},
		{"object", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", []int64{1}, `unsupported dtype "|O"`},
		{"structured", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", nil, "structured dtypes are not supported"},
		{"no shape", "{'descr': '<i8', 'fortran_order': False, }", nil, `header lacks "shape"`},
		{"negative", "{'descr': '<i8', 'fortran_order': False, 'shape': (-1,), }", nil, "shape tuple"},
	}
	for _, c := range bad {
		_, err := ReadNPY(bytes.NewReader(npyBytes(c.dict, c.vals...)), "a.npy")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "a.npy: ") || !errors.Is(err, ErrFormat) && c.name != "big endian" && c.name != "object" {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}

	good, _ := os.ReadFile(path)
	if _, err := Parse(good[:len(good)/2], "trunc.npz"); err == nil || !strings.HasPrefix(err.Error(), "trunc.npz: ") {
		t.Errorf("truncated zip: %v", err)
	}
}

func TestShippedFiles(t *testing.T) {
	cases := []struct {
		path  string
		key   string
		dtype string
		shape []int
	}{
		{"../../data/pitot/data.npz", "t", "<f4", []int{53637}},
		{"../../data/pitot/data.npz", "i_workload", "<i8", []int{53637}},
		{"../../data/pitot/data.npz", "d_platform", "<f4", []int{231, 39}},
		{"../../data/pitot/data.npz", "d_workload", "<f4", []int{249, 141}},
		{"../../data/pitot/data.npz", "n_platform", "<U17", []int{231}},
		{"../../data/pitot/data.npz", "f_workload", "<U3", []int{141}},
		{"../../data/pitot/if2.npz", "t", "<f8", []int{98957}},
		{"../../data/pitot/if2.npz", "i_interference0", "<i8", []int{98957}},
		{"../../data/pitot-wasm/data.npz", "data", "<f4", []int{180, 249}},
		{"../../data/pitot-wasm/data.npz", "module_data", "<u4", []int{249, 141}},
		{"../../data/pitot-wasm/data.if.npz", "if_platform", "|i1", []int{23254}},
		{"../../data/pitot-wasm/data.if3.npz", "if_interferer", "<i2", []int{14393, 2}},
	}
	for _, c := range cases {
		f, err := Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.Array(c.key)
		if err != nil {
			t.Fatal(err)
		}
		if a.DType != c.dtype || !reflect.DeepEqual(a.Shape, c.shape) {
			t.Errorf("%s %s: %s %v, want %s %v", c.path, c.key, a.DType, a.Shape, c.dtype, c.shape)
		}
	}
	// Values and strings agree with the reference reader.
	f, _ := Open("../../data/pitot/data.npz")
	ref, err := refnpz.Open("../../data/pitot/data.npz")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	var rt []float32
	var rn []string
	ref.Read("t.npy", &rt)
	ref.Read("n_workload.npy", &rn)
	ts, _, _ := f.Float32("t")
	ns, _, _ := f.Strings("n_workload")
	if !reflect.DeepEqual(ts, rt) || !reflect.DeepEqual(ns, rn) {
		t.Error("data.npz disagrees with the reference reader")
	}
	if ns[0] != "cortex/kmeans_l" {
		t.Errorf("n_workload[0] = %q", ns[0])
	}
}

// TestSeedCorpus checks that every checked-in fuzz seed but the valid ones
// is rejected with an error (the fuzz targets also run them, checking only
// that nothing panics).
func TestSeedCorpus(t *testing.T) {
	for _, target := range []string{"FuzzParse", "FuzzReadNPY"} {
		dir := filepath.Join("testdata/fuzz", target)
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < 8 {
			t.Fatalf("%s: seed corpus missing: %v (%d entries)", dir, err, len(entries))
		}
		for _, e := range entries {
			raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			if target == "FuzzParse" {
				_, err = Parse([]byte(s), e.Name())
			} else {
				_, err = ReadNPY(strings.NewReader(s), e.Name())
			}
			if valid := strings.HasPrefix(e.Name(), "valid"); valid != (err == nil) {
				t.Errorf("%s/%s: err = %v", target, e.Name(), err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(validArchive())
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b, "fuzz.npz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.npz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, k := range file.Keys() {
			a, _ := file.Array(k)
			if a.Len() != reflect.ValueOf(a.Data).Len() {
				t.Fatalf("%s: shape %v but %d elements", k, a.Shape, reflect.ValueOf(a.Data).Len())
			}
		}
	})
}

func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 1, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadNPY(bytes.NewReader(b), "fuzz.npy")
		if err != nil {
			return
		}
		if a.Len() != reflect.ValueOf(a.Data).Len() {
			t.Fatalf("shape %v but %d elements", a.Shape, reflect.ValueOf(a.Data).Len())
		}
		// What we read, we can write and read back unchanged.
		var buf bytes.Buffer
		if err := WriteNPY(&buf, a); err != nil {
			t.Fatal(err)
		}
		b2, err := ReadNPY(&buf, "again.npy")
		if err != nil || !reflect.DeepEqual(a.Data, b2.Data) && !hasNaN(a.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func hasNaN(v any) bool {
	switch x := v.(type) {
	case []float32:
		for _, f := range x {
			if f != f {
				return true
			}
		}
	case []float64:
		for _, f := range x {
			if f != f {
				return true
			}
		}
	}
	return false
}

func validArchive() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("t.npy")
	WriteNPY(w, &Array{Shape: []int{3}, Data: []float32{1, 2, 3}})
	w, _ = zw.Create("n.npy")
	WriteNPY(w, &Array{Shape: []int{2}, Data: []string{"a", "bc"}})
	zw.Close()
	return b.Bytes()
}

// allocated returns the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestMemoryBounded: what Parse allocates stays within a constant factor
// of its input. A deflate-compressed member that declares and inflates to
// 100 MB from a 100 KB archive is refused before the memory is spent; a
// Fortran-order member costs a few times its size, not a permutation of
// machine words per element; a 3-D Fortran array converts correctly.
func TestMemoryBounded(t *testing.T) {
	const n = 100 << 20
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "bomb.npy", Method: zip.Deflate})
	w.Write(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (" + strconv.Itoa(n) + ",), }"))
	zeros := make([]byte, 1<<20)
	for range n >> 20 {
		w.Write(zeros)
	}
	zw.Close()
	var err error
	got := allocated(func() { _, err = Parse(zb.Bytes(), "bomb.npz") })
	if err == nil || !strings.Contains(err.Error(), "bomb") {
		t.Errorf("a %d-byte archive inflating to %d bytes: %v", zb.Len(), n, err)
	}
	if limit := uint64(MinBudget + MaxInflate*int64(zb.Len())); got > 2*limit {
		t.Errorf("parsing a %d-byte bomb allocated %d bytes, more than twice the %d bound", zb.Len(), got, limit)
	}

	rows, cols := 1400, 1000
	npy := npyBytes("{'descr': '|u1', 'fortran_order': True, 'shape': (" + strconv.Itoa(rows) + ", " + strconv.Itoa(cols) + "), }")
	body := make([]byte, rows*cols)
	for i := range body {
		body[i] = byte(i % 251)
	}
	var fb bytes.Buffer
	fw := zip.NewWriter(&fb)
	m, _ := fw.CreateHeader(&zip.FileHeader{Name: "f.npy", Method: zip.Store})
	m.Write(npy)
	m.Write(body)
	fw.Close()
	var f *File
	got = allocated(func() { f, err = Parse(fb.Bytes(), "f.npz") })
	if err != nil {
		t.Fatal(err)
	}
	if got > uint64(6*len(body)) {
		t.Errorf("a %d-byte Fortran-order member allocated %d bytes (%.1fx)", len(body), got, float64(got)/float64(len(body)))
	}
	a, _ := f.Array("f")
	v := a.Data.([]uint8)
	for _, rc := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {rows - 1, cols - 1}, {17, 923}} {
		if want := body[rc[1]*rows+rc[0]]; v[rc[0]*cols+rc[1]] != want {
			t.Errorf("element %v = %d, want %d", rc, v[rc[0]*cols+rc[1]], want)
		}
	}

	// 2x3x2 in Fortran order: element (i, j, k) is stored at i + 2j + 6k.
	var vals []int64
	for f := range 12 {
		vals = append(vals, int64(f))
	}
	a3, err := ReadNPY(bytes.NewReader(npyBytes("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3, 2), }", vals...)), "f3.npy")
	if err != nil {
		t.Fatal(err)
	}
	d := a3.Data.([]int64)
	for i := range 2 {
		for j := range 3 {
			for k := range 2 {
				if got, want := d[i*6+j*2+k], int64(i+2*j+6*k); got != want {
					t.Errorf("(%d,%d,%d) = %d, want %d", i, j, k, got, want)
				}
			}
		}
	}

	// More dimensions than NumPy allows.
	shape := strings.Repeat("1, ", 65)
	if _, err := ReadNPY(bytes.NewReader(npyBytes("{'descr': '<i8', 'fortran_order': True, 'shape': ("+shape+"), }", 1)), "d.npy"); err == nil {
		t.Error("65 dimensions accepted")
	}
}
