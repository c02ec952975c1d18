// Package jsonfile decodes the JSON files paperlab writes strictly: one
// object, the keys the writer puts there and no others, values of the
// right types at any depth, and errors that name the file and the key.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/npz"
)

// Key is one top-level key of a JSON file: where its value is decoded
// to, and whether every file has it.
type Key struct {
	Name     string
	Dst      any
	Required bool
}

// DecodeObject decodes data, which must hold one JSON object and
// nothing after it, key by key: every key of the object must be one of
// keys, every required key must be there, and each value is decoded into
// its dst refusing keys its type lacks at any depth. Errors are *npz.Error
// values naming path and the key.
func DecodeObject(path string, data []byte, keys []Key) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return Error(path, "", err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		return &npz.Error{File: path, Expected: "end of file after the JSON object", Found: fmt.Sprintf("more data after byte %d", off)}
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(names, name) {
			return &npz.Error{File: path, Key: name, Expected: "one of the keys " + strings.Join(names, ", "), Found: "an unknown key"}
		}
	}
	for _, k := range keys {
		raw, ok := obj[k.Name]
		if !ok {
			if k.Required {
				return &npz.Error{File: path, Key: k.Name, Expected: "a value", Found: "no such key"}
			}
			continue
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(k.Dst); err != nil {
			return Error(path, k.Name, err)
		}
	}
	return nil
}

// Error turns an error of encoding/json, met decoding the value of key
// (or the whole file, for key ""), into an *npz.Error naming path, the key
// and what was expected and found.
func Error(path, key string, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return &npz.Error{File: path, Expected: "a JSON object", Found: "an empty file"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &npz.Error{File: path, Key: key, Expected: "a complete JSON value", Found: "unexpected EOF (the file is cut short)"}
	case errors.As(err, &syn):
		return &npz.Error{File: path, Key: key, Expected: "valid JSON", Found: fmt.Sprintf("%v (at byte %d)", syn, syn.Offset)}
	case errors.As(err, &typ):
		if typ.Field != "" {
			key = strings.TrimPrefix(key+"."+typ.Field, ".")
		}
		return &npz.Error{File: path, Key: key, Expected: Kind(typ.Type), Found: "JSON " + typ.Value}
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &npz.Error{File: path, Key: key, Expected: "only the fields the writer puts there", Found: "unknown field " + field}
	}
	return &npz.Error{File: path, Key: key, Err: err}
}

// Kind describes the JSON value that decodes into a Go type.
func Kind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return Kind(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer within " + t.String() + " range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer within " + t.String() + " range"
	case reflect.Float32, reflect.Float64:
		return "a number within " + t.String() + " range"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value of Go type " + t.String()
}

// Required is a key every file has.
func Required(name string, dst any) Key { return Key{Name: name, Dst: dst, Required: true} }

// Optional is a key a file may lack; dst keeps its value then.
func Optional(name string, dst any) Key { return Key{Name: name, Dst: dst} }
