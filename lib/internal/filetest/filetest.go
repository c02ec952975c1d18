// Package filetest holds what the tests of paperlab's file readers share:
// writing valid files and damaging them (an .npz archive with some arrays
// changed, a JSON file with a key changed or dropped), and checking that a
// read of any bytes is a result or a one-line error naming the file and
// the key, never a panic, and allocates within a bound of the file's size.
package filetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/npz"
)

// Corruption is a damaged file: the error reading it must name Key (a key,
// or for defects of the whole file what is wrong; "" names nothing more
// than the file).
type Corruption struct {
	Name string
	Data []byte
	Key  string
}

// WriteFile writes b to path, creating its directory if needed, and fails
// t if it cannot.
func WriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Written calls write on a path named name in a new temporary directory
// and returns the bytes it wrote there.
func Written(t testing.TB, name string, write func(path string) error) []byte {
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

// NPZ returns the .npz archive of the arrays given as key (a string),
// array (an *npz.Array) pairs, written in order.
func NPZ(t testing.TB, pairs ...any) []byte {
	t.Helper()
	if len(pairs)%2 != 0 {
		t.Fatalf("NPZ: %d arguments, want key, array pairs", len(pairs))
	}
	var keys []string
	arrays := map[string]*npz.Array{}
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		a, aok := pairs[i+1].(*npz.Array)
		if !ok || !aok {
			t.Fatalf("NPZ: arguments %d and %d are %T and %T, want a string and an *npz.Array", i, i+1, pairs[i], pairs[i+1])
		}
		keys = append(keys, k)
		arrays[k] = a
	}
	return writeNPZ(t, keys, arrays)
}

// EditNPZ reads the archive b, lets edit change its arrays, and returns
// the archive rewritten. edit gets the keys in archive order and the
// arrays by key, and returns the keys in the order to write them; a key
// whose array is nil is dropped, and keys edit added to arrays but not to
// the keys it returns are written last, in sorted order.
func EditNPZ(t testing.TB, b []byte, edit func(keys []string, arrays map[string]*npz.Array) []string) []byte {
	t.Helper()
	f, err := npz.Parse(b, "archive")
	if err != nil {
		t.Fatal(err)
	}
	keys := f.Keys()
	arrays := map[string]*npz.Array{}
	for _, k := range keys {
		if arrays[k], err = f.Array(k); err != nil {
			t.Fatal(err)
		}
	}
	keys = edit(keys, arrays)
	var added []string
	for k := range arrays {
		if !slices.Contains(keys, k) {
			added = append(added, k)
		}
	}
	slices.Sort(added)
	return writeNPZ(t, append(keys, added...), arrays)
}

// writeNPZ writes the arrays of keys, in order and skipping nil ones, as
// an .npz archive and returns its bytes.
func writeNPZ(t testing.TB, keys []string, arrays map[string]*npz.Array) []byte {
	t.Helper()
	return Written(t, "x.npz", func(path string) error {
		w, err := npz.Create(path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if a := arrays[k]; a != nil {
				if err := w.WriteArray(k, a); err != nil {
					w.Abort()
					return err
				}
			}
		}
		return w.Close()
	})
}

// EditText returns b with the first from replaced by to; it fails when b
// does not hold from, so that a changed writer cannot make a case vacuous.
func EditText(t testing.TB, b []byte, from, to string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("%q not in %s", from, b)
	}
	return bytes.Replace(b, []byte(from), []byte(to), 1)
}

