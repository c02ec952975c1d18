package train

import (
	"slices"
	"sync"
	"time"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
)

// StepTime measures the wall time of one optimizer step of cfg, for a run
// alone on the machine (batches of every objective, forward, backward,
// update; no validation): after warmup steps, the median over 7 blocks of
// steps/7 steps of the block's mean, which keeps a noisy neighbour on a
// shared machine from deciding the figure.
func StepTime(data *Data, cfg pitot.Config, splits *dataset.Splits, warmup, steps int) (time.Duration, error) {
	t, err := newTrainer(data, cfg, Run{Preset: "bench", Level: splits.Level}, splits, true)
	if err != nil {
		return 0, err
	}
	losses := make([]float64, len(t.active))
	for range warmup {
		t.trainStep(losses)
	}
	const blocks = 7
	per := max(steps/blocks, 1)
	times := make([]time.Duration, blocks)
	for b := range times {
		start := time.Now()
		for range per {
			t.trainStep(losses)
		}
		times[b] = time.Since(start) / time.Duration(per)
	}
	slices.Sort(times)
	return times[blocks/2], nil
}

// ReplicateStepTime trains replicates runs of cfg at once on workers
// goroutines, steps steps each, and returns the wall time per
// replicate-step: the cost of one step of one replicate when a grid keeps
// every worker busy. Workers take a replicate, advance it by a block of
// steps and put it back, so no worker idles while another finishes a run
// (as in a grid, where runs far outnumber workers).
func ReplicateStepTime(data *Data, cfg pitot.Config, splits *dataset.Splits, replicates, workers, steps int) (time.Duration, error) {
	type job struct {
		t      *trainer
		left   int
		losses []float64
	}
	jobs := make(chan *job, replicates)
	for r := range replicates {
		t, err := newTrainer(data, cfg, Run{Preset: "bench", Level: splits.Level, Replicate: r}, splits, workers == 1)
		if err != nil {
			return 0, err
		}
		jobs <- &job{t, steps, make([]float64, len(t.active))}
	}
	const block = 10
	var left sync.WaitGroup
	left.Add(replicates)
	start := time.Now()
	for range workers {
		go func() {
			for j := range jobs {
				for range min(block, j.left) {
					j.t.trainStep(j.losses)
				}
				if j.left -= block; j.left > 0 {
					jobs <- j
				} else {
					left.Done()
				}
			}
		}()
	}
	left.Wait()
	close(jobs)
	return time.Since(start) / time.Duration(replicates*steps), nil
}
