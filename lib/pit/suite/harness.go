package suite

import (
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/paperlab/paperlab/lib/pit"
)

// Case is one method on one configuration: Run performs the whole
// operation once and returns its work counters. Setup that every
// repetition shares (inputs, masks, a static format built offline) is done
// before, outside the timing.
type Case struct {
	Group  string
	X      float64
	Method string
	Note   string
	Buffer int64 // bytes of temporary buffers, when the method reports them
	Run    func() pit.Work
}

// Measure times cases the way specs/pit.md §5.2 (conclusion 3) asks on a
// noisy host: each case runs once to warm up, then reps rounds follow in
// which every case runs once, round-robin, so that a slow spell of the
// machine hits all methods alike. The garbage collector runs before each
// sample and is off during it. Each Row holds the median and the minimum
// of a case's reps samples and the Work of its last run. after, if not
// nil, is called after each sample with the number done and the total.
func Measure(cases []Case, reps int, after func(done, total int)) []Row {
	reps = max(reps, 1)
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	work := make([]pit.Work, len(cases))
	for i, c := range cases {
		work[i] = c.Run()
	}
	samples := make([][]float64, len(cases))
	total, done := reps*len(cases), 0
	for range reps {
		for i, c := range cases {
			runtime.GC()
			t0 := time.Now()
			work[i] = c.Run()
			samples[i] = append(samples[i], time.Since(t0).Seconds())
			done++
			if after != nil {
				after(done, total)
			}
		}
	}
	rows := make([]Row, len(cases))
	for i, c := range cases {
		s := slices.Sorted(slices.Values(samples[i]))
		rows[i] = Row{Group: c.Group, X: c.X, Method: c.Method, Note: c.Note, Buffer: c.Buffer, Reps: reps,
			Median: median(s), Min: s[0], Work: work[i]}
	}
	return rows
}

// median of sorted values: the middle one, or the mean of the two middle
// ones.
func median(s []float64) float64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
