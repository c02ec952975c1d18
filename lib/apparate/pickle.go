package apparate

// Converters from the Apparate artifact's pickles (specs/apparate.md 3) to
// this package's types, for users who have the real data; the Write/Read
// functions of clockwork.go, table.go and latency.go then store them in the
// formats of specs 6.7.
//
// The pickles are read with github.com/nlpodyssey/gopickle. Python builtins
// (dict, list, tuple, str, int, float, bool, None) decode as gopickle's
// values; every other class or function a pickle names decodes as a
// pyObject recording its constructor arguments and state, so that a pickle
// loads whatever it holds (an ndarray, a torch tensor) and only the values
// the converters read must be of a known kind. NumPy scalars of dtype
// float32/float64, (u)int8–64 and bool_, in either byte order, are decoded
// (specs 3.2: ramp confidences and agreements may be numpy scalars).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// loadPickle reads the one object pickled in the file at path. Classes and
// functions outside Python's builtins resolve to pyClass, NumPy's scalar
// and dtype reductions to npScalar and npDtype, and _codecs.encode (how
// protocol 2 writes bytes) to latin-1 bytes.
//
// The file is read whole and its opcode stream checked first
// (checkPickle): no length field may promise more bytes than the file
// holds, so that the decoder, which allocates what a length field says,
// never asks for more memory than the file's size; a panic of the decoder
// on malformed input becomes an error.
func loadPickle(path string) (v any, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("apparate: read pickle: %w", err)
	}
	if err := checkPickle(b); err != nil {
		return nil, fmt.Errorf("apparate: pickle %s: %w", path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("apparate: pickle %s: malformed: %v", path, r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(b))
	u.FindClass = findPickleClass
	u.PersistentLoad = func(id any) (any, error) {
		return &pyObject{class: &pyClass{module: "persistent_id", name: fmt.Sprint(id)}}, nil
	}
	v, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("apparate: pickle %s: %w", path, err)
	}
	return v, nil
}

// checkPickle walks the opcodes of a pickle (protocols 0 to 5, as Python's
// pickletools.genops does) up to STOP, and fails on an unknown opcode, a
// stream that ends early, or a length field larger than what is left.
func checkPickle(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty file, not a pickle")
	}
	pos := 0
	need := func(n uint64, op byte) error {
		if n > uint64(len(b)-pos) {
			return fmt.Errorf("opcode %q at byte %d wants %d bytes, %d left (truncated or not a pickle)", op, pos-1, n, len(b)-pos)
		}
		pos += int(n)
		return nil
	}
	line := func(op byte) error {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return fmt.Errorf("opcode %q at byte %d: no end of line (truncated or not a pickle)", op, pos-1)
		}
		pos += i + 1
		return nil
	}
	for pos < len(b) {
		op := b[pos]
		pos++
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		case 'K', 'q', 'h', 0x80, 0x82: // one-byte argument
			err = need(1, op)
		case 'M', 0x83:
			err = need(2, op)
		case 'J', 'r', 'j', 0x84:
			err = need(4, op)
		case 'G':
			err = need(8, op)
		case 0x95: // FRAME: an 8-byte length, then opcodes
			if err = need(8, op); err == nil && binary.LittleEndian.Uint64(b[pos-8:]) > uint64(len(b)-pos) {
				err = fmt.Errorf("frame at byte %d promises %d bytes, %d left", pos-9, binary.LittleEndian.Uint64(b[pos-8:]), len(b)-pos)
			}
		case 'U', 'C', 0x8c, 0x8a: // one-byte length, then data
			if err = need(1, op); err == nil {
				err = need(uint64(b[pos-1]), op)
			}
		case 'T', 'B', 'X', 0x8b: // four-byte length
			if err = need(4, op); err == nil {
				err = need(uint64(binary.LittleEndian.Uint32(b[pos-4:])), op)
			}
		case 0x8d, 0x8e, 0x96: // eight-byte length
			if err = need(8, op); err == nil {
				err = need(binary.LittleEndian.Uint64(b[pos-8:]), op)
			}
		case 'I', 'L', 'S', 'V', 'F', 'p', 'g', 'P':
			err = line(op)
		case 'c', 'i':
			if err = line(op); err == nil {
				err = line(op)
			}
		default:
			return fmt.Errorf("unknown opcode %#x at byte %d (not a pickle)", op, pos-1)
		}
		if err != nil {
			return err
		}
	}
	return errors.New("no STOP opcode (truncated pickle)")
}

