package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/socplatform/soc/commands/vulns/cvss"
)

// runCVSS scores each vector and prints one JSON object per line. An invalid vector is reported
// on stderr naming the metric at fault; the exit code is then 2, after the valid ones are printed.
func runCVSS(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: soc cvss VECTOR…   (CVSS:3.0, CVSS:3.1 or CVSS:4.0 vectors)")
		return 2
	}
	enc := json.NewEncoder(stdout)
	code := 0
	for _, v := range args {
		res, err := cvss.Score(v)
		if err != nil {
			// cvss.Error already names the metric and value at fault.
			fmt.Fprintf(stderr, "soc %v\n", err)
			code = 2
			continue
		}
		if err := enc.Encode(res); err != nil {
			return 1
		}
	}
	return code
}
