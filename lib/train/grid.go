package train

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
)

// Profile is a named size of the experiment grid.
type Profile struct {
	Name       string
	Levels     []float64
	Replicates int
	// Steps overrides the configured steps (0 keeps the paper's 20,000);
	// NNSteps does the same for the Monolith and Attention baselines, which
	// cost 30-50x more per step.
	Steps, NNSteps int
	ValEvery       int // 0 keeps the paper's 200
	// LR, Warmup and Decay, when set, replace the learning-rate schedule
	// (pitot.Training); unset, the paper's constant 10⁻³ stays.
	LR     float64
	Warmup int
	Decay  string
}

// Profiles: "paper" is the full grid of the paper (9 levels x 5 replicates x
// 20,000 steps); "quick", the default of `make figures`, trains a reduced
// grid whose Pitot figures finish in minutes on 2 cores.
var Profiles = map[string]Profile{
	"paper": {Name: "paper", Levels: dataset.Levels, Replicates: 5},
	"quick": {Name: "quick", Levels: []float64{0.1, 0.5, 0.9}, Replicates: 3, Steps: 2000, ValEvery: 100},
}

// DefaultProfile is used when PAPERLAB_PROFILE is unset.
const DefaultProfile = "quick"

// ProfileNamed returns a profile by name; "" means $PAPERLAB_PROFILE, or
// DefaultProfile when that is unset.
func ProfileNamed(name string) (Profile, error) {
	if name == "" {
		name = os.Getenv("PAPERLAB_PROFILE")
	}
	if name == "" {
		name = DefaultProfile
	}
	p, ok := Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("train: unknown profile %q (want quick or paper)", name)
	}
	return p, nil
}

// Apply sets the profile's schedule on a configuration.
func (p Profile) Apply(c pitot.Config) pitot.Config {
	steps := p.Steps
	if c.Kind == pitot.KindMonolith || c.Kind == pitot.KindAttention {
		steps = cmp.Or(p.NNSteps, p.Steps)
	}
	if steps > 0 {
		c.Train.Steps = steps
	}
	if p.ValEvery > 0 {
		c.Train.ValEvery = p.ValEvery
	}
	if p.LR > 0 {
		c.Train.LR = p.LR
	}
	if p.Warmup > 0 {
		c.Train.Warmup = p.Warmup
	}
	if p.Decay != "" {
		c.Train.Decay = p.Decay
	}
	return c
}

// Grid is a set of runs: presets x levels x replicates, optionally one shard
// of it.
type Grid struct {
	Presets    []string
	Profile    Profile
	Seed       uint64 // base seed; 0 means DefaultSeed
	Shard      int    // this shard, 0 <= Shard < Shards
	Shards     int    // 0 or 1: no sharding
	Workers    int    // parallel runs; 0 means 1
	ResultsDir string // where results go, e.g. results/<profile>
	SplitsDir  string // where splits are, e.g. splits/
	// BugCompatIFIndex trains every preset with the original code's
	// interference indexing (pitot.Config.BugCompatIFIndex).
	BugCompatIFIndex bool
}

// Runs lists the grid's runs in a fixed order (preset, level, replicate),
// keeping only this shard's: run i belongs to shard i mod Shards.
func (g Grid) Runs() []Run {
	var runs []Run
	i := 0
	for _, p := range g.Presets {
		for _, l := range g.Profile.Levels {
			for r := range g.Profile.Replicates {
				if g.Shards <= 1 || i%g.Shards == g.Shard {
					runs = append(runs, Run{Preset: p, Level: l, Replicate: r, Seed: g.Seed})
				}
				i++
			}
		}
	}
	return runs
}

// Pending returns the runs of the grid without a valid result. A run is
// finished only when its result file reads back (ReadResult) and belongs
// to the run (its level and replicate); a missing file is pending, an
// invalid one is pending too and reported in invalid, one error per file,
// so that callers can say it will be retrained. A results tree that cannot
// be read (permissions, I/O) is an error, never an empty grid.
func (g Grid) Pending() (pending []Run, invalid []error, err error) {
	for _, r := range g.Runs() {
		ok, why, err := r.Finished(g.ResultsDir)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			pending = append(pending, r)
			if why != nil {
				invalid = append(invalid, why)
			}
		}
	}
	return pending, invalid, nil
}

