package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/nn"
	"github.com/paperlab/paperlab/lib/npz"
	"github.com/paperlab/paperlab/lib/pitot"
)

// DefaultSeed is the base seed of every run unless a grid says otherwise.
const DefaultSeed = 42

// Run identifies one training run of the grid.
type Run struct {
	Preset    string
	Level     float64
	Replicate int
	Seed      uint64 // base seed; 0 means DefaultSeed
}

func (r Run) seed() uint64 {
	if r.Seed == 0 {
		return DefaultSeed
	}
	return r.Seed
}

func (r Run) String() string {
	return fmt.Sprintf("%s@%s#%d", r.Preset, dataset.LevelName(r.Level), r.Replicate)
}

// stream returns the random stream of one purpose of this run, derived
// from (purpose, preset, level, replicate, base seed).
func (r Run) stream(purpose string) *rand.PCG {
	s := dataset.Stream(purpose, r.Preset, dataset.LevelName(r.Level), strconv.Itoa(r.Replicate), strconv.FormatUint(r.seed(), 10))
	return rand.NewPCG(s.Uint64(), s.Uint64())
}

// ResultPath returns results/<preset>/<level>/<replicate>.npz under dir.
func (r Run) ResultPath(dir string) string {
	return filepath.Join(dir, filepath.FromSlash(r.Preset), dataset.LevelName(r.Level), strconv.Itoa(r.Replicate)+".npz")
}

func (r Run) lockPath(dir string) string {
	p := r.ResultPath(dir)
	return p[:len(p)-len(".npz")] + ".lock"
}

func (r Run) checkpointPath(dir string) string {
	p := r.ResultPath(dir)
	return p[:len(p)-len(".npz")] + ".ckpt.npz"
}

// Progress reports a finished epoch (ValEvery steps) of a run.
type Progress struct {
	Run       Run
	Step      int // steps done
	Steps     int // steps in all
	TrainLoss float64
	ValLoss   float64
	BestVal   float64
	Elapsed   time.Duration // this process's training time for the run
}

// Hooks let callers watch training; any may be nil. They are called from
// the worker goroutines, possibly concurrently.
type Hooks struct {
	Epoch func(Progress)
	Start func(run Run, resumed bool)
	Done  func(run Run, res *Result, err error)
	// Skip is called for a run left to another process (or finished by
	// it meanwhile), with the reason.
	Skip func(run Run, reason string)
}

// Result is a finished run, as stored in its .npz.
type Result struct {
	Run      Run
	Config   pitot.Config // resolved
	Params   *nn.Params[float32]
	BestStep int
	BestVal  float64
	Seconds  float64            // training wall time, summed over resumptions
	TestMAPE map[string]float64 // per objective, of head 0 (specs/pitot.md 5.2)
	Log      map[string][]float64
	Backend  string
}

// trainer is one run in progress.
type trainer struct {
	data   *Data
	cfg    pitot.Config
	run    Run
	splits *dataset.Splits
	model  pitot.Model[float32]
	opt    *nn.AdamaxW[float32]
	pcg    *rand.PCG
	rng    *rand.Rand
	active []active
	wsum   float64
	pred   []float32
	dout   []float32
	target []float32
	idx    []int
	smp    pitot.Samples

	// With a laned model, each step draws every objective's batch and then
	// runs each half of it on one lane (both at once with a pair).
	lanes   []pitot.Lane[float32]
	pair    *nn.Pair // runs the two halves of each parallel phase; nil: serial
	batches []batch  // per objective
	shares  [2][]share

	step     int
	best     *nn.Params[float32]
	bestVal  float64
	bestStep int
	seconds  float64
	log      map[string][]float64
}

// batch is one objective's drawn batch: its sample indices, and the
// targets, which each lane fills for its half.
type batch struct {
	idx    []int
	target []float32
}

// share is the part of one objective's batch that one lane runs, with the
// samples it gathered.
type share struct {
	smp        pitot.Samples
	pred, dout []float32
	loss       float64
}

type active struct {
	obj    *Objective
	split  dataset.Split
	weight float64
	target []float32 // ln t, or t for the percent loss
}

