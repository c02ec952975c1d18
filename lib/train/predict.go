package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/nn"
	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/pitot"
)

// Restore rebuilds the model of a finished run with its best parameters.
func Restore(data *Data, r *Result) (pitot.Model[float32], error) {
	m, err := pitot.New[float32](r.Config, data.Side)
	if err != nil {
		return nil, err
	}
	have := map[string]*nn.Param[float32]{}
	for _, p := range r.Params.List {
		have[p.Name] = p
	}
	for _, p := range m.Params().List {
		q, ok := have[p.Name]
		if !ok {
			return nil, fmt.Errorf("train: result of %s lacks parameter %s of the configured model", r.Run, p.Name)
		}
		if !slices.Equal(q.Shape, p.Shape) || len(q.Data) != len(p.Data) {
			return nil, fmt.Errorf("train: result of %s: parameter %s has shape %s, the configured model's is %s",
				r.Run, p.Name, npz.ShapeString(q.Shape), npz.ShapeString(p.Shape))
		}
		copy(p.Data, q.Data)
		delete(have, p.Name)
	}
	for name := range have {
		return nil, fmt.Errorf("train: result of %s holds parameter %s, which the configured model does not have", r.Run, name)
	}
	m.Prepare()
	return m, nil
}

// Part is the labels and per-head predictions of one objective on one part
// (validation or test) of a split, in the model's domain: ln t, or t for
// the naive-loss ablation.
type Part struct {
	Y     []float64
	Heads [][]float64 // [head][sample]
}

// Predict evaluates a prepared model on the observations idx of objective
// o, batch samples at a time (at most the configured batch size).
func Predict(m pitot.Model[float32], cfg pitot.Config, o *Objective, idx []int, batch int) Part {
	if batch <= 0 {
		panic(fmt.Sprintf("train: Predict with batch size %d", batch))
	}
	h := m.Heads()
	p := Part{Y: make([]float64, len(idx)), Heads: make([][]float64, h)}
	for j := range p.Heads {
		p.Heads[j] = make([]float64, len(idx))
	}
	out := make([]float32, h*batch)
	var smp pitot.Samples
	for lo := 0; lo < len(idx); lo += batch {
		chunk := idx[lo:min(lo+batch, len(idx))]
		n := len(chunk)
		s := gather(o.All, chunk, &smp)
		m.Predict(s, out[:h*n])
		for i, k := range chunk {
			if cfg.Loss == pitot.LossPercent {
				p.Y[lo+i] = o.Runtime[k]
			} else {
				p.Y[lo+i] = math.Log(o.Runtime[k])
			}
			for j := range h {
				p.Heads[j][lo+i] = float64(out[j*n+i])
			}
		}
	}
	return p
}

// RunParts loads a finished run and returns, per objective, its validation
// and test predictions.
func RunParts(data *Data, resultsDir, splitsDir string, run Run) (val, test map[string]Part, cfg pitot.Config, err error) {
	r, err := ReadResult(run.ResultPath(resultsDir))
	if err != nil {
		return nil, nil, cfg, err
	}
	r.Run = run
	if r.Config.Kind == "" {
		// Results written before they carried their configuration: use the
		// preset's config.json beside them.
		b, err := os.ReadFile(filepath.Join(resultsDir, filepath.FromSlash(run.Preset), "config.json"))
		if err != nil {
			return nil, nil, cfg, fmt.Errorf("train: %s: result has no configuration and %v", run, err)
		}
		if err := json.Unmarshal(b, &r.Config); err != nil {
			return nil, nil, cfg, fmt.Errorf("train: %s: config.json: %v", run, err)
		}
	}
	r.Config = r.Config.Resolve()
	m, err := Restore(data, r)
	if err != nil {
		return nil, nil, cfg, err
	}
	s, err := dataset.ReadSplits(dataset.SplitPath(splitsDir, run.Level, run.Replicate), data.Pitot)
	if err != nil {
		return nil, nil, cfg, err
	}
	val, test = map[string]Part{}, map[string]Part{}
	for i := range data.Objectives {
		o := &data.Objectives[i]
		sp := s.Objectives[o.Name]
		val[o.Name] = Predict(m, r.Config, o, sp.Val, r.Config.Train.BatchSize)
		test[o.Name] = Predict(m, r.Config, o, sp.Test, r.Config.Train.BatchSize)
	}
	return val, test, r.Config, nil
}
