package apparatefig

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paperlab/paperlab/lib/apparate"
	"github.com/paperlab/paperlab/lib/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Timeline settings: the most batch positions drawn, the window of the
// agreement panel (batches), the agreement target (percent) and the most
// ramp changes marked.
const (
	TimelinePoints   = 2000
	AgreementWindow  = 100
	AgreementTarget  = 99
	maxChangeMarkers = 100
)

// sampleBatches returns at most max batch indices of n, evenly spaced,
// first and last included.
func sampleBatches(n, max int) []int {
	m := min(n, max)
	out := make([]int, m)
	for j := range out {
		if m < n && m > 1 {
			out[j] = int(math.Round(float64(j) * float64(n-1) / float64(m-1)))
		} else {
			out[j] = j
		}
	}
	return out
}

// activeConfig returns the configuration that served batch k.
func activeConfig(run *apparate.Run, k int) (*apparate.Config, error) {
	c := int(run.Batches[k].Config)
	if c < 0 || c >= len(run.Configs) {
		return nil, fmt.Errorf("apparatefig: TunerTimeline: batch %d has config %d, want < len(Configs) = %d", k, c, len(run.Configs))
	}
	cfg := &run.Configs[c]
	if len(cfg.Thresholds) != len(cfg.Ramps) {
		return nil, fmt.Errorf("apparatefig: TunerTimeline: config %d has %d ramps but %d thresholds", c, len(cfg.Ramps), len(cfg.Thresholds))
	}
	return cfg, nil
}

// rampTracks returns, per ramp id (ascending) active somewhere among the
// batches ks, its position and threshold at each of ks (NaN where
// inactive).
func rampTracks(run *apparate.Run, ks []int) (ids []int, pos, thr [][]float64, err error) {
	cfgs := make([]*apparate.Config, len(ks))
	for j, k := range ks {
		if cfgs[j], err = activeConfig(run, k); err != nil {
			return nil, nil, nil, err
		}
		for _, r := range cfgs[j].Ramps {
			ids = appendNew(ids, r)
		}
	}
	slices.Sort(ids)
	pos, thr = make([][]float64, len(ids)), make([][]float64, len(ids))
	for i, id := range ids {
		pos[i], thr[i] = nanSlice(len(ks)), nanSlice(len(ks))
		for j, cfg := range cfgs {
			if a := slices.Index(cfg.Ramps, id); a >= 0 {
				pos[i][j], thr[i][j] = float64(id), cfg.Thresholds[a]
			}
		}
	}
	return ids, pos, thr, nil
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// addTrack draws y against x in colour i, as lines through runs of
// non-NaN values and single points as markers.
func addTrack(p *plot.Plot, x, y []float64, i int, dashes []vg.Length) error {
	ls := draw.LineStyle{Color: figure.Color(i), Width: vg.Points(1), Dashes: dashes}
	var seg, single plotter.XYs
	flush := func() error {
		switch {
		case len(seg) == 1:
			single = append(single, seg[0])
		case len(seg) > 1:
			l, err := plotter.NewLine(seg)
			if err != nil {
				return err
			}
			l.LineStyle = ls
			p.Add(l)
		}
		seg = nil
		return nil
	}
	for j := range x {
		if math.IsNaN(y[j]) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: x[j], Y: y[j]})
	}
	if err := flush(); err != nil {
		return err
	}
	if len(single) > 0 {
		s, err := plotter.NewScatter(single)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: figure.Color(i), Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	return nil
}

// integerTicks are gonum's default ticks labelled as integers (batch
// indices).
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
	}
	return ticks
}

// rampChanges returns the batches at which a configuration with other
// ramps than the previous one's took over.
func rampChanges(run *apparate.Run) []int {
	var out []int
	for c := 1; c < len(run.Configs); c++ {
		if !slices.Equal(run.Configs[c].Ramps, run.Configs[c-1].Ramps) {
			out = append(out, run.Configs[c].Batch)
		}
	}
	return out
}

// markChanges draws a dotted grey vertical line over [lo, hi] at each
// batch of changes.
func markChanges(p *plot.Plot, changes []int, lo, hi float64) error {
	for _, k := range changes {
		l, err := plotter.NewLine(plotter.XYs{{X: float64(k), Y: lo}, {X: float64(k), Y: hi}})
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: color.Gray{0xaa}, Width: vg.Points(0.5), Dashes: []vg.Length{vg.Points(1), vg.Points(1.5)}}
		p.Add(l)
	}
	return nil
}

