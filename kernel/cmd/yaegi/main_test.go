package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	if rc := run([]string{"run", bad}, &out, &errb, os.Exit); rc == 0 || !strings.Contains(errb.String(), "NoSuchThing") {
		t.Errorf("undefined symbol: exit %d, stderr %q", rc, errb.String())
	}
	errb.Reset()
	panics := filepath.Join(dir, "panic.go")
	os.WriteFile(panics, []byte("package main\n\nfunc main() { panic(\"boom\") }\n"), 0o644)
	if rc := run([]string{"run", panics}, &out, &errb, os.Exit); rc == 0 || !strings.Contains(errb.String(), "boom") {
		t.Errorf("panic: exit %d, stderr %q", rc, errb.String())
	}
	if rc := run(nil, &out, &errb, os.Exit); rc != 2 {
		t.Errorf("no script: exit %d, want 2", rc)
	}
}

// TestExitCode checks that a script's os.Exit status and log.Fatal's reach
// the shell as they would under go run, with the script's message and no
// interpreter stack trace (stock yaegi panics and exits 2).
func TestExitCode(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "yaegi")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		body string
		rc   int
	}{
		{"fmt.Fprintln(os.Stderr, \"script: bad input\"); os.Exit(3)", 3},
		{"defer fmt.Println(\"deferred\"); fmt.Fprintln(os.Stderr, \"script: bad input\"); os.Exit(1)", 1},
		{"_ = os.Args; log.Fatalf(\"script: bad input %d\", 7)", 1},
		{"fmt.Println(\"fine\")", 0},
	} {
		src := "package main\n\nimport (\n\t\"fmt\"\n\t\"log\"\n\t\"os\"\n)\n\nvar _ = log.Printf\nvar _ = os.Exit\n\nfunc main() { " + c.body + " }\n"
		path := filepath.Join(dir, "s.go")
		os.WriteFile(path, []byte(src), 0o644)
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, "run", path)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		rc := 0
		if e, ok := err.(*exec.ExitError); ok {
			rc = e.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if rc != c.rc {
			t.Errorf("%s: exit %d, want %d; stderr %q", c.body, rc, c.rc, errb.String())
		}
		if s := errb.String(); strings.Contains(s, "panic") || strings.Contains(s, "goroutine") || strings.Count(s, "\n") > 1 {
			t.Errorf("%s: stderr is not the script's one line: %q", c.body, s)
		}
		if c.rc != 0 && !strings.Contains(errb.String(), "script: bad input") {
			t.Errorf("%s: message lost: %q", c.body, errb.String())
		}
		if strings.Contains(out.String(), "deferred") {
			t.Errorf("%s: os.Exit ran deferred calls, as go run would not", c.body)
		}
	}
}

// TestTrainSignal sends SIGTERM (what timeout, Docker and Slurm send) to
// scripts/train.go under the interpreter in the middle of a run: the run
// saves a checkpoint, no other run starts, and the command exits 1 with one
// line saying so; rerunning resumes from the checkpoint.
func TestTrainSignal(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	bin := filepath.Join(t.TempDir(), "yaegi")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	dir := t.TempDir()
	args := []string{"run", filepath.Join(root, "scripts", "train.go"), "-preset", "pitot", "-profile", "paper",
		"-levels", "0.5", "-workers", "1", "-results", filepath.Join(dir, "results"), "-splits", filepath.Join(dir, "splits")}
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(errb.String(), "step ") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	rc := -1
	if e, ok := err.(*exec.ExitError); ok {
		rc = e.ExitCode()
	}
	if rc != 1 || !strings.Contains(errb.String(), "interrupted") || strings.Contains(errb.String(), "goroutine") {
		t.Fatalf("after SIGTERM: exit %d (%v), stderr %q", rc, err, errb.String())
	}
	ckpts, _ := filepath.Glob(filepath.Join(dir, "results", "pitot", "0.5", "*.ckpt.npz"))
	results, _ := filepath.Glob(filepath.Join(dir, "results", "pitot", "0.5", "[0-9].npz"))
	if len(ckpts) != 1 || len(results) != 0 {
		t.Errorf("after SIGTERM: checkpoints %v, results %v; want the one run in flight checkpointed", ckpts, results)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestScriptsFailLoudly: results.go and evaluate.go meet a damaged result
// file; each names it and exits 1 instead of skipping the preset and
// exiting 0.
func TestScriptsFailLoudly(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	bin := filepath.Join(t.TempDir(), "yaegi")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "results", "pitot", "0.5", "0.npz")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, nil, 0o644)
	for _, args := range [][]string{
		{"scripts/results.go", "-preset", "pitot", "-results", filepath.Join(dir, "results")},
		{"scripts/evaluate.go", "-preset", "pitot", "-profile", "quick", "-results", filepath.Join(dir, "results"),
			"-splits", filepath.Join(dir, "splits"), "-summary", filepath.Join(dir, "summary")},
	} {
		cmd := exec.Command(bin, append([]string{"run"}, args...)...)
		cmd.Dir = root
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		rc := 0
		if e, ok := err.(*exec.ExitError); ok {
			rc = e.ExitCode()
		}
		if rc != 1 || !strings.Contains(errb.String(), bad) || strings.Contains(errb.String(), "goroutine") {
			t.Errorf("%s on a damaged result: exit %d, stderr %q; want 1 and the file named", args[0], rc, errb.String())
		}
	}
}
