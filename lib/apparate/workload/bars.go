package workload

import (
	"github.com/paperlab/paperlab/lib/apparate"
)

// Bars are one CV model's bars of Fig. 12 and Fig. 13 (specs/apparate.md
// 4.12): the median over the plotted videos of a per-video number, with
// the minimum and maximum as error bars (unfloored; apply
// apparate.Bar.Floor(apparate.ErrorBarFloor) to Apparate's Fig. 12 bar for
// drawing).
type Bars struct {
	Model  string `json:"model"`
	Videos int    `json:"videos"` // plotted videos with a result
	// Fig. 12: median latency wins vs vanilla, percent.
	Apparate apparate.Bar `json:"apparate_median_win_pct"`
	Optimal  apparate.Bar `json:"optimal_median_win_pct"`
	// Fig. 13: p95 latencies, ms.
	P95Apparate apparate.Bar `json:"apparate_p95_ms"`
	P95Vanilla  apparate.Bar `json:"vanilla_p95_ms"`
}

// CVBars returns the Fig. 12 and 13 bars of every CV model with results,
// in CVModels order, over apparate.PlottedVideos (Ohio is left out, as in
// the paper). Results of other sets and videos are ignored.
func CVBars(results []*Result) []Bars {
	var out []Bars
	for _, model := range CVModels {
		var app, opt, p95a, p95v []float64
		for _, r := range results {
			if r == nil || r.Workload.Set != CV || r.Workload.Model != model || !contains(apparate.PlottedVideos, r.Workload.Dataset) {
				continue
			}
			m := r.Metrics
			app = append(app, m.MedianWin)
			opt = append(opt, m.OptimalMedianWin)
			p95a = append(p95a, m.Apparate.P95)
			p95v = append(p95v, m.Vanilla.P95)
		}
		if len(app) == 0 {
			continue
		}
		out = append(out, Bars{
			Model: model, Videos: len(app),
			Apparate: apparate.Summarize(app), Optimal: apparate.Summarize(opt),
			P95Apparate: apparate.Summarize(p95a), P95Vanilla: apparate.Summarize(p95v),
		})
	}
	return out
}
