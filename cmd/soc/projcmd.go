package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/runner"
)

// Operator tools on the read side. They open the event store and the read-model database
// directly, like `soc events`: SQLite in WAL mode and PostgreSQL both allow it while `soc serve`
// runs, and a running node notices a retry, a skip or a swapped generation by itself.

func runProjections(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage: soc projections status|retry|skip …\n")
		return 2
	}
	switch args[0] {
	case "status":
		return projectionsStatus(args[1:], stdout, stderr)
	case "retry":
		return projectionsRetry(args[1:], stdout, stderr)
	case "skip":
		return projectionsSkip(args[1:], stdout, stderr)
	case "dump":
		return projectionsDump(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "soc projections: unknown command %q (status, retry, skip, dump)\n", args[0])
	return 2
}

// readTool is what every read-side tool opens.
type readTool struct {
	store *events.Guarded
	close func()
	db    *projections.DB
}

func openReadTool(ctx context.Context, cfg *Config) (*readTool, error) {
	store, b, _, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db, err := openReadDB(ctx, cfg)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	return &readTool{store: store, db: db, close: func() { _ = db.SQL.Close(); _ = b.Close() }}, nil
}

func toolFlags(name string, stderr io.Writer) (*flag.FlagSet, *Config) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindFlags(fs, &cfg, false)
	return fs, &cfg
}

func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "operator:" + u.Username
	}
	return "operator"
}

func projectionsStatus(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("projections status", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per projection instead of a table")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc projections status: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	t, err := openReadTool(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc projections status: %v\n", err)
		return 1
	}
	defer t.close()
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"all"}
	}
	var ps []projections.Projection
	for _, n := range names {
		got, err := projectionsNamed(n)
		if err != nil {
			fmt.Fprintf(stderr, "soc projections status: %v\n", err)
			return 2
		}
		ps = append(ps, got...)
	}
	parked := false
	if !*asJSON {
		fmt.Fprintf(stdout, "%-12s %4s %12s %10s %10s  %s\n", "PROJECTION", "GEN", "POSITION", "LAG", "LAG_S", "STATE")
	}
	for _, p := range ps {
		st, err := runner.ReadStatus(ctx, t.db, t.store, p.Name())
		if err != nil {
			fmt.Fprintf(stderr, "soc projections status: %s: %v\n", p.Name(), err)
			return 1
		}
		if st.Parked != nil {
			parked = true
		}
		if *asJSON {
			b, _ := json.Marshal(st)
			fmt.Fprintln(stdout, string(b))
			continue
		}
		state := "ok"
		if st.Parked != nil {
			state = fmt.Sprintf("PARKED on event %s (%s, position %d) since %s: %s — soc projections retry %s | soc projections skip %s --event %s",
				st.Parked.EventID, st.Parked.Type, st.Parked.Position, st.Parked.Since.Format(time.RFC3339), st.Parked.Error, p.Name(), p.Name(), st.Parked.EventID)
		} else if st.Generation == 0 {
			state = "not initialised (start soc serve with the projections target)"
		}
		fmt.Fprintf(stdout, "%-12s %4d %12d %10d %10.1f  %s\n", p.Name(), st.Generation, st.Position, st.LagEvents, st.LagSeconds, state)
	}
	if parked {
		return 3 // scripts and monitors can tell "parked" from "could not ask"
	}
	return 0
}

func projectionsRetry(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("projections retry", stderr)
	actor := fs.String("actor", defaultActor(), "who decides (recorded in the ProjectionRetried event)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: soc projections retry NAME [--actor WHO]")
		return 2
	}
	return withProjection(cfg, fs.Arg(0), "retry", stderr, func(ctx context.Context, t *readTool, name string) error {
		if err := runner.Retry(ctx, t.db, t.store, name, *actor); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "projection %s: retrying the parked event\n", name)
		return nil
	})
}

func projectionsSkip(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("projections skip", stderr)
	actor := fs.String("actor", defaultActor(), "who decides (recorded in the ProjectionEventSkipped event)")
	eventID := fs.String("event", "", "id of the parked event to skip (required: confirms which event you mean)")
	reason := fs.String("reason", "", "why the event may be skipped (required; kept in the audit trail)")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *eventID == "" || strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, "usage: soc projections skip NAME --event EVENT_ID --reason TEXT [--actor WHO]")
		return 2
	}
	return withProjection(cfg, fs.Arg(0), "skip", stderr, func(ctx context.Context, t *readTool, name string) error {
		if err := runner.Skip(ctx, t.db, t.store, name, *eventID, *actor, *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "projection %s: event %s skipped (recorded as ProjectionEventSkipped)\n", name, *eventID)
		return nil
	})
}

// projectionsDump prints the live read model of each projection as deterministic text (every
// row, every column, sorted): diff two dumps to compare a model with a rebuild.
func projectionsDump(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("projections dump", stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	name := "all"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: soc projections dump [NAME|all]")
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc projections dump: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ps, err := projectionsNamed(name)
	if err != nil {
		fmt.Fprintf(stderr, "soc projections dump: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	t, err := openReadTool(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc projections dump: %v\n", err)
		return 1
	}
	defer t.close()
	for _, p := range ps {
		snap, err := runner.Snapshot(ctx, t.db, p)
		if err != nil {
			fmt.Fprintf(stderr, "soc projections dump: %s: %v\n", p.Name(), err)
			return 1
		}
		fmt.Fprintf(stdout, "== %s\n%s", p.Name(), snap)
	}
	return 0
}

// reorder moves the positional NAME after the flags so that `skip NAME --event X` parses.
func reorder(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string{}, args[1:]...), args[0])
	}
	return args
}

func withProjection(cfg *Config, name, verb string, stderr io.Writer, f func(ctx context.Context, t *readTool, name string) error) int {
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc projections %s: invalid configuration:\n%s\n", verb, indent(err.Error()))
		return 2
	}
	if _, err := projectionsNamed(name); err != nil || name == "all" {
		fmt.Fprintf(stderr, "soc projections %s: name one projection: %v\n", verb, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	t, err := openReadTool(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc projections %s: %v\n", verb, err)
		return 1
	}
	defer t.close()
	if err := f(ctx, t, name); err != nil {
		fmt.Fprintf(stderr, "soc projections %s: %v\n", verb, err)
		return 1
	}
	return 0
}

// runReplay rebuilds read models beside the live ones and swaps them in atomically.
func runReplay(args []string, stdout, stderr io.Writer) int {
	fs, cfg := toolFlags("replay", stderr)
	name := fs.String("projection", "", "projection to rebuild, or all (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *name == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: soc replay --projection NAME|all")
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc replay: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ps, err := projectionsNamed(*name)
	if err != nil {
		fmt.Fprintf(stderr, "soc replay: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	t, err := openReadTool(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc replay: %v\n", err)
		return 1
	}
	defer t.close()
	for _, p := range ps {
		bar := replayBar(stderr, p.Name())
		res, err := runner.Rebuild(ctx, runner.RebuildConfig{DB: t.db, Projection: p, Store: t.store, BatchSize: cfg.ProjectionBatch, Progress: bar})
		bar(runner.Progress{Done: -1})
		if err != nil {
			fmt.Fprintf(stderr, "soc replay: %s: %v (the live read model is untouched)\n", p.Name(), err)
			return 1
		}
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}
