//go:build ignore

// Train trains Pitot presets over the data levels and replicates of a
// profile, skipping finished runs and resuming interrupted ones.
//
//	bin/yaegi run scripts/train.go -preset 'pitot,embedding/*' [-profile quick|paper] [-levels 0.9] [-shard 0/4] [-workers 2]
//	go run scripts/train.go -list
//
// Results go to results/<profile>/<preset>/<level>/<replicate>.npz with the
// preset's config.json beside them. Runs are independent and keyed by
// preset, level and replicate, so -shard i/n spreads a grid over machines.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/paperlab/paperlab/kernel/progress"
	"github.com/paperlab/paperlab/lib/backend"
	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
	"github.com/paperlab/paperlab/lib/train"
)

func main() {
	presets := flag.String("preset", "pitot", "comma-separated preset names or patterns (e.g. 'embedding/*')")
	profile := flag.String("profile", "", "quick or paper (default $PAPERLAB_PROFILE, else quick)")
	shard := flag.String("shard", "", "run only shard i of n, as i/n")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "runs trained in parallel")
	results := flag.String("results", "", "results directory (default results/<profile>)")
	splits := flag.String("splits", "", "splits directory (default splits/)")
	levels := flag.String("levels", "", "comma-separated data levels, overriding the profile's (e.g. 0.9)")
	bugCompat := flag.Bool("bug-compat-if-index", false, "use the original code's interference indexing (results go to results/<profile>-bugcompat)")
	list := flag.Bool("list", false, "list the presets and exit")
	flag.Parse()

	if *list {
		fmt.Println(strings.Join(pitot.Presets(), "\n"))
		return
	}
	prof, err := train.ProfileNamed(*profile)
	check(err)
	if *levels != "" {
		prof.Levels = nil
		for _, l := range strings.Split(*levels, ",") {
			var v float64
			_, err := fmt.Sscanf(l, "%g", &v)
			if err != nil || v <= 0 || v > 1 {
				check(fmt.Errorf("-levels: %q is not a level in (0, 1]", l))
			}
			prof.Levels = append(prof.Levels, v)
		}
	}
	names, err := pitot.Match(strings.Split(*presets, ",")...)
	check(err)
	root, err := repo.Root()
	check(err)
	g := train.Grid{Presets: names, Profile: prof, Workers: *workers,
		ResultsDir: filepath.Join(root, "results", prof.Name), SplitsDir: filepath.Join(root, "splits")}
	if *bugCompat {
		g.BugCompatIFIndex = true
		g.ResultsDir += "-bugcompat"
	}
	if *results != "" {
		g.ResultsDir = *results
	}
	if *splits != "" {
		g.SplitsDir = *splits
	}
	if *shard != "" {
		_, err := fmt.Sscanf(*shard, "%d/%d", &g.Shard, &g.Shards)
		if err != nil || g.Shards < 1 || g.Shard < 0 || g.Shard >= g.Shards {
			check(fmt.Errorf("-shard %q: want i/n with 0 <= i < n", *shard))
		}
	}
	p, err := dataset.LoadPitot(filepath.Join(root, "data", "pitot"))
	check(err)
	data := train.Prepare(p)

	pending, invalid, err := g.Pending()
	check(err)
	for _, e := range invalid {
		fmt.Fprintf(os.Stderr, "train: %v; it will be trained again\n", e)
	}
	total := 0
	for _, r := range pending {
		c, err := g.Config(r.Preset)
		check(err)
		total += c.Train.Steps
	}
	fmt.Fprintf(os.Stderr, "train: profile %s, %d presets, %d of %d runs to train (%d steps), %d workers, BLAS %s\n",
		prof.Name, len(names), len(pending), len(g.Runs()), total, g.Workers, backend.Name())
	if len(pending) == 0 {
		return
	}
	bar := progress.Terminal(os.Stderr, "train", float64(total))
	hooks := progress.TrainHooks(bar)
	hooks.Start = func(r train.Run, resumed bool) {
		if resumed {
			fmt.Fprintf(os.Stderr, "\ntrain: %s resumes from its checkpoint\n", r)
		}
	}
	hooks.Skip = func(r train.Run, why string) {
		fmt.Fprintf(os.Stderr, "\ntrain: %s skipped: %s\n", r, why)
	}
	// Ctrl-C, and the SIGTERM that timeout, Docker and Slurm send, stop the
	// grid the same way: no new run starts, runs in flight checkpoint at
	// their next validation, and the command exits 1.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = g.Execute(ctx, data, hooks)
	bar.Finish("")
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "train: interrupted; runs in flight saved checkpoints, rerun the same command to resume\n")
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "train: results in %s\n", repo.Rel(g.ResultsDir))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}
