//go:build ignore

// Evaluate turns finished training runs into conformal bounds and metrics:
// for every preset with results under the profile, it calibrates each
// run's heads on its validation split (Pitot's rule, specs/pitot.md 5.1),
// scores coverage, bound tightness and MAPE on the test split, and writes
// summary/<profile>/<preset>.npz in the layout of specs 5.3. A summary
// newer than every result of its preset is kept, so a rerun only
// evaluates what changed.
//
//	bin/yaegi run scripts/evaluate.go [-preset 'pitot,conformal/*'] [-profile quick|paper] [-bug-compat-if-index]
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
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
	flag.Parse()

	names, err := pitot.Match(strings.Split(*presets, ",")...)
	check(err)
	lab, err := experiment.Open(*profile)
	check(err)
	if *bugCompat {
		lab.Results += "-bugcompat"
		lab.Summary += "-bugcompat"
	}
	evaluated := 0
	for _, name := range names {
		runs, done := lab.Grid(name).Runs(), 0
		for _, r := range runs {
			if _, err := os.Stat(r.ResultPath(lab.Results)); err == nil {
				done++
			}
		}
		if done == 0 {
			continue
		}
		start := time.Now()
		sums, err := lab.Evaluate(name)
		check(err)
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