// newTrainer prepares a run. alone says the run has the machine to itself,
// so that the model may use more than one core.
func newTrainer(data *Data, cfg pitot.Config, run Run, splits *dataset.Splits, alone bool) (*trainer, error) {
	cfg = cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	model, err := pitot.New[float32](cfg, data.Side)
	if err != nil {
		return nil, err
	}
	parallel := alone && runtime.GOMAXPROCS(0) > 1
	t := &trainer{data: data, cfg: cfg, run: run, splits: splits, model: model, log: map[string][]float64{}}
	if l, ok := model.(pitot.Laned[float32]); ok {
		t.lanes = l.Lanes()
	}
	for i := range data.Objectives {
		o := &data.Objectives[i]
		sp, ok := splits.Objectives[o.Name]
		if !ok {
			return nil, fmt.Errorf("train: %s: split has no objective %q", run, o.Name)
		}
		a := active{obj: o, split: sp, weight: cfg.ObjectiveWeight(o.Name), target: o.LogT}
		if cfg.Loss == pitot.LossPercent {
			a.target = make([]float32, len(o.Runtime))
			for j, x := range o.Runtime {
				a.target[j] = float32(x)
			}
		}
		t.active = append(t.active, a)
		t.wsum += a.weight
	}
	b := cfg.Train.BatchSize
	h := model.Heads()
	t.pred, t.dout, t.target, t.idx = make([]float32, h*b), make([]float32, h*b), make([]float32, b), make([]int, b)
	if t.lanes != nil {
		t.batches = make([]batch, len(t.active))
		for i := range t.batches {
			t.batches[i] = batch{idx: make([]int, b), target: make([]float32, b)}
		}
		for l := range t.shares {
			t.shares[l] = make([]share, len(t.active))
			for i := range t.shares[l] {
				n := laneRange(l, b)
				t.shares[l][i] = share{pred: make([]float32, h*n), dout: make([]float32, h*n)}
			}
		}
	}
	t.bestVal = math.Inf(1)

	ps := model.Params()
	model.Init(rand.New(run.stream("init")))
	if tt, ok := model.(interface{ SetBaseline(a, b []float64) }); ok && !cfg.NoBaseline {
		mf := t.active[0]
		trainval := append(append([]int(nil), mf.split.Train...), mf.split.Val...)
		w, p, y := make([]int, len(trainval)), make([]int, len(trainval)), make([]float64, len(trainval))
		for i, k := range trainval {
			w[i], p[i], y[i] = mf.obj.All.Workload[k], mf.obj.All.Platform[k], float64(mf.obj.LogT[k])
		}
		a, bb, _, _ := pitot.FitBaseline(w, p, y, data.Side.Workloads, data.Side.Platforms)
		tt.SetBaseline(a, bb)
	}
	t.opt = nn.NewAdamaxW(ps, cfg.Train.LR, 0.9, 0.999, 1e-8, max(cfg.Train.WeightDecay, 0))
	t.setParallel(parallel)
	t.best = cloneParams(ps)
	t.pcg = run.stream("batches")
	t.rng = rand.New(t.pcg)
	return t, nil
}

// setParallel makes the step run its parallel phases (the towers, the
// lanes, the optimizer's halves) two at a time on a Pair, or, off, one
// after the other; the parameters come out the same bits either way. The
// pair's helper goroutine is stopped when the trainer is collected.
func (t *trainer) setParallel(on bool) {
	if (t.pair != nil) == on {
		return
	}
	if on {
		t.pair = nn.NewPair()
		runtime.AddCleanup(t, func(p *nn.Pair) { p.Close() }, t.pair)
	} else {
		t.pair.Close()
		t.pair = nil
	}
	if c, ok := t.model.(interface{ SetPair(*nn.Pair) }); ok {
		c.SetPair(t.pair)
	}
	t.opt.Pair = t.pair
}

func cloneParams(ps *nn.Params[float32]) *nn.Params[float32] {
	c := &nn.Params[float32]{}
	for _, p := range ps.List {
		c.New(p.Name, p.Shape...)
	}
	c.CopyFrom(ps)
	return c
}

