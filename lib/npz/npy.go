// Package npz reads and writes NumPy arrays: single .npy files and .npz
// archives (a zip of .npy members), into typed Go slices with shapes.
//
// The format is NumPy's NEP 1 ("A simple file format for NumPy arrays"):
// a magic string, a version, a little-endian header length, a Python dict
// literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the raw
// element bytes. Supported element types are the ones the paperlab datasets
// and results use:
//
//	<f4 float32   <f8 float64   |i1 int8    <i2 int16   <i4 int32   <i8 int64
//	|u1 uint8     <u2 uint16    <u4 uint32  |b1 bool
//	<Un fixed-width UTF-32LE strings, read as []string
//
// Fortran-ordered arrays are transposed to C order on reading; arrays are
// always written in C order, format version 1.0, with the header padded to
// 64 bytes as NumPy does.
//
// Reading is strict and bounded so that untrusted files cannot crash or
// exhaust memory: the header is at most MaxHeaderLen bytes, the declared
// shape must account exactly for the bytes present, and every error names
// the file, the key and what was expected and found.
//
// codeberg.org/sbinet/npyio is the reference implementation this package is
// tested against; it is not used for reading because its header reader
// allocates the declared header length before checking it and panics on a
// header without a newline, which a fuzzer finds at once.
package npz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderLen bounds the .npy header dictionary. NumPy itself refuses
// headers over 10,000 bytes unless told otherwise.
const MaxHeaderLen = 1 << 16

// MaxDims is the most dimensions an array may have: NumPy's NPY_MAXDIMS.
const MaxDims = 64

// magic opens every .npy stream (NEP 1).
var magic = []byte("\x93NUMPY")

// Array is an n-dimensional NumPy array in C (row-major) order.
type Array struct {
	// DType is the NumPy type string as stored, e.g. "<f4" or "<U17".
	DType string
	// Shape holds the dimensions; nil or empty for a 0-d (scalar) array.
	Shape []int
	// Data is one of []float32, []float64, []int8, []int16, []int32, []int64,
	// []uint8, []uint16, []uint32, []bool or []string, with product(Shape)
	// elements.
	Data any
}

