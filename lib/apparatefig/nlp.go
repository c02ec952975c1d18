package apparatefig

import (
	"fmt"
	"strings"

	"github.com/paperlab/paperlab/lib/apparate/workload"
	"github.com/paperlab/paperlab/lib/figure"
	"gonum.org/v1/plot/vg"
)

// DatasetLabels are the panel titles of Fig. 14, by NLP dataset.
var DatasetLabels = map[string]string{"amazon_reviews": "Amazon", "imdb": "IMDB"}

// Loader returns a workload's per-request latencies.
type Loader func(w workload.Workload) (*workload.Latencies, error)

// StoredLatencies returns a Loader reading the latency files RunAll wrote
// under dir (workload.ReadLatencies of Workload.LatencyPath).
func StoredLatencies(dir string) Loader {
	return func(w workload.Workload) (*workload.Latencies, error) {
		return workload.ReadLatencies(w.LatencyPath(dir))
	}
}

// nlpResult returns the result of model on dataset.
func nlpResult(results []*workload.Result, model, dataset string) (*workload.Result, error) {
	for _, r := range results {
		if r != nil && r.Workload == (workload.Workload{Set: workload.NLP, Model: model, Dataset: dataset}) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("apparatefig: NLPCDF: no NLP result for model %q on dataset %q", model, dataset)
}

// latencies returns a result's latencies: its own when set (Run, RunAll),
// else load's.
func latencies(r *workload.Result, load Loader) (*workload.Latencies, error) {
	if r.Latencies != nil {
		return r.Latencies, nil
	}
	if load == nil {
		return nil, fmt.Errorf("apparatefig: NLPCDF: %s: result has no latencies and no loader was given", r.Workload)
	}
	l, err := load(r.Workload)
	if err != nil {
		return nil, fmt.Errorf("apparatefig: NLPCDF: %s: %w", r.Workload, err)
	}
	return l, nil
}

// NLPCDF draws Fig. 14 (nlp_results_<model>, specs/apparate.md 4.12) for
// one NLP model: a panel per dataset of workload.NLPDatasets (Amazon,
// IMDB) with the CDFs of the end-to-end latencies L_app (Apparate), L_van
// (Vanilla) and L_opt (Optimal, dashed), in ms. The note prints, per
// dataset, the p50 and p25 absolute wins in ms (and in percent), as the
// paper's script does. A result's latencies are its own when set, else
// load's (StoredLatencies for results read back from disk; load may be nil
// otherwise).
func NLPCDF(results []*workload.Result, model string, load Loader) (*figure.Figure, error) {
	f := figure.New(Paper, "nlp_results_"+model, 1, len(workload.NLPDatasets))
	f.Width, f.Height = 6.4*vg.Inch, 2.8*vg.Inch
	var used []*workload.Result
	var wins []string
	var series []figure.CDFSeries
	for j, ds := range workload.NLPDatasets {
		r, err := nlpResult(results, model, ds)
		if err != nil {
			return nil, err
		}
		l, err := latencies(r, load)
		if err != nil {
			return nil, err
		}
		series = []figure.CDFSeries{
			{Label: "Apparate", X: l.Apparate},
			{Label: "Vanilla", X: l.Vanilla},
			{Label: "Optimal", X: l.Optimal, Dashes: []vg.Length{vg.Points(4), vg.Points(2)}},
		}
		p := f.Panel(0, j)
		p.Title.Text = DatasetLabels[ds]
		p.X.Label.Text = "Latency (ms)"
		p.Y.Label.Text = "CDF"
		if err := figure.CDFLines(p, series); err != nil {
			return nil, fmt.Errorf("apparatefig: NLPCDF: %s: %w", r.Workload, err)
		}
		m := r.Metrics
		wins = append(wins, fmt.Sprintf("%s: p50 win %.2f ms (%.1f %%), p25 win %.2f ms (%.1f %%), n=%d",
			DatasetLabels[ds], m.AbsP50Win, m.MedianWin, m.AbsP25Win, m.P25Win, len(l.Vanilla)))
		used = append(used, r)
	}
	f.ShareY(true)
	f.SetLegend(figure.CDFLegend(series))
	f.Note = fmt.Sprintf("%s; model %s\n%s", inputsNote(used), model, strings.Join(wins, "; "))
	return f, nil
}
