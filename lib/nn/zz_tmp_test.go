package nn

import (
	"testing"
)

func adamaxPlain(x, g, m, u []float32, b1, b2, eps, wd, lr, bc float32) {
	c1 := 1 - b1
	g = g[:len(x)]
	m = m[:len(x)]
	u = u[:len(x)]
	for j, gj := range g {
		mj := b1*m[j] + c1*gj
		ag := gj
		if ag < 0 {
			ag = -ag
		}
		uj := b2 * u[j]
		if a := ag + eps; a > uj {
			uj = a
		}
		m[j], u[j] = mj, uj
		x[j] -= lr * ((mj/bc)/uj + wd*x[j])
	}
}

func BenchmarkTmpAdamax(b *testing.B) {
	var ps Params[float32]
	p := ps.New("all", 82304)
	for i := range p.Grad {
		p.Grad[i] = float32(i%100-50) / 50
	}
	o := NewAdamaxW(&ps, 1e-3, 0.9, 0.999, 1e-8, 1e-4)
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			o.Step()
		}
	})
	m, u := make([]float32, len(p.Data)), make([]float32, len(p.Data))
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			adamaxPlain(p.Data, p.Grad, m, u, 0.9, 0.999, 1e-8, 1e-4, 1e-3, 0.5)
		}
	})
	b.Run("scale", func(b *testing.B) {
		for b.Loop() {
			for i, v := range p.Grad {
				m[i] = v * 2
			}
		}
	})
}
