// Package repo locates the paperlab checkout, so that notebooks (which run
// in their own directory), scripts and tests all find data/, results/ and
// figures/ wherever they are started from.
package repo

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Module is the import path declared by the checkout's go.mod.
const Module = "github.com/paperlab/paperlab"

// Root returns the checkout's root directory: $PAPERLAB_ROOT when set,
// otherwise the nearest directory at or above the working directory whose
// go.mod declares Module.
func Root() (string, error) {
	if r := os.Getenv("PAPERLAB_ROOT"); r != "" {
		return filepath.Abs(r)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := RootFrom(wd)
	if err != nil {
		return "", fmt.Errorf("%w; set PAPERLAB_ROOT", err)
	}
	return root, nil
}

// RootFrom returns the nearest directory at or above dir whose go.mod
// declares Module.
func RootFrom(dir string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for dir := start; ; {
		if isRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("repo: no paperlab checkout (a go.mod declaring %s) at or above %s", Module, start)
		}
		dir = parent
	}
}

// Path joins elem onto the checkout's root.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root}, elem...)...), nil
}

func isRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == Module
		}
	}
	return false
}

// Rel returns path relative to the checkout's root when it lies inside it,
// and path unchanged otherwise, so that what results and figures record
// does not depend on where the checkout sits.
func Rel(path string) string {
	root, err := Root()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return filepath.ToSlash(rel)
}

// WriteFile writes data to path atomically: to a temporary file in the
// same directory (created if missing), then renamed over path, so that a
// reader, or a rerun after a crash, never sees a partial file. The file
// gets mode 0644; errors name the path.
func WriteFile(path string, data []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
