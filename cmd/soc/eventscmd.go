package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/socplatform/soc/events"
)

func runEvents(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: soc events tail|stream …\n")
		return 2
	}
	switch args[0] {
	case "tail":
		return eventsTail(args[1:], stdout, stderr)
	case "stream":
		return eventsStream(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "soc events: unknown command %q (tail, stream)\n", args[0])
	return 2
}

// eventsTail prints the log after a position. It reads the store directly (SQLite in WAL mode
// and PostgreSQL both allow this while `soc serve` runs).
func eventsTail(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindFlags(fs, &cfg, false)
	from := fs.Int64("from", 0, "print events after this global position")
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	limit := fs.Int64("limit", 0, "stop after this many events (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from < 0 || *limit < 0 {
		fmt.Fprintln(stderr, "soc events tail: --from and --limit must not be negative")
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc events tail: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, b, _, err := openStore(ctx, &cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc events tail: %v\n", err)
		return 1
	}
	defer b.Close()
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	printed := int64(0)
	errDone := errors.New("limit reached")
	handle := func(_ context.Context, batch []events.Envelope) error {
		for i := range batch {
			if err := enc.Encode(&batch[i]); err != nil {
				return err
			}
			if printed++; *limit > 0 && printed >= *limit {
				return errDone
			}
		}
		return out.Flush()
	}
	if *follow {
		err = events.CatchUp(ctx, store, *from, 500, handle)
	} else {
		err = readAllOnce(ctx, store, *from, handle)
	}
	if err != nil && !errors.Is(err, errDone) {
		fmt.Fprintf(stderr, "soc events tail: %v\n", err)
		return 1
	}
	return 0
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

func eventsStream(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindFlags(fs, &cfg, false)
	from := fs.Int64("from", 0, "first version (going backwards: highest version)")
	backwards := fs.Bool("backwards", false, "newest first")
	asOf := fs.String("as-of", "", "the stream as it was at this RFC 3339 time")
	// Accept "stream STREAM_ID --flags" as well as flags first.
	var streamID string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		streamID, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if streamID == "" && fs.NArg() == 1 {
		streamID = fs.Arg(0)
	} else if fs.NArg() > 0 || streamID == "" {
		fmt.Fprintln(stderr, "usage: soc events stream STREAM_ID [--from V] [--backwards] [--as-of RFC3339]")
		return 2
	}
	opts := events.ReadStreamOptions{From: *from, Backwards: *backwards}
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, *asOf)
		if err != nil {
			fmt.Fprintf(stderr, "soc events stream: --as-of %q is not an RFC 3339 time\n", *asOf)
			return 2
		}
		opts.AsOf = t
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc events stream: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx := context.Background()
	store, b, _, err := openStore(ctx, &cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc events stream: %v\n", err)
		return 1
	}
	defer b.Close()
	enc := json.NewEncoder(stdout)
	for {
		evs, err := store.ReadStream(ctx, streamID, opts)
		if errors.Is(err, events.ErrStreamNotFound) {
			fmt.Fprintf(stderr, "soc events stream: stream %s not found\n", streamID)
			return 1
		}
		if err != nil {
			fmt.Fprintf(stderr, "soc events stream: %v\n", err)
			return 1
		}
		for i := range evs {
			if err := enc.Encode(&evs[i]); err != nil {
				return 1
			}
		}
		if len(evs) < events.MaxReadLimit {
			return 0
		}
		last := evs[len(evs)-1].Version
		if opts.Backwards {
			if opts.From = last - 1; opts.From < 1 {
				return 0
			}
		} else {
			opts.From = last + 1
		}
	}
}
