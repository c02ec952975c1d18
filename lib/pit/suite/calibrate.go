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
// (specs/pit.md §2.7 step 1), each point the fastest of reps runs.
func Calibrate(n, reps int) *Calibration {
	return &Calibration{Machine: ThisMachine(), Reps: reps,
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

// ReadCalibration reads a cost table written by WriteCalibration; errors
// name the file and what is wrong.
func ReadCalibration(path string) (*Calibration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	var c Calibration
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("suite: %s: %w", path, err)
	}
	if c.Table.N < 1 || c.Table.Dense <= 0 {
		return nil, fmt.Errorf("suite: %s: key \"Table\" has N %d and Dense %g, want both positive", path, c.Table.N, c.Table.Dense)
	}
	for _, cv := range c.Table.Curves {
		for i, p := range cv.Points {
			if i > 0 && p.Sparsity < cv.Points[i-1].Sparsity {
				return nil, fmt.Errorf("suite: %s: curve %s: points are not sorted by sparsity", path, cv.Tile)
			}
		}
	}
	return &c, nil
}

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
