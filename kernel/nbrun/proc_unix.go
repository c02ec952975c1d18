//go:build unix

package nbrun

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// setProcessGroup makes the kernel lead its own process group, so that it
// and its children (the cell's program) can be killed together.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the kernel, its process group and every process
// descended from it (GoNB starts gopls in a group of its own).
func killProcessGroup(cmd *exec.Cmd) {
	killTree(cmd.Process.Pid)
}

// killTree kills process root, its process group and all its descendants.
// The tree is stopped first, so that nothing forks or is reparented while
// it is being collected.
func killTree(root int) {
	tree := append(descendants(root), root)
	for _, p := range tree {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	tree = append(tree, descendants(root)...)
	syscall.Kill(-root, syscall.SIGKILL)
	for _, p := range tree {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants lists the processes below root, from /proc (empty where
// there is no /proc: then only the process group is killed).
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// reaperEnv, when set in the environment of this program, makes it the
// reaper of startReaper instead of whatever it normally is.
const reaperEnv = "PAPERLAB_NBRUN_REAPER"

func init() {
	if v := os.Getenv(reaperEnv); v != "" {
		reap(v)
	}
}

// startReaper starts a small process that kills the kernel's tree (and
// removes its connection file) when this process dies, however it dies:
// even a SIGKILL, which runs none of our code, closes the pipe whose only
// writer we are. A normal close writes one byte first, and the reaper
// then leaves quietly. The reaper is this program again, with reaperEnv
// set; it sits in its own process group, so a Ctrl-C to ours does not
// reach it before we have cleaned up.
func startReaper(kernel int, connFile string) (done func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), reaperEnv+"="+strconv.Itoa(kernel)+":"+connFile)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, err
	}
	go cmd.Wait()
	return func() {
		w.Write([]byte{'q'})
		w.Close()
	}, nil
}

// reap is the reaper's whole life: wait for the pipe on stdin to close,
// then, unless told all is well, kill the kernel's tree.
func reap(arg string) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	pidText, connFile, _ := strings.Cut(arg, ":")
	b, _ := io.ReadAll(os.Stdin)
	if len(b) == 0 {
		if pid, err := strconv.Atoi(pidText); err == nil && pid > 1 {
			killTree(pid)
		}
		if strings.Contains(connFile, "kernel-") {
			os.Remove(connFile)
		}
	}
	os.Exit(0)
}
