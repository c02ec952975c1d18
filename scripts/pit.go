//go:build ignore

// Pit runs the CPU experiments of PIT (SOSP 2023) of specs/pit.md §5.5,
// E1–E9, and prints each one's table; or, with -calibrate, measures this
// machine's micro-tile cost table (specs/pit.md §2.7) and writes it as JSON.
//
//	bin/yaegi run scripts/pit.go [-exp E1,E4] [-profile quick|full] [-reps 5] [-results results/pit/quick]
//	go run scripts/pit.go -calibrate results/pit/costtable.json [-n 1024] [-reps 3]
//
// Results go to <results>/<experiment>.csv (one row per method and
// configuration: median and minimum seconds over interleaved repetitions,
// and the work counters), with config.json, machine.json and the cost table
// costtable.json beside them. A rerun skips the experiments already there.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/paperlab/paperlab/kernel/progress"
	"github.com/paperlab/paperlab/lib/pit/suite"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	exps := flag.String("exp", "", "comma-separated experiments, E1-E9 (default all)")
	profile := flag.String("profile", "quick", "quick or full")
	reps := flag.Int("reps", 0, "timed repetitions per case (default 5 quick, 9 full)")
	results := flag.String("results", "", "results directory (default results/pit/<profile>)")
	calibrate := flag.String("calibrate", "", "measure the cost table and write it to this JSON file, then stop")
	n := flag.Int("n", 1024, "with -calibrate: side of the n×n×n calibration product")
	flag.Parse()

	if *calibrate != "" {
		start := time.Now()
		fmt.Fprintf(os.Stderr, "pit: calibrating %d micro-tile shapes x %d sparsities on a %d^3 product\n",
			len(suite.CalibrationTiles), len(suite.CalibrationSparsities), *n)
		r := *reps
		if r == 0 {
			r = 3
		}
		c := suite.Calibrate(*n, r)
		check(suite.WriteCalibration(*calibrate, c))
		printTable(c)
		fmt.Fprintf(os.Stderr, "pit: cost table written to %s in %s\n", *calibrate, time.Since(start).Round(time.Millisecond))
		return
	}

	cfg := suite.Config{Profile: *profile, Reps: *reps}
	dir := *results
	if dir == "" {
		var err error
		dir, err = suite.Dir(*profile)
		check(err)
	}
	var ids []string
	if *exps != "" {
		ids = strings.Split(*exps, ",")
	}
	fmt.Fprintf(os.Stderr, "pit: %s profile, results in %s, on %s\n", *profile, repo.Rel(dir), suite.ThisMachine())
	var bar *progress.Bar
	var last float64
	hooks := suite.Hooks{
		Start: func(e suite.Experiment, cached bool) {
			if cached {
				fmt.Fprintf(os.Stderr, "pit: %s (%s) already done\n", e.ID, e.Mirrors)
				return
			}
			bar = progress.Terminal(os.Stderr, e.ID+" "+e.Mirrors, 1)
			last = 0
		},
		Sample: func(e suite.Experiment, done, total int) {
			f := float64(done) / float64(total)
			if bar != nil && f > last {
				bar.Add(f-last, "")
				last = f
			}
		},
		Done: func(e suite.Experiment, rows []suite.Row) {
			if bar != nil {
				bar.Finish(fmt.Sprintf("%d rows", len(rows)))
				bar = nil
			}
		},
	}
	// Ctrl-C and SIGTERM: the experiment in flight finishes and is saved,
	// no other starts, and the command exits 1.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, err := suite.RunContext(ctx, cfg, dir, ids, hooks)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "pit: interrupted; finished experiments are saved, rerun the same command to go on")
		os.Exit(1)
	}
	check(err)
	for _, e := range suite.Experiments() {
		rows, ok := out[e.ID]
		if !ok {
			continue
		}
		fmt.Printf("\n%s (%s): %s\n", e.ID, e.Mirrors, e.Title)
		printRows(rows)
	}
	cal, err := suite.ReadCalibration(filepath.Join(dir, "costtable.json"))
	check(err)
	fmt.Println("\nAgainst the paper (specs/pit.md section 9):")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "comparison\tours\tpaper")
	for _, h := range suite.Headlines(out, cal) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Name, h.Ours, h.Paper)
	}
	tw.Flush()
}

// printRows prints one line per row: configuration, method, times in ms,
// multiply-adds executed relative to useful, and the note.
func printRows(rows []suite.Row) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "group\tx\tmethod\tmedian ms\tmin ms\tMACs (M)\texecuted/useful\tnote")
	for _, r := range rows {
		ratio := "-"
		if r.Work.UsefulMACs > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.Work.MACs)/float64(r.Work.UsefulMACs))
		}
		fmt.Fprintf(tw, "%s\t%g\t%s\t%.3f\t%.3f\t%.1f\t%s\t%s\n", r.Group, r.X, r.Method,
			1e3*r.Median, 1e3*r.Min, float64(r.Work.MACs)/1e6, ratio, r.Note)
	}
	tw.Flush()
}

// printTable prints a cost table: ms per micro-tile shape and sparsity.
func printTable(c *suite.Calibration) {
	fmt.Printf("cost table on %s, %d^3, dense %.3f ms\n", c.Machine, c.Table.N, 1e3*c.Table.Dense)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	head := "tile"
	for _, s := range suite.CalibrationSparsities {
		head += fmt.Sprintf("\ts=%g", s)
	}
	fmt.Fprintln(tw, head)
	for _, cv := range c.Table.Curves {
		line := cv.Tile.String()
		for _, p := range cv.Points {
			line += fmt.Sprintf("\t%.3f", 1e3*p.Seconds)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pit:", err)
		os.Exit(1)
	}
}
