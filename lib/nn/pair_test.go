package nn

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestPair checks that Both runs both functions, on two goroutines at once
// (each waits until the other has started), many times in a row, with and
// without pauses long enough for either side to park, and that a nil Pair
// runs them in order.
func TestPair(t *testing.T) {
	p := NewPair()
	defer p.Close()
	var a, b atomic.Int64
	for i := range 2000 {
		var fStarted, gStarted atomic.Bool
		p.Both(func() {
			fStarted.Store(true)
			for !gStarted.Load() {
			}
			a.Add(1)
		}, func() {
			gStarted.Store(true)
			for !fStarted.Load() {
			}
			if i%100 == 0 {
				time.Sleep(200 * time.Microsecond) // the caller parks
			}
			b.Add(1)
		})
		if i%300 == 0 {
			time.Sleep(300 * time.Microsecond) // the helper parks
		}
	}
	if a.Load() != 2000 || b.Load() != 2000 {
		t.Fatalf("f ran %d times, g %d, want 2000 each", a.Load(), b.Load())
	}
	var order []int
	var nilPair *Pair
	nilPair.Both(func() { order = append(order, 1) }, func() { order = append(order, 2) })
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Errorf("nil Pair ran %v", order)
	}
}
