//go:build linux

package nbrun

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReaperHelper is not a test: TestKernelDiesWithNbrun runs the test
// binary with it selected to stand in for nbrun holding a kernel.
func TestReaperHelper(t *testing.T) {
	if os.Getenv("NBRUN_REAPER_HELPER") == "" {
		t.Skip("helper process for TestKernelDiesWithNbrun")
	}
	// A "kernel" with a child in its group and one in a group of its own,
	// as GoNB's gopls is.
	cmd := exec.Command("sh", "-c", "setsid sleep 300 & sleep 300 & wait")
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := startReaper(cmd.Process.Pid, ""); err != nil {
		t.Fatal(err)
	}
	for len(descendants(cmd.Process.Pid)) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("kernel %d\n", cmd.Process.Pid)
	time.Sleep(time.Minute)
}

// alive reports whether pid is a process that is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestKernelDiesWithNbrun SIGKILLs a process holding a kernel, which runs
// no cleanup code, and checks that the kernel and all its descendants die
// with it.
func TestKernelDiesWithNbrun(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid command")
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestReaperHelper$")
	helper.Env = append(os.Environ(), "NBRUN_REAPER_HELPER=1")
	out, _ := helper.StdoutPipe()
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	sc := bufio.NewScanner(out)
	kernel := 0
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "kernel %d", &kernel); err == nil {
			break
		}
	}
	if kernel == 0 {
		t.Fatal("helper did not start its kernel")
	}
	tree := append(descendants(kernel), kernel)
	if len(tree) < 3 {
		t.Fatalf("kernel tree %v, want the kernel and two children", tree)
	}
	defer func() {
		for _, p := range tree {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}()
	helper.Process.Signal(syscall.SIGKILL)
	helper.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range tree {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(p) {
			t.Errorf("process %d of the kernel's tree %v outlived its SIGKILLed parent", p, tree)
		}
	}
}