// laneRange returns the number of samples of a batch of b that lane l runs:
// lane 0 the first half, lane 1 the rest.
func laneRange(l, b int) int {
	if l == 0 {
		return b / 2
	}
	return b - b/2
}

// lanedStep is trainStep for a laned model: draw every objective's batch
// (in the same order as trainStep), run the halves on the two lanes, merge
// in Finish. The parameters do not depend on whether the lanes ran at once.
func (t *trainer) lanedStep(losses []float64) {
	ps := t.model.Params()
	ps.ZeroGrad()
	t.model.Prepare()
	t.runLanes(losses)
	t.model.Finish()
	t.opt.LR = t.cfg.Train.LRAt(t.step)
	t.opt.Step()
}

// runLanes draws every objective's batch (the only serial part: one
// random stream, in trainStep's order), then has each lane look up its
// half of the samples and targets and run it.
func (t *trainer) runLanes(losses []float64) {
	b := t.cfg.Train.BatchSize
	for i, a := range t.active {
		if a.weight == 0 || len(a.split.Train) == 0 {
			continue
		}
		bt := &t.batches[i]
		for j := range bt.idx {
			bt.idx[j] = t.rng.IntN(len(a.split.Train)) // a position in Train; the lanes look it up
		}
	}
	run := func(l int) {
		lo := 0
		if l == 1 {
			lo = b / 2
		}
		n := laneRange(l, b)
		for i, a := range t.active {
			sh := &t.shares[l][i]
			sh.loss = 0
			if a.weight == 0 || len(a.split.Train) == 0 {
				continue
			}
			bt := &t.batches[i]
			idx, target := bt.idx[lo:lo+n], bt.target[lo:lo+n]
			for j, r := range idx {
				idx[j] = a.split.Train[r]
			}
			gather(a.obj.All, idx, &sh.smp)
			for j, k := range idx {
				target[j] = a.target[k]
			}
			// The loss functions average over the samples they see: scale
			// by this lane's share so that the gradient is the batch mean's.
			scale := float32(a.weight/t.wsum) * float32(n) / float32(b)
			t.lanes[l].Predict(sh.smp, sh.pred)
			sh.loss = float64(headLoss(t.cfg, sh.pred, target, sh.dout, scale)) * float64(n) / float64(b)
			t.lanes[l].Backward(sh.smp, sh.dout)
		}
	}
	t.pair.Both(func() { run(0) }, func() { run(1) })
	for i := range t.active {
		losses[i] += t.shares[0][i].loss + t.shares[1][i].loss
	}
}

// trainStep does one optimizer step and adds the per-objective losses to
// losses.
func (t *trainer) trainStep(losses []float64) {
	if t.lanes != nil {
		t.lanedStep(losses)
		return
	}
	ps := t.model.Params()
	ps.ZeroGrad()
	t.model.Prepare()
	b := t.cfg.Train.BatchSize
	for i, a := range t.active {
		if a.weight == 0 || len(a.split.Train) == 0 {
			continue
		}
		for j := range t.idx {
			t.idx[j] = a.split.Train[t.rng.IntN(len(a.split.Train))]
		}
		s := gather(a.obj.All, t.idx, &t.smp)
		for j, k := range t.idx {
			t.target[j] = a.target[k]
		}
		h := t.model.Heads()
		t.model.Predict(s, t.pred[:h*b])
		losses[i] += float64(headLoss(t.cfg, t.pred[:h*b], t.target, t.dout[:h*b], float32(a.weight/t.wsum)))
		t.model.Backward(s, t.dout[:h*b])
	}
	t.model.Finish()
	t.opt.LR = t.cfg.Train.LRAt(t.step)
	t.opt.Step()
}

