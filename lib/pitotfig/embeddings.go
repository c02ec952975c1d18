package pitotfig

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/paperlab/paperlab/lib/conformal"
	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/pitot"
	"github.com/paperlab/paperlab/lib/train"
	"github.com/paperlab/paperlab/lib/tsne"
	"gonum.org/v1/gonum/mat"
)

// OptimalQuantile draws optimal_quantile (specs/pitot.md section 6): the
// test bound tightness of each quantile head of `conformal/optimal` after
// conformalization, at one data level and miscoverage, one line per
// replicate; the head chosen on validation is what the other figures use.
func OptimalQuantile(s *conformal.Summary, quantiles []float64, src train.Profile, level, alpha float64) (*figure.Figure, error) {
	li, err := levelIndex(src.Levels, level)
	if err != nil {
		return nil, err
	}
	ai := -1
	alphas := s.Alphas
	if alphas == nil {
		alphas = conformal.Alphas
	}
	for i, a := range alphas {
		if a > alpha-1e-9 && a < alpha+1e-9 {
			ai = i
		}
	}
	if ai < 0 {
		return nil, fmt.Errorf("pitotfig: miscoverage %v not evaluated", alpha)
	}
	raw := s.WidthRaw("mf")[li] // [rep][alpha][head]
	f := figure.New("pitot", "optimal_quantile", 1, 1)
	p := f.Panel(0, 0)
	p.Title.Text = fmt.Sprintf("Quantile heads, %.0f %% data, ε = %g %%", 100*level, 100*alpha)
	p.X.Label.Text = "Head's target quantile (%)"
	p.Y.Label.Text = "Test bound tightness (%)"
	var series []figure.Series
	for r, rep := range raw {
		vals := make([][]float64, len(quantiles))
		for j := range quantiles {
			vals[j] = []float64{100 * rep[ai][j]}
		}
		series = append(series, figure.Series{Label: fmt.Sprintf("replicate %d", r), Values: vals})
	}
	if err := figure.ErrorLines(p, quantiles, series); err != nil {
		return nil, err
	}
	f.Width = 5 * 72
	f.SetLegend(figure.SeriesLegend(series))
	f.Note = fmt.Sprintf("profile %s: preset conformal/optimal, mf objective;\neach head conformalized on the validation split", src.Name)
	return f, nil
}

// Architectures returns the processor family of every platform (AMD,
// Intel, ARM-A, ARM-M, RISC-V), read from its one-hot "uarch=" feature
// (specs/pitot.md 1.3).
func Architectures(m *dataset.Matrix) []string {
	family := func(uarch string) string {
		switch {
		case strings.HasPrefix(uarch, "znver"), strings.HasPrefix(uarch, "btver"):
			return "AMD"
		case strings.HasPrefix(uarch, "cortex-m"):
			return "ARM-M"
		case strings.HasPrefix(uarch, "cortex-a"):
			return "ARM-A"
		case strings.Contains(uarch, "rv64"):
			return "RISC-V"
		}
		return "Intel" // haswell, skylake, tigerlake, goldmont-plus, silvermont
	}
	out := make([]string, m.Platforms.Len())
	for i := range out {
		out[i] = "other"
		for j, name := range m.Platforms.FeatureNames {
			if u, ok := strings.CutPrefix(name, "uarch="); ok && m.Platforms.Row(i)[j] > 0 {
				out[i] = family(u)
			}
		}
	}
	return out
}

// TSNE draws tsne_workload, tsne_runtime or tsne_device (specs/pitot.md
// section 6): t-SNE of each entity's embeddings concatenated over the
// replicates, after standardization, coloured by workload suite, platform
// runtime or device architecture.
func TSNE(kind string, emb []*pitot.Embeddings, m *dataset.Matrix, src train.Profile) (*figure.Figure, error) {
	var rows [][]float64
	var cat []string
	var names []string
	switch kind {
	case "workload":
		names = m.Workloads.Names
	case "runtime", "device":
		names = m.Platforms.Names
	default:
		return nil, fmt.Errorf("pitotfig: t-SNE kind %q (want workload, runtime or device)", kind)
	}
	arch := Architectures(m)
	for i, n := range names {
		var row []float64
		for _, e := range emb {
			v := e.Xw
			if kind != "workload" {
				v = e.Xp
			}
			for _, x := range v[i] {
				row = append(row, float64(x))
			}
		}
		rows = append(rows, row)
		switch kind {
		case "workload":
			cat = append(cat, dataset.Suite(n))
		case "runtime":
			cat = append(cat, dataset.Runtime(n))
		default:
			cat = append(cat, arch[i])
		}
	}
	x, err := tsne.Standardize(rows)
	if err != nil {
		return nil, err
	}
	y, err := tsne.Embed(x, tsne.Config{})
	if err != nil {
		return nil, err
	}
	f := figure.New("pitot", "tsne_"+kind, 1, 1)
	f.Width, f.Height = 5*72, 4.4*72
	p := f.Panel(0, 0)
	p.Title.Text = fmt.Sprintf("t-SNE of %s embeddings, by %s", map[string]string{"workload": "workload", "runtime": "platform", "device": "platform"}[kind],
		map[string]string{"workload": "suite", "runtime": "runtime", "device": "architecture"}[kind])
	xs, ys := make([]float64, len(y)), make([]float64, len(y))
	for i, pt := range y {
		xs[i], ys[i] = pt[0], pt[1]
	}
	order := slices.Sorted(maps.Keys(set(cat)))
	if err := figure.CategoryScatter(p, xs, ys, cat, order); err != nil {
		return nil, err
	}
	f.SetLegend(figure.CategoryLegend(order))
	f.Note = fmt.Sprintf("profile %s: embeddings of %d replicates at 90 %% data, concatenated and standardized;\nexact t-SNE (lib/tsne), perplexity 30, PCA initialization", src.Name, len(emb))
	return f, nil
}