// tuningCounts formats the adopted tunings by cause.
func tuningCounts(run *apparate.Run) string {
	counts := map[apparate.TuneCause]int{}
	var causes []apparate.TuneCause
	for _, t := range run.Tunings {
		if t.Adopted {
			causes = appendNew(causes, t.Cause)
			counts[t.Cause]++
		}
	}
	slices.Sort(causes)
	parts := make([]string, len(causes))
	for i, c := range causes {
		parts[i] = fmt.Sprintf("%s %d", c, counts[c])
	}
	return strings.Join(parts, ", ")
}

// TunerTimeline draws the controller at work over one replay
// (specs/apparate.md 4.5–4.9; a companion of the 4.12 figures): three
// stacked panels sharing x = batch index, (a) the positions of the active
// ramps (one colour per ramp id, gaps where a ramp is inactive, dotted
// lines where the active ramps changed), (b) their thresholds in the same
// colours, (c) the agreement with the original model over the last
// AgreementWindow batches, in percent, with a dashed line at
// AgreementTarget. At most TimelinePoints evenly spaced batches are drawn.
//
// A Run does not record its inputs: the caller says what they were in
// title or by extending the returned figure's Note.
func TunerTimeline(run *apparate.Run, title string) (*figure.Figure, error) {
	if run == nil || len(run.Batches) == 0 {
		return nil, fmt.Errorf("apparatefig: TunerTimeline: run has no batches")
	}
	n := len(run.Batches)
	ks := sampleBatches(n, TimelinePoints)
	x := make([]float64, len(ks))
	agree := make([]float64, len(ks))
	for j, k := range ks {
		x[j] = float64(k)
		agree[j] = 100 * run.WindowAgreement(k, AgreementWindow)
	}
	ids, pos, thr, err := rampTracks(run, ks)
	if err != nil {
		return nil, err
	}
	f := figure.New(Paper, "tuner_timeline", 3, 1)
	f.Width, f.Height = 7.5*vg.Inch, 6*vg.Inch
	labels := []string{"(a) active ramps", "(b) thresholds", fmt.Sprintf("(c) agreement, last %d batches", AgreementWindow)}
	ylabels := []string{"Ramp", "Threshold", "Agreement (%)"}
	for r := range 3 {
		p := f.Panel(r, 0)
		p.Title.Text = labels[r]
		p.Y.Label.Text = ylabels[r]
		p.X.Label.Text = "Batch index"
		p.X.Tick.Marker = integerTicks{}
	}
	if title != "" {
		f.Panel(0, 0).Title.Text = title + ": " + labels[0]
	}
	for i := range ids {
		if err := addTrack(f.Panel(0, 0), x, pos[i], i, nil); err != nil {
			return nil, fmt.Errorf("apparatefig: TunerTimeline: ramp %d: %w", ids[i], err)
		}
		if err := addTrack(f.Panel(1, 0), x, thr[i], i, nil); err != nil {
			return nil, fmt.Errorf("apparatefig: TunerTimeline: ramp %d: %w", ids[i], err)
		}
	}
	changes := rampChanges(run)
	marked := ""
	if len(changes) <= maxChangeMarkers && len(ids) > 0 {
		marked = " (dotted)"
		if err := markChanges(f.Panel(0, 0), changes, float64(ids[0])-0.5, float64(ids[len(ids)-1])+0.5); err != nil {
			return nil, fmt.Errorf("apparatefig: TunerTimeline: %w", err)
		}
	}
	if err := addTrack(f.Panel(2, 0), x, agree, 0, nil); err != nil {
		return nil, fmt.Errorf("apparatefig: TunerTimeline: agreement: %w", err)
	}
	target := []float64{AgreementTarget, AgreementTarget}
	if err := addTrack(f.Panel(2, 0), []float64{0, float64(n - 1)}, target, 7, []vg.Length{vg.Points(4), vg.Points(2)}); err != nil {
		return nil, fmt.Errorf("apparatefig: TunerTimeline: %w", err)
	}
	f.ShareX(false)
	f.Note = fmt.Sprintf("replay of %d samples in %d batches (x: %d of them); %d configurations, %d ramp changes%s;\nadopted tunings: %s; final agreement %.2f %%",
		run.Summary.Samples, n, len(ks), len(run.Configs), len(changes), marked, tuningCounts(run), 100*run.Summary.Agreement)
	return f, nil
}
