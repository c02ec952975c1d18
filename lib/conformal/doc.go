// Package conformal turns point or quantile predictions into calibrated
// runtime bounds, and scores them, the way Pitot does (specs/pitot.md
// section 5, after prediction/calibrate.py and scripts/evaluate.py of the
// Pitot repository).
//
// Everything works in the log domain: labels are y = ln t and predictions
// ŷ = ln t̂, so a residual r = y − ŷ is a log ratio and a margin m turns a
// prediction into the upper bound Û = t̂·e^m (log Û = ŷ + m).
//
// The method is split (inductive) conformal prediction (Vovk, Gammerman
// and Shafer, "Algorithmic Learning in a Random World", 2005; Lei, G'Sell,
// Rinaldo, Tibshirani and Wasserman, "Distribution-Free Predictive
// Inference for Regression", JASA 2018): residuals on a calibration set
// that the model did not train on give a margin by a quantile rule (Margin,
// Interval). Pitot calibrates on its validation split. For the quantile
// heads of Pitot's CQR variant the same one-sided margin is added to each
// head, as in conformalized quantile regression (Romano, Patterson and
// Candès, "Conformalized Quantile Regression", NeurIPS 2019), and the head
// whose conformalized bound is tightest on the validation split is chosen
// (Evaluate, specs 5.1).
//
// The metrics (Coverage, Width, MAPE) follow Pitot's code, not its
// docstrings (specs 5.2 and 11.3); the docstring forms are available as the
// Docstring variant. Summary writes and reads the per-preset summary files
// summary/<preset>.npz of specs 5.3, and MeanSE2 gives the paper's error
// bars.
//
// The package takes plain float64 slices and depends on nothing else of
// the project except lib/npz for the summary files, so a scheduler can use
// it on its own to bound a runtime prediction.
package conformal
