package workload

import (
	"context"
	"sync"
)

// Hooks report RunAll's progress; nil hooks are skipped. They are called
// from the worker goroutines, so they must be safe for concurrent use.
// Workloads with a stored result call neither.
type Hooks struct {
	Start func(w Workload)
	// Done is called when a workload finished: r is its result, stored
	// under the results directory, or err says why it failed.
	Done func(w Workload, r *Result, err error)
}

// Pending returns the workloads of a set ("cv", "nlp" or "all") that have
// no stored result under dir yet. Stored results made with other settings
// are an error.
func Pending(cfg Config, set, dir string) ([]Workload, error) {
	ws, settings, err := plan(cfg, set)
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, w := range ws {
		_, ok, err := done(dir, w, settings[w.Set])
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, w)
		}
	}
	return out, nil
}

// plan resolves the workloads of a set and the settings of each set.
func plan(cfg Config, set string) ([]Workload, map[string]Settings, error) {
	ws, err := Workloads(set)
	if err != nil {
		return nil, nil, err
	}
	sets, err := Sets(set)
	if err != nil {
		return nil, nil, err
	}
	settings := map[string]Settings{}
	for _, s := range sets {
		if settings[s], err = cfg.Settings(s); err != nil {
			return nil, nil, err
		}
	}
	return ws, settings, nil
}

// RunAll runs every workload of a set ("cv", "nlp" or "all") under cfg and
// stores its result under dir (see ResultPath, LatencyPath), workers at a
// time (at least one). It first writes each set's config.json, refusing a
// directory that holds results of other settings. Workloads with a stored
// result are read back instead of run, so a rerun does no work. Each
// workload depends only on its own seed, so the results do not depend on
// workers.
//
// RunAll returns the results in Workloads order; results read back have
// nil Latencies. On the first error it stops handing out workloads, waits
// for those in flight and returns that error; on cancellation, ctx's.
func RunAll(ctx context.Context, cfg Config, set, dir string, workers int, hooks Hooks) ([]*Result, error) {
	ws, settings, err := plan(cfg, set)
	if err != nil {
		return nil, err
	}
	for _, s := range settings {
		if err := guardConfig(dir, s); err != nil {
			return nil, err
		}
	}
	results := make([]*Result, len(ws))
	var todo []int
	for i, w := range ws {
		r, ok, err := done(dir, w, settings[w.Set])
		if err != nil {
			return nil, err
		}
		if ok {
			results[i] = r
		} else {
			todo = append(todo, i)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	jobs := make(chan int)
	for range max(workers, 1) {
		wg.Go(func() {
			for i := range jobs {
				r, err := runOne(ws[i], settings[ws[i].Set], dir, hooks)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				results[i] = r
				mu.Unlock()
			}
		})
	}
	for _, i := range todo {
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// runOne runs and stores one workload, calling the hooks.
func runOne(w Workload, s Settings, dir string, hooks Hooks) (*Result, error) {
	if hooks.Start != nil {
		hooks.Start(w)
	}
	r, err := Run(w, s)
	if err == nil {
		err = write(dir, r)
	}
	if err != nil {
		r = nil
	}
	if hooks.Done != nil {
		hooks.Done(w, r, err)
	}
	return r, err
}
