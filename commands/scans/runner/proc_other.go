//go:build !unix

package runner

import "os/exec"

// setProcessGroup: without process groups only nmap itself is killed on cancel.
func setProcessGroup(*exec.Cmd) {}
