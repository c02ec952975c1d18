package dataset

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Density is the observed fraction of the workload x platform matrix.
func (m *Matrix) Density() float64 {
	return float64(m.Len()) / float64(m.Workloads.Len()*m.Platforms.Len())
}

// Suite returns the benchmark suite of a workload name: the part before the
// first '/' or ':' ("polybench/medium/2mm" -> "polybench",
// "python:go.py" -> "python").
func Suite(workload string) string {
	if i := strings.IndexAny(workload, "/:"); i >= 0 {
		return workload[:i]
	}
	return workload
}

// Runtime returns the WebAssembly runtime of a platform name
// "runtime:device" ("iwasm-a:hc-10" -> "iwasm-a").
func Runtime(platform string) string {
	r, _, _ := strings.Cut(platform, ":")
	return r
}

// Device returns the device of a platform name ("iwasm-a:hc-10" -> "hc-10").
func Device(platform string) string {
	_, d, _ := strings.Cut(platform, ":")
	return d
}

// Count is a labelled tally.
type Count struct {
	Label    string
	Entities int // workloads or platforms with this label
	Observed int // observations involving them
}

// SuiteCounts tallies workloads and observations per benchmark suite, by
// decreasing number of workloads, then by name.
func (m *Matrix) SuiteCounts() []Count {
	return m.counts(m.Workloads.Names, m.Workload, Suite)
}

// RuntimeCounts tallies platforms and observations per WebAssembly runtime.
func (m *Matrix) RuntimeCounts() []Count {
	return m.counts(m.Platforms.Names, m.Platform, Runtime)
}

func (m *Matrix) counts(names []string, idx []int, label func(string) string) []Count {
	byLabel := map[string]*Count{}
	var order []*Count
	get := func(l string) *Count {
		c, ok := byLabel[l]
		if !ok {
			c = &Count{Label: l}
			byLabel[l] = c
			order = append(order, c)
		}
		return c
	}
	for _, n := range names {
		get(label(n)).Entities++
	}
	for _, i := range idx {
		get(label(names[i])).Observed++
	}
	sort.SliceStable(order, func(a, b int) bool {
		if order[a].Entities != order[b].Entities {
			return order[a].Entities > order[b].Entities
		}
		return order[a].Label < order[b].Label
	})
	out := make([]Count, len(order))
	for i, c := range order {
		out[i] = *c
	}
	return out
}

// Slowdowns returns t_if / t_iso for every row of s: the interfered runtime
// over the isolated runtime of the same workload on the same platform.
func (s *Interference) Slowdowns(m *Matrix) []float64 {
	iso := m.Index()
	out := make([]float64, s.Len())
	for r := range out {
		out[r] = s.Runtime[r] / m.Runtime[iso[[2]int{s.Workload[r], s.Platform[r]}]]
	}
	return out
}

// Quantile returns the q-quantile of x by linear interpolation between
// order statistics (Hyndman and Fan's type 7, NumPy's default): with x
// sorted, position h = (n-1)q and the result x[floor h] + (h - floor h) *
// (x[floor h + 1] - x[floor h]). x is not modified. It panics on empty x or
// q outside [0, 1].
func Quantile(x []float64, q float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return sortedQuantile(s, q)
}

// Quantiles returns the qs-quantiles of x (see Quantile), sorting once.
func Quantiles(x []float64, qs []float64) []float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = sortedQuantile(s, q)
	}
	return out
}

