package nn

import (
	"math"
	"testing"
)

// optimTol: the expected values below are exact rational arithmetic
// rounded to 17 digits; float64 evaluation differs by a few ulps of
// numbers ≈ 1, so 1e-14 is generous and any formula error (≳ 1e-9, the
// size of the eps terms) fails.
const optimTol = 1e-14

// twoSteps runs two optimizer steps on θ = [1, −2, 0.5] with gradients
// g1 = [0.1, −0.2, 0] and g2 = [0.05, 0.3, −0.1] and returns θ after each.
func twoSteps(newOpt func(*Params[float64]) Optimizer[float64]) (after1, after2 []float64, o Optimizer[float64]) {
	var ps Params[float64]
	p := ps.New("theta", 3)
	copy(p.Data, []float64{1, -2, 0.5})
	o = newOpt(&ps)
	copy(p.Grad, []float64{0.1, -0.2, 0})
	o.Step()
	after1 = append(after1, p.Data...)
	copy(p.Grad, []float64{0.05, 0.3, -0.1})
	o.Step()
	after2 = append(after2, p.Data...)
	return after1, after2, o
}

func checkClose(t *testing.T, name string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > optimTol*max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.17g, want %.17g", name, i, got[i], want[i])
		}
	}
}

// TestAdamaxW checks optax.adamaxw (specs/pitot.md 2.7) with lr 0.1,
// b1 0.9, b2 0.999, eps 1e-8, wd 0.01, worked by hand:
//
// Step 1 (bias correction 1−0.9 = 0.1):
//
//	m = 0.1·g1 = [0.01, −0.02, 0]
//	u = max(0, |g1| + eps) = [0.10000001, 0.20000001, 1e-8]
//	m/0.1/u = [0.1/0.10000001, −0.2/0.20000001, 0] = [0.9999999000000100, −0.9999999500000025, 0]
//	θ −= 0.1·(m/0.1/u + 0.01·θ):
//	θ0 = 1 − 0.1·(0.99999990000001 + 0.01)   = 0.89900000999999900
//	θ1 = −2 − 0.1·(−0.99999995 − 0.02)        = −1.8980000049999998
//	θ2 = 0.5 − 0.1·(0 + 0.005)                = 0.4995
//
// Step 2 (bias correction 1−0.81 = 0.19):
//
//	m = 0.9·m + 0.1·g2 = [0.014, 0.012, −0.01]
//	u = max(0.999·u, |g2| + eps)
//	  = [max(0.09990000999, 0.05000001), max(0.19980000999, 0.30000001), max(9.99e-9, 0.10000001)]
//	  = [0.09990000999, 0.30000001, 0.10000001]   (the first keeps the decayed max)
//	m/0.19 = [0.073684210526315789, 0.063157894736842105, −0.052631578947368421]
//	θ0 = 0.899000009999999 − 0.1·(0.0736842105/0.09990000999 + 0.00899000009999999) = 0.82434304887098453
//	θ1 = −1.8980000049999998 − 0.1·(0.0631578947/0.30000001 − 0.018980000049999998) = −1.9171546358721927
//	θ2 = 0.4995 − 0.1·(−0.0526315789/0.10000001 + 0.004995) = 0.55163207368421108
func TestAdamaxW(t *testing.T) {
	a1, a2, o := twoSteps(func(ps *Params[float64]) Optimizer[float64] {
		return NewAdamaxW(ps, 0.1, 0.9, 0.999, 1e-8, 0.01)
	})
	checkClose(t, "AdamaxW step 1: θ", a1, []float64{0.89900000999999900, -1.8980000049999998, 0.4995})
	checkClose(t, "AdamaxW step 2: θ", a2, []float64{0.82434304887098453, -1.9171546358721927, 0.55163207368421108})
	step, s := o.State()
	if step != 2 {
		t.Errorf("step count %d, want 2", step)
	}
	checkClose(t, "m", s["m/theta"], []float64{0.014, 0.012, -0.01})
	checkClose(t, "u", s["u/theta"], []float64{0.09990000999, 0.30000001, 0.10000001})
}