// evaluate returns the mean loss of each objective over the samples of
// part ("val" or "test") with the current parameters, and their weighted
// total; with mape it also returns the MAPE of head 0.
func (t *trainer) evaluate(part string, mape bool) (losses, mapes []float64, total float64) {
	t.model.Prepare()
	b := t.cfg.Train.BatchSize
	h := t.model.Heads()
	losses, mapes = make([]float64, len(t.active)), make([]float64, len(t.active))
	for i, a := range t.active {
		idx := a.split.Val
		if part == "test" {
			idx = a.split.Test
		}
		if len(idx) == 0 {
			continue
		}
		var sum, ape float64
		for lo := 0; lo < len(idx); lo += b {
			chunk := idx[lo:min(lo+b, len(idx))]
			n := len(chunk)
			s := gather(a.obj.All, chunk, &t.smp)
			target := t.target[:n]
			for j, k := range chunk {
				target[j] = a.target[k]
			}
			pred := t.pred[:h*n]
			t.model.Predict(s, pred)
			sum += float64(headLoss(t.cfg, pred, target, t.dout[:h*n], 1)) * float64(n)
			if mape {
				for j := range n {
					if t.cfg.Loss == pitot.LossPercent {
						ape += math.Abs((float64(target[j]) - float64(pred[j])) / float64(target[j]))
					} else {
						ape += math.Abs(math.Exp(float64(target[j])-float64(pred[j])) - 1)
					}
				}
			}
		}
		losses[i] = sum / float64(len(idx))
		mapes[i] = ape / float64(len(idx))
		total += a.weight / t.wsum * losses[i]
	}
	return losses, mapes, total
}

// Train runs one training run to completion, resuming from its checkpoint
// under dir if one exists, and writes the result to run.ResultPath(dir).
// Cancelling ctx stops at the next epoch boundary after checkpointing.
//
// Train assumes other runs share the machine (one core per run); TrainAlone
// lets the run use two cores.
func Train(ctx context.Context, data *Data, cfg pitot.Config, run Run, splits *dataset.Splits, dir string, hooks Hooks) (*Result, error) {
	return train(ctx, data, cfg, run, splits, dir, hooks, false)
}

// TrainAlone is Train for a run that has the machine to itself.
func TrainAlone(ctx context.Context, data *Data, cfg pitot.Config, run Run, splits *dataset.Splits, dir string, hooks Hooks) (*Result, error) {
	return train(ctx, data, cfg, run, splits, dir, hooks, true)
}

func train(ctx context.Context, data *Data, cfg pitot.Config, run Run, splits *dataset.Splits, dir string, hooks Hooks, alone bool) (*Result, error) {
	t, err := newTrainer(data, cfg, run, splits, alone)
	if err != nil {
		return nil, err
	}
	defer t.setParallel(false)
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before it began: nothing to train or save
	}
	ckpt := run.checkpointPath(dir)
	resumed, err := t.restore(ckpt)
	if err != nil {
		return nil, err
	}
	if hooks.Start != nil {
		hooks.Start(run, resumed)
	}
	steps, every := t.cfg.Train.Steps, t.cfg.Train.ValEvery
	losses := make([]float64, len(t.active))
	began := time.Now()
	for t.step < steps {
		t.trainStep(losses)
		t.step++
		if t.step%every != 0 && t.step != steps {
			continue
		}
		n := float64(every)
		if t.step%every != 0 {
			n = float64(t.step % every)
		}
		val, _, total := t.evaluate("val", false)
		var trainTotal float64
		for i, a := range t.active {
			t.log["train_"+a.obj.Name] = append(t.log["train_"+a.obj.Name], losses[i]/n)
			t.log["val_"+a.obj.Name] = append(t.log["val_"+a.obj.Name], val[i])
			trainTotal += a.weight / t.wsum * losses[i] / n
			losses[i] = 0
		}
		t.log["step"] = append(t.log["step"], float64(t.step))
		t.log["val"] = append(t.log["val"], total)
		if total < t.bestVal {
			t.bestVal, t.bestStep = total, t.step
			t.best.CopyFrom(t.model.Params())
		}
		elapsed := time.Since(began)
		if hooks.Epoch != nil {
			hooks.Epoch(Progress{Run: run, Step: t.step, Steps: steps, TrainLoss: trainTotal, ValLoss: total, BestVal: t.bestVal, Elapsed: elapsed})
		}
		if t.step < steps {
			if err := ctx.Err(); err != nil {
				t.seconds += time.Since(began).Seconds()
				if werr := t.checkpoint(ckpt); werr != nil {
					return nil, werr
				}
				return nil, err
			}
			if t.step%(every*checkpointEvery) == 0 {
				if err := t.checkpoint(ckpt, time.Since(began).Seconds()); err != nil {
					return nil, err
				}
			}
		}
	}
	t.seconds += time.Since(began).Seconds()
	t.model.Params().CopyFrom(t.best)
	_, mapes, _ := t.evaluate("test", true)
	res := &Result{Run: run, Config: t.cfg, Params: t.best, BestStep: t.bestStep, BestVal: t.bestVal,
		Seconds: t.seconds, TestMAPE: map[string]float64{}, Log: t.log, Backend: backend.Name()}
	for i, a := range t.active {
		res.TestMAPE[a.obj.Name] = mapes[i]
	}
	if err := res.write(run.ResultPath(dir)); err != nil {
		return nil, err
	}
	os.Remove(ckpt)
	return res, nil
}

