package npz

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is an .npz archive read fully into memory.
type File struct {
	// Path is the file the archive was read from, used in error messages.
	Path   string
	keys   []string
	arrays map[string]*Array
}

// Open reads every array of the .npz archive at path.
func Open(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// MaxInflate and MinBudget bound the memory Parse spends on an archive:
// its arrays together may hold at most MinBudget + MaxInflate × (the
// archive's size) bytes of data. Archives numpy.savez writes are stored,
// not compressed, and need 1×; savez_compressed archives of real data
// rarely need more than 10×. A compressed member that would inflate past
// the bound (a decompression bomb, or a corrupt length) is refused before
// the memory is spent. Raise the bounds for archives of, say, highly
// compressible masks.
var (
	MaxInflate int64 = 16
	MinBudget  int64 = 16 << 20
)

// Parse reads every array of an .npz archive held in b; name is used in
// error messages. Memory is bounded by MaxInflate and MinBudget.
func Parse(b []byte, name string) (*File, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, &Error{File: name, Err: fmt.Errorf("%w: not a zip archive (.npz): %v", ErrFormat, err)}
	}
	f := &File{Path: name, arrays: map[string]*Array{}}
	budget := MinBudget + MaxInflate*int64(len(b))
	for _, zf := range zr.File {
		key := strings.TrimSuffix(zf.Name, ".npy")
		if _, dup := f.arrays[key]; dup {
			return nil, &Error{File: name, Key: key, Err: fmt.Errorf("%w: key appears twice", ErrFormat)}
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, &Error{File: name, Key: key, Err: fmt.Errorf("%w: %v", ErrFormat, err)}
		}
		a, err := readNPY(rc, budget)
		rc.Close()
		if err != nil {
			return nil, &Error{File: name, Key: key, Err: err}
		}
		budget -= int64(dataBytes(a))
		f.keys = append(f.keys, key)
		f.arrays[key] = a
	}
	return f, nil
}

// Keys lists the array names in archive order, without the .npy suffix.
func (f *File) Keys() []string { return append([]string(nil), f.keys...) }

// Has reports whether the archive holds key.
func (f *File) Has(key string) bool { _, ok := f.arrays[key]; return ok }

// Array returns the array stored under key.
func (f *File) Array(key string) (*Array, error) {
	a, ok := f.arrays[key]
	if !ok {
		return nil, &Error{File: f.Path, Key: key, Err: fmt.Errorf("no such array (have %s)", strings.Join(f.keys, ", "))}
	}
	return a, nil
}

func typed[T any](f *File, key, want string) ([]T, []int, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, nil, err
	}
	v, ok := a.Data.([]T)
	if !ok {
		return nil, nil, &Error{File: f.Path, Key: key, Expected: "dtype " + want, Found: a.DType}
	}
	return v, a.Shape, nil
}

// Float32 returns the <f4 array under key and its shape.
func (f *File) Float32(key string) ([]float32, []int, error) { return typed[float32](f, key, "<f4") }

// Float64 returns the <f8 array under key and its shape.
func (f *File) Float64(key string) ([]float64, []int, error) { return typed[float64](f, key, "<f8") }

// Int32 returns the <i4 array under key and its shape.
func (f *File) Int32(key string) ([]int32, []int, error) { return typed[int32](f, key, "<i4") }

// Int64 returns the <i8 array under key and its shape.
func (f *File) Int64(key string) ([]int64, []int, error) { return typed[int64](f, key, "<i8") }

// Uint32 returns the <u4 array under key and its shape.
func (f *File) Uint32(key string) ([]uint32, []int, error) { return typed[uint32](f, key, "<u4") }

// Bool returns the |b1 array under key and its shape.
func (f *File) Bool(key string) ([]bool, []int, error) { return typed[bool](f, key, "|b1") }

// Strings returns the <Un array under key and its shape.
func (f *File) Strings(key string) ([]string, []int, error) { return typed[string](f, key, "<Un") }

// Floats returns the floating-point array under key as float64, whichever
// of <f4 or <f8 it is stored as.
func (f *File) Floats(key string) ([]float64, []int, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, nil, err
	}
	switch v := a.Data.(type) {
	case []float64:
		return v, a.Shape, nil
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out, a.Shape, nil
	}
	return nil, nil, &Error{File: f.Path, Key: key, Expected: "dtype <f4 or <f8", Found: a.DType}
}

// Ints returns the integer array under key as int, whichever integer
// dtype it is stored as.
func (f *File) Ints(key string) ([]int, []int, error) {
	a, err := f.Array(key)
	if err != nil {
		return nil, nil, err
	}
	var out []int
	switch v := a.Data.(type) {
	case []int64:
		out = toInts(v)
	case []int32:
		out = toInts(v)
	case []int8:
		out = toInts(v)
	case []int16:
		out = toInts(v)
	case []uint32:
		out = toInts(v)
	case []uint16:
		out = toInts(v)
	case []uint8:
		out = toInts(v)
	default:
		return nil, nil, &Error{File: f.Path, Key: key, Expected: "an integer dtype", Found: a.DType}
	}
	return out, a.Shape, nil
}

func toInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](v []T) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// zipEpoch is the modification time stamped on every archive member, so that
// the same arrays always give byte-identical files.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Writer writes an .npz archive atomically: members go to a temporary file
// beside the target, which is renamed into place by Close.
type Writer struct {
	path string
	tmp  *os.File
	zw   *zip.Writer
	seen map[string]bool
	err  error
}

// Create starts an .npz archive to be written at path, creating its
// directory if needed. Nothing appears at path until Close succeeds.
func Create(path string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	return &Writer{path: path, tmp: tmp, zw: zip.NewWriter(tmp), seen: map[string]bool{}}, nil
}

// Write adds data (a slice of a supported element type) under key with the
// given shape; no shape means one dimension of len(data).
func (w *Writer) Write(key string, data any, shape ...int) error {
	if len(shape) == 0 {
		shape = []int{sliceLen(data)}
	}
	return w.WriteArray(key, &Array{Shape: shape, Data: data})
}

// WriteArray adds a under key, with a.Shape as given (empty for a 0-d array).
func (w *Writer) WriteArray(key string, a *Array) error {
	if w.err != nil {
		return w.err
	}
	if w.seen[key] {
		return fmt.Errorf("npz: %s: key %q written twice", w.path, key)
	}
	w.seen[key] = true
	var buf bytes.Buffer
	if err := WriteNPY(&buf, a); err != nil {
		return fmt.Errorf("npz: %s: key %q: %w", w.path, key, err)
	}
	zf, err := w.zw.CreateHeader(&zip.FileHeader{Name: key + ".npy", Method: zip.Store, Modified: zipEpoch})
	if err == nil {
		_, err = zf.Write(buf.Bytes())
	}
	if err != nil {
		w.err = fmt.Errorf("npz: %s: %w", w.path, err)
	}
	return w.err
}

// Close finishes the archive and moves it into place. After a failed Write,
// Close removes the temporary file and returns the first error.
func (w *Writer) Close() error {
	err := w.err
	if err == nil {
		err = w.zw.Close()
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(w.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
	}
	return err
}

// Abort discards an archive being written.
func (w *Writer) Abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// dataBytes is the size of a's data as stored.
func dataBytes(a *Array) int {
	dt, err := parseDType(a.DType)
	if err != nil {
		return a.Len()
	}
	return dt.itemsize * a.Len()
}

func sliceLen(data any) int {
	switch v := data.(type) {
	case []float32:
		return len(v)
	case []float64:
		return len(v)
	case []int32:
		return len(v)
	case []int64:
		return len(v)
	case []uint32:
		return len(v)
	case []bool:
		return len(v)
	case []int8:
		return len(v)
	case []int16:
		return len(v)
	case []uint8:
		return len(v)
	case []uint16:
		return len(v)
	case []string:
		return len(v)
	}
	return -1
}

// ReadNPYFile reads the .npy file at path.
func ReadNPYFile(path string) (*Array, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return ReadNPY(fh, path)
}

// WriteNPYFile writes a to path atomically.
func WriteNPYFile(path string, a *Array) error {
	var buf bytes.Buffer
	if err := WriteNPY(&buf, a); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// one returns the single element of the array under key, which must be of
// Go type T (NumPy dtype want) and hold exactly one element (shape (), (1,)
// or (1, 1, ...)).
func one[T any](f *File, key, want string) (T, error) {
	var zero T
	v, shape, err := typed[T](f, key, want)
	if err != nil {
		return zero, err
	}
	if len(v) != 1 {
		return zero, &Error{File: f.Path, Key: key, Expected: "one element", Found: "shape " + ShapeString(shape)}
	}
	return v[0], nil
}

// Int64Scalar returns the one <i8 element stored under key.
func (f *File) Int64Scalar(key string) (int64, error) { return one[int64](f, key, "<i8") }

// Float64Scalar returns the one <f8 element stored under key.
func (f *File) Float64Scalar(key string) (float64, error) { return one[float64](f, key, "<f8") }

// StringScalar returns the one <Un element stored under key.
func (f *File) StringScalar(key string) (string, error) { return one[string](f, key, "<Un") }

// Float64Vector returns the one-dimensional <f8 array under key.
func (f *File) Float64Vector(key string) ([]float64, error) {
	v, shape, err := typed[float64](f, key, "<f8")
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, &Error{File: f.Path, Key: key, Expected: "one dimension", Found: "shape " + ShapeString(shape)}
	}
	return v, nil
}

// ShapeString writes shape the way NumPy prints it: (), (3,), (2, 4).
func ShapeString(shape []int) string {
	if len(shape) == 0 {
		return "()"
	}
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}
