package filetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/paperlab/paperlab/lib/npz"
)

func vec(v ...float64) *npz.Array { return &npz.Array{Shape: []int{len(v)}, Data: v} }

func TestEditNPZ(t *testing.T) {
	b := NPZ(t, "b", vec(1), "a", vec(2), "c", vec(3))
	out := EditNPZ(t, b, func(keys []string, m map[string]*npz.Array) []string {
		m["a"] = nil       // dropped
		m["z"] = vec(4)    // added, not returned: last
		m["y"] = vec(5)    // likewise, sorted before z
		m["c"] = vec(6, 7) // changed
		return append(keys, "x")
	})
	f, err := npz.Parse(out, "out")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Keys(), []string{"b", "c", "y", "z"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if c, _, err := f.Float64("c"); err != nil || !slices.Equal(c, []float64{6, 7}) {
		t.Errorf("c = %v, %v", c, err)
	}
}

func TestJSONKeys(t *testing.T) {
	b := []byte(`{"a": 1, "b": [2, {"c": 3}], "d": "x"}`)
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{SetJSONKey(t, b, "b", "null"), `{"a": 1, "b":null, "d": "x"}`},
		{DropJSONKey(t, b, "a"), `{"b": [2, {"c": 3}], "d": "x"}`},
		{DropJSONKey(t, b, "b"), `{"a": 1, "d": "x"}`},
		{DropJSONKey(t, b, "d"), `{"a": 1, "b": [2, {"c": 3}]}`},
		{DropJSONKey(t, []byte(`{"a": 1}`), "a"), `{}`},
		{EditText(t, b, `"x"`, `"y"`), `{"a": 1, "b": [2, {"c": 3}], "d": "y"}`},
	} {
		var got, want bytes.Buffer
		if err := json.Compact(&got, c.got); err != nil {
			t.Fatalf("%s: %v", c.got, err)
		}
		json.Compact(&want, []byte(c.want))
		if got.String() != want.String() {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Errorf(f string, args ...any) { r.errs = append(r.errs, fmt.Sprintf(f, args...)) }

func TestCheckOneLine(t *testing.T) {
	const path = "/tmp/dir_key/f.npz"
	for _, c := range []struct {
		err error
		key string
		ok  bool
	}{
		{fmt.Errorf("%s: key: bad", path), "key", true},
		{fmt.Errorf("%s: bad", path), "", true},
		{nil, "", false},
		{fmt.Errorf("%s: bad", path), "key", false}, // key only in the path
		{fmt.Errorf("%s: key:\nbad", path), "key", false},
		{errors.New("key: bad"), "key", false},
		{fmt.Errorf("panic: %s: key", path), "key", false},
	} {
		r := &recorder{TB: t}
		if ok := CheckOneLine(r, c.err, path, c.key); ok != c.ok || ok != (len(r.errs) == 0) {
			t.Errorf("CheckOneLine(%v, %q) = %v, reported %q; want %v", c.err, c.key, ok, r.errs, c.ok)
		}
	}
}

var sink []byte

func TestRead(t *testing.T) {
	alloc, err := Read(func() error { sink = make([]byte, 1<<20); panic("boom") })
	if err == nil || err.Error() != "panic: boom" {
		t.Errorf("error %v, want panic: boom", err)
	}
	if alloc < 1<<20 {
		t.Errorf("allocated %d, want at least 1 MiB", alloc)
	}
}