// checkpointEvery is the number of epochs between checkpoints.
const checkpointEvery = 5

func (t *trainer) checkpoint(path string, extraSeconds ...float64) error {
	secs := t.seconds
	for _, s := range extraSeconds {
		secs += s
	}
	w, err := npz.Create(path)
	if err != nil {
		return err
	}
	pcg, err := t.pcg.MarshalBinary()
	if err != nil {
		w.Abort()
		return err
	}
	w.Write("step", []int64{int64(t.step)})
	w.Write("seconds", []float64{secs})
	w.Write("best_val", []float64{t.bestVal})
	w.Write("best_step", []int64{int64(t.bestStep)})
	w.Write("rng", pcg)
	writeParams(w, "param/", t.model.Params(), false)
	writeParams(w, "best/", t.best, false)
	ot, slots := t.opt.State()
	w.Write("opt/step", []int64{int64(ot)})
	for _, k := range sortedKeys(slots) {
		w.Write("opt/"+k, slots[k])
	}
	for k, v := range t.log {
		w.Write("log/"+k, v)
	}
	return w.Close()
}

// restore loads a checkpoint if there is one. Every key is checked
// against what checkpoint writes (dtype, shape, the model's parameter
// shapes, a log of one length per column) before anything is changed; the
// first mismatch is a one-line error naming the file and the key.
func (t *trainer) restore(path string) (bool, error) {
	f, err := npz.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	bad := func(err error) (bool, error) {
		return false, fmt.Errorf("train: checkpoint %w (delete it to start the run afresh)", err)
	}
	if err != nil {
		return bad(err)
	}
	mismatch := func(key, expected, found string) (bool, error) {
		return bad(&npz.Error{File: path, Key: key, Expected: expected, Found: found})
	}
	step, err := f.Int64Scalar("step")
	if err != nil {
		return bad(err)
	}
	secs, err := f.Float64Scalar("seconds")
	if err != nil {
		return bad(err)
	}
	bv, err := f.Float64Scalar("best_val")
	if err != nil {
		return bad(err)
	}
	bs, err := f.Int64Scalar("best_step")
	if err != nil {
		return bad(err)
	}
	if step < 0 || step > int64(t.cfg.Train.Steps) || bs < 0 || bs > step {
		return mismatch("step", fmt.Sprintf("0 <= best_step <= step <= %d", t.cfg.Train.Steps), fmt.Sprintf("best_step %d, step %d", bs, step))
	}
	rng, err := f.Array("rng")
	if err != nil {
		return bad(err)
	}
	state, ok := rng.Data.([]uint8)
	if !ok {
		return mismatch("rng", "dtype |u1", rng.DType)
	}
	pcg := *t.pcg
	if err := pcg.UnmarshalBinary(state); err != nil {
		return bad(&npz.Error{File: path, Key: "rng", Err: err})
	}
	param, best := cloneParams(t.model.Params()), cloneParams(t.best)
	if err := readParams(f, "param/", param); err != nil {
		return bad(err)
	}
	if err := readParams(f, "best/", best); err != nil {
		return bad(err)
	}
	ot, err := f.Int64Scalar("opt/step")
	if err != nil {
		return bad(err)
	}
	slots := map[string][]float32{}
	log := map[string][]float64{}
	for _, k := range f.Keys() {
		switch {
		case strings.HasPrefix(k, "opt/") && k != "opt/step":
			if slots[k[4:]], _, err = f.Float32(k); err != nil {
				return bad(err)
			}
		case strings.HasPrefix(k, "log/") && len(k) > 4:
			if log[k[4:]], err = f.Float64Vector(k); err != nil {
				return bad(err)
			}
		case strings.HasPrefix(k, "param/") || strings.HasPrefix(k, "best/") || slices.Contains(checkpointKeys, k):
		default:
			return mismatch(k, "a key the checkpoint writer puts there", "an unknown key")
		}
	}
	epochs := int(step) / t.cfg.Train.ValEvery
	for _, k := range sortedKeys(log) {
		if len(log[k]) != epochs {
			return mismatch("log/"+k, fmt.Sprintf("%d entries (one per validation up to step %d)", epochs, step), fmt.Sprint(len(log[k])))
		}
	}
	if epochs > 0 && (log["step"] == nil || log["val"] == nil) {
		return mismatch("log/step", "the validation log", "no log/step or log/val")
	}
	if err := t.opt.SetState(int(ot), slots); err != nil {
		return bad(&npz.Error{File: path, Key: "opt/*", Err: err})
	}
	*t.pcg = pcg
	t.model.Params().CopyFrom(param)
	t.best.CopyFrom(best)
	t.log = log
	t.step, t.seconds, t.bestVal, t.bestStep = int(step), secs, bv, int(bs)
	return true, nil
}

