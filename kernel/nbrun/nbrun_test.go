package nbrun

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSign(t *testing.T) {
	// Reference value from Python: hmac.new(b"secret", b"".join(parts), hashlib.sha256).hexdigest()
	const want = "2b4fcfd5e346a79b74b969e4967bc74f062ac8e372d93dea5612ac8efc684746"
	parts := [][]byte{[]byte(`{"msg_id":"a"}`), []byte(`{}`), []byte(`{}`), []byte(`{"code":"1+1"}`)}
	if got := sign([]byte("secret"), parts...); got != want {
		t.Errorf("sign = %s, want %s", got, want)
	}
	if got := sign(nil, parts...); got != "" {
		t.Errorf("sign without key = %q, want empty", got)
	}
}

func TestEncodeDecode(t *testing.T) {
	key := []byte("0123-key")
	m := &message{
		Header:  newHeader("session-1", "execute_request"),
		Parent:  newHeader("session-1", "kernel_info_request"),
		Content: map[string]any{"code": "fmt.Println(1)", "silent": false},
	}
	frames, err := encode(key, m)
	if err != nil {
		t.Fatal(err)
	}
	// A DEALER or SUB socket receives routing identities before the delimiter.
	wire := append([][]byte{[]byte("identity")}, frames...)
	got, err := decode(key, wire)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header != m.Header || got.Parent != m.Parent {
		t.Errorf("headers: got %+v %+v, want %+v %+v", got.Header, got.Parent, m.Header, m.Parent)
	}
	if !reflect.DeepEqual(got.Content, m.Content) || len(got.Metadata) != 0 {
		t.Errorf("content %v metadata %v, want %v and empty", got.Content, got.Metadata, m.Content)
	}

	// An empty parent is sent as {} and decodes to the zero header.
	frames, _ = encode(key, &message{Header: newHeader("s", "kernel_info_request")})
	if string(frames[3]) != "{}" {
		t.Errorf("empty parent_header encoded as %s, want {}", frames[3])
	}

	tampered := append([][]byte(nil), wire...)
	tampered[len(tampered)-1] = []byte(`{"code":"os.Exit(1)","silent":false}`)
	for name, tc := range map[string]struct {
		key   []byte
		wire  [][]byte
		valid bool
	}{
		"tampered content": {key, tampered, false},
		"wrong key":        {[]byte("other"), wire, false},
		"no key":           {nil, tampered, true}, // signing disabled
		"no delimiter":     {key, wire[2:], false},
		"too few frames":   {key, wire[:5], false},
	} {
		_, err := decode(tc.key, tc.wire)
		if (err == nil) != tc.valid {
			t.Errorf("%s: decode error = %v, want valid=%v", name, err, tc.valid)
		}
	}
}

func TestNewID(t *testing.T) {
	a, b := newID(), newID()
	if a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("newID gave %q and %q, want distinct version 4 UUIDs", a, b)
	}
}

// TestRoundTrip checks that notebooks written by Python's json module as
// nbformat writes them (roundtrip.ipynb holds awkward strings, numbers and
// nesting) come out byte-identical.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"roundtrip.ipynb", "hello.ipynb", "fail.ipynb", "slow.ipynb"} {
		path := filepath.Join("testdata", name)
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := readNotebook(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := nb.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed by a read and write:\n%s", name, firstDiff(got, want))
		}
		out := filepath.Join(t.TempDir(), name)
		if err := nb.write(out); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(out); !bytes.Equal(b, want) {
			t.Errorf("%s: write differs from marshal", name)
		}
	}
}

