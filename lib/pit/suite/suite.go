// Package suite runs the CPU experiments E1–E9 of specs/pit.md §5.5, the
// analogues of PIT's Figures 8–17 (Zheng et al., SOSP 2023), with the
// operators and baselines of package pit, and stores their results.
//
// Every experiment is a list of cases (a method on a configuration) timed
// by Measure: interleaved repetitions, the collector off while timing,
// median and minimum kept (specs/pit.md §5.2). Next to each time a Row
// carries the operator's Work, the counters that do not depend on the
// machine: the multiply-adds executed and useful, bytes gathered, tiles.
// E9 is no measurement: it evaluates a latency model fitted to the V100
// numbers the artifact published (§5.5b) and says so in every row.
//
// Results live under one directory (results/pit/<profile> by default):
// config.json (the resolved Config), machine.json (CPU, BLAS, Go), and one
// <experiment>.csv per experiment, written atomically; a rerun skips the
// experiments whose file exists, and a directory made with another Config
// is refused.
package suite

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/internal/jsonfile"

	"github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/pit"
	"github.com/paperlab/paperlab/lib/repo"
)

// Row is one measured (or, in E9, modelled) point: Method on the
// configuration (Group, X) of Experiment. Times are seconds.
type Row struct {
	Experiment string
	Group      string  // categorical part of the configuration, e.g. the mask granularity
	X          float64 // the swept variable, e.g. the sparsity or the number of experts
	Method     string
	Reps       int
	Median     float64
	Min        float64
	Work       pit.Work
	Buffer     int64 // bytes of temporary buffers the method holds for one call, where it reports them (E4)
	Note       string
}

// header is the CSV header of a results file.
var header = []string{"experiment", "group", "x", "method", "reps", "median_s", "min_s",
	"macs", "useful_macs", "bytes_gathered", "micro_tiles", "gemms", "index_reads", "buffer_bytes", "note"}

// WriteCSV writes rows with a header.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, r := range rows {
		rec := []string{r.Experiment, r.Group, f(r.X), r.Method, strconv.Itoa(r.Reps), f(r.Median), f(r.Min),
			i(r.Work.MACs), i(r.Work.UsefulMACs), i(r.Work.BytesGathered), i(r.Work.MicroTiles),
			i(r.Work.Gemms), i(r.Work.IndexReads), i(r.Buffer), r.Note}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads a results file written by WriteCSV. The header must be
// WriteCSV's, every line must have its 15 columns, numbers must be finite,
// and counts, times and reps must not be negative. Errors are one line
// naming the file, the line and the column, what was expected and what
// was found.
func ReadCSV(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // checked below, to say which line and how many
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("suite: %s: line 1: expected the header %q, found an empty file", path, strings.Join(header, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("suite: %s: %w", path, err)
	}
	for i, want := range header {
		if i >= len(rec) {
			return nil, fmt.Errorf("suite: %s: line 1: expected column %d to be %q, found only %d columns", path, i+1, want, len(rec))
		}
		if rec[i] != want {
			return nil, fmt.Errorf("suite: %s: line 1: expected column %d to be %q, found %s", path, i+1, want, quote(rec[i]))
		}
	}
	if len(rec) != len(header) {
		return nil, fmt.Errorf("suite: %s: line 1: expected %d columns, found %d", path, len(header), len(rec))
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("suite: %s: %w", path, err)
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("suite: %s: line %d: expected %d columns, found %d", path, line, len(header), len(rec))
		}
		var perr error
		fail := func(col int, want string) {
			if perr == nil {
				line, _ := cr.FieldPos(col)
				perr = fmt.Errorf("suite: %s: line %d, column %q: expected %s, found %s", path, line, header[col], want, quote(rec[col]))
			}
		}
		fl := func(col int, seconds bool) float64 {
			v, err := strconv.ParseFloat(rec[col], 64)
			switch {
			case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
				fail(col, "a finite number")
			case seconds && v < 0:
				fail(col, "a non-negative number of seconds")
			}
			return v
		}
		in := func(col int) int64 {
			v, err := strconv.ParseInt(rec[col], 10, 64)
			switch {
			case err != nil:
				fail(col, "an integer")
			case v < 0:
				fail(col, "a non-negative integer")
			}
			return v
		}
		r := Row{Experiment: rec[0], Group: rec[1], X: fl(2, false), Method: rec[3], Reps: int(in(4)),
			Median: fl(5, true), Min: fl(6, true), Buffer: in(13), Note: rec[14],
			Work: pit.Work{MACs: in(7), UsefulMACs: in(8), BytesGathered: in(9), MicroTiles: in(10),
				Gemms: in(11), IndexReads: in(12)}}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, r)
	}
	if rows == nil {
		rows = []Row{}
	}
	return rows, nil
}

// quote returns v quoted for an error message, cut to its first 40 bytes
// so that a long field does not swamp the message.
func quote(v string) string {
	if len(v) > 40 {
		return strconv.Quote(v[:40]) + "..."
	}
	return strconv.Quote(v)
}

// machineJSON is a Machine as JSON decodes it, nil where a key is absent
// (or null).
type machineJSON struct {
	CPU       *string
	Cores     *int
	BLAS      *string
	BLASCore  *string
	Kernel    *string
	GoVersion *string
	GOOS      *string
	Arch      *string
}