// findPickleClass resolves the globals of a pickle that gopickle does not
// resolve itself (it handles builtins.list, builtins.dict,
// collections.OrderedDict and the protocol 0/1 object reconstructor).
func findPickleClass(module, name string) (any, error) {
	numpy := module == "numpy" || strings.HasPrefix(module, "numpy.")
	switch {
	case numpy && name == "scalar":
		return npScalarFunc{}, nil
	case numpy && name == "dtype":
		return npDtypeClass{}, nil
	case module == "_codecs" && name == "encode":
		return codecsEncode{}, nil
	}
	return &pyClass{module: module, name: name}, nil
}

// pyClass is a Python class or function that the converters do not model.
// Calling it (REDUCE) or creating an instance (NEWOBJ) yields a pyObject.
type pyClass struct{ module, name string }

func (c *pyClass) Call(args ...any) (any, error)  { return &pyObject{class: c, args: args}, nil }
func (c *pyClass) PyNew(args ...any) (any, error) { return &pyObject{class: c, args: args}, nil }

// pyObject is an instance of a pyClass: the arguments it was made from,
// its attributes (its __dict__, and slots) and any other state BUILD gave it.
type pyObject struct {
	class *pyClass
	args  []any
	attrs map[string]any
	state any
}

// PySetState implements BUILD: a dict state (or a (dict, slots) pair, as
// pickle writes objects with __slots__) sets attributes; any other state is
// kept as it is.
func (o *pyObject) PySetState(state any) error {
	if t, ok := state.(*types.Tuple); ok && t.Len() == 2 {
		d, dok := t.Get(0).(*types.Dict)
		s, sok := t.Get(1).(*types.Dict)
		if (dok || t.Get(0) == nil) && sok {
			if dok {
				o.setAttrs(d)
			}
			o.setAttrs(s)
			return nil
		}
	}
	if d, ok := state.(*types.Dict); ok {
		o.setAttrs(d)
		return nil
	}
	o.state = state
	return nil
}

func (o *pyObject) setAttrs(d *types.Dict) {
	if o.attrs == nil {
		o.attrs = make(map[string]any, d.Len())
	}
	for _, e := range *d {
		if k, ok := e.Key.(string); ok {
			o.attrs[k] = e.Value
		}
	}
}

// npDtypeClass is numpy.dtype: dtype(spec, align, copy), spec being a kind
// letter and an item size ("f4", "b1", "i8"); BUILD then sets the byte order.
type npDtypeClass struct{}

func (npDtypeClass) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("numpy.dtype called without arguments")
	}
	spec, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy.dtype(%v): want a str spec", args[0])
	}
	d := &npDtype{spec: spec}
	if len(spec) >= 2 {
		if n, err := strconv.Atoi(spec[1:]); err == nil {
			d.kind, d.size = spec[0], n
		}
	}
	return d, nil
}

// npDtype is a NumPy dtype: kind 'f', 'i', 'u' or 'b' with an item size in
// bytes (0 for a dtype the converters cannot read), and its byte order.
type npDtype struct {
	spec      string
	kind      byte
	size      int
	bigEndian bool
}

// PySetState reads the byte order, the second entry of numpy's dtype state
// tuple (version, byte order, subarray, names, fields, ...).
func (d *npDtype) PySetState(state any) error {
	if t, ok := state.(*types.Tuple); ok && t.Len() >= 2 {
		if order, ok := t.Get(1).(string); ok {
			d.bigEndian = order == ">"
		}
	}
	return nil
}

