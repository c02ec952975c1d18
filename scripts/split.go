//go:build ignore

// Split writes the train/validation/test splits of the Pitot dataset:
// every data level x replicate, per objective, as splits/<level>/<rep>.npz.
// Existing split files are kept; the splits are identical on every machine.
//
//	bin/yaegi run scripts/split.go [-replicates 5] [-seed 42]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	reps := flag.Int("replicates", 5, "replicates per level")
	seed := flag.Uint64("seed", dataset.DefaultSplitSeed, "base seed")
	flag.Parse()
	root, err := repo.Root()
	if err == nil {
		var p *dataset.Pitot
		p, err = dataset.LoadPitot(filepath.Join(root, "data", "pitot"))
		if err == nil {
			dir := filepath.Join(root, "splits")
			var n int
			n, err = dataset.EnsureSplits(p, dir, dataset.Levels, *reps, *seed)
			fmt.Printf("split: wrote %d split files under %s (%d levels x %d replicates; objectives %v)\n",
				n, repo.Rel(dir), len(dataset.Levels), *reps, p.Objectives())
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "split:", err)
		os.Exit(1)
	}
}
