//go:build ignore

// Results prints the test MAPE of trained presets per data level, as mean
// ± 2 standard errors over replicates (the paper's error bars).
//
//	bin/yaegi run scripts/results.go [-profile quick|paper] [-preset 'pitot,embedding/*']
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
	"github.com/paperlab/paperlab/lib/train"
)

func main() {
	profile := flag.String("profile", "", "quick or paper (default $PAPERLAB_PROFILE, else quick)")
	presets := flag.String("preset", "*", "comma-separated preset names or patterns")
	bugCompat := flag.Bool("bug-compat-if-index", false, "read results/<profile>-bugcompat")
	results := flag.String("results", "", "results directory (default results/<profile>)")
	flag.Parse()
	prof, err := train.ProfileNamed(*profile)
	check(err)
	names, err := pitot.Match(strings.Split(*presets, ",")...)
	check(err)
	root, err := repo.Root()
	check(err)
	dir := filepath.Join(root, "results", prof.Name)
	if *bugCompat {
		dir += "-bugcompat"
	}
	if *results != "" {
		dir = *results
	}
	var failed []string
	shown := 0
	for _, name := range names {
		sums, err := train.Summarize(dir, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "results:", err)
			failed = append(failed, name)
			continue
		}
		for _, s := range sums {
			fmt.Println(s)
			shown++
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "results: %d preset(s) could not be summarised: %s\n", len(failed), strings.Join(failed, ", "))
		os.Exit(1)
	}
	if shown == 0 {
		fmt.Fprintf(os.Stderr, "results: no results for %s under %s; train first (scripts/train.go)\n", *presets, repo.Rel(dir))
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "results:", err)
		os.Exit(1)
	}
}