// machine checks that every key of m is present and Cores positive;
// prefix is prepended to the key names in errors ("Machine." inside a cost
// table).
func (m *machineJSON) machine(path, prefix string) (Machine, error) {
	for _, f := range []struct {
		key string
		v   *string
	}{{"CPU", m.CPU}, {"BLAS", m.BLAS}, {"BLASCore", m.BLASCore}, {"Kernel", m.Kernel},
		{"GoVersion", m.GoVersion}, {"GOOS", m.GOOS}, {"Arch", m.Arch}} {
		if f.v == nil {
			return Machine{}, missing(path, prefix+f.key, "a string")
		}
	}
	if m.Cores == nil {
		return Machine{}, missing(path, prefix+"Cores", "an integer")
	}
	if *m.Cores < 1 {
		return Machine{}, badKey(path, prefix+"Cores", "a positive integer", fmt.Sprint(*m.Cores))
	}
	return Machine{CPU: *m.CPU, Cores: *m.Cores, BLAS: *m.BLAS, BLASCore: *m.BLASCore, Kernel: *m.Kernel,
		GoVersion: *m.GoVersion, GOOS: *m.GOOS, Arch: *m.Arch}, nil
}

// unmarshal decodes the JSON file b read from path into v, which must
// be a pointer to a struct (so that a top-level value of another kind is
// an error). A value of the wrong type is reported with its key.
func unmarshal(path string, b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			return fmt.Errorf("suite: %s: expected a JSON object, found null", path)
		}
		return nil
	case errors.As(err, &te) && te.Field != "":
		return badKey(path, te.Field, jsonfile.Kind(te.Type), te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("suite: %s: expected a JSON object, found %s", path, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("suite: %s: not valid JSON at byte %d: %v", path, se.Offset, err)
	}
	return fmt.Errorf("suite: %s: %v", path, err)
}

// badKey reports the value of key in the file at path.
func badKey(path, key, expected, found string) error {
	return fmt.Errorf("suite: %s: key %q: expected %s, found %s", path, key, expected, found)
}

// missing reports a key the file at path lacks.
func missing(path, key, expected string) error {
	return badKey(path, key, expected, "nothing (the key is missing or null)")
}

// Machine describes where a suite ran; figures name it.
type Machine struct {
	CPU        string // model name from /proc/cpuinfo, if readable
	Cores      int    // GOMAXPROCS
	BLAS       string // "openblas" or "gonum"
	BLASCore   string // OpenBLAS's kernel set, e.g. "Cooperlake"
	Kernel     string // the dense kernel pit.Kernel is: "Gemm" (BLAS) or "GemmGo"
	GoVersion  string
	GOOS, Arch string
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	m := Machine{Cores: runtime.GOMAXPROCS(0), BLAS: backend.Name(), BLASCore: backend.Core(),
		Kernel: "GemmGo", GoVersion: runtime.Version(), GOOS: runtime.GOOS, Arch: runtime.GOARCH}
	if backend.Name() == "openblas" {
		m.Kernel = "Gemm"
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// String is a one-line description for figure captions, e.g. "AMD EPYC
// 9R14, 2 cores, OpenBLAS (Cooperlake)".
func (m Machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = m.GOOS + "/" + m.Arch
	}
	blas := "gonum pure-Go BLAS, pure-Go tile kernel"
	if m.BLAS == "openblas" {
		blas = "OpenBLAS"
		if m.BLASCore != "" {
			blas += " (" + m.BLASCore + ")"
		}
	}
	return fmt.Sprintf("%s, %d cores, %s", cpu, m.Cores, blas)
}

// Dir returns results/pit/<profile> in this checkout.
func Dir(profile string) (string, error) { return repo.Path("results", "pit", profile) }

// guard writes cfg as dir/config.json unless it exists; an existing file
// with another configuration is an error, so results of two
// configurations never mix. It also (re)writes machine.json.
func guard(dir string, cfg Config) error {
	want, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	want = append(want, '\n')
	path := filepath.Join(dir, "config.json")
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if !bytes.Equal(old, want) {
			return fmt.Errorf("suite: %s holds another configuration than the one requested; remove %s or use another directory", path, dir)
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := repo.WriteFile(path, want); err != nil {
			return err
		}
	default:
		return fmt.Errorf("suite: %w", err)
	}
	return nil
}

// ReadMachine reads dir/machine.json, as Run writes it. Every key of
// Machine must be present and Cores positive; errors are one line naming
// the file and the key.
func ReadMachine(dir string) (Machine, error) {
	path := filepath.Join(dir, "machine.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return Machine{}, fmt.Errorf("suite: %w", err)
	}
	var m machineJSON
	if err := unmarshal(path, b, &m); err != nil {
		return Machine{}, err
	}
	return m.machine(path, "")
}

func writeMachine(dir string) error {
	b, err := json.MarshalIndent(ThisMachine(), "", "  ")
	if err != nil {
		return err
	}
	return repo.WriteFile(filepath.Join(dir, "machine.json"), append(b, '\n'))
}
