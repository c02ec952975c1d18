package pit

import (
	"runtime"
	"sync"
	"time"
)

// Peak is a measured FP32 arithmetic peak of this machine: the rate of
// independent fused multiply-adds in the widest vector registers the CPU
// has, on workers threads at once, with no memory traffic. It is the
// ceiling against which a dense product (Dense) and the useful work of a
// sparse one are judged: a kernel at Peak does nothing but multiply-adds.
type Peak struct {
	GFLOPS  float64 // 2 flops per multiply-add, all workers together
	Vector  string  // "avx512" (16 lanes), "avx2" (8 lanes), or "" where not measured
	Workers int
}

// MeasurePeak runs the FMA loop on workers goroutines (each locked to an
// OS thread) for about d, after a short warm-up, and returns the rate. It
// returns a zero Peak where no vector FMA kernel exists (not amd64, the
// purego tag, or a CPU without FMA).
func MeasurePeak(workers int, d time.Duration) Peak {
	vec, lanes := fmaVector()
	if lanes == 0 {
		return Peak{}
	}
	workers = max(workers, 1)
	const iters = 1 << 16 // 12 FMAs each: about 0.3 ms a call at 3 GHz
	flopsPerCall := float64(iters) * 12 * float64(lanes) * 2
	calls := make([]int, workers)
	var start sync.WaitGroup
	start.Add(workers)
	var ready, done sync.WaitGroup
	ready.Add(workers)
	done.Add(workers)
	var t0 time.Time
	var stop time.Time
	for w := range workers {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer done.Done()
			fmaLoop(iters) // warm-up: clocks and the vector unit up
			ready.Done()
			start.Wait()
			n := 0
			for time.Now().Before(stop) {
				fmaLoop(iters)
				n++
			}
			calls[w] = n
		}()
	}
	ready.Wait()
	t0 = time.Now()
	stop = t0.Add(d)
	for range workers {
		start.Done()
	}
	done.Wait()
	elapsed := time.Since(t0).Seconds()
	total := 0
	for _, n := range calls {
		total += n
	}
	return Peak{GFLOPS: float64(total) * flopsPerCall / elapsed / 1e9, Vector: vec, Workers: workers}
}
