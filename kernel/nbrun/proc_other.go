//go:build !unix

package nbrun

import "os/exec"

func setProcessGroup(cmd *exec.Cmd) {}

// killProcessGroup kills the kernel process (its children may survive).
func killProcessGroup(cmd *exec.Cmd) {
	cmd.Process.Kill()
}

// startReaper does nothing outside Unix: a killed nbrun may leave its
// kernel running there.
func startReaper(kernel int, connFile string) (done func(), err error) {
	return func() {}, nil
}
