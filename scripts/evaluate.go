//go:build ignore

// Evaluate turns finished training runs into conformal bounds and metrics:
// for every preset with results under the profile, it calibrates each
// run's heads on its validation split (Pitot's rule, specs/pitot.md 5.1),
// scores coverage, bound tightness and MAPE on the test split, and writes
// summary/<profile>/<preset>.npz in the layout of specs 5.3. A summary
// computed from the same result files (compared by content) is kept, so a
// rerun only evaluates what changed. Any preset that fails is named and
// the command exits 1.
//
//	bin/yaegi run scripts/evaluate.go [-preset 'pitot,conformal/*'] [-profile quick|paper] [-bug-compat-if-index]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/experiment"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	presets := flag.String("preset", "*", "comma-separated preset names or patterns; presets without results are skipped")
	profile := flag.String("profile", "", "quick or paper (default $PAPERLAB_PROFILE, else quick)")
	bugCompat := flag.Bool("bug-compat-if-index", false, "evaluate results/<profile>-bugcompat into summary/<profile>-bugcompat")
	results := flag.String("results", "", "results directory (default results/<profile>)")
	splits := flag.String("splits", "", "splits directory (default splits/)")
	summary := flag.String("summary", "", "summary directory (default summary/<profile>)")
	flag.Parse()

	names, err := pitot.Match(strings.Split(*presets, ",")...)
	check(err)
	lab, err := experiment.Open(*profile)
	check(err)
	if *bugCompat {
		lab.Results += "-bugcompat"
		lab.Summary += "-bugcompat"
	}
	for _, o := range []struct{ flag, dst *string }{{results, &lab.Results}, {splits, &lab.Splits}, {summary, &lab.Summary}} {
		if *o.flag != "" {
			*o.dst = *o.flag
		}
	}
	// Ctrl-C and SIGTERM: the preset in flight is finished and written,
	// no other starts, and the command exits 1.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	evaluated := 0
	var failed []string
	fail := func(name string, err error) {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		failed = append(failed, name)
	}
	for _, name := range names {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "evaluate: interrupted; finished summaries are saved, rerun the same command to go on")
			os.Exit(1)
		}
		runs, done := lab.Grid(name).Runs(), 0
		for _, r := range runs {
			if _, err := os.Stat(r.ResultPath(lab.Results)); err == nil {
				done++
			} else if !errors.Is(err, fs.ErrNotExist) {
				fail(name, err)
				done = -1
				break
			}
		}
		if done <= 0 {
			continue
		}
		start := time.Now()
		sums, err := lab.Evaluate(name)
		if err != nil {
			fail(name, err)
			continue
		}
		evaluated++
		s := sums[name]
		top := len(s.Levels) - 1
		line := fmt.Sprintf("%-24s %2d/%d runs  %s", name, done, len(runs), repo.Rel(lab.SummaryPath(name)))
		for _, obj := range s.Objectives() {
			m := s.MAPE(obj)[top]
			mean, se2 := conformal.MeanSE2(m)
			line += fmt.Sprintf("  %s MAPE@%.0f%% %.2f±%.2f%%", obj, 100*s.Levels[top], 100*mean, 100*se2)
		}
		if cov := s.Coverage("mf")[top]; len(cov) > 0 {
			var c []float64
			for _, rep := range cov {
				c = append(c, rep[alphaIndex(0.05)])
			}
			mean, _ := conformal.MeanSE2(c)
			line += fmt.Sprintf("  mf coverage@ε=5%% %.1f%%", 100*mean)
		}
		line += fmt.Sprintf("  max coverage gap %.1f pts", 100*coverageGap(s))
		fmt.Printf("%s  (%.1fs)\n", line, time.Since(start).Seconds())
	}
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "evaluate: %d preset(s) failed: %s\n", len(failed), strings.Join(failed, ", "))
		os.Exit(1)
	}
	if evaluated == 0 {
		fmt.Fprintf(os.Stderr, "evaluate: no results for %s under %s; train first (scripts/train.go)\n", *presets, repo.Rel(lab.Results))
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "evaluate: %d summaries in %s\n", evaluated, repo.Rel(lab.Summary))
}

// coverageGap returns the largest |mean test coverage − (1 − ε)| over the
// objectives, levels and miscoverages of a summary, the coverage averaged
// over replicates: how far the bounds are from their promise.
func coverageGap(s *conformal.Summary) float64 {
	alphas := s.Alphas
	if alphas == nil {
		alphas = conformal.Alphas
	}
	var gap float64
	for _, obj := range s.Objectives() {
		for _, reps := range s.Coverage(obj) {
			for a, alpha := range alphas {
				var c []float64
				for _, rep := range reps {
					c = append(c, rep[a])
				}
				if mean, _ := conformal.MeanSE2(c); !math.IsNaN(mean) {
					gap = math.Max(gap, math.Abs(mean-(1-alpha)))
				}
			}
		}
	}
	return gap
}

// alphaIndex returns the index of miscoverage a in the summaries' alphas.
func alphaIndex(a float64) int {
	for i, x := range conformal.Alphas {
		if x > a-1e-9 && x < a+1e-9 {
			return i
		}
	}
	panic(fmt.Sprintf("evaluate: miscoverage %v not evaluated", a))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}