// Finished reports whether run r has a valid result under dir. A missing
// file gives false and no errors; a file that does not read back, or is
// another run's, gives false and the reason in why; err is set only when
// the file or its directory cannot be examined at all.
func (r Run) Finished(dir string) (ok bool, why, err error) {
	path := r.ResultPath(dir)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// The directory must be readable for "missing" to mean missing.
			if _, derr := os.ReadDir(filepath.Dir(path)); derr != nil && !errors.Is(derr, fs.ErrNotExist) {
				return false, nil, fmt.Errorf("train: results of %s: %w", r, derr)
			}
			return false, nil, nil
		}
		return false, nil, fmt.Errorf("train: results of %s: %w", r, err)
	}
	res, rerr := ReadResult(path)
	if rerr != nil {
		if errors.Is(rerr, fs.ErrPermission) {
			return false, nil, rerr
		}
		return false, rerr, nil
	}
	if res.Run.Replicate != r.Replicate || math.Abs(res.Run.Level-r.Level) > 1e-9 {
		return false, fmt.Errorf("train: result %s: holds level %g replicate %d, not %s", path, res.Run.Level, res.Run.Replicate, r), nil
	}
	return true, nil, nil
}

// Config returns the configuration a preset trains with under this grid.
func (g Grid) Config(preset string) (pitot.Config, error) {
	c, err := pitot.Preset(preset)
	if err != nil {
		return c, err
	}
	c.BugCompatIFIndex = c.BugCompatIFIndex || g.BugCompatIFIndex
	return g.Profile.Apply(c).Resolve(), nil
}

// Execute trains every pending run of the grid, Workers at a time, after
// writing each preset's config.json (and refusing to mix results of a
// different configuration into an existing directory). It makes missing
// splits first. Runs already finished are skipped; interrupted ones resume
// from their checkpoints. It returns the first error after the runs in
// flight finish.
func (g Grid) Execute(ctx context.Context, data *Data, hooks Hooks) error {
	for _, p := range g.Presets {
		c, err := g.Config(p)
		if err != nil {
			return err
		}
		if err := writeConfig(filepath.Join(g.ResultsDir, filepath.FromSlash(p), "config.json"), c); err != nil {
			return err
		}
	}
	pending, _, err := g.Pending()
	if err != nil {
		return err
	}
	levels := map[float64]bool{}
	for _, r := range pending {
		levels[r.Level] = true
	}
	lv := make([]float64, 0, len(levels))
	for l := range levels {
		lv = append(lv, l)
	}
	slices.Sort(lv)
	if _, err := dataset.EnsureSplits(data.Pitot, g.SplitsDir, lv, g.Profile.Replicates, cmp.Or(g.Seed, DefaultSeed)); err != nil {
		return err
	}

	jobs := make(chan Run)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(g.Workers, 1) {
		wg.Go(func() {
			for r := range jobs {
				if ctx.Err() != nil {
					continue // cancelled: no new run starts
				}
				err := g.one(ctx, data, r, hooks)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
send:
	for _, r := range pending {
		select {
		case jobs <- r:
		case <-ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// one trains run r under its claim file, so that two commands on one
// results tree never train the same run: a run another process holds is
// skipped (Hooks.Skip says so), and one finished meanwhile is not redone.
// Temporary files a killed writer left for the run are removed first.
func (g Grid) one(ctx context.Context, data *Data, r Run, hooks Hooks) error {
	c, err := g.Config(r.Preset)
	if err != nil {
		return err
	}
	lock, err := repo.TryLock(r.lockPath(g.ResultsDir))
	if errors.Is(err, repo.ErrLocked) {
		if hooks.Skip != nil {
			hooks.Skip(r, "another process is training it: "+err.Error())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: %s: %w", r, err)
	}
	defer lock.Unlock()
	if done, _, err := r.Finished(g.ResultsDir); err != nil || done {
		if done && hooks.Skip != nil {
			hooks.Skip(r, "finished by another process")
		}
		return err
	}
	removeStaleTemps(r.ResultPath(g.ResultsDir), r.checkpointPath(g.ResultsDir))
	s, err := dataset.ReadSplits(dataset.SplitPath(g.SplitsDir, r.Level, r.Replicate), data.Pitot)
	if err != nil {
		return err
	}
	res, err := train(ctx, data, c, r, s, g.ResultsDir, hooks, max(g.Workers, 1) == 1)
	if hooks.Done != nil {
		hooks.Done(r, res, err)
	}
	return err
}

// removeStaleTemps deletes the temporary files (npz.Create's
// ".<name>.tmp*") of the given targets. Only the holder of a run's claim
// calls it, so no live writer owns them.
func removeStaleTemps(targets ...string) {
	for _, t := range targets {
		old, _ := filepath.Glob(filepath.Join(filepath.Dir(t), "."+filepath.Base(t)+".tmp*"))
		for _, f := range old {
			os.Remove(f)
		}
	}
}

// writeConfig writes c as path unless an identical file is there; a
// different one is an error, since results of two configurations must not
// mix.
func writeConfig(path string, c pitot.Config) error {
	b := c.JSON()
	old, err := os.ReadFile(path)
	if err == nil {
		if !bytes.Equal(old, b) {
			return fmt.Errorf("train: %s holds another configuration than the one requested; move that directory away or use another results directory", path)
		}
		return nil
	}
	return repo.WriteFile(path, b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
