package pitotfig

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/train"
	"gonum.org/v1/plot/vg"
)

// gridShape lays n panels out three to a row, as the paper's 3x3 grids.
func gridShape(n int) (rows, cols int) {
	cols = min(n, 3)
	return (n + cols - 1) / cols, cols
}

// WidthGrid draws baseline_width_mf (obj "mf") or baseline_width_if (obj
// "if", the mean over the interference objectives present): bound
// tightness against the miscoverage ε, one panel per data level of the
// profile (specs/pitot.md section 6, margin_full).
func WidthGrid(name, obj string, sums map[string]*conformal.Summary, methods []Method, src train.Profile) (*figure.Figure, error) {
	if obj != "mf" && obj != "if" {
		return nil, fmt.Errorf("pitotfig: %s: objective %q (want mf or if)", name, obj)
	}
	if len(src.Levels) == 0 {
		return nil, fmt.Errorf("pitotfig: %s: profile %s has no levels", name, src.Name)
	}
	rows, cols := gridShape(len(src.Levels))
	f := figure.New("pitot", name, rows, cols)
	f.Width, f.Height = 8.5*72, vg.Length(0.4+2.3*float64(rows))*72
	var legend []figure.Series
	for li, level := range src.Levels {
		var series []figure.Series
		var x []float64
		for _, m := range methods {
			s := sums[m.Preset]
			if s == nil {
				return nil, fmt.Errorf("pitotfig: %s: no summary of %s", name, m.Preset)
			}
			x = alphaAxis(s)
			var v [][]float64
			if obj == "mf" {
				v = atLevel(s.Width("mf"), li)
			} else {
				var ws [][][][]float64
				for _, o := range s.Objectives() {
					if strings.HasPrefix(o, "if") {
						ws = append(ws, s.Width(o))
					}
				}
				if len(ws) == 0 {
					return nil, fmt.Errorf("pitotfig: %s: %s has no interference objective", name, m.Preset)
				}
				v = meanOver(ws, li)
			}
			series = append(series, figure.Series{Label: m.Label, Values: v})
		}
		p := f.Panel(li/cols, li%cols)
		p.Title.Text = fmt.Sprintf("%.0f %% training data", 100*level)
		p.X.Label.Text = "Miscoverage ε (%)"
		p.Y.Label.Text = "Bound tightness (%)"
		p.X.Scale = reversed{}
		if err := figure.ErrorLines(p, x, series); err != nil {
			return nil, err
		}
		legend = series
	}
	for k := len(src.Levels); k < rows*cols; k++ {
		f.Panel(k/cols, k%cols).HideAxes()
	}
	f.ShareX(false)
	f.SetLegend(figure.SeriesLegend(legend))
	what := map[string]string{"mf": "no interference (mf)", "if": "with interference (mean over the interference objectives)"}[obj]
	f.Note = note(src, "bound tightness = mean |t / Û − 1| of the conformal upper bound Û over the test split, "+what)
	return f, nil
}

// Hyperparameter is one row of the hyperparameters figure: a swept setting
// and the preset of each value, in order ("pitot" for the default).
type Hyperparameter struct {
	Name   string // axis title
	Values []string
	Preset []string
}

// Hyperparameters are the rows of the paper's hyperparameters figure
// (specs/pitot.md section 6): learned features q, embedding dimension r,
// interference types s and interference weight β, each swept around the
// default of `pitot` (q = 1, r = 32, s = 2, β = 0.5), with the paper's
// values. The paper's q row has five curves: learned/0, learned/1, learned/2,
// pitot labelled "q=4" (a stale alias: pitot has q = 1, so it repeats
// learned/1's configuration) and learned/8; here the default is drawn once
// and labelled by its value. embedding/128 and learned/16 are trained by
// the paper but not plotted, and not here either.
var Hyperparameters = []Hyperparameter{
	{"Learned features q", []string{"0", "1*", "2", "8"}, []string{"learned/0", "pitot", "learned/2", "learned/8"}},
	{"Embedding dimension r", []string{"4", "8", "16", "32*", "64"}, []string{"embedding/4", "embedding/8", "embedding/16", "pitot", "embedding/64"}},
	{"Interference types s", []string{"1", "2*", "4", "8", "16"}, []string{"interference/1", "pitot", "interference/4", "interference/8", "interference/16"}},
	{"Interference weight β", []string{"0.1", "0.2", "0.5*", "1", "2"}, []string{"weight/0.1", "weight/0.2", "pitot", "weight/1.0", "weight/2.0"}},
}

// HyperparameterPresets returns every preset the hyperparameters figure
// needs, each once.
func HyperparameterPresets() []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range Hyperparameters {
		for _, p := range h.Preset {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// HyperparameterFigure draws the hyperparameters figure: one row per
// swept setting, one column per objective present (mf and if2 in the
// public data; the paper also has if3 and if4), test MAPE against the data
// level with one line per value. As in the paper, MAPEs above 1000 % are
// left out.
func HyperparameterFigure(sums map[string]*conformal.Summary, src train.Profile) (*figure.Figure, error) {
	base := sums["pitot"]
	if base == nil {
		return nil, fmt.Errorf("pitotfig: hyperparameters: no summary of pitot")
	}
	// mf first, then the interference objectives in order.
	objs := base.Objectives()
	slices.SortStableFunc(objs, func(a, b string) int {
		if (a == "mf") != (b == "mf") {
			if a == "mf" {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	f := figure.New("pitot", "hyperparameters", len(Hyperparameters), len(objs))
	f.Width, f.Height = vg.Length(1+3*float64(len(objs)))*72, vg.Length(0.3+2.4*float64(len(Hyperparameters)))*72
	x := levelsPercent(src.Levels)
	for r, h := range Hyperparameters {
		for c, obj := range objs {
			var series []figure.Series
			for k, preset := range h.Preset {
				s := sums[preset]
				if s == nil {
					return nil, fmt.Errorf("pitotfig: hyperparameters: no summary of %s", preset)
				}
				v := percent(s.MAPE(obj))
				for _, row := range v {
					for i, y := range row {
						if y > 1000 {
							row[i] = math.NaN()
						}
					}
				}
				series = append(series, figure.Series{Label: h.Values[k], Values: v})
			}
			p := f.Panel(r, c)
			p.Title.Text = fmt.Sprintf("%s, %s", h.Name, obj)
			p.X.Label.Text = "Training data (%)"
			p.Y.Label.Text = "Test MAPE (%)"
			if err := figure.ErrorLines(p, x, series); err != nil {
				return nil, err
			}
			p.Legend.Top = true
			p.Legend.TextStyle.Font.Size = 7
		}
	}
	f.ShareX(true)
	f.KeepLegends(func(_, c int) bool { return c == 0 })
	f.Note = note(src, "one row per setting, swept around the default (*); MAPE above 1000 % left out; if3 and if4 columns need data that is not public")
	return f, nil
}
