//go:build unix

package render_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (user and system, every thread): on a shared
// machine the wall clock of a benchmark says more about the neighbours than about the code.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
