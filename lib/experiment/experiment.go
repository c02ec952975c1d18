// Package experiment runs the Pitot experiments end to end for notebooks
// and scripts: the splits, the training runs a set of presets lacks under a
// profile, and their conformal evaluation into one summary file per preset
// (specs/pitot.md sections 4, 5.3). Everything is cached on disk and redone
// only when missing or stale, so a notebook can simply ask for what its
// figure needs.
package experiment

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
	"github.com/paperlab/paperlab/lib/train"
)

// Lab is a dataset, a profile and the directories its results live in.
type Lab struct {
	Data    *train.Data
	Profile train.Profile
	Results string // results/<profile>
	Splits  string // splits
	Summary string // summary/<profile>
	Workers int    // parallel training runs; 0 means all cores
}

// Open loads the checkout's Pitot dataset and sets up the directories of
// a profile ("" means $PAPERLAB_PROFILE, else quick).
func Open(profile string) (*Lab, error) {
	prof, err := train.ProfileNamed(profile)
	if err != nil {
		return nil, err
	}
	root, err := repo.Root()
	if err != nil {
		return nil, err
	}
	p, err := dataset.LoadPitot(filepath.Join(root, "data", "pitot"))
	if err != nil {
		return nil, err
	}
	return &Lab{Data: train.Prepare(p), Profile: prof,
		Results: filepath.Join(root, "results", prof.Name),
		Splits:  filepath.Join(root, "splits"),
		Summary: filepath.Join(root, "summary", prof.Name)}, nil
}

// Grid returns the training grid of presets under the lab's profile.
func (l *Lab) Grid(presets ...string) train.Grid {
	w := l.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return train.Grid{Presets: presets, Profile: l.Profile, Workers: w, ResultsDir: l.Results, SplitsDir: l.Splits}
}

// Pending returns the total training steps the presets still lack.
func (l *Lab) Pending(presets ...string) (runs, steps int, err error) {
	g := l.Grid(presets...)
	pending, _, err := g.Pending()
	if err != nil {
		return 0, 0, err
	}
	for _, r := range pending {
		c, err := g.Config(r.Preset)
		if err != nil {
			return 0, 0, err
		}
		runs++
		steps += c.Train.Steps
	}
	return runs, steps, nil
}

// Train trains the runs the presets lack.
func (l *Lab) Train(ctx context.Context, hooks train.Hooks, presets ...string) error {
	return l.Grid(presets...).Execute(ctx, l.Data, hooks)
}

// SummaryPath returns summary/<profile>/<preset>.npz.
func (l *Lab) SummaryPath(preset string) string {
	return filepath.Join(l.Summary, filepath.FromSlash(preset)+".npz")
}

// Evaluate returns the conformal summary of each preset, evaluating the
// finished runs into summary/<profile>/<preset>.npz when that file is
// missing or was computed from other result files (by content: see
// inputsDigest). Runs not trained yet are NaN in the summary; a result
// that cannot be read is an error.
func (l *Lab) Evaluate(presets ...string) (map[string]*conformal.Summary, error) {
	out := map[string]*conformal.Summary{}
	for _, preset := range presets {
		s, err := l.evaluate(preset)
		if err != nil {
			return nil, err
		}
		out[preset] = s
	}
	return out, nil
}

func (l *Lab) evaluate(preset string) (*conformal.Summary, error) {
	path := l.SummaryPath(preset)
	g := l.Grid(preset)
	runs := g.Runs()
	digest, have, err := inputsDigest(l.Results, runs)
	if err != nil {
		return nil, err
	}
	if s, err := conformal.ReadSummary(path); err == nil && s.Inputs == digest &&
		slices.Equal(s.Levels, l.Profile.Levels) && s.Replicates == l.Profile.Replicates {
		return s, nil
	}
	sum := &conformal.Summary{Levels: l.Profile.Levels, Replicates: l.Profile.Replicates, Alphas: conformal.Alphas, Inputs: digest}
	for i, r := range runs {
		if !have[i] {
			continue
		}
		val, test, cfg, err := train.RunParts(l.Data, l.Results, l.Splits, r)
		if err != nil {
			return nil, fmt.Errorf("experiment: %s: %w", r, err)
		}
		li := indexOf(l.Profile.Levels, r.Level)
		for _, o := range l.Data.Objectives {
			e, err := conformal.Evaluate(conformal.Predictions(val[o.Name]), conformal.Predictions(test[o.Name]), conformal.Alphas, conformal.Linear)
			if err != nil {
				return nil, fmt.Errorf("experiment: %s %s: %w", r, o.Name, err)
			}
			if cfg.Loss == pitot.LossPercent {
				// The naive-loss model predicts runtimes: its MAPE is
				// |t - t̂| / t (specs 5.2); its widths are not meaningful.
				e.MAPE = conformal.RawMAPE(test[o.Name].Y, test[o.Name].Heads[0])
			}
			if err := sum.Set(o.Name, li, r.Replicate, e); err != nil {
				return nil, fmt.Errorf("experiment: %s %s: %w", r, o.Name, err)
			}
		}
	}
	if err := sum.Write(path); err != nil {
		return nil, err
	}
	return sum, nil
}

