// Package kernel holds the scripts that set up a machine for paperlab
// (blas.sh, lab.sh) and, in its subfolders, the notebook runner and the
// script interpreter. These tests run the setup scripts as make does.
package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// script runs sh name with the given environment only.
func script(t *testing.T, name string, env ...string) (stdout, stderr string, rc int) {
	t.Helper()
	cmd := exec.Command("sh", name)
	cmd.Env = env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		rc = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), rc
}

// TestBLASAnyUser: with a normal user's PATH, which lacks /sbin and
// /usr/sbin where ldconfig lives, blas.sh still finds an installed
// OpenBLAS instead of silently choosing the ~5x slower pure-Go BLAS.
func TestBLASAnyUser(t *testing.T) {
	libs, _ := filepath.Glob("/usr/lib/*/libopenblas.so")
	if len(libs) == 0 {
		t.Skip("libopenblas-dev is not installed")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	out, errs, _ := script(t, "blas.sh", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME="+t.TempDir())
	if strings.TrimSpace(out) != "openblas" {
		t.Errorf("blas.sh with a user's PATH printed %q (stderr %q), want openblas (%s is installed)", out, errs, libs[0])
	}
}

// TestLab: lab.sh finds Jupyter on PATH or where pipx puts it, passes
// --allow-root to it when run as root, and without Jupyter gives install
// advice that works on Debian 12 (no bare pip install) and exits 1.
func TestLab(t *testing.T) {
	home := t.TempDir()
	fake := filepath.Join(home, ".local", "bin")
	os.MkdirAll(fake, 0o755)
	os.WriteFile(filepath.Join(fake, "jupyter-lab"), []byte("#!/bin/sh\necho \"$@\"\n"), 0o755)
	// Found in ~/.local/bin (pipx) though not on PATH.
	out, errs, rc := script(t, "lab.sh", "PATH=/usr/bin:/bin", "HOME="+home, "LAB_FIND=1")
	if rc != 0 || !strings.Contains(out, filepath.Join(fake, "jupyter-lab")+" --notebook-dir=notebooks") {
		t.Fatalf("lab.sh: exit %d, %q %q", rc, out, errs)
	}
	root := os.Geteuid() == 0
	if strings.Contains(out, "--allow-root") != root {
		t.Errorf("running as root %v, command %q", root, out)
	}
	// And it runs it.
	out, _, rc = script(t, "lab.sh", "PATH=/usr/bin:/bin", "HOME="+home)
	if rc != 0 || !strings.HasPrefix(out, "--notebook-dir=notebooks") {
		t.Errorf("lab.sh ran jupyter-lab with %q (exit %d)", out, rc)
	}

	out, errs, rc = script(t, "lab.sh", "PATH=/nonexistent", "HOME="+t.TempDir())
	if rc != 1 || out != "" {
		t.Errorf("without Jupyter: exit %d, stdout %q", rc, out)
	}
	for _, want := range []string{"pipx install jupyterlab", "python3 -m venv", "apt-get install jupyter-notebook", "make figures"} {
		if !strings.Contains(errs, want) {
			t.Errorf("install advice lacks %q:\n%s", want, errs)
		}
	}
}
