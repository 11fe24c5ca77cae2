package main

import (
	"encoding/json"
	"fmt"

	"github.com/socplatform/soc/commands/vulns/cvss"
	"github.com/spf13/cobra"
)

// cvssCmd scores each vector and prints one JSON object per line. An invalid vector is reported
// on stderr naming the metric at fault; the exit code is then 2, after the valid ones are printed.
func cvssCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cvss VECTOR…",
		Short: "score CVSS v3.0/v3.1/v4.0 vectors, one JSON object per line",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			code := 0
			for _, v := range args {
				res, err := cvss.Score(v)
				if err != nil {
					// cvss.Error already names the metric and value at fault.
					fmt.Fprintf(cmd.ErrOrStderr(), "soc %v\n", err)
					code = 2
					continue
				}
				if err := enc.Encode(res); err != nil {
					return exitCode(1)
				}
			}
			return exit(code)
		},
	}
}
