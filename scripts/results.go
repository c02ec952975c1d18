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
	for _, name := range names {
		sums, err := train.Summarize(dir, name)
		if err != nil {
			continue // not trained
		}
		for _, s := range sums {
			fmt.Println(s)
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "results:", err)
		os.Exit(1)
	}
}
