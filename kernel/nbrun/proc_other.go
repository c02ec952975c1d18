//go:build !unix

package nbrun

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

// killProcessGroup kills the kernel process (its children may survive).
func killProcessGroup(cmd *exec.Cmd) {
	cmd.Process.Kill()
}
