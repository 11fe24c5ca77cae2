package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/spf13/cobra"
)

// sagasCmd inspects saga instances: their state, timers, commands and full history are folds
// of their event streams, so this reads the store directly (also while `soc serve` runs).
func sagasCmd() *cobra.Command {
	return group(&cobra.Command{Use: "sagas", Short: "saga instances: state, pending timers and commands, history"},
		sagasListCmd(), sagasShowCmd())
}

func sagasListCmd() *cobra.Command {
	var saga string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "saga instances: state, pending timers and commands",
		Args:  cobra.NoArgs,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().StringVar(&saga, "saga", "", "only instances of this saga")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines instead of a table")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if saga != "" && !sagas.ValidName(saga) {
			return fail(cmd, 2, "--saga %q is not a saga name", saga)
		}
		return withStore(cmd, cfg, func(ctx context.Context, store *events.Guarded) error {
			list, err := sagas.List(ctx, store, saga)
			if err != nil {
				return fail(cmd, 1, "%v", err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, s := range list {
					if err := enc.Encode(s); err != nil {
						return exitCode(1)
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SAGA\tSTREAM\tVERSION\tSTATE\tTIMERS\tCOMMANDS\tDEAD\tUPDATED")
			for _, s := range list {
				st := "active"
				if s.Done {
					st = "done"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\n", s.Saga, s.StreamID, s.Version, st, s.PendingTimers,
					s.PendingCommands, s.DeadCommands, s.UpdatedAt.UTC().Format(time.RFC3339))
			}
			_ = tw.Flush()
			return nil
		})
	}
	return cmd
}

// sagasShowCmd prints one instance as JSON: state, timers, commands with their outcome, and the
// history of its stream (the audit trail of every decision).
func sagasShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show INSTANCE_STREAM_ID | SAGA KEY",
		Short: "one instance as JSON: state, timers, commands, history (exit 3 when there is none)",
		Args:  cobra.RangeArgs(1, 2),
	}
	cfg := toolConfig(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var saga, id string
		if len(args) == 1 {
			id = args[0]
		} else {
			saga, id = args[0], args[1]
		}
		return withStore(cmd, cfg, func(ctx context.Context, store *events.Guarded) error {
			in, err := sagas.Show(ctx, store, saga, id)
			if errors.Is(err, sagas.ErrInstanceNotFound) {
				return fail(cmd, 3, "%v", err)
			}
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(in); err != nil {
				return exitCode(1)
			}
			return nil
		})
	}
	return cmd
}
