package pitotfig

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperlab/paperlab/lib/dataset"
)

// TestInterference draws the figure from the shipped data: one 2-way panel,
// and a note with the fractions of specs/pitot.md 1.2 (if2: .562 within
// 1.25x, .911 within 2x, maximum bin [9.50, 9.75)).
func TestInterference(t *testing.T) {
	p, err := dataset.LoadPitot("../../data/pitot")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Interference(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 1 || len(f.Panels[0]) != 1 {
		t.Fatalf("panels %dx%d, want 1x1", len(f.Panels), len(f.Panels[0]))
	}
	for _, s := range []string{"2-way: n=98,957", "56.2% <= 1.25x", "91.1% <= 2x", "max 9.51x", "data: data/pitot"} {
		if !strings.Contains(f.Note, s) {
			t.Errorf("note lacks %q: %s", s, f.Note)
		}
	}
	if len(InterferenceEdges) != 81 || InterferenceEdges[1] != 1.25 {
		t.Errorf("edges %v", InterferenceEdges[:2])
	}
	paths, err := f.Save(t.TempDir())
	if err != nil || len(paths) != 2 || filepath.Base(paths[0]) != "interference.svg" || filepath.Base(paths[1]) != "interference.pdf" {
		t.Errorf("saved %v, %v", paths, err)
	}

	// With 3- and 4-way sets present, there is a panel per set.
	p.Interference[3] = p.Interference[2]
	p.Interference[4] = p.Interference[2]
	if f, err = Interference(p); err != nil || len(f.Panels[0]) != 3 || f.Panel(0, 2).Title.Text != "4-way interference" {
		t.Errorf("with 3 sets: %v", err)
	}
	delete(p.Interference, 2)
	delete(p.Interference, 3)
	delete(p.Interference, 4)
	if _, err := Interference(p); err == nil {
		t.Error("no error without interference sets")
	}
}

// TestPlatformCategories checks the groups of every platform in the data
// against the tables of the paper's by_platform_category script: runtime
// modes and families by runtime name, device classes by device.
func TestPlatformCategories(t *testing.T) {
	m, err := dataset.LoadMatrix("../../data/pitot/data.npz")
	if err != nil {
		t.Fatal(err)
	}
	mode := map[string]string{"iwasm-a": "AOT", "iwasm-i": "Interpreted", "wasm3-i": "Interpreted", "wasmedge-i": "Interpreted",
		"wasmer-a-cl": "AOT", "wasmer-a-ll": "AOT", "wasmer-j-cl": "JIT", "wasmer-j-sp": "JIT", "wasmtime-a": "AOT", "wasmtime-j": "JIT"}
	family := map[string]string{"iwasm-a": "WAMR", "iwasm-i": "WAMR", "wasm3-i": "Wasm3", "wasmedge-i": "WasmEdge",
		"wasmer-a-cl": "Wasmer", "wasmer-a-ll": "Wasmer", "wasmer-j-cl": "Wasmer", "wasmer-j-sp": "Wasmer", "wasmtime-a": "Wasmtime", "wasmtime-j": "Wasmtime"}
	const amd, intel, arm, other = "x86/AMD", "x86/Intel", "ARM A-class", "Other"
	device := map[string]string{"hc-10": amd, "hc-11": intel, "hc-12": intel, "hc-13": amd, "hc-14": amd,
		"hc-15": intel, "hc-16": amd, "hc-17": intel, "hc-18": intel, "hc-19": intel,
		"hc-20": arm, "hc-21": arm, "hc-24": arm, "hc-25": arm, "hc-26": arm,
		"hc-27": arm, "hc-28": arm, "hc-29": arm, "hc-31": intel, "hc-33": intel,
		"hc-34": intel, "hc-35": intel, "hc-42": other, "hc-43": arm, "hc-80": other}
	arch := Architectures(m)
	for i, n := range m.Platforms.Names {
		rt, dev := dataset.Runtime(n), dataset.Device(n)
		if got := Execution(n); got != mode[rt] {
			t.Errorf("%s: execution %q, want %q", n, got, mode[rt])
		}
		if got := RuntimeFamily(n); got != family[rt] {
			t.Errorf("%s: runtime %q, want %q", n, got, family[rt])
		}
		if got := DeviceClass(arch[i]); got != device[dev] {
			t.Errorf("%s: device class %q, want %q", n, got, device[dev])
		}
	}
}
