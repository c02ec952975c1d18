package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/nn"
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
	defer t.setParallel(false)
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

// Census is what SubnormalCensus saw: the subnormal float32s (nonzero,
// below 2^-126 in magnitude) among the operands and results of every
// matrix product of a number of training steps, and in the parameters,
// gradients and optimizer state after them.
type Census struct {
	Steps, Products int
	// Operands counts subnormal elements of a and b, and of c where the
	// product accumulates into it (beta ≠ 0); Results those of c after
	// the product; State those of the parameters, their gradients and the
	// optimizer moments at the end.
	Operands, Results, State int
	// Where breaks the counts down, e.g. "b of 142x128x249 (transA true,
	// transB false)" or "optimizer state m/workload.mlp.0.w"; only
	// nonzero entries are kept.
	Where map[string]int
}

// Total is the number of subnormals seen.
func (c Census) Total() int { return c.Operands + c.Results + c.State }

// SubnormalCensus trains cfg for steps steps (as StepTime does, alone on
// the machine) and counts the subnormals that reach its matrix products,
// through nn.ObserveGemm. It installs the observer for the duration of the
// call, so nothing else may train concurrently. The counts depend on the
// data and the seed, not the CPU: zero means no product of these steps
// can meet a subnormal slow path on any machine.
func SubnormalCensus(data *Data, cfg pitot.Config, splits *dataset.Splits, steps int) (Census, error) {
	t, err := newTrainer(data, cfg, Run{Preset: "census", Level: splits.Level}, splits, true)
	if err != nil {
		return Census{}, err
	}
	defer t.setParallel(false)
	c := Census{Steps: steps, Where: map[string]int{}}
	var mu sync.Mutex
	add := func(what string, n int, total *int) {
		if n > 0 {
			c.Where[what] += n
			*total += n
		}
	}
	prev := nn.ObserveGemm(func(g nn.GemmCall) {
		shape := fmt.Sprintf("%dx%dx%d (transA %v, transB %v)", g.M, g.N, g.K, g.TransA, g.TransB)
		var a, b, cin, res int
		if !g.Done {
			a, b = countSubnormals(g.A), countSubnormals(g.B)
			if g.Beta != 0 {
				cin = countSubnormals(g.C[:g.M*g.N])
			}
		} else {
			res = countSubnormals(g.C[:g.M*g.N])
		}
		mu.Lock()
		defer mu.Unlock()
		if g.Done {
			c.Products++
		}
		add("a of "+shape, a, &c.Operands)
		add("b of "+shape, b, &c.Operands)
		add("c (accumulated into) of "+shape, cin, &c.Operands)
		add("result of "+shape, res, &c.Results)
	})
	defer nn.ObserveGemm(prev)
	losses := make([]float64, len(t.active))
	for range steps {
		t.trainStep(losses)
	}
	for _, p := range t.model.Params().List {
		add("parameter "+p.Name, countSubnormals(p.Data), &c.State)
		add("gradient of "+p.Name, countSubnormals(p.Grad), &c.State)
	}
	_, state := t.opt.State()
	for k, v := range state {
		add("optimizer state "+k, countSubnormals(v), &c.State)
	}
	return c, nil
}

// countSubnormals returns the number of nonzero float32s in x below the
// smallest normal number, 2^-126.
func countSubnormals(x []float32) int {
	n := 0
	for _, v := range x {
		if b := math.Float32bits(v) & 0x7fffffff; b != 0 && b < 0x00800000 {
			n++
		}
	}
	return n
}

// Floor is the GEMM floor of a training step (StepFloor): the wall time of
// the step's matrix products alone.
type Floor struct {
	Time     time.Duration
	Products int // products per step
	Threads  int // goroutines the step ran them on
	FLOPs    int64
}

// StepFloor measures the floor of one optimizer step of cfg under
// StepTime's conditions: it records the matrix products of one step
// (shapes, transposes, alpha, beta, and the goroutine that ran each),
// then replays them with fresh operands of normal values (uniform in ±[½,
// 1]), each goroutine's products in order on a goroutine of their own, all
// at once, and reports the median over 7 blocks of steps/7 replays, as
// StepTime does. Everything else of a step (activations, gathers, losses,
// the optimizer, synchronisation) is left out, so StepTime/StepFloor says
// how close a step is to its products' cost on the machine at hand.
func StepFloor(data *Data, cfg pitot.Config, splits *dataset.Splits, steps int) (Floor, error) {
	t, err := newTrainer(data, cfg, Run{Preset: "bench", Level: splits.Level}, splits, true)
	if err != nil {
		return Floor{}, err
	}
	defer t.setParallel(false)
	losses := make([]float64, len(t.active))
	for range 3 {
		t.trainStep(losses)
	}
	type call struct {
		transA, transB bool
		alpha, beta    float32
		a, b, c        nn.Matrix[float32]
	}
	var mu sync.Mutex
	var order []uint64
	groups := map[uint64][]call{}
	prev := nn.ObserveGemm(func(g nn.GemmCall) {
		if g.Done {
			return
		}
		id := goroutineID()
		mu.Lock()
		defer mu.Unlock()
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], call{transA: g.TransA, transB: g.TransB, alpha: g.Alpha, beta: g.Beta,
			a: opShape(g.TransA, g.M, g.K), b: opShape(g.TransB, g.K, g.N), c: nn.NewMatrix[float32](g.M, g.N)})
	})
	t.trainStep(losses)
	nn.ObserveGemm(prev)

	f := Floor{Threads: len(order)}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(x []float32) {
		for i := range x {
			x[i] = float32(0.5+0.5*rng.Float64()) * float32(1-2*rng.IntN(2))
		}
	}
	var lists [][]call
	for _, id := range order {
		for _, c := range groups[id] {
			fill(c.a.Data)
			fill(c.b.Data)
			fill(c.c.Data)
			m, n := c.c.Rows, c.c.Cols
			k := c.a.Cols
			if c.transA {
				k = c.a.Rows
			}
			f.FLOPs += 2 * int64(m) * int64(n) * int64(k)
			f.Products++
		}
		lists = append(lists, groups[id])
	}
	run := func(cs []call) {
		for _, c := range cs {
			// With beta 1, c takes a random walk of steps of about √K over
			// the replays: it stays far from overflow.
			nn.Gemm(c.transA, c.transB, c.alpha, c.a, c.b, c.beta, c.c)
		}
	}
	replay := func() {
		var wg sync.WaitGroup
		for _, cs := range lists[min(1, len(lists)):] {
			wg.Add(1)
			go func() { run(cs); wg.Done() }()
		}
		if len(lists) > 0 {
			run(lists[0])
		}
		wg.Wait()
	}
	for range 3 {
		replay()
	}
	const blocks = 7
	per := max(steps/blocks, 1)
	times := make([]time.Duration, blocks)
	for b := range times {
		start := time.Now()
		for range per {
			replay()
		}
		times[b] = time.Since(start) / time.Duration(per)
	}
	slices.Sort(times)
	f.Time = times[blocks/2]
	return f, nil
}

// opShape returns a zeroed matrix holding op(x) of rows×cols: cols×rows
// when trans says x is stored transposed.
func opShape(trans bool, rows, cols int) nn.Matrix[float32] {
	if trans {
		rows, cols = cols, rows
	}
	return nn.NewMatrix[float32](rows, cols)
}

// goroutineID returns the running goroutine's number, read from its stack
// header ("goroutine 7 [running]:"); StepFloor uses it to group a step's
// products by the goroutine that ran them.
func goroutineID() uint64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseUint(s, 10, 64)
	return id
}
