//go:build ignore

// Bench measures the training engine and writes BENCHMARKS.md: one line
// `bench <name> <value> <unit>` per measurement on stdout, and the same
// table with the machine, BLAS and date in BENCHMARKS.md.
//
//	go run -tags openblas scripts/bench.go    (make bench)
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/paperlab/paperlab/lib/apparate/workload"
	"github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pit"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
	"github.com/paperlab/paperlab/lib/train"
)

type row struct {
	name, unit, note string
	value            float64
}

var rows []row

func report(name string, value float64, unit, note string) {
	reportWith(name, value, unit, note, "")
}

// reportWith also prints tail after the value on stdout (the machine and
// floating-point mode beside each step time).
func reportWith(name string, value float64, unit, note, tail string) {
	rows = append(rows, row{name, unit, note, value})
	if tail != "" {
		tail = "  " + tail
	}
	fmt.Printf("bench %s %.4g %s%s\n", name, value, unit, tail)
}

// fpMode says whether products run with subnormals flushed (lib/nn
// package doc, Subnormals).
func fpMode() string {
	if backend.Flushes() {
		return "ftz/daz=on (OpenBLAS sgemm)"
	}
	return "ftz/daz=off (gonum BLAS; lib/nn flushes in software)"
}

// stepFamily measures one model family's step: its time alone on the
// machine, its GEMM floor in the same run, and the subnormals that reach
// its products in 200 steps.
func stepFamily(data *train.Data, splits *dataset.Splits, name, preset, what string, warmup, steps int) float64 {
	cfg, _ := pitot.Preset(preset)
	d, err := train.StepTime(data, cfg, splits, warmup, steps)
	check(err)
	f, err := train.StepFloor(data, cfg, splits, steps)
	check(err)
	c, err := train.SubnormalCensus(data, cfg, splits, 200)
	check(err)
	subnormals += c.Total()
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	tail := fmt.Sprintf("cpu=%q %s subnormals=%d", cpuModel(), fpMode(), c.Total())
	reportWith(name, ms(d), "ms", fmt.Sprintf("%s; subnormal operands and results in 200 steps: %d", what, c.Total()), tail)
	ratio := float64(d) / float64(f.Time)
	reportWith(name+"-floor", ms(f.Time), "ms",
		fmt.Sprintf("its %d matrix products alone (%.1f MFLOP per step), replayed with normal operands on the %d goroutine(s) that ran them: step/floor = %.2f",
			f.Products, float64(f.FLOPs)/1e6, f.Threads, ratio), fmt.Sprintf("step/floor=%.2f", ratio))
	return ms(d)
}

// subnormals counts the subnormal operands the step benchmarks saw.
var subnormals int

