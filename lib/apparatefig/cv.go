// Package apparatefig draws the Apparate paper's figures (specs/apparate.md
// 4.12) from the results of lib/apparate/workload: the CV bar charts of
// Fig. 12 (median latency wins) and Fig. 13 (p95 latencies), the NLP
// latency CDFs of Fig. 14, and a timeline of the controller's tuner over
// one replay. Every figure's note says what its inputs were (synthetic,
// specs section 6, with sample count and seed).
package apparatefig

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/apparate"
	"github.com/paperlab/paperlab/lib/apparate/workload"
	"github.com/paperlab/paperlab/lib/figure"
	"gonum.org/v1/plot/vg"
)

// Paper is the figures' subdirectory of figures/.
const Paper = "apparate"

// ModelLabels are the x tick labels of Fig. 12 and 13, by CV model.
var ModelLabels = map[string]string{
	"resnet18": "ResNet18", "resnet50": "ResNet50", "resnet101": "ResNet101",
	"vgg11": "VGG11", "vgg13": "VGG13", "vgg16": "VGG16",
}

// inputsNote says how the results' inputs were made: "synthetic inputs
// (specs/apparate.md section 6)" when every result's Inputs.Kind says so,
// with the sample counts and base seeds of the results' settings.
func inputsNote(results []*workload.Result) string {
	var kinds []string
	var samples []int
	var seeds []uint64
	for _, r := range results {
		kinds = appendNew(kinds, r.Inputs.Kind)
		samples = appendNew(samples, r.Settings.Samples)
		seeds = appendNew(seeds, r.Settings.Seed)
	}
	head := "synthetic inputs (specs/apparate.md section 6)"
	if len(kinds) != 1 || kinds[0] != "synthetic" {
		head = fmt.Sprintf("inputs of kind %s", strings.Join(kinds, ", "))
	}
	return fmt.Sprintf("%s: %s samples per workload, base seed %s", head, join(samples), join(seeds))
}

// appendNew appends v to list unless it is there already.
func appendNew[T comparable](list []T, v T) []T {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// join formats values as "a" or "a/b/...".
func join[T any](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "/")
}

// cvBars returns the CV results and their bars (workload.CVBars), one per
// model of workload.CVModels; a model without results is an error naming
// it.
func cvBars(fig string, results []*workload.Result) ([]*workload.Result, []workload.Bars, error) {
	var cv []*workload.Result
	for _, r := range results {
		if r != nil && r.Workload.Set == workload.CV && slices.Contains(apparate.PlottedVideos, r.Workload.Dataset) {
			cv = append(cv, r)
		}
	}
	bars := workload.CVBars(cv)
	for i, m := range workload.CVModels {
		if i >= len(bars) || bars[i].Model != m {
			return nil, nil, fmt.Errorf("apparatefig: %s: no CV results for model %q on the plotted videos", fig, m)
		}
	}
	return cv, bars, nil
}

// cvFigure draws the grouped bars of one CV figure: a wide, short panel
// with one group per CV model and a legend above.
func cvFigure(name, ylabel string, series []figure.BarSeries) (*figure.Figure, error) {
	f := figure.New(Paper, name, 1, 1)
	f.Width, f.Height = 7.5*vg.Inch, 2.6*vg.Inch
	p := f.Panel(0, 0)
	p.Y.Label.Text = ylabel
	groups := make([]string, len(workload.CVModels))
	for i, m := range workload.CVModels {
		groups[i] = ModelLabels[m]
	}
	if err := figure.GroupedBars(p, groups, series); err != nil {
		return nil, fmt.Errorf("apparatefig: %s: %w", name, err)
	}
	f.SetLegend(figure.BarLegend(series))
	return f, nil
}

// barSeries returns a series of bars with min/max error bars.
func barSeries(label string, bars []apparate.Bar) figure.BarSeries {
	s := figure.BarSeries{Label: label}
	for _, b := range bars {
		s.Values = append(s.Values, b.Median)
		s.Low = append(s.Low, b.Min)
		s.High = append(s.High, b.Max)
	}
	return s
}

// videoCounts formats the plotted videos per model, e.g. "7 videos per
// model" or "videos per model 7/6/...".
func videoCounts(bars []workload.Bars) string {
	var n []int
	for _, b := range bars {
		n = appendNew(n, b.Videos)
	}
	if len(n) == 1 {
		return fmt.Sprintf("%d videos per model", n[0])
	}
	all := make([]int, len(bars))
	for i, b := range bars {
		all[i] = b.Videos
	}
	return "videos per model " + join(all)
}

// CVMedian draws Fig. 12 (cv_results_median, specs/apparate.md 4.12): per
// CV model, the median over the plotted videos (Ohio is left out) of the
// per-video median latency win over vanilla, in percent, for Apparate and
// the optimal-exit oracle, with min/max error bars; Apparate's error-bar
// halves are floored at apparate.ErrorBarFloor percentage points, as the
// paper's script draws them. Every CV model needs results.
func CVMedian(results []*workload.Result) (*figure.Figure, error) {
	cv, bars, err := cvBars("CVMedian", results)
	if err != nil {
		return nil, err
	}
	var app, opt []apparate.Bar
	for _, b := range bars {
		app = append(app, b.Apparate.Floor(apparate.ErrorBarFloor))
		opt = append(opt, b.Optimal)
	}
	f, err := cvFigure("cv_results_median", "Med. latency wins vs. vanilla (%)",
		[]figure.BarSeries{barSeries("Apparate", app), barSeries("Optimal", opt)})
	if err != nil {
		return nil, err
	}
	f.Note = fmt.Sprintf("%s\nbars: median over %s of the per-video median win; error bars min/max (Apparate's floored at %g pp)",
		inputsNote(cv), videoCounts(bars), apparate.ErrorBarFloor)
	return f, nil
}

// CVP95 draws Fig. 13 (cv_results_p95, specs/apparate.md 4.12): per CV
// model, the median over the plotted videos of the p95 end-to-end latency,
// in ms, for Apparate and vanilla, with min/max error bars. Every CV model
// needs results.
func CVP95(results []*workload.Result) (*figure.Figure, error) {
	cv, bars, err := cvBars("CVP95", results)
	if err != nil {
		return nil, err
	}
	var app, van []apparate.Bar
	for _, b := range bars {
		app = append(app, b.P95Apparate)
		van = append(van, b.P95Vanilla)
	}
	f, err := cvFigure("cv_results_p95", "P95 latency (ms)",
		[]figure.BarSeries{barSeries("Apparate", app), barSeries("Vanilla", van)})
	if err != nil {
		return nil, err
	}
	f.Note = fmt.Sprintf("%s\nbars: median over %s of the per-video p95 latency; error bars min/max",
		inputsNote(cv), videoCounts(bars))
	return f, nil
}