// Len returns the number of elements, the product of the shape.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Error reports a problem with one array of one file.
type Error struct {
	File     string // the file path, or a description of the stream
	Key      string // the array name within an .npz, "" for a plain .npy
	Expected string // what was expected, e.g. "dtype <f4"; may be empty
	Found    string // what was found; may be empty
	Err      error  // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Key != "" {
		fmt.Fprintf(&b, ": key %q", e.Key)
	}
	if e.Expected != "" || e.Found != "" {
		fmt.Fprintf(&b, ": expected %s, found %s", e.Expected, e.Found)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrFormat is wrapped by every error about malformed bytes.
var ErrFormat = errors.New("not a valid NumPy file")

// dtype describes one supported element type.
type dtype struct {
	kind     byte // 'f', 'i', 'u', 'b', 'U'
	itemsize int  // bytes per element
}

func parseDType(s string) (dtype, error) {
	if len(s) < 3 {
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	order, kind, size := s[0], s[1], s[2:]
	n, err := strconv.Atoi(size)
	if err != nil || n <= 0 {
		return dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	switch {
	case kind == 'b' && n == 1 && (order == '|' || order == '<'):
		return dtype{'b', 1}, nil
	case order != '<' && !(order == '|' && n == 1):
		return dtype{}, fmt.Errorf("unsupported dtype %q (only little-endian is supported)", s)
	case kind == 'f' && (n == 4 || n == 8), kind == 'i' && (n == 1 || n == 2 || n == 4 || n == 8), kind == 'u' && (n == 1 || n == 2 || n == 4):
		return dtype{kind, n}, nil
	case kind == 'U' && n <= MaxHeaderLen:
		return dtype{'U', 4 * n}, nil
	}
	return dtype{}, fmt.Errorf("unsupported dtype %q (want <f4, <f8, |i1, <i2, <i4, <i8, |u1, <u2, <u4, |b1 or <Un)", s)
}

// header is the parsed .npy header dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// readHeader reads the magic, version and header dictionary from r.
func readHeader(r io.Reader) (header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return header{}, fmt.Errorf("%w: short preamble: %v", ErrFormat, err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return header{}, fmt.Errorf("%w: bad magic %q", ErrFormat, pre[:6])
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, fmt.Errorf("%w: short header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, fmt.Errorf("%w: short header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return header{}, fmt.Errorf("%w: unsupported format version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hlen > MaxHeaderLen {
		return header{}, fmt.Errorf("%w: header of %d bytes exceeds the %d-byte limit", ErrFormat, hlen, MaxHeaderLen)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return header{}, fmt.Errorf("%w: header truncated: %v", ErrFormat, err)
	}
	return parseHeader(string(buf))
}

// parseHeader parses NumPy's header dict literal, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }".
func parseHeader(s string) (header, error) {
	p := &dictParser{s: strings.TrimRight(s, " \n\x00")}
	var h header
	seen := map[string]bool{}
	if !p.eat('{') {
		return h, p.fail("'{'")
	}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return h, p.fail("a quoted key")
		}
		if !p.eat(':') {
			return h, p.fail("':'")
		}
		if seen[key] {
			return h, fmt.Errorf("%w: header repeats key %q", ErrFormat, key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if h.descr, ok = p.str(); !ok {
				return h, p.fail("a quoted descr (structured dtypes are not supported)")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, p.fail("True or False")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return h, p.fail("a shape tuple of non-negative integers")
			}
		default:
			return h, fmt.Errorf("%w: unexpected header key %q", ErrFormat, key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, p.fail("',' or '}'")
			}
			break
		}
	}
	if p.skip(); p.i != len(p.s) {
		return h, p.fail("end of header")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("%w: header lacks %q", ErrFormat, k)
		}
	}
	if len(h.shape) > MaxDims {
		return h, fmt.Errorf("%w: shape has %d dimensions, more than NumPy's %d", ErrFormat, len(h.shape), MaxDims)
	}
	return h, nil
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *dictParser) str() (string, bool) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, true
}

func (p *dictParser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, true
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 18 {
			return nil, false
		}
		d, _ := strconv.Atoi(p.s[p.i:j])
		p.i = j
		p.word("L") // Python 2 long suffix
		shape = append(shape, d)
		if len(shape) > 32 { // NumPy's NPY_MAXDIMS
			return nil, false
		}
		if !p.eat(',') {
			if p.eat(')') {
				return shape, true
			}
			return nil, false
		}
	}
}

func (p *dictParser) fail(want string) error {
	rest := p.s[min(p.i, len(p.s)):]
	if len(rest) > 20 {
		rest = rest[:20] + "..."
	}
	return fmt.Errorf("%w: malformed header at byte %d: expected %s, found %q", ErrFormat, p.i, want, rest)
}

// ReadNPY reads one .npy stream. name is used in error messages.
func ReadNPY(r io.Reader, name string) (*Array, error) {
	a, err := readNPY(r, math.MaxInt64)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	return a, nil
}

// readNPY reads one .npy stream whose data may take at most limit bytes;
// a header that declares more is refused before anything is allocated.
func readNPY(r io.Reader, limit int64) (*Array, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	dt, err := parseDType(h.descr)
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range h.shape {
		if d != 0 && n > math.MaxInt/d {
			return nil, fmt.Errorf("%w: shape %v overflows", ErrFormat, h.shape)
		}
		n *= d
	}
	if n > math.MaxInt/dt.itemsize {
		return nil, fmt.Errorf("%w: shape %v overflows", ErrFormat, h.shape)
	}
	need := n * dt.itemsize
	if int64(need) > limit {
		return nil, fmt.Errorf("%w: shape %v of %s needs %d data bytes, more than the %d this input allows (see npz.MaxInflate)",
			ErrFormat, h.shape, h.descr, need, limit)
	}
	// io.ReadAll grows with the bytes actually present, so a huge declared
	// shape over a short stream costs no more memory than the stream.
	raw, err := io.ReadAll(io.LimitReader(r, int64(need)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading data: %v", ErrFormat, err)
	}
	if len(raw) != need {
		return nil, fmt.Errorf("%w: shape %v of %s needs %d data bytes, found %d",
			ErrFormat, h.shape, h.descr, need, len(raw))
	}
	data, err := decode(dt, raw, n)
	if err != nil {
		return nil, err
	}
	a := &Array{DType: h.descr, Shape: h.shape, Data: data}
	if h.fortran && len(h.shape) > 1 {
		a.Data = fortranToC(a.Data, h.shape)
	}
	return a, nil
}

func decode(dt dtype, raw []byte, n int) (any, error) {
	le := binary.LittleEndian
	switch {
	case dt.kind == 'f' && dt.itemsize == 4:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return v, nil
	case dt.kind == 'f':
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return v, nil
	case dt.kind == 'i' && dt.itemsize == 1:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(raw[i])
		}
		return v, nil
	case dt.kind == 'i' && dt.itemsize == 2:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(le.Uint16(raw[2*i:]))
		}
		return v, nil
	case dt.kind == 'u' && dt.itemsize == 1:
		return append([]uint8(nil), raw...), nil
	case dt.kind == 'u' && dt.itemsize == 2:
		v := make([]uint16, n)
		for i := range v {
			v[i] = le.Uint16(raw[2*i:])
		}
		return v, nil
	case dt.kind == 'i' && dt.itemsize == 4:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(le.Uint32(raw[4*i:]))
		}
		return v, nil
	case dt.kind == 'i':
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(le.Uint64(raw[8*i:]))
		}
		return v, nil
	case dt.kind == 'u':
		v := make([]uint32, n)
		for i := range v {
			v[i] = le.Uint32(raw[4*i:])
		}
		return v, nil
	case dt.kind == 'b':
		v := make([]bool, n)
		for i := range v {
			if raw[i] > 1 {
				return nil, fmt.Errorf("%w: bool element %d holds byte %d", ErrFormat, i, raw[i])
			}
			v[i] = raw[i] == 1
		}
		return v, nil
	default: // 'U'
		v := make([]string, n)
		var sb strings.Builder
		for i := range v {
			sb.Reset()
			item := raw[i*dt.itemsize : (i+1)*dt.itemsize]
			for j := 0; j < len(item); j += 4 {
				c := le.Uint32(item[j:])
				if c == 0 {
					// NumPy pads with NULs; anything after the first NUL is padding.
					break
				}
				if c > utf8.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
					return nil, fmt.Errorf("%w: string element %d holds invalid code point %#x", ErrFormat, i, c)
				}
				sb.WriteRune(rune(c))
			}
			v[i] = sb.String()
		}
		return v, nil
	}
}

