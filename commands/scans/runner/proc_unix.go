//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts nmap in its own process group and makes cancellation kill the whole
// group: nmap may start helpers, and a killed parent must not leave them scanning.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