// name is the NumPy name of the scalar type of d (numpy.float32, ...).
func (d *npDtype) name() string {
	switch {
	case d.kind == 'f':
		return fmt.Sprintf("numpy.float%d", 8*d.size)
	case d.kind == 'i':
		return fmt.Sprintf("numpy.int%d", 8*d.size)
	case d.kind == 'u':
		return fmt.Sprintf("numpy.uint%d", 8*d.size)
	case d.kind == 'b' && d.size == 1:
		return "numpy.bool_"
	}
	return fmt.Sprintf("numpy scalar of dtype %q", d.spec)
}

// npScalarFunc is numpy.core.multiarray.scalar(dtype, raw bytes), how NumPy
// pickles its scalars.
type npScalarFunc struct{}

func (npScalarFunc) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("numpy scalar: want (dtype, bytes), found %d arguments", len(args))
	}
	d, ok := args[0].(*npDtype)
	if !ok {
		return nil, fmt.Errorf("numpy scalar: want a dtype, found %s", pyTypeName(args[0]))
	}
	switch raw := args[1].(type) {
	case []byte:
		return &npScalar{dtype: d, raw: raw}, nil
	case string: // Python 2 str
		return &npScalar{dtype: d, raw: []byte(raw)}, nil
	}
	return nil, fmt.Errorf("numpy scalar: want bytes, found %s", pyTypeName(args[1]))
}

// npScalar is a NumPy scalar: its dtype and its raw bytes.
type npScalar struct {
	dtype *npDtype
	raw   []byte
}

// bits returns the scalar's bytes as an unsigned integer, if the dtype has
// a readable size of 1, 2, 4 or 8 bytes and the bytes match it.
func (s *npScalar) bits() (uint64, bool) {
	n := s.dtype.size
	if len(s.raw) != n || (n != 1 && n != 2 && n != 4 && n != 8) {
		return 0, false
	}
	var b [8]byte
	if s.dtype.bigEndian {
		copy(b[8-n:], s.raw)
		return binary.BigEndian.Uint64(b[:]), true
	}
	copy(b[:], s.raw)
	return binary.LittleEndian.Uint64(b[:]), true
}

// float returns the value of a float32 or float64 scalar.
func (s *npScalar) float() (float64, bool) {
	u, ok := s.bits()
	switch {
	case !ok || s.dtype.kind != 'f':
		return 0, false
	case s.dtype.size == 4:
		return float64(math.Float32frombits(uint32(u))), true
	case s.dtype.size == 8:
		return math.Float64frombits(u), true
	}
	return 0, false
}

// int returns the value of a signed or unsigned integer scalar that fits
// an int.
func (s *npScalar) int() (int, bool) {
	u, ok := s.bits()
	if !ok {
		return 0, false
	}
	switch s.dtype.kind {
	case 'i':
		shift := 64 - 8*uint(s.dtype.size)
		return int(int64(u<<shift) >> shift), true
	case 'u':
		if u > math.MaxInt {
			return 0, false
		}
		return int(u), true
	}
	return 0, false
}

// bool returns the value of a bool_ scalar.
func (s *npScalar) bool() (bool, bool) {
	u, ok := s.bits()
	if !ok || s.dtype.kind != 'b' || s.dtype.size != 1 {
		return false, false
	}
	return u != 0, true
}

// codecsEncode is _codecs.encode(str, encoding): pickle protocols 0–2 write
// a Python 3 bytes object as its latin-1 decoding and this call.
type codecsEncode struct{}

func (codecsEncode) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("_codecs.encode called without arguments")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode: want a str, found %s", pyTypeName(args[0]))
	}
	enc := "utf-8"
	if len(args) > 1 {
		if e, ok := args[1].(string); ok {
			enc = strings.ToLower(strings.ReplaceAll(e, "_", "-"))
		}
	}
	switch enc {
	case "latin1", "latin-1", "iso-8859-1":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("_codecs.encode: %U is not latin-1", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	case "utf-8", "utf8":
		return []byte(s), nil
	}
	return nil, fmt.Errorf("_codecs.encode: unsupported encoding %q", enc)
}

