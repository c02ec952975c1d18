package nbrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// requireKernel skips the test when GoNB cannot run here, or fails it when
// PAPERLAB_REQUIRE_KERNEL=1.
func requireKernel(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gonb", "goimports", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " is not on PATH; install with `go install tool` and " +
				"`go install golang.org/x/tools/cmd/goimports@v0.52.0` (see kernel/cmd/nbrun)"
			if os.Getenv("PAPERLAB_REQUIRE_KERNEL") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// logWriter sends Run's progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// copyTestdata copies testdata/name into a fresh folder and returns its path.
func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cells reads the notebook at path as generic JSON.
func cells(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct{ Cells []map[string]any }
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return nb.Cells
}

// outputsOf returns a cell's outputs.
func outputsOf(cell map[string]any) []map[string]any {
	var outs []map[string]any
	for _, o := range cell["outputs"].([]any) {
		outs = append(outs, o.(map[string]any))
	}
	return outs
}

// text joins a multi-line nbformat string.
func text(v any) string {
	var b strings.Builder
	for _, l := range v.([]any) {
		b.WriteString(l.(string))
	}
	return b.String()
}

// TestRunGoNB runs the testdata notebooks with the repository's GoNB
// kernelspec. It takes about 10 s with a warm build cache (a cold one adds
// about 20 s), so it runs under -short too.
func TestRunGoNB(t *testing.T) {
	requireKernel(t)
	opt := Options{KernelSpec: FindKernelSpec("."), Log: logWriter{t}, CellTimeout: 5 * time.Minute}
	if opt.KernelSpec == "" {
		t.Fatal("no repository kernelspec")
	}

	// The failing notebook runs first: its go get also fills the module
	// cache, so that the good notebook's first cell prints the same twice.
	t.Run("failing cell", func(t *testing.T) {
		path := copyTestdata(t, "fail.ipynb")
		err := Run(t.Context(), path, "", opt)
		var ce *CellError
		if !errors.As(err, &ce) {
			t.Fatalf("Run = %v, want a *CellError", err)
		}
		if ce.Cell != 2 || ce.Notebook != path || ce.EName == "" ||
			!strings.HasPrefix(err.Error(), path+": cell 2: ") {
			t.Errorf("CellError %+v (%q), want cell 2 of %s", ce, err, path)
		}
		c := cells(t, path)
		if c[0]["execution_count"] != 1.0 || c[1]["execution_count"] != 2.0 || c[2]["execution_count"] != nil {
			t.Errorf("execution counts %v %v %v, want 1 2 null", c[0]["execution_count"], c[1]["execution_count"], c[2]["execution_count"])
		}
		var stdout, stderr string
		hasError := false
		for _, o := range outputsOf(c[1]) {
			switch o["output_type"] {
			case "stream":
				if o["name"] == "stdout" {
					stdout += text(o["text"])
				} else {
					stderr += text(o["text"])
				}
			case "error":
				hasError = true
			}
		}
		if !hasError || stdout != "before the panic\n" || !strings.Contains(stderr, "panic: boom") {
			t.Errorf("cell 2 outputs %v: want stdout, the panic on stderr and an error output", c[1]["outputs"])
		}
		if len(outputsOf(c[2])) != 0 {
			t.Errorf("cell 3 ran: %v", c[2]["outputs"])
		}

		// With AllowErrors the run goes on and succeeds.
		allow := opt
		allow.AllowErrors = true
		if err := Run(t.Context(), path, "", allow); err != nil {
			t.Fatalf("Run with AllowErrors = %v", err)
		}
		c = cells(t, path)
		if outs := outputsOf(c[2]); c[2]["execution_count"] != 3.0 || len(outs) != 1 || text(outs[0]["text"]) != "after the failure\n" {
			t.Errorf("with AllowErrors cell 3 = %v", c[2])
		}
	})

	t.Run("good notebook", func(t *testing.T) {
		path := copyTestdata(t, "hello.ipynb")
		if err := Run(t.Context(), path, "", opt); err != nil {
			t.Fatal(err)
		}
		c := cells(t, path)
		if len(c) != 4 || c[1]["cell_type"] != "markdown" {
			t.Fatalf("cells changed: %v", c)
		}
		if _, ok := c[1]["outputs"]; ok {
			t.Errorf("markdown cell got outputs: %v", c[1])
		}
		for i, want := range []any{1.0, nil, 2.0, 3.0} {
			if c[i]["execution_count"] != want {
				t.Errorf("cell %d execution_count = %v, want %v", i+1, c[i]["execution_count"], want)
			}
		}
		// Consecutive prints are merged into one stream output, as in Jupyter.
		want := []map[string]any{{"name": "stdout", "output_type": "stream",
			"text": []any{"hello from nbrun\n", "second line\n"}}}
		if got := outputsOf(c[2]); !reflect.DeepEqual(got, want) {
			t.Errorf("cell 3 outputs = %v, want %v", got, want)
		}
		// The updated display shows its last content.
		var html []string
		for _, o := range outputsOf(c[3]) {
			if o["output_type"] == "display_data" {
				html = append(html, text(o["data"].(map[string]any)["text/html"]))
			}
		}
		if !reflect.DeepEqual(html, []string{"<b>final</b>", "<p>café & π</p>"}) {
			t.Errorf("cell 4 HTML outputs = %q", html)
		}
		if tags := c[3]["metadata"].(map[string]any)["tags"]; !reflect.DeepEqual(tags, []any{"keep-me"}) {
			t.Errorf("cell 4 metadata lost: %v", c[3]["metadata"])
		}

		// A second run, into another file, gives the same bytes.
		first, _ := os.ReadFile(path)
		out := filepath.Join(t.TempDir(), "again.ipynb")
		if err := Run(t.Context(), path, out, opt); err != nil {
			t.Fatal(err)
		}
		if second, _ := os.ReadFile(out); !bytes.Equal(first, second) {
			t.Errorf("second run differs:\n%s", firstDiff(second, first))
		}
	})

	t.Run("timeout", func(t *testing.T) {
		path := copyTestdata(t, "slow.ipynb")
		slow := opt
		slow.CellTimeout = 10 * time.Second
		start := time.Now()
		err := Run(t.Context(), path, "", slow)
		var ce *CellError
		if !errors.As(err, &ce) || ce.Cell != 2 || ce.EName != "timeout" {
			t.Fatalf("Run = %v, want a timeout in cell 2", err)
		}
		if d := time.Since(start); d > slow.CellTimeout+30*time.Second {
			t.Errorf("Run took %v after a timeout", d)
		}
		c := cells(t, path)
		if outs := outputsOf(c[1]); len(outs) == 0 || text(outs[0]["text"]) != "sleeping\n" || len(outputsOf(c[2])) != 0 {
			t.Errorf("outputs after the timeout: %v, %v", c[1]["outputs"], c[2]["outputs"])
		}
	})
}

// TestWiringAnyDepth runs the wiring cell the shipped notebooks open with
// (taken from one of them) in notebooks at three depths of the checkout,
// among them the top of notebooks/ where Jupyter's "New" puts one, followed
// by a cell that calls the library; and once outside any checkout, where
// the cell must fail and say why instead of reporting success.
func TestWiringAnyDepth(t *testing.T) {
	requireKernel(t)
	opt := Options{KernelSpec: FindKernelSpec("."), Log: logWriter{t}, CellTimeout: 5 * time.Minute}
	root, _ := filepath.Abs("../..")
	var wiring string
	for _, c := range cells(t, filepath.Join(root, "notebooks", "pitot", "coverage.ipynb")) {
		if s := text(c["source"]); strings.HasPrefix(s, "!*") && strings.Contains(s, "go mod edit") {
			wiring = s
			break
		}
	}
	if wiring == "" {
		t.Fatal("no wiring cell in notebooks/pitot/coverage.ipynb")
	}
	nb := func(path string) {
		cell := func(src string) map[string]any {
			return map[string]any{"cell_type": "code", "execution_count": nil, "metadata": map[string]any{}, "outputs": []any{}, "source": []any{src}}
		}
		b, _ := json.Marshal(map[string]any{"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{},
			"cells": []any{cell(wiring), cell("import \"github.com/paperlab/paperlab/lib/repo\"\n\n%%\nr, err := repo.Root()\nfmt.Println(\"root\", r, err)"),
				cell("import \"github.com/paperlab/paperlab/lib/npz\"\n\n%%\nfmt.Println(npz.MaxDims)")}})
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(root, "notebooks", fmt.Sprintf(".wiring-test-%d", os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(tmp); os.Remove(tmp + ".ipynb") })
	for _, path := range []string{tmp + ".ipynb", filepath.Join(tmp, "a", "b", "deep.ipynb")} {
		nb(path)
		if err := Run(t.Context(), path, "", opt); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c := cells(t, path)
		var out string
		for _, o := range outputsOf(c[1]) {
			if o["output_type"] == "stream" {
				out += text(o["text"])
			}
		}
		if !strings.Contains(out, "root "+root+" <nil>") {
			t.Errorf("%s: library cell printed %q, want the checkout %s", path, out, root)
		}
	}
	outside := filepath.Join(t.TempDir(), "outside.ipynb")
	nb(outside)
	err := Run(t.Context(), outside, "", opt)
	var ce *CellError
	if !errors.As(err, &ce) || ce.Cell != 1 {
		t.Fatalf("outside a checkout: Run = %v, want the wiring cell to fail", err)
	}
	var msg string
	for _, o := range outputsOf(cells(t, outside)[0]) {
		if o["output_type"] == "stream" {
			msg += text(o["text"])
		}
	}
	if !strings.Contains(msg, "no paperlab checkout") {
		t.Errorf("outside a checkout the wiring cell said %q", msg)
	}
}