func main() {
	coreTypeNote()
	root, err := repo.Root()
	check(err)
	p, err := dataset.LoadPitot(filepath.Join(root, "data", "pitot"))
	check(err)
	data := train.Prepare(p)
	splits, err := dataset.NewSplits(p, 0.9, 0, dataset.DefaultSplitSeed)
	check(err)
	workers := runtime.GOMAXPROCS(0)
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

	stepFamily(data, splits, "pitot-step", "pitot", "default Pitot, mf + if2 objectives, 512 samples each, AdamaxW, one replicate", 100, 2100)
	cfg, _ := pitot.Preset("pitot")
	r5, err := train.ReplicateStepTime(data, cfg, splits, 5, workers, 600)
	check(err)
	report("pitot-step-r5", ms(r5), "ms", fmt.Sprintf("wall time per replicate-step, 5 replicates on %d workers", workers))
	stepFamily(data, splits, "monolith-step", "baseline/monolith", "Monolith (Neural Network) baseline, one replicate", 5, 70)
	stepFamily(data, splits, "attention-step", "baseline/attention", "Attention baseline, one replicate", 5, 70)

	// Grids are projected from each preset's throughput as a grid runs it:
	// one run per worker, every worker busy (ReplicateStepTime with two runs
	// per worker), so that how well runs share the cores is measured per
	// preset, the Monolith and Attention baselines included.
	step := map[string]float64{}
	for _, name := range pitot.Presets() {
		c, _ := pitot.Preset(name)
		steps := 150
		if k := c.Resolve().Kind; k == pitot.KindMonolith || k == pitot.KindAttention {
			steps = 20
		}
		t, err := train.ReplicateStepTime(data, c, splits, 2*workers, workers, steps)
		check(err)
		step[name] = float64(t)
	}
	project := func(prof train.Profile, nn bool) time.Duration {
		var total float64
		for _, name := range pitot.Presets() {
			c, _ := pitot.Preset(name)
			c = prof.Apply(c).Resolve()
			isNN := c.Kind == pitot.KindMonolith || c.Kind == pitot.KindAttention
			if isNN == nn {
				total += float64(len(prof.Levels)*prof.Replicates*c.Train.Steps) * step[name]
			}
		}
		return time.Duration(total)
	}
	paper, quick := train.Profiles["paper"], train.Profiles["quick"]
	report("pitot-grid-hours", project(paper, false).Hours(), "h", "paper profile: 30 Pitot-family presets x 9 levels x 5 replicates x 20,000 steps, projected")
	report("baselines-grid-hours", project(paper, true).Hours(), "h", "paper profile: Monolith + Attention x 9 levels x 5 replicates x 20,000 steps, projected")
	report("quick-grid-minutes", (project(quick, false) + project(quick, true)).Minutes(), "min", "quick profile: all 32 presets, projected")

	// Apparate: one CV workload of 10^6 frames end to end (synthetic
	// inputs, Clockwork schedule, replay with the controller, optimal
	// oracle, metrics).
	var ac workload.Config
	ac.CV.Samples = 1000000
	as, err := ac.Settings(workload.CV)
	check(err)
	start := time.Now()
	_, err = workload.Run(workload.Workload{Set: workload.CV, Model: "resnet50", Dataset: "bellevue1"}, as)
	check(err)
	report("apparate-1m-seconds", time.Since(start).Seconds(), "s", "Apparate simulator: 10^6 requests of ResNet-50 on a 30 FPS video, inputs generated, replayed, oracle and metrics")

	benchPIT(workers)

	check(write(filepath.Join(root, "BENCHMARKS.md"), workers))
}

