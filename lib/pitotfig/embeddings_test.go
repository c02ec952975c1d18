package pitotfig

import (
	"math"
	"testing"

	"github.com/paperlab/paperlab/lib/dataset"
)

// TestSpectralNorm checks ‖V_sᵀ V_g‖₂ on hand cases: with s = 1 it is
// |v_s|·|v_g|.
func TestSpectralNorm(t *testing.T) {
	if got := spectralNorm([]float32{3, 4}, []float32{1, 0}, 1, 2); math.Abs(got-5) > 1e-9 {
		t.Errorf("rank 1: %v, want 5", got)
	}
	// F = V_sᵀ V_g = [[3,0],[0,2]]·[[1,1],[0,4]] = [[3,3],[0,8]]; its largest
	// singular value is sqrt of the largest eigenvalue of FᵀF = [[9,9],[9,73]].
	got := spectralNorm([]float32{3, 0, 0, 2}, []float32{1, 1, 0, 4}, 2, 2)
	want := math.Sqrt((82 + math.Sqrt(64*64+4*81)) / 2)
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("rank 2: %v, want %v", got, want)
	}
}

// TestArchitectures checks the families read from the uarch features
// against the device list of specs/pitot.md 1.2: hc-42 is the RISC-V board,
// hc-80 the Cortex-M7, hc-10 an AMD Ryzen, hc-11 an Intel i7.
func TestArchitectures(t *testing.T) {
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	arch := Architectures(p.Matrix)
	want := map[string]string{"hc-42": "RISC-V", "hc-80": "ARM-M", "hc-10": "AMD", "hc-11": "Intel", "hc-21": "ARM-A"}
	for i, n := range p.Matrix.Platforms.Names {
		if w, ok := want[dataset.Device(n)]; ok && arch[i] != w {
			t.Errorf("%s: %s, want %s", n, arch[i], w)
		}
	}
}
