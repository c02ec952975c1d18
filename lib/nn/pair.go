package nn

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Pair runs two functions at once, one on the calling goroutine and one on
// a helper goroutine. It serves a training run that has a machine of two
// or more cores to itself, whose step forks and joins four times (the two
// towers forward, the two lanes, the two towers backward, the optimizer's
// halves). Handing work to a parked goroutine through a channel costs tens
// of microseconds on a 2-core VM (the scheduler has parked the thread it
// would run on); so the helper waits for work by spinning, for at most
// pairSpin after its last piece, and only then parks, and the caller waits
// for the helper by spinning. The helper's bound is kept short because a
// spinning goroutine holds a scheduler P: one that spins while the other
// side is inside a long cgo call (an OpenBLAS product) lets the runtime's
// monitor take the P of that call, which then pays to get one back. An
// idle Pair costs no CPU. A Pair must not be used by two goroutines at
// once; Close stops the helper.
type Pair struct {
	posted, done atomic.Uint64
	// helperParked says that the helper stopped spinning and waits on
	// wake; the caller then sends a token.
	helperParked atomic.Bool
	closed       atomic.Bool
	g            func()
	wake         chan struct{}
}

// pairSpin is how long the helper spins before it parks (on a 2-core AMD
// EPYC VM, 10-20 µs made a Pitot step about 10 % faster than parking at
// once; 40 µs was slower, for the reason in the Pair doc).
const pairSpin = 10 * time.Microsecond

// NewPair starts a Pair's helper goroutine.
func NewPair() *Pair {
	p := &Pair{wake: make(chan struct{}, 1)}
	go p.helper()
	return p
}

// await returns once cond holds: it spins for up to pairSpin, then parks
// on ch after saying so in parked (and checking cond once more, so that a
// token sent before the other side saw parked is not needed). Tokens left
// over from a wake that was not needed cost one more look.
func await(cond func() bool, parked *atomic.Bool, ch chan struct{}) {
	start := time.Now()
	for spins := 0; !cond(); spins++ {
		if spins&63 != 63 || time.Since(start) < pairSpin {
			continue
		}
		parked.Store(true)
		if !cond() {
			<-ch
		}
		parked.Store(false)
		start = time.Now()
	}
}

// signal sends a token on ch if the other side said it parked.
func signal(parked *atomic.Bool, ch chan struct{}) {
	if parked.Load() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (p *Pair) helper() {
	var seen uint64
	for {
		await(func() bool { return p.posted.Load() != seen }, &p.helperParked, p.wake)
		if p.closed.Load() {
			return
		}
		seen = p.posted.Load()
		p.g()
		p.done.Store(seen)
	}
}

// Both runs f on the calling goroutine and g on the helper, and returns
// when both have returned. A nil Pair runs f, then g, on the caller.
func (p *Pair) Both(f, g func()) {
	if p == nil {
		f()
		g()
		return
	}
	p.g = g
	n := p.posted.Add(1)
	signal(&p.helperParked, p.wake)
	f()
	for spins := 0; p.done.Load() != n; spins++ {
		if spins&255 == 255 {
			runtime.Gosched()
		}
	}
	p.g = nil
}

// Close stops the helper goroutine. The Pair must not be used after.
func (p *Pair) Close() {
	if p == nil || p.closed.Swap(true) {
		return
	}
	p.posted.Add(1)
	signal(&p.helperParked, p.wake)
}