// SetJSONKey returns the JSON b with the value of the first key named key
// replaced by value (raw JSON text); it fails when b has no such key.
func SetJSONKey(t testing.TB, b []byte, key, value string) []byte {
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

// DropJSONKey returns the JSON b without the first key named key, its
// value and the comma that separated it; it fails when b has no such key
// or what is left is not valid JSON.
func DropJSONKey(t testing.TB, b []byte, key string) []byte {
	t.Helper()
	b = SetJSONKey(t, b, key, "")
	i := bytes.Index(b, []byte(`"`+key+`":`))
	j := i + len(key) + 3
	for j < len(b) && (b[j] == ' ' || b[j] == '\n') {
		j++
	}
	if j < len(b) && b[j] == ',' {
		j++
	} else if k := bytes.LastIndexByte(b[:i], ','); k >= 0 {
		i = k // the last key: drop the comma before it
	}
	out := slices.Concat(b[:i], b[j:])
	if !json.Valid(out) {
		t.Fatalf("dropping %q left invalid JSON %s", key, out)
	}
	return out
}

// EditJSON decodes the JSON object b, lets edit change it, and returns it
// encoded again (indented).
func EditJSON(t testing.TB, b []byte, edit func(m map[string]any)) []byte {
	t.Helper()
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

// Allocated returns the bytes allocated on the heap so far. It reads
// runtime/metrics, which unlike runtime.ReadMemStats does not stop the
// world (doing that on every input starves the fuzzing engine's timers).
func Allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Budget is what npz.Parse may spend on the arrays of an archive of n
// bytes: npz.MinBudget + npz.MaxInflate×n, at the bounds' current values.
func Budget(n int) uint64 {
	return uint64(npz.MinBudget + npz.MaxInflate*int64(n))
}

// AllocLimit is what reading a file of n bytes may allocate: a reader
// widens or indexes what it decodes, and npz.Parse may inflate a
// compressed member up to Budget(n) bytes; so 4×Budget(n).
func AllocLimit(n int) uint64 {
	return 4 * Budget(n)
}

// Read calls read, turning a panic into an error that begins "panic:", and
// returns the bytes allocated meanwhile and read's error.
func Read(read func() error) (alloc uint64, err error) {
	before := Allocated()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		alloc = Allocated() - before
	}()
	return 0, read()
}

// CheckOneLine reports, and returns false, unless err is a one-line error,
// not a recovered panic, that names path and, once path is removed from
// it, key.
func CheckOneLine(t testing.TB, err error, path, key string) bool {
	t.Helper()
	if err == nil {
		t.Errorf("reading %s: no error", path)
		return false
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "panic:"):
		t.Errorf("reading %s: %v", path, err)
	case strings.Contains(msg, "\n"):
		t.Errorf("reading %s: error spans lines: %q", path, err)
	case !strings.Contains(msg, path):
		t.Errorf("reading %s: error does not name the file: %v", path, err)
	case !strings.Contains(strings.ReplaceAll(msg, path, ""), key):
		t.Errorf("reading %s: error does not name %s: %v", path, key, err)
	default:
		return true
	}
	return false
}

// CheckRead writes b to path and calls read (which reads path): it reports
// a read that allocated more than limit bytes, or that failed with a panic
// or with an error that is not one line naming path. It returns read's
// error.
func CheckRead(t testing.TB, path string, b []byte, limit uint64, read func() error) error {
	t.Helper()
	WriteFile(t, path, b)
	alloc, err := Read(read)
	if alloc > limit {
		t.Errorf("reading %d bytes allocated %d bytes, more than %d", len(b), alloc, limit)
	}
	if err != nil && (strings.HasPrefix(err.Error(), "panic:") || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path)) {
		t.Errorf("error is not one line naming %s: %q", path, err)
	}
	return err
}

// FuzzRead writes b to a file called name in a new temporary directory and
// checks read of it as CheckRead does, within AllocLimit(len(b)).
func FuzzRead(t *testing.T, b []byte, name string, read func(path string) error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	CheckRead(t, path, b, AllocLimit(len(b)), func() error { return read(path) })
}

// CheckCorruptions writes each corruption to a file named after it, with
// extension ext, reads it with read and checks the error (as CheckOneLine
// does, for c.Key) and that the read allocated within AllocLimit of the
// file's size.
func CheckCorruptions(t *testing.T, ext string, cs []Corruption, read func(path string) error) {
	t.Helper()
	dir := t.TempDir()
	for _, c := range cs {
		path := filepath.Join(dir, strings.ReplaceAll(c.Name, " ", "_")+ext)
		WriteFile(t, path, c.Data)
		alloc, err := Read(func() error { return read(path) })
		t.Logf("%s: %v", c.Name, err)
		CheckOneLine(t, err, path, c.Key)
		if alloc > AllocLimit(len(c.Data)) {
			t.Errorf("%s: reading %d bytes allocated %d", c.Name, len(c.Data), alloc)
		}
	}
}

// AddSeeds adds valid, its prefixes of 1, 10, a third, a half and all but
// one of its bytes, an empty file and the corruptions to f's corpus.
func AddSeeds(f *testing.F, valid []byte, cs []Corruption) {
	f.Helper()
	f.Add(valid)
	for _, n := range []int{1, 10, len(valid) / 3, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:max(0, min(n, len(valid)))])
	}
	f.Add([]byte{})
	for _, c := range cs {
		f.Add(c.Data)
	}
}
