package nbrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// notebook is an nbformat 4 document kept as generic JSON, so that fields
// nbrun does not know about survive a read and write unchanged.
type notebook struct {
	doc   map[string]any
	cells []map[string]any
}

// readNotebook reads and checks the nbformat 4 notebook at path.
func readNotebook(path string) (*notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseNotebook(path, b)
}

// parseNotebook decodes b; name is used in errors.
func parseNotebook(name string, b []byte) (*notebook, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: not a notebook: %v", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: not a notebook: data after the top-level object", name)
	}
	if v, _ := doc["nbformat"].(json.Number); v != "4" {
		return nil, fmt.Errorf("%s: nbformat is %v, want 4", name, doc["nbformat"])
	}
	list, ok := doc["cells"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: \"cells\" is missing or not a list", name)
	}
	nb := &notebook{doc: doc}
	for i, c := range list {
		cell, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: cell %d is not an object", name, i+1)
		}
		if _, ok := cell["cell_type"].(string); !ok {
			return nil, fmt.Errorf("%s: cell %d has no cell_type", name, i+1)
		}
		if cell["cell_type"] == "code" {
			if _, err := cellSource(cell); err != nil {
				return nil, fmt.Errorf("%s: cell %d: %v", name, i+1, err)
			}
		}
		nb.cells = append(nb.cells, cell)
	}
	return nb, nil
}

// cellSource returns a cell's source, which nbformat stores as a string or
// a list of strings.
func cellSource(cell map[string]any) (string, error) {
	switch s := cell["source"].(type) {
	case string:
		return s, nil
	case []any:
		var b strings.Builder
		for _, line := range s {
			l, ok := line.(string)
			if !ok {
				return "", errors.New("source is not a list of strings")
			}
			b.WriteString(l)
		}
		return b.String(), nil
	}
	return "", errors.New("source is not a string or list of strings")
}

// marshal encodes the notebook the way Jupyter's nbformat does
// (json.dumps with indent=1, sort_keys=True, ensure_ascii=False), followed by
// a newline.
func (nb *notebook) marshal() ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeJSON(&buf, nb.doc, 0); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// write writes the notebook to path through a temporary file in the same
// folder, keeping the mode of the file it replaces.
func (nb *notebook) write(path string) error {
	b, err := nb.marshal()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".nbrun-*.ipynb")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// encodeJSON writes v as Python's json.dumps(v, indent=1, sort_keys=True,
// ensure_ascii=False) does, at nesting depth.
func encodeJSON(w *bytes.Buffer, v any, depth int) error {
	indent := func(d int) {
		w.WriteByte('\n')
		w.WriteString(strings.Repeat(" ", d))
	}
	switch v := v.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		fmt.Fprint(w, v)
	case int:
		fmt.Fprint(w, v)
	case json.Number:
		w.WriteString(string(v))
	case string:
		encodeString(w, v)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return encodeJSON(w, items, depth)
	case []any:
		if len(v) == 0 {
			w.WriteString("[]")
			return nil
		}
		w.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			indent(depth + 1)
			if err := encodeJSON(w, x, depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		w.WriteByte(']')
	case []map[string]any:
		items := make([]any, len(v))
		for i, m := range v {
			items[i] = m
		}
		return encodeJSON(w, items, depth)
	case map[string]any:
		if len(v) == 0 {
			w.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // byte order of UTF-8 is code point order, as in Python
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			indent(depth + 1)
			encodeString(w, k)
			w.WriteString(": ")
			if err := encodeJSON(w, v[k], depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		w.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode %T as notebook JSON", v)
	}
	return nil
}

// encodeString quotes s as Python's json module does with ensure_ascii=False:
// only '"', '\\' and control characters below U+0020 are escaped.
func encodeString(w *bytes.Buffer, s string) {
	w.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			w.WriteString(`\"`)
		case '\\':
			w.WriteString(`\\`)
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		case '\b':
			w.WriteString(`\b`)
		case '\f':
			w.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(w, `\u%04x`, r)
			} else {
				w.WriteRune(r)
			}
		}
	}
	w.WriteByte('"')
}

// splitLines splits s after each line boundary, as Python's
// str.splitlines(keepends=True) does; nbformat stores multi-line strings so.
func splitLines(s string) []any {
	lines := []any{}
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + n
			if end < len(s) && s[end] == '\n' {
				end++
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + n
		}
		if end < 0 {
			i += n
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// splitData splits the string values of a MIME bundle into lines, except
// JSON types, as nbformat does when it writes outputs.
func splitData(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for mime, v := range data {
		isJSON := mime == "application/json" ||
			strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json")
		if s, ok := v.(string); ok && !isJSON {
			out[mime] = splitLines(s)
		} else {
			out[mime] = v
		}
	}
	return out
}
