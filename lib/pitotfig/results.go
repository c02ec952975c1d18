package pitotfig

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/train"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Method is one curve of a figure: a trained preset and its label in the
// paper.
type Method struct {
	Preset, Label string
}

// Presets returns the presets of the methods.
func Presets(methods ...[]Method) []string {
	var out []string
	for _, ms := range methods {
		for _, m := range ms {
			out = append(out, m.Preset)
		}
	}
	return out
}

// The methods of the paper's figures (specs/pitot.md section 6).
var (
	BaselineMethods = []Method{{"pitot", "Pitot"}, {"baseline/monolith", "Neural Network"},
		{"baseline/attention", "Attention"}, {"baseline/factorization", "Matrix Factorization"}}
	ObjectiveMethods = []Method{{"pitot", "Pitot"}, {"components/nobaseline", "Log Objective"},
		{"components/naiveloss", "Naive Proportional Loss"}}
	InterferenceMethods = []Method{{"pitot", "Pitot"}, {"components/ignore", "Ignore"}, {"components/discard", "Discard"}}
	ReLUMethods         = []Method{{"pitot", "Pitot"}, {"components/notrectified", "Simple Multiplicative"}}
	FeatureMethods      = []Method{{"pitot", "Pitot"}, {"features/noworkload", "Platform Features Only"},
		{"features/noplatform", "Workload Features Only"}, {"features/blackbox", "No Features"}}
	// WidthMethods are the bound-tightness baselines: "Pitot" is the CQR
	// model with head selection in every bound figure.
	WidthMethods = []Method{{"conformal/optimal", "Pitot"}, {"baseline/monolith", "Neural Network"},
		{"baseline/attention", "Attention"}, {"baseline/factorization", "Matrix Factorization"}}
	CQRMethods = []Method{{"conformal/optimal", "Pitot (CQR, selected head)"}, {"conformal/naive", "Naive CQR"},
		{"pitot", "Non-quantile"}}
	CoverageMethods = []Method{{"pitot", "Pitot (non-quantile)"}, {"conformal/optimal", "Pitot (CQR)"},
		{"baseline/monolith", "Neural Network"}, {"baseline/attention", "Attention"}, {"baseline/factorization", "Matrix Factorization"}}
)

// note says how the results behind a figure were made.
func note(src train.Profile, extra string) string {
	n := fmt.Sprintf("profile %s: %d replicates per point, mean ± 2 SE; interference = 2-way only (3-/4-way data not public)", src.Name, src.Replicates)
	if extra != "" {
		n += "\n" + extra
	}
	return n
}

