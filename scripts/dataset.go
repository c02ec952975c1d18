//go:build ignore

// Dataset prints a summary of the Pitot dataset: observations, density,
// workloads per suite, platforms per runtime, and the slowdown quantiles of
// every interference set present (specs/pitot.md section 1).
//
//	bin/yaegi run scripts/dataset.go [data/pitot]
//	go run scripts/dataset.go [data/pitot]
package main

import (
	"fmt"
	"os"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	dir := "data/pitot"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	} else if root, err := repo.Root(); err == nil {
		dir = root + "/data/pitot"
	}
	p, err := dataset.LoadPitot(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dataset:", err)
		os.Exit(1)
	}
	s := dataset.Summarize(p)
	s.Dir = repo.Rel(s.Dir)
	if err := s.WriteTable(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dataset:", err)
		os.Exit(1)
	}
	for _, k := range []int{3, 4} {
		if p.Interference[k] == nil {
			fmt.Printf("\n%d-way interference: %s/if%d.npz not present (not public; drop it there to include it)", k, s.Dir, k)
		}
	}
	fmt.Println()
}