// fortranToC reorders column-major data of the given shape into row-major,
// in one pass and with no memory beyond the output.
func fortranToC(data any, shape []int) any {
	switch v := data.(type) {
	case []float32:
		return fToC(v, shape)
	case []float64:
		return fToC(v, shape)
	case []int8:
		return fToC(v, shape)
	case []int16:
		return fToC(v, shape)
	case []uint8:
		return fToC(v, shape)
	case []uint16:
		return fToC(v, shape)
	case []int32:
		return fToC(v, shape)
	case []int64:
		return fToC(v, shape)
	case []uint32:
		return fToC(v, shape)
	case []bool:
		return fToC(v, shape)
	case []string:
		return fToC(v, shape)
	}
	panic(fmt.Sprintf("npz: fortranToC: unexpected %T", data))
}

// fToC walks the C-order indices like an odometer, keeping the matching
// Fortran offset up to date, so each element costs O(1) amortized.
func fToC[T any](v []T, shape []int) []T {
	out := make([]T, len(v))
	if len(v) == 0 {
		return out
	}
	k := len(shape)
	stride := make([]int, k) // Fortran strides
	s := 1
	for i := range shape {
		stride[i] = s
		s *= shape[i]
	}
	idx := make([]int, k)
	f := 0
	for c := range out {
		out[c] = v[f]
		for d := k - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < shape[d] {
				f += stride[d]
				break
			}
			f -= (shape[d] - 1) * stride[d]
			idx[d] = 0
		}
	}
	return out
}

// WriteNPY writes a in .npy format version 1.0, C order. Strings are written
// as <Un with n the longest string's length in code points (at least 1).
func WriteNPY(w io.Writer, a *Array) error {
	descr, body, err := encode(a)
	if err != nil {
		return err
	}
	var shape strings.Builder
	shape.WriteByte('(')
	for i, d := range a.Shape {
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.Itoa(d))
	}
	if len(a.Shape) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape.String())
	// Pad so that magic(6)+version(2)+len(2)+dict+'\n' is a multiple of 64.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("npz: header of %d bytes too long for format 1.0", len(hdr))
	}
	var pre [10]byte
	copy(pre[:], magic)
	pre[6], pre[7] = 1, 0
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(hdr)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, hdr); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

func encode(a *Array) (descr string, body []byte, err error) {
	n := a.Len()
	le := binary.LittleEndian
	check := func(l int) error {
		if l != n {
			return fmt.Errorf("npz: array of shape %v needs %d elements, has %d", a.Shape, n, l)
		}
		return nil
	}
	switch v := a.Data.(type) {
	case []float32:
		body = make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(body[4*i:], math.Float32bits(x))
		}
		return "<f4", body, check(len(v))
	case []float64:
		body = make([]byte, 8*len(v))
		for i, x := range v {
			le.PutUint64(body[8*i:], math.Float64bits(x))
		}
		return "<f8", body, check(len(v))
	case []int32:
		body = make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(body[4*i:], uint32(x))
		}
		return "<i4", body, check(len(v))
	case []int64:
		body = make([]byte, 8*len(v))
		for i, x := range v {
			le.PutUint64(body[8*i:], uint64(x))
		}
		return "<i8", body, check(len(v))
	case []uint32:
		body = make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(body[4*i:], x)
		}
		return "<u4", body, check(len(v))
	case []int8:
		body = make([]byte, len(v))
		for i, x := range v {
			body[i] = byte(x)
		}
		return "|i1", body, check(len(v))
	case []int16:
		body = make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(body[2*i:], uint16(x))
		}
		return "<i2", body, check(len(v))
	case []uint8:
		return "|u1", append([]byte(nil), v...), check(len(v))
	case []uint16:
		body = make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(body[2*i:], x)
		}
		return "<u2", body, check(len(v))
	case []bool:
		body = make([]byte, len(v))
		for i, x := range v {
			if x {
				body[i] = 1
			}
		}
		return "|b1", body, check(len(v))
	case []string:
		width := 1
		for _, s := range v {
			width = max(width, utf8.RuneCountInString(s))
		}
		body = make([]byte, 4*width*len(v))
		for i, s := range v {
			j := 4 * width * i
			for _, r := range s {
				le.PutUint32(body[j:], uint32(r))
				j += 4
			}
		}
		return "<U" + strconv.Itoa(width), body, check(len(v))
	}
	return "", nil, fmt.Errorf("npz: unsupported element type %T", a.Data)
}
