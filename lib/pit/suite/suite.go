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
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

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

// ReadCSV reads a results file written by WriteCSV; errors name the file,
// the line and the column.
func ReadCSV(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("suite: %s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
		return nil, fmt.Errorf("suite: %s: header is not %q", path, strings.Join(header, ","))
	}
	rows := make([]Row, 0, len(recs)-1)
	for n, rec := range recs[1:] {
		line := n + 2
		var perr error
		fl := func(col int) float64 {
			v, err := strconv.ParseFloat(rec[col], 64)
			if err != nil && perr == nil {
				perr = fmt.Errorf("suite: %s: line %d, column %q: %q is not a number", path, line, header[col], rec[col])
			}
			return v
		}
		in := func(col int) int64 {
			v, err := strconv.ParseInt(rec[col], 10, 64)
			if err != nil && perr == nil {
				perr = fmt.Errorf("suite: %s: line %d, column %q: %q is not an integer", path, line, header[col], rec[col])
			}
			return v
		}
		r := Row{Experiment: rec[0], Group: rec[1], X: fl(2), Method: rec[3], Reps: int(in(4)),
			Median: fl(5), Min: fl(6), Buffer: in(13), Note: rec[14],
			Work: pit.Work{MACs: in(7), UsefulMACs: in(8), BytesGathered: in(9), MicroTiles: in(10),
				Gemms: in(11), IndexReads: in(12)}}
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, r)
	}
	return rows, nil
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

// ReadMachine reads dir/machine.json.
func ReadMachine(dir string) (Machine, error) {
	var m Machine
	path := filepath.Join(dir, "machine.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("suite: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("suite: %s: %w", path, err)
	}
	return m, nil
}

func writeMachine(dir string) error {
	b, err := json.MarshalIndent(ThisMachine(), "", "  ")
	if err != nil {
		return err
	}
	return repo.WriteFile(filepath.Join(dir, "machine.json"), append(b, '\n'))
}
