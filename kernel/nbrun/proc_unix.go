//go:build unix

package nbrun

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes the kernel lead its own process group, so that it
// and its children (gopls, the cell's program) can be killed together.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the kernel's process group.
func killProcessGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
