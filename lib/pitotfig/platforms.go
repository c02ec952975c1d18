package pitotfig

import (
	"fmt"
	"strings"

	"github.com/paperlab/paperlab/lib/dataset"
	"github.com/paperlab/paperlab/lib/figure"
	"github.com/paperlab/paperlab/lib/train"
)

// Execution returns how a platform's runtime runs WebAssembly: "AOT",
// "Interpreted" or "JIT", from the mode letter of its runtime name
// ("wasmer-j-cl:hc-10" is Wasmer's JIT with the Cranelift backend).
func Execution(platform string) string {
	parts := strings.Split(dataset.Runtime(platform), "-")
	if len(parts) > 1 {
		switch parts[1] {
		case "a":
			return "AOT"
		case "i":
			return "Interpreted"
		case "j":
			return "JIT"
		}
	}
	return "other"
}

// RuntimeFamily returns the WebAssembly runtime of a platform: WAMR
// (iwasm), Wasm3, WasmEdge, Wasmer or Wasmtime.
func RuntimeFamily(platform string) string {
	name, _, _ := strings.Cut(dataset.Runtime(platform), "-")
	switch name {
	case "iwasm":
		return "WAMR"
	case "wasm3":
		return "Wasm3"
	case "wasmedge":
		return "WasmEdge"
	case "wasmer":
		return "Wasmer"
	case "wasmtime":
		return "Wasmtime"
	}
	return name
}

// DeviceClass returns the device group of the by_platform_category
// figure from an architecture of Architectures: x86/AMD, x86/Intel,
// ARM A-class, or Other (RISC-V and the Cortex-M microcontroller).
func DeviceClass(arch string) string {
	switch arch {
	case "AMD":
		return "x86/AMD"
	case "Intel":
		return "x86/Intel"
	case "ARM-A":
		return "ARM A-class"
	}
	return "Other"
}

// ByPlatformCategory draws by_platform_category (specs/pitot.md section
// 6): box plots of the per-platform mean test error, grouped by execution
// mode, by device class and by runtime. errs[p] holds platform p's test
// errors (experiment.Lab.PlatformErrors); a platform without any is left
// out.
func ByPlatformCategory(errs [][]float64, m *dataset.Matrix, preset string, level float64, src train.Profile) (*figure.Figure, error) {
	names := m.Platforms.Names
	if len(errs) != len(names) {
		return nil, fmt.Errorf("pitotfig: by_platform_category: %d error lists for %d platforms", len(errs), len(names))
	}
	arch := Architectures(m)
	panels := []struct {
		title  string
		groups []string
		of     func(p int) string
	}{
		{"Execution", []string{"AOT", "Interpreted", "JIT"}, func(p int) string { return Execution(names[p]) }},
		{"Device", []string{"x86/AMD", "x86/Intel", "ARM A-class", "Other"}, func(p int) string { return DeviceClass(arch[p]) }},
		{"Runtime", []string{"WAMR", "Wasm3", "WasmEdge", "Wasmer", "Wasmtime"}, func(p int) string { return RuntimeFamily(names[p]) }},
	}
	f := figure.New("pitot", "by_platform_category", 1, len(panels))
	f.Width, f.Height = 11*72, 3.8*72
	used := 0
	for j, pn := range panels {
		values := make([][]float64, len(pn.groups))
		index := map[string]int{}
		for i, g := range pn.groups {
			index[g] = i
		}
		for p, e := range errs {
			if len(e) == 0 {
				continue
			}
			i, ok := index[pn.of(p)]
			if !ok {
				return nil, fmt.Errorf("pitotfig: by_platform_category: platform %s has no %s group", names[p], strings.ToLower(pn.title))
			}
			var sum float64
			for _, x := range e {
				sum += x
			}
			values[i] = append(values[i], 100*sum/float64(len(e)))
			if j == 0 {
				used++
			}
		}
		p := f.Panel(0, j)
		p.Title.Text = pn.title
		p.Y.Label.Text = "Per-platform test MAPE (%)"
		if _, err := figure.BoxPlots(p, pn.groups, values); err != nil {
			return nil, err
		}
		// The paper's range, 0-25 %, stretched when a platform lies above.
		top := 25.0
		for _, v := range values {
			for _, x := range v {
				top = max(top, 1.05*x)
			}
		}
		figure.ClipY(p, 0, top)
	}
	f.ShareY(false)
	f.Note = fmt.Sprintf("profile %s: preset %s at %.0f %% data, %d platforms; each platform's mean |t / t̂ − 1| over its mf test observations of %d replicates", src.Name, preset, 100*level, used, src.Replicates)
	return f, nil
}
