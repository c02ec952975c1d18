// Package pitotfig builds the figures of the Pitot paper (MLSys 2025,
// "Interference-Aware Edge Runtime Prediction with Conformal Matrix
// Completion") from the library's datasets and results. Each function
// returns a *figure.Figure; notebooks show and save it.
package pitotfig

import (
	"fmt"
	"math"
	"strings"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/repo"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gonum.org/v1/plot"
)

var english = message.NewPrinter(language.English)

// InterferenceEdges are the slowdown bins of the paper's interference
// histogram: 80 bins of width 0.25 from 1x to 21x (specs/pitot.md section 6).
var InterferenceEdges = figure.Linspace(1, 21, 81)

// Interference draws interference.pdf (specs/pitot.md section 6; paper
// section 5.1): for each k-way interference set present, a histogram of the
// slowdown max(1, t_if / t_iso) on a log count axis from 0.5 to 1e5. The
// paper has three panels (2-, 3- and 4-way); the public data holds 2-way
// only, and 3- and 4-way panels appear when if3.npz and if4.npz are in the
// dataset directory.
func Interference(p *dataset.Pitot) (*figure.Figure, error) {
	ways := p.Ways()
	if len(ways) == 0 {
		return nil, fmt.Errorf("pitotfig: %s has no interference sets (if2.npz, if3.npz, if4.npz)", p.Dir)
	}
	f := figure.New("pitot", "interference", 1, len(ways))
	var counts []string
	for j, k := range ways {
		sd := p.Interference[k].Slowdowns(p.Matrix)
		for i, x := range sd {
			sd[i] = math.Max(1, x)
		}
		h, err := figure.NewHistogram(sd, InterferenceEdges, j)
		if err != nil {
			return nil, err
		}
		panel := f.Panel(0, j)
		panel.Title.Text = fmt.Sprintf("%d-way interference", k)
		panel.X.Label.Text = "slowdown (interfered / isolated runtime)"
		if j == 0 {
			panel.Y.Label.Text = "rows"
		}
		figure.LogY(panel)
		panel.Add(h)
		panel.X.Min, panel.X.Max = InterferenceEdges[0], InterferenceEdges[len(InterferenceEdges)-1]
		panel.Y.Min, panel.Y.Max = 0.5, 1e5
		panel.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 1, Label: "1x"}, {Value: 5, Label: "5x"},
			{Value: 10, Label: "10x"}, {Value: 15, Label: "15x"}, {Value: 20, Label: "20x"}})
		le125, le2 := 0, 0
		for _, x := range sd {
			if x <= 1.25 {
				le125++
			}
			if x <= 2 {
				le2++
			}
		}
		counts = append(counts, fmt.Sprintf("%d-way: n=%s, %.1f%% <= 1.25x, %.1f%% <= 2x, max %.2fx",
			k, english.Sprint(len(sd)), 100*float64(le125)/float64(len(sd)), 100*float64(le2)/float64(len(sd)), dataset.Quantile(sd, 1)))
	}
	f.Note = fmt.Sprintf("data: %s (slowdowns clipped below at 1x; bins of 0.25x)\n%s", repo.Rel(p.Dir), strings.Join(counts, "; "))
	return f, nil
}
