//go:build ignore

// Profiles compares the conformal summaries of two training profiles,
// preset by preset, at the data levels both trained: the test MAPE of each
// objective (mean over replicates) and the mean width of the ε = 0.1 bound,
// with the relative difference of the first profile from the second. Rows
// further apart than -tol are marked. It answers "does the quick profile
// the figures are drawn from give what the paper profile gives?".
//
//	bin/yaegi run scripts/profiles.go [-a quick] [-b paper] [-levels 0.5,0.9] [-tol 0.15] [-preset '*']
//
// Both profiles must have been evaluated (scripts/evaluate.go, or the
// notebooks); presets missing from either are listed and skipped. It exits
// 1 when a summary cannot be read.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/repo"
)

func main() {
	a := flag.String("a", "quick", "the profile to judge")
	b := flag.String("b", "paper", "the reference profile")
	dirA := flag.String("summary-a", "", "summary directory of -a (default summary/<a>)")
	dirB := flag.String("summary-b", "", "summary directory of -b (default summary/<b>)")
	levels := flag.String("levels", "0.5,0.9", "comma-separated data levels to compare")
	tol := flag.Float64("tol", 0.15, "relative difference marked as a gap")
	presets := flag.String("preset", "*", "comma-separated preset names or patterns")
	flag.Parse()

	root, err := repo.Root()
	check(err)
	if *dirA == "" {
		*dirA = filepath.Join(root, "summary", *a)
	}
	if *dirB == "" {
		*dirB = filepath.Join(root, "summary", *b)
	}
	var want []float64
	for _, l := range strings.Split(*levels, ",") {
		var v float64
		if _, err := fmt.Sscanf(l, "%g", &v); err != nil || v <= 0 || v > 1 {
			check(fmt.Errorf("-levels: %q is not a level in (0, 1]", l))
		}
		want = append(want, v)
	}
	names, err := pitot.Match(strings.Split(*presets, ",")...)
	check(err)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "preset\tlevel\tobjective\tMAPE %s\tMAPE %s\tdiff\twidth %s\twidth %s\tdiff\t\n", *a, *b, *a, *b)
	var missing []string
	compared, gaps := 0, 0
	for _, name := range names {
		sa, errA := read(*dirA, name)
		sb, errB := read(*dirB, name)
		if errA != nil || errB != nil {
			check(errors.Join(errA, errB))
		}
		if sa == nil || sb == nil {
			missing = append(missing, name)
			continue
		}
		for _, l := range want {
			ia, ib := index(sa.Levels, l), index(sb.Levels, l)
			if ia < 0 || ib < 0 {
				continue
			}
			for _, obj := range sa.Objectives() {
				ma, mb := mean(sa.MAPE(obj)[ia]), mean(sb.MAPE(obj)[ib])
				if math.IsNaN(ma) || math.IsNaN(mb) {
					continue
				}
				wa, wb := meanWidth(sa, obj, ia), meanWidth(sb, obj, ib)
				dm, dw := rel(ma, mb), rel(wa, wb)
				mark := ""
				if math.Abs(dm) > *tol || math.Abs(dw) > *tol {
					mark = "gap"
					gaps++
				}
				compared++
				fmt.Fprintf(tw, "%s\t%g\t%s\t%.2f %%\t%.2f %%\t%+.0f %%\t%.3f\t%.3f\t%+.0f %%\t%s\n",
					name, l, obj, 100*ma, 100*mb, 100*dm, wa, wb, 100*dw, mark)
			}
		}
	}
	tw.Flush()
	fmt.Printf("\n%d rows compared, %d outside ±%.0f %% (MAPE or ε = 0.1 width, %s against %s)\n", compared, gaps, 100**tol, *a, *b)
	if len(missing) > 0 {
		fmt.Printf("not in both profiles: %s\n", strings.Join(missing, ", "))
	}
}

// read returns a preset's summary under dir, or nil when it has none.
func read(dir, preset string) (*conformal.Summary, error) {
	path := filepath.Join(dir, filepath.FromSlash(preset)+".npz")
	s, err := conformal.ReadSummary(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}

func index(levels []float64, l float64) int {
	for i, x := range levels {
		if math.Abs(x-l) < 1e-9 {
			return i
		}
	}
	return -1
}

// mean of the replicates that were trained (not NaN).
func mean(v []float64) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// meanWidth is the mean over replicates of the ε = 0.1 bound's width.
func meanWidth(s *conformal.Summary, obj string, level int) float64 {
	alphas := s.Alphas
	if alphas == nil {
		alphas = conformal.Alphas
	}
	a := index(alphas, 0.1)
	if a < 0 {
		return math.NaN()
	}
	var v []float64
	for _, rep := range s.Width(obj)[level] {
		v = append(v, rep[a])
	}
	return mean(v)
}

func rel(x, ref float64) float64 { return x/ref - 1 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "profiles:", err)
		os.Exit(1)
	}
}
