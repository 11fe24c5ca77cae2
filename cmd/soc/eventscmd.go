package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/spf13/cobra"
)

func eventsCmd() *cobra.Command {
	return group(&cobra.Command{Use: "events", Short: "print the event log or one stream as JSON lines"},
		eventsTailCmd(), eventsStreamCmd())
}

// eventsTailCmd prints the log after a position, in global order.
func eventsTailCmd() *cobra.Command {
	var from, limit int64
	var follow bool
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "print the event log as JSON lines, in global order",
		Args:  cobra.NoArgs,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().Int64Var(&from, "from", 0, "print events after this global position")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing new events until interrupted")
	cmd.Flags().Int64Var(&limit, "limit", 0, "stop after this many events (0: no limit)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if from < 0 || limit < 0 {
			return fail(cmd, 2, "--from and --limit must not be negative")
		}
		return withStore(cmd, cfg, func(ctx context.Context, store *events.Guarded) error {
			out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
			defer out.Flush()
			enc := json.NewEncoder(out)
			printed := int64(0)
			errDone := errors.New("limit reached")
			handle := func(_ context.Context, batch []events.Envelope) error {
				for i := range batch {
					if err := enc.Encode(&batch[i]); err != nil {
						return err
					}
					if printed++; limit > 0 && printed >= limit {
						return errDone
					}
				}
				return out.Flush()
			}
			var err error
			if follow {
				err = events.CatchUp(ctx, store, from, 500, handle)
			} else {
				err = readAllOnce(ctx, store, from, handle)
			}
			if err != nil && !errors.Is(err, errDone) {
				return fail(cmd, 1, "%v", err)
			}
			return nil
		})
	}
	return cmd
}

func readAllOnce(ctx context.Context, store events.EventStore, after int64, handle events.BatchHandler) error {
	for {
		batch, err := store.ReadAll(ctx, after, 1000)
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := handle(ctx, batch); err != nil {
			return err
		}
		after = batch[len(batch)-1].GlobalPosition
	}
}

// eventsStreamCmd prints one stream's events, paging through versions.
func eventsStreamCmd() *cobra.Command {
	var from int64
	var backwards bool
	var asOf string
	cmd := &cobra.Command{
		Use:   "stream STREAM_ID",
		Short: "print one stream's events as JSON lines",
		Args:  cobra.ExactArgs(1),
	}
	cfg := toolConfig(cmd)
	cmd.Flags().Int64Var(&from, "from", 0, "first version (going backwards: highest version)")
	cmd.Flags().BoolVar(&backwards, "backwards", false, "newest first")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the stream as it was at this RFC 3339 time")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		streamID := args[0]
		opts := events.ReadStreamOptions{From: from, Backwards: backwards}
		if asOf != "" {
			t, err := time.Parse(time.RFC3339Nano, asOf)
			if err != nil {
				return fail(cmd, 2, "--as-of %q is not an RFC 3339 time", asOf)
			}
			opts.AsOf = t
		}
		return withStore(cmd, cfg, func(ctx context.Context, store *events.Guarded) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			for {
				evs, err := store.ReadStream(ctx, streamID, opts)
				if errors.Is(err, events.ErrStreamNotFound) {
					return fail(cmd, 1, "stream %s not found", streamID)
				}
				if err != nil {
					return fail(cmd, 1, "%v", err)
				}
				for i := range evs {
					if err := enc.Encode(&evs[i]); err != nil {
						return exitCode(1)
					}
				}
				if len(evs) < events.MaxReadLimit {
					return nil
				}
				last := evs[len(evs)-1].Version
				if opts.Backwards {
					if opts.From = last - 1; opts.From < 1 {
						return nil
					}
				} else {
					opts.From = last + 1
				}
			}
		})
	}
	return cmd
}