// InterferenceNorm draws interference_norm (specs/pitot.md section 6): per
// platform, the spectral norm of its learned interference matrix
// F_p = V_s[p]ᵀ V_g[p] (mean over replicates) against the measured mean
// slowdown exp(mean over the platform's 2-way rows of max(0, ln t_if −
// ln t_iso)) − 1, on log-log axes coloured by architecture, with a
// least-squares line in log space and its correlation (the paper: r ≈ 0.79).
func InterferenceNorm(emb []*pitot.Embeddings, p *dataset.Pitot, src train.Profile) (*figure.Figure, error) {
	set := p.Interference[2]
	if set == nil {
		return nil, fmt.Errorf("pitotfig: interference_norm needs the 2-way set (if2.npz)")
	}
	m := p.Matrix
	sum, n := make([]float64, m.Platforms.Len()), make([]float64, m.Platforms.Len())
	for r, sd := range set.Slowdowns(m) {
		sum[set.Platform[r]] += math.Max(0, math.Log(sd))
		n[set.Platform[r]]++
	}
	arch := Architectures(m)
	var xs, ys []float64
	var cat []string
	for pi := range sum {
		if n[pi] == 0 {
			continue
		}
		var norm float64
		for _, e := range emb {
			norm += spectralNorm(e.Vs[pi], e.Vg[pi], e.S, e.R) / float64(len(emb))
		}
		xs = append(xs, norm)
		ys = append(ys, 100*(math.Exp(sum[pi]/n[pi])-1))
		cat = append(cat, arch[pi])
	}
	f := figure.New("pitot", "interference_norm", 1, 1)
	f.Width, f.Height = 5*72, 4*72
	pl := f.Panel(0, 0)
	pl.Title.Text = "Learned interference vs measured slowdown"
	pl.X.Label.Text = "‖V_sᵀ V_g‖₂ (learned)"
	pl.Y.Label.Text = "Mean 2-way slowdown (%)"
	figure.LogLog(pl)
	if err := figure.CategoryScatter(pl, xs, ys, cat, []string{"AMD", "Intel", "ARM-A", "RISC-V", "ARM-M"}); err != nil {
		return nil, err
	}
	fit, err := figure.LogLogFit(pl, xs, ys)
	if err != nil {
		return nil, err
	}
	f.SetLegend(figure.CategoryLegend([]string{"AMD", "Intel", "ARM-A", "RISC-V", "ARM-M"}))
	f.Note = fmt.Sprintf("profile %s: %d platforms, norms averaged over %d replicates at 90 %% data; log-log fit r = %.2f (paper: 0.79)", src.Name, len(xs), len(emb), fit.R)
	return f, nil
}

// spectralNorm returns the largest singular value of F = V_sᵀ V_g, where
// vs and vg hold s vectors of length r each.
func spectralNorm(vs, vg []float32, s, r int) float64 {
	a, b := mat.NewDense(s, r, nil), mat.NewDense(s, r, nil)
	for i := range s {
		for j := range r {
			a.Set(i, j, float64(vs[i*r+j]))
			b.Set(i, j, float64(vg[i*r+j]))
		}
	}
	var f mat.Dense
	f.Mul(a.T(), b)
	var svd mat.SVD
	if !svd.Factorize(&f, mat.SVDNone) {
		return math.NaN()
	}
	return svd.Values(nil)[0]
}

func set(v []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range v {
		m[x] = true
	}
	return m
}
