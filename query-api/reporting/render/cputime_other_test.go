//go:build !unix

package render_test

import "time"

// cpuTime is not measured here: the benchmark reports the wall clock only.
func cpuTime() (time.Duration, bool) { return 0, false }