// inputsDigest identifies the result files of runs by content: a SHA-256
// over each run's name and the SHA-256 of its file ("missing" when there
// is none). have reports which runs have a file. A summary is fresh when
// its stored digest equals this one, whatever the files' times say (copies
// with cp -p or rsync -a keep old times).
func inputsDigest(dir string, runs []train.Run) (string, []bool, error) {
	h := sha256.New()
	have := make([]bool, len(runs))
	for i, r := range runs {
		b, err := os.ReadFile(r.ResultPath(dir))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(h, "%s missing\n", r)
		case err != nil:
			return "", nil, fmt.Errorf("experiment: %w", err)
		default:
			have[i] = true
			fmt.Fprintf(h, "%s %x\n", r, sha256.Sum256(b))
		}
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil)), have, nil
}

func indexOf(levels []float64, l float64) int {
	for i, x := range levels {
		if math.Abs(x-l) < 1e-9 {
			return i
		}
	}
	return -1
}

// Ensure trains what the presets lack and returns their summaries.
func (l *Lab) Ensure(ctx context.Context, hooks train.Hooks, presets ...string) (map[string]*conformal.Summary, error) {
	if err := l.Train(ctx, hooks, presets...); err != nil {
		return nil, err
	}
	return l.Evaluate(presets...)
}

// Embeddings returns the learned embeddings of every finished replicate of
// a two-tower preset at one data level (the paper uses `pitot` at 0.9).
func (l *Lab) Embeddings(preset string, level float64) ([]*pitot.Embeddings, error) {
	var out []*pitot.Embeddings
	for r := range l.Profile.Replicates {
		run := train.Run{Preset: preset, Level: level, Replicate: r}
		res, err := train.ReadResult(run.ResultPath(l.Results))
		if err != nil {
			return nil, err
		}
		if res.Config.Kind == "" {
			if res.Config, err = l.Grid(preset).Config(preset); err != nil {
				return nil, err
			}
		}
		res.Run = run
		m, err := train.Restore(l.Data, res)
		if err != nil {
			return nil, err
		}
		e, ok := pitot.EmbeddingsOf(m)
		if !ok {
			return nil, fmt.Errorf("experiment: %s has no embeddings", preset)
		}
		out = append(out, e)
	}
	return out, nil
}

// PlatformErrors returns, for every platform, the absolute percentage
// errors |t / t̂ − 1| of head 0 on its isolated (mf) test observations,
// pooled over the replicates of a preset at one data level: the data of
// the paper's by_platform_category figure (pitot at 0.9). The runs must be
// trained.
func (l *Lab) PlatformErrors(preset string, level float64) ([][]float64, error) {
	out := make([][]float64, l.Data.Side.Platforms)
	mf := &l.Data.Objectives[0]
	for r := range l.Profile.Replicates {
		run := train.Run{Preset: preset, Level: level, Replicate: r}
		_, test, cfg, err := train.RunParts(l.Data, l.Results, l.Splits, run)
		if err != nil {
			return nil, err
		}
		if cfg.Loss == pitot.LossPercent {
			return nil, fmt.Errorf("experiment: %s predicts raw runtimes; platform errors need a log model", preset)
		}
		s, err := dataset.ReadSplits(dataset.SplitPath(l.Splits, level, r), l.Data.Pitot)
		if err != nil {
			return nil, err
		}
		part := test[mf.Name]
		for i, k := range s.Objectives[mf.Name].Test {
			p := mf.All.Platform[k]
			out[p] = append(out[p], math.Abs(math.Expm1(part.Y[i]-part.Heads[0][i])))
		}
	}
	return out, nil
}