// interference returns the metric averaged over the interference
// objectives present (the paper's "with interference" = mean of if2, if3,
// if4), or nil when there are none.
func interference(s *conformal.Summary, get func(obj string) [][]float64) [][]float64 {
	var objs []string
	for _, o := range s.Objectives() {
		if strings.HasPrefix(o, "if") {
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		return nil
	}
	var out [][]float64
	for k, o := range objs {
		v := get(o)
		if k == 0 {
			out = make([][]float64, len(v))
			for l := range v {
				out[l] = make([]float64, len(v[l]))
			}
		}
		for l := range v {
			for r, x := range v[l] {
				out[l][r] += x / float64(len(objs))
			}
		}
	}
	return out
}

func percent(v [][]float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, row := range v {
		out[i] = make([]float64, len(row))
		for j, x := range row {
			out[i][j] = 100 * x
		}
	}
	return out
}

func levelsPercent(levels []float64) []float64 {
	x := make([]float64, len(levels))
	for i, l := range levels {
		x[i] = 100 * l
	}
	return x
}

// MAPEByLevel draws a 1x2 figure of test MAPE against the data level, for
// the matrix (left) and under interference (right): the paper's baseline,
// ablation_objective, ablation_interference, ablation_relu and
// ablation_features figures. clip, when non-nil, gives the y range of each
// panel in percent (the paper's clipped variants).
func MAPEByLevel(name string, sums map[string]*conformal.Summary, methods []Method, src train.Profile, clip [][2]float64) (*figure.Figure, error) {
	f := figure.New("pitot", name, 1, 2)
	var series [2][]figure.Series
	for _, m := range methods {
		s := sums[m.Preset]
		if s == nil {
			return nil, fmt.Errorf("pitotfig: %s: no summary of %s", name, m.Preset)
		}
		series[0] = append(series[0], figure.Series{Label: m.Label, Values: percent(s.MAPE("mf"))})
		ifv := interference(s, s.MAPE)
		if ifv == nil {
			return nil, fmt.Errorf("pitotfig: %s: %s has no interference objective", name, m.Preset)
		}
		series[1] = append(series[1], figure.Series{Label: m.Label, Values: percent(ifv)})
	}
	x := levelsPercent(src.Levels)
	for j, title := range []string{"No interference", "With interference"} {
		p := f.Panel(0, j)
		p.Title.Text = title
		p.X.Label.Text = "Training data (%)"
		p.Y.Label.Text = "Test MAPE (%)"
		if err := figure.ErrorLines(p, x, series[j]); err != nil {
			return nil, err
		}
		if clip != nil {
			figure.ClipY(p, clip[j][0], clip[j][1])
		}
	}
	f.SetLegend(figure.SeriesLegend(series[0]))
	f.Note = note(src, "MAPE = mean |t / t̂ − 1| over the test split (specs/pitot.md 5.2)")
	return f, nil
}

// alphaAxis returns the miscoverage values in percent, decreasing, as the
// paper plots them.
func alphaAxis(s *conformal.Summary) []float64 {
	a := s.Alphas
	if a == nil {
		a = conformal.Alphas
	}
	x := make([]float64, len(a))
	for i, v := range a {
		x[i] = 100 * v
	}
	return x
}

// atLevel returns v[level] transposed to [alpha][replicate].
func atLevel(v [][][]float64, level int) [][]float64 {
	reps := v[level]
	if len(reps) == 0 {
		return nil
	}
	out := make([][]float64, len(reps[0]))
	for a := range out {
		for r := range reps {
			out[a] = append(out[a], 100*reps[r][a])
		}
	}
	return out
}

func levelIndex(levels []float64, l float64) (int, error) {
	for i, x := range levels {
		if math.Abs(x-l) < 1e-9 {
			return i, nil
		}
	}
	return 0, fmt.Errorf("pitotfig: level %v not in the profile's levels %v", l, levels)
}

// WidthByAlpha draws a 1x2 figure of the test bound tightness against the
// miscoverage ε at one data level, for the matrix and under interference:
// the paper's baseline_width and ablation_cqr figures.
func WidthByAlpha(name string, sums map[string]*conformal.Summary, methods []Method, src train.Profile, level float64) (*figure.Figure, error) {
	li, err := levelIndex(src.Levels, level)
	if err != nil {
		return nil, err
	}
	f := figure.New("pitot", name, 1, 2)
	var series [2][]figure.Series
	var x []float64
	for _, m := range methods {
		s := sums[m.Preset]
		if s == nil {
			return nil, fmt.Errorf("pitotfig: %s: no summary of %s", name, m.Preset)
		}
		x = alphaAxis(s)
		series[0] = append(series[0], figure.Series{Label: m.Label, Values: atLevel(s.Width("mf"), li)})
		var ifw [][][][]float64
		for _, o := range s.Objectives() {
			if strings.HasPrefix(o, "if") {
				ifw = append(ifw, s.Width(o))
			}
		}
		series[1] = append(series[1], figure.Series{Label: m.Label, Values: meanOver(ifw, li)})
	}
	for j, title := range []string{"No interference", "With interference"} {
		p := f.Panel(0, j)
		p.Title.Text = title
		p.X.Label.Text = "Miscoverage ε (%)"
		p.Y.Label.Text = "Bound tightness (%)"
		p.X.Scale = reversed{}
		if err := figure.ErrorLines(p, x, series[j]); err != nil {
			return nil, err
		}
	}
	f.SetLegend(figure.SeriesLegend(series[0]))
	f.Note = note(src, fmt.Sprintf("training data %.0f %%; bound tightness = mean |t / Û − 1| of the conformal upper bound Û (specs/pitot.md 5.2)", 100*level))
	return f, nil
}

// meanOver averages several [level][rep][alpha] arrays at one level into
// [alpha][rep] percentages.
func meanOver(vs [][][][]float64, level int) [][]float64 {
	var out [][]float64
	for k, v := range vs {
		a := atLevel(v, level)
		if k == 0 {
			out = a
			for i := range out {
				for j := range out[i] {
					out[i][j] /= float64(len(vs))
				}
			}
			continue
		}
		for i := range a {
			for j := range a[i] {
				out[i][j] += a[i][j] / float64(len(vs))
			}
		}
	}
	return out
}

// reversed is a linear axis scale running from max on the left to min on
// the right (the paper plots ε from 10 % down to 1 %).
type reversed struct{}

func (reversed) Normalize(min, max, x float64) float64 { return (max - x) / (max - min) }

// Coverage draws the figure the paper omits: empirical test coverage
// against the target 1 − ε for every method, one panel per data level,
// with the diagonal that conformal prediction promises; rows are the matrix
// and interference objectives.
func Coverage(sums map[string]*conformal.Summary, methods []Method, src train.Profile) (*figure.Figure, error) {
	f := figure.New("pitot", "coverage", 2, len(src.Levels))
	var legend []figure.Series
	for li, level := range src.Levels {
		for row, obj := range []string{"mf", "if"} {
			var series []figure.Series
			var x []float64
			for _, m := range methods {
				s := sums[m.Preset]
				if s == nil {
					return nil, fmt.Errorf("pitotfig: coverage: no summary of %s", m.Preset)
				}
				x = alphaAxis(s)
				for i := range x {
					x[i] = 100 - x[i]
				}
				var v [][]float64
				if obj == "mf" {
					v = atLevel(s.Coverage("mf"), li)
				} else {
					var covs [][][][]float64
					for _, o := range s.Objectives() {
						if strings.HasPrefix(o, "if") {
							covs = append(covs, s.Coverage(o))
						}
					}
					v = meanOver(covs, li)
				}
				series = append(series, figure.Series{Label: m.Label, Values: v})
			}
			p := f.Panel(row, li)
			p.Title.Text = fmt.Sprintf("%s, %.0f %% data", map[string]string{"mf": "No interference", "if": "With interference"}[obj], 100*level)
			p.X.Label.Text = "Target coverage 1 − ε (%)"
			p.Y.Label.Text = "Test coverage (%)"
			diag, _ := plotter.NewLine(plotter.XYs{{X: 89, Y: 89}, {X: 100, Y: 100}})
			diag.LineStyle = draw.LineStyle{Color: plotGray, Width: 0.75, Dashes: []vg.Length{2, 2}}
			p.Add(diag)
			if err := figure.ErrorLines(p, x, series); err != nil {
				return nil, err
			}
			legend = series
		}
	}
	f.ShareY(false)
	f.SetLegend(figure.SeriesLegend(legend))
	f.Note = note(src, "coverage = fraction of test runtimes below the conformal upper bound (strict), calibrated on the validation split; dashed: 1 − ε")
	return f, nil
}

var plotGray = color.Gray{0x88}
