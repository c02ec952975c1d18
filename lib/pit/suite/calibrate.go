package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/paperlab/paperlab/lib/pit"
	"github.com/paperlab/paperlab/lib/repo"
)

// CalibrationTiles are the micro-tile shapes the cost table covers: the
// artifact's k-axis strips 4×1…32×1 (specs/pit.md §2.7) and row segments
// 1×16…1×64 of the row-axis permutation.
var CalibrationTiles = []pit.Tile{{Rows: 32, Cols: 1}, {Rows: 16, Cols: 1}, {Rows: 8, Cols: 1}, {Rows: 4, Cols: 1}, {Rows: 1, Cols: 64}, {Rows: 1, Cols: 32}, {Rows: 1, Cols: 16}}

// CalibrationSparsities is the micro-tile sparsity grid of the cost table.
var CalibrationSparsities = []float64{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}

// Calibration is a measured cost table and how it was made.
type Calibration struct {
	Machine Machine
	Reps    int
	Table   pit.CostTable
}

// Calibrate measures the cost table of this machine on an n×n×n product
// (the offline cost table pit.Choose reads, pit.CostTable), each point the fastest of reps runs (at
// least one, which is what Reps then records).
func Calibrate(n, reps int) *Calibration {
	return &Calibration{Machine: ThisMachine(), Reps: max(reps, 1),
		Table: pit.Calibrate(n, CalibrationTiles, CalibrationSparsities, reps)}
}

// WriteCalibration stores c as JSON at path, atomically.
func WriteCalibration(path string, c *Calibration) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return repo.WriteFile(path, append(b, '\n'))
}

// ReadCalibration reads a cost table written by WriteCalibration. Every
// key must be present and hold a usable value: Reps and Table.N at least 1,
// Dense and every point's Seconds positive, every curve's tile between 1x1
// and 65536x65536 and given one curve only, and its points' Sparsity in
// [0, 1], sorted. Errors are one line naming the file, the key, what was
// expected and what was found.
func ReadCalibration(path string) (*Calibration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	var raw struct {
		Machine *machineJSON
		Reps    *int
		Table   *struct {
			N      *int
			Dense  *float64
			Curves []pit.CostCurve
		}
	}
	if err := unmarshal(path, b, &raw); err != nil {
		return nil, err
	}
	switch {
	case raw.Machine == nil:
		return nil, missing(path, "Machine", "an object")
	case raw.Reps == nil:
		return nil, missing(path, "Reps", "an integer")
	case raw.Table == nil:
		return nil, missing(path, "Table", "an object")
	case raw.Table.N == nil:
		return nil, missing(path, "Table.N", "an integer")
	case raw.Table.Dense == nil:
		return nil, missing(path, "Table.Dense", "a number")
	}
	m, err := raw.Machine.machine(path, "Machine.")
	if err != nil {
		return nil, err
	}
	c := &Calibration{Machine: m, Reps: *raw.Reps,
		Table: pit.CostTable{N: *raw.Table.N, Dense: *raw.Table.Dense, Curves: raw.Table.Curves}}
	if c.Reps < 1 {
		return nil, badKey(path, "Reps", "a positive integer", fmt.Sprint(c.Reps))
	}
	if c.Table.N < 1 {
		return nil, badKey(path, "Table.N", "a positive integer", fmt.Sprint(c.Table.N))
	}
	if !(c.Table.Dense > 0) {
		return nil, badKey(path, "Table.Dense", "a positive number of seconds", fmt.Sprint(c.Table.Dense))
	}
	seen := map[pit.Tile]int{}
	for i, cv := range c.Table.Curves {
		key := fmt.Sprintf("Table.Curves[%d]", i)
		if t := cv.Tile; t.Rows < 1 || t.Cols < 1 || t.Rows > maxTileExtent || t.Cols > maxTileExtent {
			return nil, badKey(path, key+".Tile", fmt.Sprintf("rows and columns in [1, %d]", maxTileExtent), t.String())
		}
		if j, dup := seen[cv.Tile]; dup {
			return nil, badKey(path, key+".Tile", "one curve per tile", fmt.Sprintf("%s, already the tile of Table.Curves[%d]", cv.Tile, j))
		}
		seen[cv.Tile] = i
		for j, p := range cv.Points {
			pk := fmt.Sprintf("%s.Points[%d]", key, j)
			switch {
			case !(p.Sparsity >= 0 && p.Sparsity <= 1):
				return nil, badKey(path, pk+".Sparsity", "a sparsity in [0, 1]", fmt.Sprint(p.Sparsity))
			case j > 0 && p.Sparsity < cv.Points[j-1].Sparsity:
				return nil, badKey(path, pk+".Sparsity", fmt.Sprintf("points sorted by sparsity, at least %g", cv.Points[j-1].Sparsity), fmt.Sprint(p.Sparsity))
			case !(p.Seconds > 0):
				return nil, badKey(path, pk+".Seconds", "a positive number of seconds", fmt.Sprint(p.Seconds))
			}
		}
	}
	return c, nil
}

// maxTileExtent bounds the rows and the columns of a micro-tile in a cost
// table read from a file: far above any shape worth calibrating, and low
// enough that counting the tiles of any mask cannot overflow.
const maxTileExtent = 1 << 16

// LoadOrCalibrate returns dir/costtable.json, measuring and writing it
// first when it does not exist (each point the fastest of cfg.Reps runs).
func LoadOrCalibrate(cfg Config, dir string) (*Calibration, error) {
	cfg = cfg.Resolve()
	path := filepath.Join(dir, "costtable.json")
	c, err := ReadCalibration(path)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	c = Calibrate(cfg.N, cfg.Reps)
	return c, WriteCalibration(path, c)
}