// TestAdam checks optax.adam with lr 0.1, b1 0.9, b2 0.999, eps 1e-8,
// worked by hand:
//
// Step 1: m = [0.01, −0.02, 0], v = 0.001·g1² = [1e-5, 4e-5, 0];
// m̂ = m/0.1 = [0.1, −0.2, 0], v̂ = v/0.001 = [0.01, 0.04, 0], √v̂ = [0.1, 0.2, 0];
// θ −= 0.1·m̂/(√v̂ + 1e-8):
//
//	θ0 = 1 − 0.1·0.1/0.10000001  = 0.90000000999999900
//	θ1 = −2 + 0.1·0.2/0.20000001 = −1.9000000049999998
//	θ2 = 0.5 − 0.1·0/1e-8        = 0.5
//
// Step 2: m = [0.014, 0.012, −0.01], v = 0.999·v + 0.001·g2²
// = [1.249e-5, 1.2996e-4, 1e-5]; m̂ = m/0.19, v̂ = v/(1 − 0.999²) = v/0.001999:
//
//	θ0 = 0.900000009999999 − 0.1·0.0736842105/(√0.0062481241 + 1e-8)  = 0.80678205791186997
//	θ1 = −1.9000000049999998 − 0.1·0.0631578947/(√0.0650125063 + 1e-8) = −1.924770185641943
//	θ2 = 0.5 + 0.1·0.0526315789/(√0.0050025013 + 1e-8)               = 0.57441367183564762
func TestAdam(t *testing.T) {
	a1, a2, o := twoSteps(func(ps *Params[float64]) Optimizer[float64] {
		return NewAdam(ps, 0.1, 0.9, 0.999, 1e-8)
	})
	checkClose(t, "Adam step 1: θ", a1, []float64{0.90000000999999900, -1.9000000049999998, 0.5})
	checkClose(t, "Adam step 2: θ", a2, []float64{0.80678205791186997, -1.924770185641943, 0.57441367183564762})
	_, s := o.State()
	checkClose(t, "v", s["v/theta"], []float64{1.249e-5, 1.2996e-4, 1e-5})
}

// TestOptimizerState checks that a state copied into a fresh optimizer
// continues exactly where the original was, and that SetState rejects a
// state of the wrong shape.
func TestOptimizerState(t *testing.T) {
	run := func(o Optimizer[float64], p *Param[float64], from, to int) {
		for k := from; k < to; k++ {
			for j := range p.Grad {
				p.Grad[j] = math.Sin(float64(3*k + j))
			}
			o.Step()
		}
	}
	for _, mk := range []func(*Params[float64]) Optimizer[float64]{
		func(ps *Params[float64]) Optimizer[float64] { return NewAdamaxW(ps, 0.01, 0.9, 0.999, 1e-8, 1e-4) },
		func(ps *Params[float64]) Optimizer[float64] { return NewAdam(ps, 0.01, 0.9, 0.999, 1e-8) },
	} {
		var ps1, ps2 Params[float64]
		p1, p2 := ps1.New("w", 2, 2), ps2.New("w", 2, 2)
		o1, o2 := mk(&ps1), mk(&ps2)
		run(o1, p1, 0, 3)
		step, s := o1.State()
		if err := o2.SetState(step, s); err != nil {
			t.Fatal(err)
		}
		copy(p2.Data, p1.Data)
		run(o1, p1, 3, 5)
		run(o2, p2, 3, 5) // o2 continues from the same state
		if s1, _ := o1.State(); s1 != 5 {
			t.Errorf("%T: step %d, want 5", o1, s1)
		}
		for j := range p1.Data {
			if p1.Data[j] != p2.Data[j] {
				t.Errorf("%T: restored run gives %g, want %g", o1, p2.Data[j], p1.Data[j])
			}
		}
		for k := range s {
			bad := map[string][]float64{k: {1}}
			if err := o2.SetState(1, bad); err == nil {
				t.Errorf("%T: SetState accepted a state without its other slots", o1)
			}
			break
		}
	}
}
