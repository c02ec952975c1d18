package train

import (
	"sync"
	"time"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
)

// StepTime measures the mean wall time of one optimizer step of cfg, for a
// run alone on the machine
// (batches of every objective, forward, backward, update; no validation)
// over steps steps, after warmup steps.
func StepTime(data *Data, cfg pitot.Config, splits *dataset.Splits, warmup, steps int) (time.Duration, error) {
	t, err := newTrainer(data, cfg, Run{Preset: "bench", Level: splits.Level}, splits, true)
	if err != nil {
		return 0, err
	}
	losses := make([]float64, len(t.active))
	for range warmup {
		t.trainStep(losses)
	}
	start := time.Now()
	for range steps {
		t.trainStep(losses)
	}
	return time.Since(start) / time.Duration(steps), nil
}

// ReplicateStepTime trains replicates runs of cfg at once, workers at a
// time, steps steps each, and returns the wall time per replicate-step: the
// cost of one step of one replicate when a grid keeps every worker busy.
func ReplicateStepTime(data *Data, cfg pitot.Config, splits *dataset.Splits, replicates, workers, steps int) (time.Duration, error) {
	ts := make([]*trainer, replicates)
	for r := range ts {
		var err error
		if ts[r], err = newTrainer(data, cfg, Run{Preset: "bench", Level: splits.Level, Replicate: r}, splits, workers == 1); err != nil {
			return 0, err
		}
	}
	jobs := make(chan *trainer, replicates)
	for _, t := range ts {
		jobs <- t
	}
	close(jobs)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := range jobs {
				losses := make([]float64, len(t.active))
				for range steps {
					t.trainStep(losses)
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start) / time.Duration(replicates*steps), nil
}