// benchPIT times a 1024^3 float32 product C = A·B whose operand A has a
// random 32x1-granular mask (specs/pit.md 5.5): dense with the engine's
// BLAS, and PIT's 32x1 micro-tile kernel with its index built in the timed
// region, at 90, 95 and 99 % sparsity; medians of 7 interleaved
// repetitions, both on all workers.
func benchPIT(workers int) {
	const n = 1024
	rng := rand.New(rand.NewPCG(5, 23))
	b := pit.NewMatrix(n, n)
	for i := range b.Data {
		b.Data[i] = float32(rng.NormFloat64())
	}
	c := pit.NewMatrix(n, n)
	sparsities := []float64{0.90, 0.95, 0.99}
	as := make([]pit.Matrix, len(sparsities))
	masks := make([]pit.Mask, len(sparsities))
	for si, sp := range sparsities {
		a := pit.NewMatrix(n, n)
		m := pit.Mask{Rows: n, Cols: n, Bits: make([]bool, n*n)}
		for r0 := 0; r0 < n; r0 += 32 {
			for k := range n {
				if rng.Float64() < sp {
					continue
				}
				for r := r0; r < r0+32; r++ {
					a.Data[r*n+k] = float32(rng.NormFloat64())
					m.Bits[r*n+k] = true
				}
			}
		}
		as[si], masks[si] = a, m
	}
	const reps = 7
	dense := make([]float64, 0, reps)
	sparse := make([][]float64, len(sparsities))
	for range reps {
		start := time.Now()
		pit.Dense(as[0], b, c, workers)
		dense = append(dense, time.Since(start).Seconds()*1e3)
		for si := range sparsities {
			start := time.Now()
			pit.MatmulK(as[si], masks[si], b, c, workers)
			sparse[si] = append(sparse[si], time.Since(start).Seconds()*1e3)
		}
	}
	median := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	peak := pit.MeasurePeak(workers, time.Second)
	atPeak := func(macs int64) float64 { return 2 * float64(macs) / (peak.GFLOPS * 1e9) * 1e3 } // ms
	if peak.GFLOPS > 0 {
		report("fp32-peak-gflops", peak.GFLOPS, "GFLOP/s",
			fmt.Sprintf("measured: independent %s FMAs on %d threads, no memory traffic", peak.Vector, peak.Workers))
	}
	dm := median(dense)
	note := fmt.Sprintf("1024^3 float32 dense product, %s, one block of rows per worker, %d workers", backend.Name(), workers)
	if peak.GFLOPS > 0 {
		note += fmt.Sprintf("; %.0f %% of the FP32 peak (%.2f ms at peak)", 100*atPeak(n*n*n)/dm, atPeak(n*n*n))
	}
	report("pit-dense-ms", dm, "ms", note)
	for si, sp := range sparsities {
		t := median(sparse[si])
		report(fmt.Sprintf("pit-32x1-ms-s%.0f", 100*sp), t, "ms",
			fmt.Sprintf("same product, A %.0f %% sparse in 32x1 micro-tiles: PIT index + gather + dense tiles", 100*sp))
		if peak.GFLOPS > 0 {
			nnz := int64(0)
			for _, b := range masks[si].Bits {
				if b {
					nnz++
				}
			}
			useful := atPeak(nnz * n)
			report(fmt.Sprintf("pit-32x1-s%.0f-over-peak", 100*sp), t/useful, "x",
				fmt.Sprintf("its time over the time its useful multiply-adds (%.1f %% of dense) take at the FP32 peak, %.3f ms", 100*float64(nnz)/float64(n*n), useful))
		}
	}
}

// cpuModel returns the CPU's model name with its family and model numbers
// (a VM may show only "AMD EPYC"; family 25 is Zen 3/4, Intel's 6 with
// model 143 Sapphire Rapids).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	fields := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if len(fields) > 0 {
				break // the first processor only
			}
			continue
		}
		if k = strings.TrimSpace(k); fields[k] == "" {
			fields[k] = strings.TrimSpace(v)
		}
	}
	name := fields["model name"]
	if name == "" {
		return runtime.GOARCH
	}
	if fam, mod := fields["cpu family"], fields["model"]; fam != "" && mod != "" {
		name += fmt.Sprintf(" (family %s model %s)", fam, mod)
	}
	return name
}

// coreTypeNote warns, before anything is timed, when the environment
// forces OpenBLAS's kernel set (OPENBLAS_CORETYPE): every product then runs
// those kernels, which may be far slower than the ones OpenBLAS would pick
// (on an AVX-512 machine forced to Haswell, about half the float32 peak).
func coreTypeNote() {
	if v, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok && backend.Name() == "openblas" {
		fmt.Printf("bench: note: OPENBLAS_CORETYPE=%s is set in the environment, so OpenBLAS runs %s kernels rather than those it picks for this CPU; unset it to measure the machine's own\n", v, backend.Core())
	}
}

func write(path string, workers int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (scripts/bench.go) on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	blas := backend.Name()
	if c := backend.Core(); c != "" {
		blas += " (" + c + " kernels)"
	}
	if v, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok {
		blas += ", chosen by OPENBLAS_CORETYPE=" + v + " in the environment rather than by OpenBLAS for this CPU"
	}
	fmt.Fprintf(&b, "- machine: %s, %d cores used (GOMAXPROCS), %s/%s\n- Go: %s\n- BLAS: %s\n- floating point: %s; subnormal operands and results seen in 200 training steps of each stepped model family: %d\n\n",
		cpuModel(), workers, runtime.GOOS, runtime.GOARCH, runtime.Version(), blas, fpMode(), subnormals)
	b.WriteString("| benchmark | value | unit | what |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.4g | %s | %s |\n", r.name, r.value, r.unit, r.note)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