// pyTypeName names the Python type of a decoded pickle value for errors,
// with the value itself for scalars.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return fmt.Sprintf("bool %v", x)
	case int, *big.Int:
		return fmt.Sprintf("int %v", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("str %q", x)
	case []byte:
		return fmt.Sprintf("bytes of length %d", len(x))
	case *types.List:
		return fmt.Sprintf("list of length %d", x.Len())
	case *types.Tuple:
		return fmt.Sprintf("tuple of length %d", x.Len())
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case *npScalar:
		return x.dtype.name()
	case *npDtype:
		return "numpy.dtype"
	case *pyObject:
		return fmt.Sprintf("%s.%s object", x.class.module, x.class.name)
	case *pyClass:
		return fmt.Sprintf("%s.%s", x.module, x.name)
	}
	return fmt.Sprintf("%T", v)
}

// pickleReader reads values out of one decoded pickle; its errors name the
// file and where in the pickled object the value sits, in Python's
// subscript notation (["conf"][1][2]).
type pickleReader struct{ path string }

func (p pickleReader) wrong(at, want string, found any) error {
	return fmt.Errorf("apparate: pickle %s: %s: want %s, found %s", p.path, at, want, pyTypeName(found))
}

// dict returns the top-level object of the pickle as a dict.
func (p pickleReader) dict(v any) (*types.Dict, error) {
	switch d := v.(type) {
	case *types.Dict:
		return d, nil
	case *types.OrderedDict:
		out := types.NewDict()
		for e := d.List.Front(); e != nil; e = e.Next() {
			kv := e.Value.(*types.OrderedDictEntry)
			out.Set(kv.Key, kv.Value)
		}
		return out, nil
	}
	return nil, p.wrong("top-level object", "a dict", v)
}

// key returns d[key], or an error naming the key and the keys d has.
func (p pickleReader) key(d *types.Dict, key string) (any, error) {
	if v, ok := d.Get(key); ok {
		return v, nil
	}
	have := make([]string, 0, d.Len())
	for _, k := range d.Keys() {
		have = append(have, fmt.Sprint(k))
	}
	return nil, fmt.Errorf("apparate: pickle %s: key %q missing (have %s)", p.path, key, strings.Join(have, ", "))
}

// keyList returns the list under key of d.
func (p pickleReader) keyList(d *types.Dict, key string) ([]any, error) {
	v, err := p.key(d, key)
	if err != nil {
		return nil, err
	}
	return p.list(v, fmt.Sprintf("[%q]", key))
}

// list returns a list or tuple's items.
func (p pickleReader) list(v any, at string) ([]any, error) {
	switch l := v.(type) {
	case *types.List:
		return *l, nil
	case *types.Tuple:
		return *l, nil
	}
	return nil, p.wrong(at, "a list", v)
}

// float returns a number: a Python float or int, or a NumPy float or
// integer scalar.
func (p pickleReader) float(v any, at string) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case *npScalar:
		if f, ok := x.float(); ok {
			return f, nil
		}
		if i, ok := x.int(); ok {
			return float64(i), nil
		}
	}
	return 0, p.wrong(at, "a number", v)
}

// int returns a Python int or a NumPy integer scalar.
func (p pickleReader) int(v any, at string) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case *npScalar:
		if i, ok := x.int(); ok {
			return i, nil
		}
	}
	return 0, p.wrong(at, "an int", v)
}

// bool returns a Python bool or a NumPy bool_ scalar.
func (p pickleReader) bool(v any, at string) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case *npScalar:
		if b, ok := x.bool(); ok {
			return b, nil
		}
	}
	return false, p.wrong(at, "a bool", v)
}

