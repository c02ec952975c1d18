// Package train trains Pitot models (lib/pitot) on the Pitot dataset: the
// paper's loop (specs/pitot.md 2.1 and 2.7: per-objective batches of 512
// drawn with replacement, the weighted multi-objective loss, AdamaxW,
// validation every 200 steps keeping the best state), over a grid of
// presets x data levels x replicates run by parallel workers, each run
// written atomically under results/ and resumable from its checkpoint.
//
// The core never prints: progress reaches callers through Hooks.
package train

import (
	"fmt"
	"math"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
)

// Objective is one training objective: all its observations as model
// inputs, with targets.
type Objective struct {
	Name    string
	All     pitot.Samples
	Runtime []float64 // t, µs
	LogT    []float32 // ln t
}

// Data is the dataset prepared for training.
type Data struct {
	Pitot      *dataset.Pitot
	Side       pitot.Side
	Objectives []Objective // "mf", then "if2", ... as present
}

// Prepare turns a loaded dataset into model inputs.
func Prepare(p *dataset.Pitot) *Data {
	m := p.Matrix
	d := &Data{Pitot: p, Side: pitot.Side{
		Workloads:        m.Workloads.Len(),
		Platforms:        m.Platforms.Len(),
		WorkloadFeatures: m.Workloads.Features,
		PlatformFeatures: m.Platforms.Features,
		WorkloadDim:      len(m.Workloads.FeatureNames),
		PlatformDim:      len(m.Platforms.FeatureNames),
	}}
	d.Objectives = append(d.Objectives, objective("mf", pitot.Samples{Workload: m.Workload, Platform: m.Platform}, m.Runtime))
	for _, k := range p.Ways() {
		s := p.Interference[k]
		d.Objectives = append(d.Objectives, objective(fmt.Sprintf("if%d", k),
			pitot.Samples{Workload: s.Workload, Platform: s.Platform, Interferers: s.Interferers}, s.Runtime))
	}
	return d
}

func objective(name string, s pitot.Samples, t []float64) Objective {
	o := Objective{Name: name, All: s, Runtime: t, LogT: make([]float32, len(t))}
	for i, x := range t {
		o.LogT[i] = float32(math.Log(x))
	}
	return o
}

// gather fills dst with the samples idx of src and returns it, reusing
// dst's slices.
func gather(src pitot.Samples, idx []int, dst *pitot.Samples) pitot.Samples {
	n := len(idx)
	dst.Workload = grow(dst.Workload, n)
	dst.Platform = grow(dst.Platform, n)
	for len(dst.Interferers) < len(src.Interferers) {
		dst.Interferers = append(dst.Interferers, nil)
	}
	dst.Interferers = dst.Interferers[:len(src.Interferers)]
	for j := range src.Interferers {
		dst.Interferers[j] = grow(dst.Interferers[j], n)
	}
	for i, k := range idx {
		dst.Workload[i] = src.Workload[k]
		dst.Platform[i] = src.Platform[k]
		for j, ks := range src.Interferers {
			dst.Interferers[j][i] = ks[k]
		}
	}
	return *dst
}

func grow(v []int, n int) []int {
	if cap(v) < n {
		return make([]int, n)
	}
	return v[:n]
}
