package yaegisym

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/traefik/yaegi/extract"
)

var update = flag.Bool("update", false, "regenerate gen_*.go instead of checking them")

// TestGenerated regenerates the symbol tables in memory and fails when the
// checked-in gen_*.go differ: a library symbol added, removed or changed
// without `go generate ./kernel/yaegisym`. With -update it rewrites them.
func TestGenerated(t *testing.T) {
	list, err := os.ReadFile("packages.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	ext := extract.Extractor{Dest: "yaegisym"}
	name := strings.NewReplacer("/", "-", ".", "_", "~", "_")
	for _, pkg := range strings.Fields(string(list)) {
		var buf bytes.Buffer
		importPath, err := ext.Extract(pkg, "yaegisym", &buf)
		if err != nil {
			t.Fatalf("extract %s: %v", pkg, err)
		}
		want["gen_"+name.Replace(importPath)+".go"] = buf.Bytes()
	}
	have, _ := filepath.Glob("gen_*.go")
	if *update {
		for _, f := range have {
			os.Remove(f)
		}
		for f, b := range want {
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, f := range have {
		if _, ok := want[f]; !ok {
			t.Errorf("%s is not generated from packages.txt: run go generate ./kernel/yaegisym", f)
		}
	}
	for f, b := range want {
		got, err := os.ReadFile(f)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is stale: run go generate ./kernel/yaegisym", f)
		}
	}
}

// TestSymbols checks that the tables reach the entry points scripts use.
func TestSymbols(t *testing.T) {
	for _, sym := range []string{
		"github.com/paperlab/paperlab/lib/dataset/dataset.LoadPitot",
		"github.com/paperlab/paperlab/lib/figure/figure.New",
		"github.com/paperlab/paperlab/lib/npz/npz.Open",
	} {
		pkg, name := sym[:strings.LastIndex(sym, ".")], sym[strings.LastIndex(sym, ".")+1:]
		if _, ok := Symbols[pkg][name]; !ok {
			t.Errorf("no symbol %s", sym)
		}
	}
}