// floats returns a list of numbers.
func (p pickleReader) floats(v any, at string) ([]float64, error) {
	items, err := p.list(v, at)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(items))
	for i, x := range items {
		if out[i], err = p.float(x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LatenciesFromPickle reads a list of per-request latencies in ms: the
// oracle's optimal_latency pickles (specs 3.3) and the replay's
// apparate_latency outputs (specs 3.5). Entries may be Python or NumPy
// numbers.
func LatenciesFromPickle(path string) ([]float64, error) {
	v, err := loadPickle(path)
	if err != nil {
		return nil, err
	}
	return pickleReader{path}.floats(v, "top-level list")
}

// ScheduleFromPickle reads a batch_decisions pickle (specs 3.1): a dict
// whose batching_decision lists the batch sizes in execution order and whose
// per_request_stats holds, per request in arrival order, (queueing delay,
// vanilla inference latency) in ms, or None for a dropped request. slo and
// end_time become SLO and End. The pickle records no arrival times: every
// Request's Arrival is 0. It checks what ReadSchedule checks, so that the
// schedule WriteSchedule stores reads back: batch sizes from BatchSizes, as
// many served requests as the batches hold, total_num_requests (if present)
// equal to the number of requests.
func ScheduleFromPickle(path string) (*Schedule, error) {
	v, err := loadPickle(path)
	if err != nil {
		return nil, err
	}
	p := pickleReader{path}
	d, err := p.dict(v)
	if err != nil {
		return nil, err
	}
	s := new(Schedule)
	if s.Batches, err = p.batches(d); err != nil {
		return nil, err
	}
	if s.Requests, err = p.requests(d); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"slo", &s.SLO}, {"end_time", &s.End}} {
		x, err := p.key(d, f.key)
		if err != nil {
			return nil, err
		}
		if *f.dst, err = p.float(x, fmt.Sprintf("[%q]", f.key)); err != nil {
			return nil, err
		}
	}
	if err := p.checkCounts(d, s); err != nil {
		return nil, err
	}
	return s, nil
}

// batches reads batching_decision.
func (p pickleReader) batches(d *types.Dict) ([]int, error) {
	const key = "batching_decision"
	items, err := p.keyList(d, key)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(items))
	for j, x := range items {
		at := fmt.Sprintf("[%q][%d]", key, j)
		b, err := p.int(x, at)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(BatchSizes, b) {
			return nil, fmt.Errorf("apparate: pickle %s: %s = %d, want one of %v", p.path, at, b, BatchSizes)
		}
		out[j] = b
	}
	return out, nil
}

// requests reads per_request_stats.
func (p pickleReader) requests(d *types.Dict) ([]Request, error) {
	const key = "per_request_stats"
	items, err := p.keyList(d, key)
	if err != nil {
		return nil, err
	}
	out := make([]Request, len(items))
	for i, x := range items {
		if x == nil {
			out[i].Dropped = true
			continue
		}
		at := fmt.Sprintf("[%q][%d]", key, i)
		st, err := p.list(x, at)
		if err != nil || len(st) != 2 {
			return nil, p.wrong(at, "None or a (queue_ms, vanilla_ms) pair", x)
		}
		r := &out[i]
		if r.Queue, err = p.float(st[0], at+"[0]"); err != nil {
			return nil, err
		}
		if r.Vanilla, err = p.float(st[1], at+"[1]"); err != nil {
			return nil, err
		}
		if !(r.Queue >= 0) || math.IsInf(r.Queue, 1) || !positiveFinite(r.Vanilla) {
			return nil, fmt.Errorf("apparate: pickle %s: %s = (%v, %v), want a non-negative queue_ms and a positive vanilla_ms", p.path, at, r.Queue, r.Vanilla)
		}
	}
	return out, nil
}

// checkCounts checks total_num_requests, if present, and that the batches
// hold as many requests as were served.
func (p pickleReader) checkCounts(d *types.Dict, s *Schedule) error {
	if v, ok := d.Get("total_num_requests"); ok {
		n, err := p.int(v, `["total_num_requests"]`)
		if err != nil {
			return err
		}
		if n != len(s.Requests) {
			return fmt.Errorf("apparate: pickle %s: total_num_requests = %d, per_request_stats has %d entries", p.path, n, len(s.Requests))
		}
	}
	batched, served := 0, 0
	for _, b := range s.Batches {
		batched += b
	}
	for _, r := range s.Requests {
		if !r.Dropped {
			served++
		}
	}
	if served != batched {
		return fmt.Errorf("apparate: pickle %s: per_request_stats serves %d requests, batching_decision holds %d", p.path, served, batched)
	}
	return nil
}

