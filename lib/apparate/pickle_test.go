package apparate

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
)

// The pickles under testdata/pickle are written by testdata/pickle/make.py
// (Python's standard pickle module, protocol 4 unless a name says
// otherwise, the bs = 2 profiles protocol 2); the expected values below are
// the numbers written there. Every value is a dyadic fraction or a product
// of one with a batch size, so float64 (and float32) comparisons are exact.

func pickleFile(name string) string { return filepath.Join("testdata", "pickle", name) }

// wantErr checks that err is an error whose message holds every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestScheduleFromPickle(t *testing.T) {
	s, err := ScheduleFromPickle(pickleFile("schedule.pickle"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Schedule{
		Batches: []int{2, 1, 4},
		Requests: []Request{
			{Queue: 0.5, Vanilla: 2}, {Queue: 0.25, Vanilla: 2}, {Queue: 1, Vanilla: 1.5}, {Dropped: true},
			{Queue: 0, Vanilla: 3}, {Queue: 0.75, Vanilla: 3}, {Queue: 1.25, Vanilla: 3}, {Queue: 2.5, Vanilla: 3},
		},
		SLO: 30,
		End: 12.5,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}

	// The schedule goes through the package's own format unchanged.
	path := filepath.Join(t.TempDir(), "schedule.json")
	if err := WriteSchedule(path, s); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSchedule(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("after WriteSchedule and ReadSchedule: got %+v\nwant %+v", back, want)
	}
}

func TestTableFromPickle(t *testing.T) {
	// Ramp values of make.py; the final output (index 2) is dropped.
	want := map[string]*Table{
		"table.pickle": {
			Conf:  [][]float32{{0.5, 0.75, 1}, {0.625, 0.875, 0.25}},
			Agree: [][]bool{{true, false, true}, {false, true, true}},
		},
		// numpy float32, float64 little- and big-endian and bool_ scalars
		// beside Python values; final-output logits are numpy arrays.
		"table_numpy.pickle": {
			Conf:  [][]float32{{0.5, 0.75, 0.125}, {0.625, 0.875, 0.25}},
			Agree: [][]bool{{true, false, true}, {false, true, true}},
		},
	}
	want["table_numpy_p2.pickle"] = want["table_numpy.pickle"]
	for name, w := range want {
		got, err := TableFromPickle(pickleFile(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %+v\nwant %+v", name, got, w)
		}
	}
}

func TestLatenciesFromPickle(t *testing.T) {
	for name, want := range map[string][]float64{
		"latency.pickle":       {1.5, 2.25, 3, 4.125},
		"latency_numpy.pickle": {1.5, 2.25, 3},
		"latency_p0.pickle":    {1.5, 2.25},
	} {
		got, err := LatenciesFromPickle(pickleFile(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestPickleErrors(t *testing.T) {
	_, err := ScheduleFromPickle(pickleFile("schedule_missing_key.pickle"))
	wantErr(t, err, "schedule_missing_key.pickle", `key "per_request_stats" missing`)

	_, err = TableFromPickle(pickleFile("table_wrong_type.pickle"))
	wantErr(t, err, "table_wrong_type.pickle", `["conf"][1][2]`, "want a number", `found str "x"`)

	_, err = ScheduleFromPickle(pickleFile("latency.pickle"))
	wantErr(t, err, "latency.pickle", "want a dict", "found list of length 4")

	_, err = TableFromPickle(pickleFile("schedule.pickle"))
	wantErr(t, err, "schedule.pickle", `key "conf" missing`, "batching_decision")

	_, err = LatenciesFromPickle(pickleFile("table.pickle"))
	wantErr(t, err, "table.pickle", "want a list", "found dict")

	_, err = LatenciesFromPickle(pickleFile("no_such.pickle"))
	wantErr(t, err, "no_such.pickle")

	_, err = ProfileTreeFromPickle(pickleFile("badramp_1_earlyexit_profile.pickle"))
	wantErr(t, err, "badramp_1_earlyexit_profile.pickle", `root.children[1].children[1] ("layer1.branch_net")`, "field fwd_latency missing")

	_, err = ProfileTreeFromPickle(pickleFile("latency.pickle"))
	wantErr(t, err, "latency.pickle", "want a profiler.Profile object")

	tree, err := ProfileTreeFromPickle(pickleFile("noramps_1_earlyexit_profile.pickle"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NLPCosts(tree)
	wantErr(t, err, "no branch_net")
	_, err = CVCosts(tree, tree)
	wantErr(t, err, "no vanilla module has a BranchPoint twin")
}

// tinyCosts are the latency calc lists of make.py's model "tiny" at batch
// size 1; at batch size b every latency is b times larger.
var tinyCosts = map[bool]Costs{
	// NLP: the two branch_net nodes' vanilla_latency_up_until_me and
	// fwd_latency; V is the early-exit root's vanilla_latency_up_until_me.
	false: {Prefix: []float64{1.125, 3.25}, Ramp: []float64{0.25, 0.5}, Vanilla: 7},
	// CV: the vanilla layer0 and layer1 (twins of BranchPoints), their
	// vanilla_latency_up_until_me, the branch_nets' fwd_latency; V is the
	// vanilla root's fwd_latency_orig.
	true: {Prefix: []float64{1, 3}, Ramp: []float64{0.25, 0.5}, Vanilla: 6.75},
}

func scaleCosts(c Costs, s float64) Costs {
	out := Costs{Vanilla: c.Vanilla * s}
	for r := range c.Prefix {
		out.Prefix = append(out.Prefix, c.Prefix[r]*s)
		out.Ramp = append(out.Ramp, c.Ramp[r]*s)
	}
	return out
}

func TestProfileTree(t *testing.T) {
	ee, err := ProfileTreeFromPickle(pickleFile("tiny_1_earlyexit_profile.pickle"))
	if err != nil {
		t.Fatal(err)
	}
	ramp := ee.Child("layer1", "branch_net")
	want := &ProfileNode{Name: "branch_net", FullName: "layer1.branch_net", Type: "Sequential",
		FwdLatency: 0.5, FwdLatencyOrig: 0.5, VanillaUpToMe: 3.25,
		Children: []*ProfileNode{{Name: "0", FullName: "layer1.branch_net.0", Type: "Linear",
			FwdLatency: 0.5, FwdLatencyOrig: 0.5, VanillaUpToMe: 3.25}}}
	if !reflect.DeepEqual(ramp, want) {
		t.Errorf("layer1.branch_net: got %+v, want %+v", ramp, want)
	}
	if ee.FwdLatencyOrig != 8 || ee.Child("layer0", "fc") != nil {
		t.Errorf("root fwd_latency_orig = %v (want 8), Child(layer0, fc) = %v (want nil)", ee.FwdLatencyOrig, ee.Child("layer0", "fc"))
	}
	vanilla, err := ProfileTreeFromPickle(pickleFile("tiny_1_profile.pickle"))
	if err != nil {
		t.Fatal(err)
	}
	nlp, err := NLPCosts(ee)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(nlp, tinyCosts[false]) {
		t.Errorf("NLPCosts: got %+v, want %+v", nlp, tinyCosts[false])
	}
	cv, err := CVCosts(vanilla, ee)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cv, tinyCosts[true]) {
		t.Errorf("CVCosts: got %+v, want %+v", cv, tinyCosts[true])
	}
}

func TestCVCostsTwinMismatch(t *testing.T) {
	leaf := func(name, full, typ string) *ProfileNode { return &ProfileNode{Name: name, FullName: full, Type: typ} }
	vanilla := &ProfileNode{Name: "model", FullName: "model", Children: []*ProfileNode{leaf("a", "a", "Linear")}}
	ee := &ProfileNode{Name: "model", FullName: "model", Children: []*ProfileNode{leaf("a", "x.a", "BranchPoint")}}
	_, err := CVCosts(vanilla, ee)
	wantErr(t, err, `vanilla module "a" has early-exit twin "x.a"`)
	ee.Children[0].FullName = "a"
	_, err = CVCosts(vanilla, ee)
	wantErr(t, err, `BranchPoint "a" has no child branch_net`)
}

func TestProfileFromPickles(t *testing.T) {
	dir := filepath.Join("testdata", "pickle")
	for _, cv := range []bool{false, true} {
		p, err := ProfileFromPickles(dir, "tiny", cv)
		if err != nil {
			t.Fatalf("cv=%v: %v", cv, err)
		}
		if p.Model != "tiny" || !strings.Contains(p.Source, "specs/apparate.md 3.4") {
			t.Errorf("cv=%v: model %q, source %q", cv, p.Model, p.Source)
		}
		for _, b := range BatchSizes {
			if want := scaleCosts(tinyCosts[cv], float64(b)); !reflect.DeepEqual(p.ByBatch[b], want) {
				t.Errorf("cv=%v, batch size %d: got %+v, want %+v", cv, b, p.ByBatch[b], want)
			}
		}
		// The profile goes through the package's own format.
		path := filepath.Join(t.TempDir(), "tiny.json")
		if err := p.Write(path); err != nil {
			t.Fatal(err)
		}
		back, err := ReadProfile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Errorf("cv=%v: after Write and ReadProfile: got %+v, want %+v", cv, back, p)
		}
	}
}

func TestProfileFromPicklesMissing(t *testing.T) {
	// A copy of the "tiny" pickles without the vanilla bs = 16 profile: the
	// NLP variant does not need it, the CV variant names it.
	dir := t.TempDir()
	for _, b := range BatchSizes {
		for _, kind := range []string{"earlyexit_profile", "profile"} {
			name := "tiny_" + strconv.Itoa(b) + "_" + kind + ".pickle"
			if b == 16 && kind == "profile" {
				continue
			}
			data, err := os.ReadFile(pickleFile(name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := ProfileFromPickles(dir, "tiny", false); err != nil {
		t.Errorf("NLP variant: %v", err)
	}
	_, err := ProfileFromPickles(dir, "tiny", true)
	wantErr(t, err, "tiny_16_profile.pickle", "batch size 16")
	_, err = ProfileFromPickles(dir, "other", false)
	wantErr(t, err, "other_1_earlyexit_profile.pickle")
}

func TestNumpyScalars(t *testing.T) {
	dt := func(spec, order string) *npDtype {
		d, err := npDtypeClass{}.Call(spec, false, true)
		if err != nil {
			t.Fatal(err)
		}
		d.(*npDtype).PySetState(types.NewTupleFromSlice([]any{3, order, nil, nil, nil, -1, -1, 0}))
		return d.(*npDtype)
	}
	scalar := func(d *npDtype, raw ...byte) any {
		v, err := npScalarFunc{}.Call(d, raw)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p := pickleReader{"mem"}
	for _, c := range []struct {
		v    any
		want float64
	}{
		{scalar(dt("i8", "<"), 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), -2},
		{scalar(dt("i2", ">"), 0x01, 0x00), 256},
		{scalar(dt("u1", "|"), 0xff), 255},
		{scalar(dt("f4", ">"), 0x3f, 0xc0, 0, 0), 1.5},
	} {
		got, err := p.float(c.v, "x")
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v, want %v", pyTypeName(c.v), got, err, c.want)
		}
	}
	n, err := p.int(scalar(dt("i4", "<"), 7, 0, 0, 0), "x")
	if err != nil || n != 7 {
		t.Errorf("int32 7: got %v, %v", n, err)
	}
	_, err = p.float(scalar(dt("f2", "<"), 0, 0x3c), `["conf"][0][0]`)
	wantErr(t, err, "mem", `["conf"][0][0]`, "want a number", "numpy.float16")
	_, err = p.bool(scalar(dt("f4", "<"), 0, 0, 0, 0), "y")
	wantErr(t, err, "y: want a bool, found numpy.float32")
	b, err := codecsEncode{}.Call("\x00\u00ff", "latin1") // as gopickle decodes BINUNICODE: UTF-8
	if err != nil || !reflect.DeepEqual(b, []byte{0, 0xff}) {
		t.Errorf("_codecs.encode latin1: got %v, %v", b, err)
	}
}

// TestPickleMalformed: truncated files and length fields that promise more
// than the file holds are errors naming the file, never a panic or an
// allocation of the promised size.
func TestPickleMalformed(t *testing.T) {
	dir := t.TempDir()
	huge := append([]byte("\x80\x04\x95"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f) // FRAME of 2^63 bytes
	for name, b := range map[string][]byte{
		"empty":        {},
		"one byte":     {0x80},
		"huge frame":   huge,
		"huge bytes8":  append([]byte("\x80\x04\x8e"), 0, 0, 0, 0, 0, 0, 0, 0x40),
		"huge unicode": append([]byte("\x80\x03X"), 0xff, 0xff, 0xff, 0x7f),
		"no stop":      []byte("\x80\x02]q\x00"),
		"bad opcode":   []byte("\x80\x02\xff."),
		"no newline":   []byte("cbuiltins"),
		"stack empty":  []byte("\x80\x02a."),
	} {
		path := filepath.Join(dir, "x.pkl")
		os.WriteFile(path, b, 0o644)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, err := LatenciesFromPickle(path)
		runtime.ReadMemStats(&m1)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s", name, err, path)
		}
		if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: reading %d bytes allocated %d", name, len(b), grew)
		}
	}
}

// FuzzPickle: no byte string panics the pickle reader or makes it allocate
// far beyond its size.
func FuzzPickle(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "pickle", "*"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Add([]byte{0x80})
	f.Add(append([]byte("\x80\x04\x95"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "x.pkl")
		os.WriteFile(path, b, 0o644)
		v, err := loadPickle(path)
		_ = v
		_ = err
	})
}
