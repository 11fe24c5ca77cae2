package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/socplatform/soc/sagas"
)

// runSagas inspects saga instances: their state, timers, commands and full history are folds
// of their event streams, so this reads the store directly (also while `soc serve` runs).
func runSagas(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: soc sagas list [--saga NAME] [--json] | soc sagas show ID | soc sagas show SAGA KEY\n")
		return 2
	}
	switch args[0] {
	case "list":
		return sagasList(args[1:], stdout, stderr)
	case "show":
		return sagasShow(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "soc sagas: unknown command %q (list, show)\n", args[0])
	return 2
}

func sagasList(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("sagas list", stderr)
	saga := fs.String("saga", "", "only instances of this saga")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return 2
	}
	if *saga != "" && !sagas.ValidName(*saga) {
		fmt.Fprintf(stderr, "soc sagas list: --saga %q is not a saga name\n", *saga)
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc sagas list: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, b, _, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc sagas list: %v\n", err)
		return 1
	}
	defer b.Close()
	list, err := sagas.List(ctx, store, *saga)
	if err != nil {
		fmt.Fprintf(stderr, "soc sagas list: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, s := range list {
			if err := enc.Encode(s); err != nil {
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
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
	return 0
}

// sagasShow prints one instance as JSON: state, timers, commands with their outcome, and the
// history of its stream (the audit trail of every decision).
func sagasShow(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("sagas show", stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var saga, id string
	switch fs.NArg() {
	case 1:
		id = fs.Arg(0)
	case 2:
		saga, id = fs.Arg(0), fs.Arg(1)
	default:
		fmt.Fprint(stderr, "usage: soc sagas show INSTANCE_STREAM_ID | soc sagas show SAGA KEY\n")
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc sagas show: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, b, _, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc sagas show: %v\n", err)
		return 1
	}
	defer b.Close()
	in, err := sagas.Show(ctx, store, saga, id)
	if errors.Is(err, sagas.ErrInstanceNotFound) {
		fmt.Fprintf(stderr, "soc sagas show: %v\n", err)
		return 3
	}
	if err != nil {
		fmt.Fprintf(stderr, "soc sagas show: %v\n", err)
		return 2
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(in); err != nil {
		return 1
	}
	return 0
}
