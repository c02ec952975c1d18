// Package workload runs the experiment sets of Apparate (SOSP 2024) on the
// synthetic inputs of specs/apparate.md section 6: the 48 CV workloads
// behind Fig. 12 and 13 (six models × eight videos) and the 8 NLP workloads
// behind Fig. 14 (four models × two datasets), specs section 5. A workload
// is one (model, dataset) pair; running it generates its inputs (latency
// profile, bootstrap and simulation tables, arrival trace), emulates the
// vanilla Clockwork schedule, replays it with the Apparate controller and
// the optimal-exit oracle, and reduces the per-request latencies to the
// figures' numbers (specs 4.1, 4.12). RunAll runs a set in parallel with
// deterministic seeds and caches every workload's result on disk.
//
// The package lives under lib/apparate because it is the experiment layer
// of that one simulator, as lib/experiment is Pitot's: it adds no
// simulation logic of its own, only the workloads, their configuration and
// their stored results, and lib/apparate stays free of files. Workloads
// run in parallel here (RunAll's pool); inside one workload, the only
// parallel work is lib/apparate's tuner scoring candidate ramps on up to
// GOMAXPROCS goroutines.
package workload

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/paperlab/paperlab/lib/apparate"
)

// The experiment sets (specs 5).
const (
	CV  = "cv"  // video frame classification, Fig. 12 and 13
	NLP = "nlp" // sentiment classification, Fig. 14
)

// CVModels are the CV set's models, in the order of Fig. 12.
var CVModels = []string{"resnet18", "resnet50", "resnet101", "vgg11", "vgg13", "vgg16"}

// NLPModels are the NLP set's models, in the order of Fig. 14.
var NLPModels = []string{"distilbert-base", "bert-base", "bert-large", "gpt2-medium"}

// NLPDatasets are the NLP set's datasets (specs 5).
var NLPDatasets = []string{"amazon_reviews", "imdb"}

// Workload is one (model, dataset) pair of a set: a CV model on a video of
// apparate.Videos or an NLP model on one of NLPDatasets.
type Workload struct {
	Set     string `json:"set"`
	Model   string `json:"model"`
	Dataset string `json:"dataset"`
}

// String returns set/model/dataset.
func (w Workload) String() string { return w.Set + "/" + w.Model + "/" + w.Dataset }

// Mode returns the controller mode of the workload's set (specs 4.1: the
// artifact switches on dataset != "video").
func (w Workload) Mode() apparate.Mode {
	if w.Set == NLP {
		return apparate.NLP
	}
	return apparate.CV
}

// Workloads lists the workloads of a set, "cv", "nlp" or "all" (CV first),
// models in figure order and datasets within each model: 48 CV workloads
// (apparate.Videos, Ohio included though the figures leave it out) and 8
// NLP workloads.
func Workloads(set string) ([]Workload, error) {
	switch set {
	case CV:
		return cross(CV, CVModels, apparate.Videos), nil
	case NLP:
		return cross(NLP, NLPModels, NLPDatasets), nil
	case "all":
		return append(cross(CV, CVModels, apparate.Videos), cross(NLP, NLPModels, NLPDatasets)...), nil
	}
	return nil, fmt.Errorf("workload: set %q, want cv, nlp or all", set)
}

// Sets returns the sets a set name stands for: "all" is cv and nlp.
func Sets(set string) ([]string, error) {
	switch set {
	case CV, NLP:
		return []string{set}, nil
	case "all":
		return []string{CV, NLP}, nil
	}
	return nil, fmt.Errorf("workload: set %q, want cv, nlp or all", set)
}

func cross(set string, models, datasets []string) []Workload {
	out := make([]Workload, 0, len(models)*len(datasets))
	for _, m := range models {
		for _, d := range datasets {
			out = append(out, Workload{Set: set, Model: m, Dataset: d})
		}
	}
	return out
}

// Seed returns the workload's seed: a hash of the base seed, the set, the
// model and the dataset (DESIGN rule 9), so every workload draws its own
// tables and arrivals and none depends on the clock or on the order the
// workloads run in.
func (w Workload) Seed(base uint64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], base)
	h.Write(b[:])
	for _, s := range []string{w.Set, w.Model, w.Dataset} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}