// TableFromPickle reads a bootstrap or simulation pickle (specs 3.2): a dict
// whose "conf" and "acc" each hold R+1 lists of N per-sample values, the
// last being the original model's final output. That last entry is dropped
// whatever it holds (None, logits arrays, True); the table has the R
// candidate ramps. Confidences may be Python or NumPy numbers, agreements
// Python or NumPy bools. The table is validated (confidences in [0, 1]).
func TableFromPickle(path string) (*Table, error) {
	v, err := loadPickle(path)
	if err != nil {
		return nil, err
	}
	p := pickleReader{path}
	d, err := p.dict(v)
	if err != nil {
		return nil, err
	}
	conf, err := p.ramps(d, "conf")
	if err != nil {
		return nil, err
	}
	acc, err := p.ramps(d, "acc")
	if err != nil {
		return nil, err
	}
	if len(acc) != len(conf) {
		return nil, fmt.Errorf("apparate: pickle %s: \"conf\" has %d entries, \"acc\" %d", path, len(conf)+1, len(acc)+1)
	}
	t := &Table{Conf: make([][]float32, len(conf)), Agree: make([][]bool, len(acc))}
	for r := range conf {
		if t.Conf[r], err = p.confidences(conf[r], r); err != nil {
			return nil, err
		}
		if t.Agree[r], err = p.agreements(acc[r], r); err != nil {
			return nil, err
		}
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("apparate: pickle %s: %w", path, err)
	}
	return t, nil
}

