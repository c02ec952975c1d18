package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatasetScript runs scripts/dataset.go under the interpreter and under
// `go run`, and checks that both print the same summary with the dataset's
// known counts (specs/pitot.md 1.2).
func TestDatasetScript(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	script := filepath.Join(root, "scripts", "dataset.go")
	// Build the command as `make` does and run it as a user would: inside
	// run(), os.Stdout would still be the test's.
	bin := filepath.Join(t.TempDir(), "yaegi")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "run", script)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("yaegi run: %v: %s", err, errb.String())
	}
	cmd = exec.Command("go", "run", script)
	cmd.Dir = root
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run: %v", err)
	}
	if out.String() != string(want) {
		t.Errorf("yaegi and go run differ:\n--- yaegi\n%s\n--- go run\n%s", out.String(), want)
	}
	// Scripts see their own arguments: flags parse as under go run.
	flags := filepath.Join(t.TempDir(), "flags.go")
	os.WriteFile(flags, []byte("package main\n\nimport (\n\t\"flag\"\n\t\"fmt\"\n)\n\nfunc main() {\n\tn := flag.Int(\"n\", 1, \"\")\n\tflag.Parse()\n\tfmt.Println(*n, flag.Args())\n}\n"), 0o644)
	if b, err := exec.Command(bin, "run", flags, "-n", "3", "x").Output(); err != nil || string(b) != "3 [x]\n" {
		t.Errorf("flags: %q, %v", b, err)
	}
	for _, s := range []string{"observations       53,637", "workloads             249", "platforms             231", "2-way          98,957", "1.18x"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, out.String())
		}
	}
}

func TestScriptErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.go")
	os.WriteFile(bad, []byte("package main\n\nimport \"github.com/paperlab/paperlab/lib/dataset\"\n\nfunc main() { dataset.NoSuchThing() }\n"), 0o644)
	var out, errb bytes.Buffer
	if rc := run([]string{"run", bad}, &out, &errb); rc == 0 || !strings.Contains(errb.String(), "NoSuchThing") {
		t.Errorf("undefined symbol: exit %d, stderr %q", rc, errb.String())
	}
	errb.Reset()
	panics := filepath.Join(dir, "panic.go")
	os.WriteFile(panics, []byte("package main\n\nfunc main() { panic(\"boom\") }\n"), 0o644)
	if rc := run([]string{"run", panics}, &out, &errb); rc == 0 || !strings.Contains(errb.String(), "boom") {
		t.Errorf("panic: exit %d, stderr %q", rc, errb.String())
	}
	if rc := run(nil, &out, &errb); rc != 2 {
		t.Errorf("no script: exit %d, want 2", rc)
	}
}
