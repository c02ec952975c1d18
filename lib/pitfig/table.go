package pitfig

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/paperlab/paperlab/lib/pit/suite"
)

// Table writes rows as small text tables, one per group: a header line
// with the group and the swept values, then one line per method of methods
// (all methods in order of appearance when nil) with value(row) under each
// swept value, "-" where the method has no row. Notebooks print the
// machine-independent counters this way (MACs executed, tiles, drops),
// never times, so that their text stays the same from run to run.
func Table(w io.Writer, rows []suite.Row, methods []string, value func(suite.Row) string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for gi, g := range groups(rows) {
		if gi > 0 {
			fmt.Fprintln(tw)
		}
		xv := xs(rows, g)
		head := []string{g}
		for _, x := range xv {
			head = append(head, num(x))
		}
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		ms := methods
		if ms == nil {
			for _, r := range rows {
				if r.Group == g && !contains(ms, r.Method) {
					ms = append(ms, r.Method)
				}
			}
		}
		for _, m := range ms {
			rs := pick(rows, g, m)
			if len(rs) == 0 {
				continue
			}
			line := []string{"  " + m}
			for _, x := range xv {
				cell := "-"
				for _, r := range rs {
					if same(r.X, x) {
						cell = value(r)
						break
					}
				}
				line = append(line, cell)
			}
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
		}
	}
	return tw.Flush()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Picked returns what a PIT auto row's "picked …" note says was chosen:
// "dense" or a micro-tile such as "16x1", and the effective sparsity
// s_eff of the mask at that micro-tile when the note gives it; ok is
// false when the note names no pick.
func Picked(r suite.Row) (tile string, seff float64, ok bool) { return pickedTile(r.Note) }
