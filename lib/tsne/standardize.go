package tsne

import (
	"fmt"
	"math"
)

// Standardize returns x with each column centred to mean 0 and scaled to
// standard deviation 1, as scikit-learn's StandardScaler (population
// standard deviation, ddof 0; a constant column is centred and left
// unscaled). The Pitot paper standardises embeddings before t-SNE
// (specs/pitot.md section 6, tsne_*). x is not modified.
func Standardize(x [][]float64) ([][]float64, error) {
	n, dim, err := shape(x)
	if err != nil {
		return nil, fmt.Errorf("tsne: Standardize: %w", err)
	}
	mean, sd := make([]float64, dim), make([]float64, dim)
	for _, row := range x {
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for _, row := range x {
		for j, v := range row {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range sd {
		v := sd[j] / float64(n)
		// scikit-learn's _is_constant_feature: a variance within the
		// rounding error of its computation counts as 0, and the column
		// is only centred.
		nf := float64(n)
		if v <= nf*machineEpsilon*v+math.Pow(nf*mean[j]*machineEpsilon, 2) {
			sd[j] = 1
		} else {
			sd[j] = math.Sqrt(v)
		}
	}
	out := make([][]float64, n)
	for i, row := range x {
		out[i] = make([]float64, dim)
		for j, v := range row {
			out[i][j] = (v - mean[j]) / sd[j]
		}
	}
	return out, nil
}
