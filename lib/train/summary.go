package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/conformal"
)

// MAPESummary aggregates the test MAPE of one preset at one level over its
// finished replicates.
type MAPESummary struct {
	Preset   string
	Level    float64
	Runs     int
	MAPE     map[string]float64 // mean over replicates, per objective
	SE2      map[string]float64 // 2 standard errors (sample sd / sqrt(n)), as the paper's error bars
	Seconds  float64            // mean training time per run
	BestStep float64            // mean step of the best validation loss
}

// Summarize reads every finished run of a preset under dir
// (dir/<preset>/<level>/<replicate>.npz) and aggregates each level. A
// preset never trained gives no summaries and no error; a directory that
// cannot be read, or a result that does not read back, is an error.
func Summarize(dir, preset string) ([]MAPESummary, error) {
	base := filepath.Join(dir, filepath.FromSlash(preset))
	entries, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var out []MAPESummary
	for _, e := range entries {
		level, err := strconv.ParseFloat(e.Name(), 64)
		if !e.IsDir() || err != nil {
			continue
		}
		sub, err := os.ReadDir(filepath.Join(base, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		var files []string
		for _, f := range sub {
			if !f.IsDir() && strings.HasSuffix(f.Name(), ".npz") && !strings.HasPrefix(f.Name(), ".") {
				files = append(files, filepath.Join(base, e.Name(), f.Name()))
			}
		}
		s := MAPESummary{Preset: preset, Level: level, MAPE: map[string]float64{}, SE2: map[string]float64{}}
		vals := map[string][]float64{}
		for _, f := range files {
			if strings.HasSuffix(f, ".ckpt.npz") {
				continue
			}
			r, err := ReadResult(f)
			if err != nil {
				return nil, err
			}
			s.Runs++
			s.Seconds += r.Seconds
			s.BestStep += float64(r.BestStep)
			for o, v := range r.TestMAPE {
				vals[o] = append(vals[o], v)
			}
		}
		if s.Runs == 0 {
			continue
		}
		s.Seconds /= float64(s.Runs)
		s.BestStep /= float64(s.Runs)
		for o, v := range vals {
			s.MAPE[o], s.SE2[o] = conformal.MeanSE2(v)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b MAPESummary) int { return cmpFloat(a.Level, b.Level) })
	return out, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String formats a summary line: "pitot @0.9 (5 runs): mf 5.41 ± 0.06 %, ...".
func (s MAPESummary) String() string {
	var parts []string
	for _, o := range sortedKeys(s.MAPE) {
		parts = append(parts, fmt.Sprintf("%s %.2f ± %.2f %%", o, 100*s.MAPE[o], 100*s.SE2[o]))
	}
	return fmt.Sprintf("%s @%g (%d runs, %.0f s each, best step %.0f): test MAPE %s", s.Preset, s.Level, s.Runs, s.Seconds, s.BestStep, strings.Join(parts, ", "))
}