// checkpointKeys are the keys of a checkpoint besides its parameter, optimizer and log arrays.
var checkpointKeys = []string{"step", "seconds", "best_val", "best_step", "rng", "opt/step"}

func writeParams(w *npz.Writer, prefix string, ps *nn.Params[float32], _ bool) {
	for _, p := range ps.List {
		w.WriteArray(prefix+p.Name, &npz.Array{Shape: p.Shape, Data: p.Data})
	}
}

// readParams fills ps from the arrays under prefix, which must have
// exactly ps's names and shapes.
func readParams(f *npz.File, prefix string, ps *nn.Params[float32]) error {
	n := 0
	for _, k := range f.Keys() {
		if strings.HasPrefix(k, prefix) {
			n++
			if ps.Get(k[len(prefix):]) == nil {
				return &npz.Error{File: f.Path, Key: k, Expected: "a parameter of the configured model", Found: "an unknown parameter"}
			}
		}
	}
	for _, p := range ps.List {
		v, shape, err := f.Float32(prefix + p.Name)
		if err != nil {
			return err
		}
		if !slices.Equal(shape, p.Shape) {
			return &npz.Error{File: f.Path, Key: prefix + p.Name, Expected: "shape " + npz.ShapeString(p.Shape) + " (the configured model's)", Found: "shape " + npz.ShapeString(shape)}
		}
		copy(p.Data, v)
	}
	return nil
}

func (r *Result) write(path string) error {
	w, err := npz.Create(path)
	if err != nil {
		return err
	}
	writeParams(w, "param/", r.Params, false)
	w.Write("best_step", []int64{int64(r.BestStep)})
	w.Write("best_val", []float64{r.BestVal})
	w.Write("seconds", []float64{r.Seconds})
	w.Write("level", []float64{r.Run.Level})
	w.Write("replicate", []int64{int64(r.Run.Replicate)})
	w.Write("backend", []string{r.Backend})
	w.Write("config", []string{string(r.Config.JSON())})
	for _, o := range sortedKeys(r.TestMAPE) {
		w.Write("test_mape_"+o, []float64{r.TestMAPE[o]})
	}
	for _, k := range sortedKeys(r.Log) {
		w.Write("log/"+k, r.Log[k])
	}
	return w.Close()
}

