//go:build ignore

// Apparate runs the experiment sets of Apparate (SOSP 2024) on the
// synthetic inputs of specs/apparate.md section 6: 48 CV workloads (six
// models × eight videos, Fig. 12 and 13) and 8 NLP workloads (four models ×
// two datasets, Fig. 14), in parallel, and prints one line per workload and
// the Fig. 12/13 bars per CV model.
//
//	bin/yaegi run scripts/apparate.go [-set cv|nlp|all] [-samples 100000] [-seed 42] [-workers 2] [-results results/apparate]
//	go run scripts/apparate.go -set nlp
//
// Results go to <results>/<set>/<model>/<dataset>.json (settings, inputs,
// summary, metrics) and .npz (per-request latencies in ms), with the set's
// config.json beside them. A rerun skips finished workloads; other settings
// need another results directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/paperlab/paperlab/kernel/progress"
	"github.com/paperlab/paperlab/lib/apparate"
	"github.com/paperlab/paperlab/lib/apparate/workload"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	set := flag.String("set", "all", "cv, nlp or all")
	samples := flag.Int("samples", 0, "frames or requests per workload (default 100,000)")
	seed := flag.Uint64("seed", 0, "base seed (default 42)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "workloads run in parallel")
	results := flag.String("results", "", "results directory (default results/apparate)")
	flag.Parse()

	cfg := workload.Config{Seed: *seed}
	cfg.CV.Samples = *samples
	cfg.NLP.Samples = *samples
	dir := *results
	if dir == "" {
		var err error
		dir, err = repo.Path("results", "apparate")
		check(err)
	}
	all, err := workload.Workloads(*set)
	check(err)
	pending, err := workload.Pending(cfg, *set, dir)
	check(err)
	fmt.Fprintf(os.Stderr, "apparate: %d of %d workloads to run, %d workers, results in %s\n",
		len(pending), len(all), *workers, repo.Rel(dir))

	var hooks workload.Hooks
	var bar *progress.Bar
	if len(pending) > 0 {
		bar = progress.Terminal(os.Stderr, "apparate", float64(len(pending)))
		hooks.Done = func(w workload.Workload, r *workload.Result, err error) {
			bar.Add(1, w.String())
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := workload.RunAll(ctx, cfg, *set, dir, *workers, hooks)
	if bar != nil {
		bar.Finish(fmt.Sprintf("%d workloads in %s", len(pending), time.Since(start).Round(time.Millisecond)))
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "apparate: interrupted; finished workloads are saved, rerun the same command to go on")
		os.Exit(1)
	}
	check(err)
	printWorkloads(res)
	printBars(workload.CVBars(res))
}

// printWorkloads prints one line per workload: agreement, median wins of
// Apparate and the oracle, p25 win, p95 latencies and exit rate.
func printWorkloads(res []*workload.Result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tagreement %\tmedian win %\toptimal %\tp25 win %\tp95 app ms\tp95 van ms\texit rate\tdropped\t")
	for _, r := range res {
		m := r.Metrics
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.3f\t%d\t\n", r.Workload,
			100*m.Agreement, m.MedianWin, m.OptimalMedianWin, m.P25Win, m.Apparate.P95, m.Vanilla.P95, m.ExitRate, m.Dropped)
	}
	tw.Flush()
}

// printBars prints the Fig. 12 and Fig. 13 bars of every CV model: the
// median over the plotted videos with the minimum and maximum.
func printBars(bars []workload.Bars) {
	if len(bars) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("Fig. 12/13 bars: median over the plotted videos [min, max]")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tvideos\tApparate median win %\tOptimal median win %\tp95 Apparate ms\tp95 vanilla ms")
	for _, b := range bars {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", b.Model, b.Videos,
			bar(b.Apparate, "%.1f"), bar(b.Optimal, "%.1f"), bar(b.P95Apparate, "%.2f"), bar(b.P95Vanilla, "%.2f"))
	}
	tw.Flush()
}

func bar(b apparate.Bar, f string) string {
	return fmt.Sprintf(f+" ["+f+", "+f+"]", b.Median, b.Min, b.Max)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "apparate:", err)
		os.Exit(1)
	}
}
