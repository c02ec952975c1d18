package workload

// calibration holds Calibration's per-model overrides by set.
//
// Why (specs/apparate.md 6.5, 6.6): with the spec's prototype inputs
// (offered load 0.6, SLO 3·V(1), the NLPTable data mix) no NLP model
// reaches the paper's median wins of 10–24.2 % (specs 10 item 2) on
// DefaultSamples requests. Arrivals are spread evenly within each minute,
// so most requests do not queue and the vanilla median is V(1): like a CV
// median win, an NLP median win takes values from a small set, −ΣQ/V when
// the median request exits nowhere (DistilBERT −1.7 %, BERT-base −0.9 %,
// the 24-layer models −0.3 %), or 1 − X_j/V when it exits at active ramp
// a_j. The band 10–24.2 % holds only the last few ramps: DistilBERT's ramp
// 4 (16.4 %), BERT-base's ramps 9–10 (16.5–17.0 %), ramps 18–20 of
// BERT-large and GPT2-medium (12.6–20.9 %). Calibrating therefore means
// making more than half the served requests exit, most of them late.
//
// How: two knobs of the inputs, both named by specs 6.6, a lower offered
// load (fewer queued and dropped requests) and an easier data mix (Ease,
// the difficulty Beta's second parameter scaled up). A grid of load
// 0.20–0.60 (steps of 0.05) × ease 1–3 (steps of 0.25) was run for every
// model on both datasets and five base seeds (42, 1, 2, 3, 4), 100,000
// requests each; the choice below is the grid point with the most of those
// 10 median wins in the band, the base seed 42 in the band on both
// datasets where any point has it. Outcome (median win in the band / p25
// win in the paper's 16.0–37.3 %, of 10 runs; the p25 band is specs 10
// item 3):
//
//	model            load  ease  median  p25     seed 42 (amazon, imdb)
//	distilbert-base  0.30  1.25  10/10   10/10   16.4 %, 16.4 %
//	bert-base        0.40  2.00   8/10    0/10   17.0 %, −0.9 %
//	bert-large       0.20  2.00   8/10    0/10   16.8 %, 20.9 %
//	gpt2-medium      0.25  2.75   5/10    0/10   20.7 %, 16.8 %
//
// Only DistilBERT is calibrated on both numbers. The deeper models'
// controllers move their two ramps towards early candidates (specs 4.8),
// so once the median request exits, the 25th-percentile one exits early
// too and the p25 win is 57–83 %; no grid point keeps both in band, and
// BERT-base has none with seed 42 in the median band on both datasets.
// A steeper capability curve (γ = 1.5–3, specs 6.2 step 2) was tried for
// BERT-large and made matters worse (at most 3 of 10 median wins in band).
// The CV set needs no calibration: the prototype inputs give median wins
// in the paper's 40.5–91.5 % for every model.
var calibration = map[string]map[string]Override{
	NLP: {
		"distilbert-base": {Load: 0.30, Ease: 1.25},
		"bert-base":       {Load: 0.40, Ease: 2.00},
		"bert-large":      {Load: 0.20, Ease: 2.00},
		"gpt2-medium":     {Load: 0.25, Ease: 2.75},
	},
}