// ReadResult loads a finished run's result (parameters, log, metrics). It
// checks every key against what the writer puts there (dtype, shape, the
// log's columns of one length, a configuration that parses) and reports
// the first mismatch in one line naming the file and the key; it never
// panics, whatever the bytes.
func ReadResult(path string) (*Result, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: result %w", err)
	}
	r := &Result{Params: &nn.Params[float32]{}, TestMAPE: map[string]float64{}, Log: map[string][]float64{}}
	bad := func(key, expected, found string) (*Result, error) {
		return nil, fmt.Errorf("train: result %w", &npz.Error{File: path, Key: key, Expected: expected, Found: found})
	}
	wrap := func(err error) (*Result, error) { return nil, fmt.Errorf("train: result %w", err) }
	for _, k := range f.Keys() {
		switch {
		case strings.HasPrefix(k, "param/") && len(k) > len("param/"):
			a, _ := f.Array(k)
			v, ok := a.Data.([]float32)
			if !ok {
				return bad(k, "dtype <f4", a.DType)
			}
			r.Params.List = append(r.Params.List, &nn.Param[float32]{Name: k[len("param/"):], Shape: a.Shape, Data: v})
		case strings.HasPrefix(k, "log/") && len(k) > len("log/"):
			v, err := f.Float64Vector(k)
			if err != nil {
				return wrap(err)
			}
			r.Log[k[len("log/"):]] = v
		case strings.HasPrefix(k, "test_mape_") && len(k) > len("test_mape_"):
			v, err := f.Float64Scalar(k)
			if err != nil {
				return wrap(err)
			}
			r.TestMAPE[k[len("test_mape_"):]] = v
		case !slices.Contains(resultScalars, k):
			return bad(k, "a key the result writer puts there", "an unknown key")
		}
	}
	bs, err := f.Int64Scalar("best_step")
	if err != nil {
		return wrap(err)
	}
	if r.BestVal, err = f.Float64Scalar("best_val"); err != nil {
		return wrap(err)
	}
	if r.Seconds, err = f.Float64Scalar("seconds"); err != nil {
		return wrap(err)
	}
	if r.Run.Level, err = f.Float64Scalar("level"); err != nil {
		return wrap(err)
	}
	rep, err := f.Int64Scalar("replicate")
	if err != nil {
		return wrap(err)
	}
	if r.Backend, err = f.StringScalar("backend"); err != nil {
		return wrap(err)
	}
	cfg, err := f.StringScalar("config")
	if err != nil {
		return wrap(err)
	}
	if err := json.Unmarshal([]byte(cfg), &r.Config); err != nil {
		return wrap(&npz.Error{File: path, Key: "config", Err: err})
	}
	r.BestStep, r.Run.Replicate = int(bs), int(rep)
	switch {
	case len(r.Params.List) == 0:
		return bad("param/*", "the model's parameters", "none")
	case len(r.TestMAPE) == 0:
		return bad("test_mape_*", "one test MAPE per objective", "none")
	case bs < 0 || rep < 0:
		return bad("best_step", "a step and a replicate >= 0", fmt.Sprintf("%d and %d", bs, rep))
	case !(r.Run.Level > 0 && r.Run.Level <= 1):
		return bad("level", "a data level in (0, 1]", fmt.Sprint(r.Run.Level))
	}
	steps, ok := r.Log["step"]
	if !ok {
		return bad("log/step", "the validation log", "no log/step")
	}
	if _, ok := r.Log["val"]; !ok {
		return bad("log/val", "the validation log", "no log/val")
	}
	for _, k := range sortedKeys(r.Log) {
		if len(r.Log[k]) != len(steps) {
			return bad("log/"+k, fmt.Sprintf("%d entries, like log/step", len(steps)), fmt.Sprint(len(r.Log[k])))
		}
	}
	return r, nil
}

// resultScalars are the one-element keys of a result file.
var resultScalars = []string{"best_step", "best_val", "seconds", "level", "replicate", "backend", "config"}