// firstDiff shows the first differing line of a and b.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, la[i], lb[i])
		}
	}
	return "lengths differ"
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"cells": [`, "not a notebook"},
		{`[]`, "not a notebook"},
		{`{"nbformat": 4, "cells": []} {}`, "data after"},
		{`{"nbformat": 3, "cells": []}`, "nbformat is 3"},
		{`{"nbformat": 4}`, `"cells" is missing`},
		{`{"nbformat": 4, "cells": [1]}`, "cell 1 is not an object"},
		{`{"nbformat": 4, "cells": [{"source": ""}]}`, "cell 1 has no cell_type"},
		{`{"nbformat": 4, "cells": [{"cell_type": "markdown"}, {"cell_type": "code", "source": 3}]}`, "cell 2: source"},
		{`{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["a", 1]}]}`, "cell 1: source"},
	} {
		_, err := parseNotebook("x/bad.ipynb", []byte(tc.doc))
		if err == nil || !strings.HasPrefix(err.Error(), "x/bad.ipynb: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse %s: error %v, want one naming x/bad.ipynb and %q", tc.doc, err, tc.want)
		}
	}
	if err := Run(t.Context(), filepath.Join(t.TempDir(), "missing.ipynb"), "", Options{}); err == nil ||
		!strings.Contains(err.Error(), "missing.ipynb") {
		t.Errorf("Run on a missing file: %v", err)
	}
}

func TestSplitLines(t *testing.T) {
	// Reference values from Python's str.splitlines(keepends=True).
	for _, tc := range []struct {
		in   string
		want []any
	}{
		{"", []any{}},
		{"x\n", []any{"x\n"}},
		{"no newline", []any{"no newline"}},
		{"a\nb\r\nc\rd\ve\ff\x1cg\x1dh\x1ei\u0085j\u2028k\u2029l\n\nm",
			[]any{"a\n", "b\r\n", "c\r", "d\v", "e\f", "f\x1c", "g\x1d", "h\x1e", "i\u0085", "j\u2028", "k\u2029", "l\n", "\n", "m"}},
	} {
		if got := splitLines(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	data := splitData(map[string]any{"text/plain": "a\nb", "application/json": "a\nb", "application/vnd.x+json": "a\nb"})
	if !reflect.DeepEqual(data["text/plain"], []any{"a\n", "b"}) || data["application/json"] != "a\nb" || data["application/vnd.x+json"] != "a\nb" {
		t.Errorf("splitData split the wrong MIME types: %v", data)
	}
}

func TestCellError(t *testing.T) {
	e := &CellError{Notebook: "notebooks/x.ipynb", Cell: 3, EName: "ERROR",
		EValue: "# gonb_1234\n./main.go:11:6: undefined:  \x1b[31mfoo\x1b[0m\n\n"}
	const want = "notebooks/x.ipynb: cell 3: ERROR: # gonb_1234; ./main.go:11:6: undefined: foo"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestFindKernelSpec(t *testing.T) {
	// From this package's folder, the repository's own kernelspec.
	path := FindKernelSpec(".")
	if path == "" {
		t.Fatal("FindKernelSpec(.) found no kernelspec in the repository")
	}
	spec, err := LoadKernelSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Argv[0] != "gonb" || !strings.Contains(strings.Join(spec.Argv, " "), "{connection_file}") {
		t.Errorf("repository kernelspec argv = %q", spec.Argv)
	}

	// A folder outside any checkout of the module finds nothing, and a
	// go.mod of another module does not count.
	dir := t.TempDir()
	if got := FindKernelSpec(dir); got != "" {
		t.Errorf("FindKernelSpec(%s) = %s, want none", dir, got)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n"), 0o644)
	specPath := filepath.Join(dir, specInRepo)
	os.MkdirAll(filepath.Dir(specPath), 0o755)
	os.WriteFile(specPath, []byte(`{"argv": ["x", "{connection_file}"]}`), 0o644)
	sub := filepath.Join(dir, "notebooks", "pitot")
	os.MkdirAll(sub, 0o755)
	if got := FindKernelSpec(sub); got != "" {
		t.Errorf("FindKernelSpec found %s under another module", got)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module \"github.com/paperlab/paperlab\"\n\ngo 1.26\n"), 0o644)
	if got := FindKernelSpec(t.TempDir(), sub); got != specPath {
		t.Errorf("FindKernelSpec = %q, want %q", got, specPath)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"argv": []}`), 0o644)
	if _, err := LoadKernelSpec(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadKernelSpec with empty argv: %v", err)
	}
}
