package train

import (
	"github.com/paperlab/paperlab/lib/nn"
	"github.com/paperlab/paperlab/lib/pitot"
)

// headLoss computes the loss of one objective's batch over all heads
// (predictions head-major, as pitot.Model writes them), weighted by the
// heads' loss weights λ_n (1 for squared and percent; 1/N for pinball, as
// specs/pitot.md 2.1), and writes its gradient times scale into dout. It
// returns Σ_n λ_n · mean loss of head n.
func headLoss(c pitot.Config, pred, target, dout []float32, scale float32) float32 {
	n := len(target)
	heads := len(pred) / n
	var total float32
	for h := range heads {
		p, dp := pred[h*n:(h+1)*n], dout[h*n:(h+1)*n]
		switch c.Loss {
		case pitot.LossPinball:
			lambda := 1 / float32(heads)
			alpha := float32(1 - c.Quantiles[h]/100)
			total += lambda * nn.Pinball(alpha, p, target, dp, scale*lambda)
		case pitot.LossPercent:
			total += nn.PercentError(false, p, target, dp, scale)
		default:
			total += nn.Squared(p, target, dp, scale)
		}
	}
	return total
}