func sortedQuantile(s []float64, q float64) float64 {
	if len(s) == 0 || q < 0 || q > 1 {
		panic(fmt.Sprintf("dataset: quantile %v of %d values", q, len(s)))
	}
	h := float64(len(s)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (h-lo)*(s[i+1]-s[i])
}

// SummaryQuantiles are the slowdown quantiles reported by Summary (those of
// specs/pitot.md 1.2).
var SummaryQuantiles = []float64{0.01, 0.25, 0.5, 0.75, 0.99, 1}

// InterferenceSummary describes one interference set.
type InterferenceSummary struct {
	Ways      int
	Rows      int
	Workloads int       // distinct workloads measured
	Platforms int       // distinct platforms
	Faster    float64   // fraction of rows faster than isolated
	Slowdown  []float64 // t_if/t_iso at SummaryQuantiles
}

// Summary describes a Pitot dataset.
type Summary struct {
	Dir          string
	Observations int
	Workloads    int
	Platforms    int
	Density      float64
	Suites       []Count
	Runtimes     []Count
	Interference []InterferenceSummary
}

// Summarize computes the summary statistics of p.
func Summarize(p *Pitot) *Summary {
	m := p.Matrix
	s := &Summary{
		Dir:          p.Dir,
		Observations: m.Len(),
		Workloads:    m.Workloads.Len(),
		Platforms:    m.Platforms.Len(),
		Density:      m.Density(),
		Suites:       m.SuiteCounts(),
		Runtimes:     m.RuntimeCounts(),
	}
	for _, k := range p.Ways() {
		set := p.Interference[k]
		sd := set.Slowdowns(m)
		faster := 0
		for _, x := range sd {
			if x < 1 {
				faster++
			}
		}
		s.Interference = append(s.Interference, InterferenceSummary{
			Ways:      k,
			Rows:      set.Len(),
			Workloads: distinct(set.Workload),
			Platforms: distinct(set.Platform),
			Faster:    float64(faster) / float64(len(sd)),
			Slowdown:  Quantiles(sd, SummaryQuantiles),
		})
	}
	return s
}

func distinct(idx []int) int {
	seen := map[int]bool{}
	for _, i := range idx {
		seen[i] = true
	}
	return len(seen)
}

// WriteTable writes s as aligned plain-text tables.
func (s *Summary) WriteTable(w io.Writer) error {
	// Labels are padded to one width so that they read left-aligned in the
	// right-aligned table.
	width := len("Pitot dataset")
	for _, c := range append(append([]Count(nil), s.Suites...), s.Runtimes...) {
		width = max(width, len(c.Label))
	}
	l := func(label string) string { return label + strings.Repeat(" ", width-len(label)) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\t%s\t\n", l("Pitot dataset"), s.Dir)
	fmt.Fprintf(tw, "%s\t%s\t\n", l("observations"), thousands(s.Observations))
	fmt.Fprintf(tw, "%s\t%d\t\n", l("workloads"), s.Workloads)
	fmt.Fprintf(tw, "%s\t%d\t\n", l("platforms"), s.Platforms)
	fmt.Fprintf(tw, "%s\t%.2f %%\t\n", l("density"), 100*s.Density)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "%s\tworkloads\tobservations\t\n", l("suite"))
	for _, c := range s.Suites {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", l(c.Label), c.Entities, thousands(c.Observed))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "%s\tplatforms\tobservations\t\n", l("runtime"))
	for _, c := range s.Runtimes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", l(c.Label), c.Entities, thousands(c.Observed))
	}
	if len(s.Interference) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "%s\trows\tworkloads\tplatforms\tfaster\t", l("interference"))
		for _, q := range SummaryQuantiles {
			if q == 1 {
				fmt.Fprintf(tw, "max\t")
			} else {
				fmt.Fprintf(tw, "p%g\t", 100*q)
			}
		}
		fmt.Fprintf(tw, "\n")
		for _, is := range s.Interference {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f %%\t", l(fmt.Sprintf("%d-way", is.Ways)), thousands(is.Rows), is.Workloads, is.Platforms, 100*is.Faster)
			for _, x := range is.Slowdown {
				fmt.Fprintf(tw, "%.2fx\t", x)
			}
			fmt.Fprintf(tw, "\n")
		}
	}
	return tw.Flush()
}

// thousands formats n with comma separators (53637 -> "53,637").
func thousands(n int) string { return english.Sprint(n) }

var english = message.NewPrinter(language.English)