// ramps returns d[key] without its last entry (the final output), each
// entry a list; it wants at least one ramp besides the final output.
func (p pickleReader) ramps(d *types.Dict, key string) ([][]any, error) {
	at := fmt.Sprintf("[%q]", key)
	items, err := p.keyList(d, key)
	if err != nil {
		return nil, err
	}
	if len(items) < 2 {
		return nil, fmt.Errorf("apparate: pickle %s: %s has %d entries, want R+1 ≥ 2 (R ramps and the final output)", p.path, at, len(items))
	}
	out := make([][]any, len(items)-1)
	for r := range out {
		if out[r], err = p.list(items[r], fmt.Sprintf("%s[%d]", at, r)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p pickleReader) confidences(items []any, r int) ([]float32, error) {
	out := make([]float32, len(items))
	for i, x := range items {
		f, err := p.float(x, fmt.Sprintf(`["conf"][%d][%d]`, r, i))
		if err != nil {
			return nil, err
		}
		out[i] = float32(f)
	}
	return out, nil
}

func (p pickleReader) agreements(items []any, r int) ([]bool, error) {
	out := make([]bool, len(items))
	for i, x := range items {
		b, err := p.bool(x, fmt.Sprintf(`["acc"][%d][%d]`, r, i))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// ProfileNode is one node of a profile pickle's tree of profiler.Profile
// objects (specs 3.4), one per torch module, with the fields the latency
// calc list is made of; latencies in ms.
type ProfileNode struct {
	Name     string // module name within its parent
	FullName string // dotted path from the root; the root's is "model"
	Type     string // module class; ramps sit in "BranchPoint" modules, as their child "branch_net"

	FwdLatency     float64 // fwd_latency: calibrated, normalised forward latency
	FwdLatencyOrig float64 // fwd_latency_orig: as measured
	VanillaUpToMe  float64 // vanilla_latency_up_until_me: cumulative non-ramp latency, this module included

	Children []*ProfileNode
}

// Child returns the node reached from n by following child names, the way
// the artifact's Profile.get_child_with_name does: at each step the first
// child with that name. It returns nil if there is none.
func (n *ProfileNode) Child(names ...string) *ProfileNode {
	for _, name := range names {
		var next *ProfileNode
		for _, c := range n.Children {
			if c.Name == name {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// walk calls f on n and its descendants in pre-order (the order of the
// artifact's sequential traversals) until f returns false.
func (n *ProfileNode) walk(f func(*ProfileNode) bool) bool {
	if !f(n) {
		return false
	}
	for _, c := range n.Children {
		if !c.walk(f) {
			return false
		}
	}
	return true
}

// NLPCosts extracts the latency calc list of an early-exit profile the way
// the artifact does for NLP models (specs 3.4, utils.parse_profile): for
// every node named "branch_net" below the root, in pre-order, P_r is its
// vanilla_latency_up_until_me and Q_r its fwd_latency; V is the root's
// vanilla_latency_up_until_me.
func NLPCosts(ee *ProfileNode) (Costs, error) {
	c := Costs{Vanilla: ee.VanillaUpToMe}
	for _, child := range ee.Children {
		child.walk(func(m *ProfileNode) bool {
			if m.Name == "branch_net" {
				c.Prefix = append(c.Prefix, m.VanillaUpToMe)
				c.Ramp = append(c.Ramp, m.FwdLatency)
			}
			return true
		})
	}
	if len(c.Prefix) == 0 {
		return Costs{}, errors.New("no branch_net module: not an early-exit profile")
	}
	return c, nil
}

// CVCosts extracts the latency calc list of a CV model the way the
// artifact's start-up does (specs 3.4, controller.bootstrap, a workaround
// for mis-recorded ramp latencies): it walks the vanilla profile in
// pre-order and, for every module whose twin in the early-exit profile (the
// node reached by the names of its full name, see Child) is a BranchPoint,
// takes P_r = the vanilla module's vanilla_latency_up_until_me and Q_r = the
// fwd_latency of the twin's child "branch_net"; V is the vanilla root's
// fwd_latency_orig.
func CVCosts(vanilla, ee *ProfileNode) (Costs, error) {
	c := Costs{Vanilla: vanilla.FwdLatencyOrig}
	var err error
	vanilla.walk(func(m *ProfileNode) bool {
		twin := ee.Child(strings.Split(m.FullName, ".")...)
		if twin == nil || twin.Type != "BranchPoint" {
			return true
		}
		ramp := twin.Child("branch_net")
		switch {
		case twin.FullName != m.FullName:
			err = fmt.Errorf("vanilla module %q has early-exit twin %q", m.FullName, twin.FullName)
		case ramp == nil:
			err = fmt.Errorf("BranchPoint %q has no child branch_net", twin.FullName)
		default:
			c.Prefix = append(c.Prefix, m.VanillaUpToMe)
			c.Ramp = append(c.Ramp, ramp.FwdLatency)
			return true
		}
		return false
	})
	if err != nil {
		return Costs{}, err
	}
	if len(c.Prefix) == 0 {
		return Costs{}, errors.New("no vanilla module has a BranchPoint twin in the early-exit profile")
	}
	return c, nil
}

// ProfileTreeFromPickle reads a profile pickle (specs 3.4): a tree of
// profiler.Profile objects linked by their children lists. Every node must
// have name, full_name and type (str), fwd_latency, fwd_latency_orig and
// vanilla_latency_up_until_me (numbers) and children (a list); errors name
// the file, the node and the field.
func ProfileTreeFromPickle(path string) (*ProfileNode, error) {
	v, err := loadPickle(path)
	if err != nil {
		return nil, err
	}
	b := profileBuilder{p: pickleReader{path}, done: map[*pyObject]*ProfileNode{}, open: map[*pyObject]bool{}}
	return b.node(v, "root")
}

// profileBuilder turns pyObjects into ProfileNodes, sharing the nodes of
// objects the pickle shares and refusing cycles.
type profileBuilder struct {
	p    pickleReader
	done map[*pyObject]*ProfileNode
	open map[*pyObject]bool
}

// node converts the object at path (root.children[i]...) and its subtree.
func (b profileBuilder) node(v any, path string) (*ProfileNode, error) {
	at := path
	o, ok := v.(*pyObject)
	if !ok || o.attrs == nil {
		return nil, b.p.wrong(at, "a profiler.Profile object", v)
	}
	if n, ok := b.done[o]; ok {
		return n, nil
	}
	if b.open[o] {
		return nil, fmt.Errorf("apparate: pickle %s: %s: the profile tree has a cycle", b.p.path, at)
	}
	b.open[o] = true
	defer delete(b.open, o)

	n := new(ProfileNode)
	if s, ok := o.attrs["full_name"].(string); ok {
		at = fmt.Sprintf("%s (%q)", at, s)
	}
	field := func(name string) (any, error) {
		x, ok := o.attrs[name]
		if !ok {
			return nil, fmt.Errorf("apparate: pickle %s: profile node %s: field %s missing", b.p.path, at, name)
		}
		return x, nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &n.Name}, {"full_name", &n.FullName}, {"type", &n.Type}} {
		x, err := field(f.name)
		if err != nil {
			return nil, err
		}
		s, ok := x.(string)
		if !ok {
			return nil, b.p.wrong(fmt.Sprintf("profile node %s: field %s", at, f.name), "a str", x)
		}
		*f.dst = s
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"fwd_latency", &n.FwdLatency}, {"fwd_latency_orig", &n.FwdLatencyOrig}, {"vanilla_latency_up_until_me", &n.VanillaUpToMe}} {
		x, err := field(f.name)
		if err != nil {
			return nil, err
		}
		if *f.dst, err = b.p.float(x, fmt.Sprintf("profile node %s: field %s", at, f.name)); err != nil {
			return nil, err
		}
	}
	x, err := field("children")
	if err != nil {
		return nil, err
	}
	children, err := b.p.list(x, fmt.Sprintf("profile node %s: field children", at))
	if err != nil {
		return nil, err
	}
	for i, c := range children {
		cn, err := b.node(c, fmt.Sprintf("%s.children[%d]", path, i))
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, cn)
	}
	b.done[o] = n
	return n, nil
}

// ProfileFromPickles builds a model's latency Profile from the artifact's
// profile pickles in dir (its profile_pickles_bs folder, specs 3.4): for
// every batch size b of BatchSizes, {model}_{b}_earlyexit_profile.pickle
// and, for a CV model (cv true), also the vanilla {model}_{b}_profile.pickle.
// NLP models take NLPCosts of the early-exit profile, CV models CVCosts of
// the pair (the artifact tells them apart by "resnet" or "vgg" in the model
// name). All batch sizes must be there, as the artifact's start-up demands;
// the error names the first missing file. The Profile is validated.
func ProfileFromPickles(dir, model string, cv bool) (*Profile, error) {
	variant := "NLP (branch_net nodes of the early-exit profile)"
	if cv {
		variant = "CV (vanilla modules with a BranchPoint twin)"
	}
	p := &Profile{
		Model:   model,
		Source:  fmt.Sprintf("Apparate artifact profile pickles %s/%s_{bs}_*profile.pickle (specs/apparate.md 3.4), %s variant", filepath.Base(dir), model, variant),
		ByBatch: make(map[int]Costs, len(BatchSizes)),
	}
	files := func(b int) (ee, vanilla string) {
		return filepath.Join(dir, fmt.Sprintf("%s_%d_earlyexit_profile.pickle", model, b)),
			filepath.Join(dir, fmt.Sprintf("%s_%d_profile.pickle", model, b))
	}
	for _, b := range BatchSizes {
		ee, vanilla := files(b)
		need := []string{ee}
		if cv {
			need = append(need, vanilla)
		}
		for _, f := range need {
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("apparate: profile pickles of %q: batch size %d: %w (all of %v are needed)", model, b, err, BatchSizes)
			}
		}
	}
	for _, b := range BatchSizes {
		ee, vanilla := files(b)
		c, err := costsFromPickles(ee, vanilla, cv)
		if err != nil {
			return nil, err
		}
		p.ByBatch[b] = c
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("apparate: profile pickles in %s: %w", dir, err)
	}
	return p, nil
}

// costsFromPickles reads one batch size's profile pickles and extracts its
// Costs; errors name the file.
func costsFromPickles(ee, vanilla string, cv bool) (Costs, error) {
	eeTree, err := ProfileTreeFromPickle(ee)
	if err != nil {
		return Costs{}, err
	}
	if !cv {
		c, err := NLPCosts(eeTree)
		if err != nil {
			return Costs{}, fmt.Errorf("apparate: pickle %s: %w", ee, err)
		}
		return c, nil
	}
	vTree, err := ProfileTreeFromPickle(vanilla)
	if err != nil {
		return Costs{}, err
	}
	c, err := CVCosts(vTree, eeTree)
	if err != nil {
		return Costs{}, fmt.Errorf("apparate: pickles %s and %s: %w", vanilla, ee, err)
	}
	return c, nil
}
