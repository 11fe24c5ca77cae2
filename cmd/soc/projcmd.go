package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"strings"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/projections/runner"
	"github.com/spf13/cobra"
)

// Operator tools on the read side. They open the event store and the read-model database
// directly, like `soc events`: SQLite in WAL mode and PostgreSQL both allow it while `soc serve`
// runs, and a running node notices a retry, a skip or a swapped generation by itself.

func projectionsCmd() *cobra.Command {
	return group(&cobra.Command{Use: "projections", Short: "inspect and repair the read models"},
		projectionsStatusCmd(), projectionsRetryCmd(), projectionsSkipCmd(), projectionsDumpCmd())
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

// withReadTool checks a read-side tool's configuration, opens the store and the read models,
// and runs f on them.
func withReadTool(cmd *cobra.Command, cfg *Config, f func(ctx context.Context, t *readTool) error) error {
	if err := checkConfig(cmd, cfg, false); err != nil {
		return err
	}
	t, err := openReadTool(cmd.Context(), cfg)
	if err != nil {
		return fail(cmd, 1, "%v", err)
	}
	defer t.close()
	return f(cmd.Context(), t)
}

// namedProjections resolves a projection name (or all) given on the command line; an unknown
// one is a usage error.
func namedProjections(cmd *cobra.Command, cfg *Config, name string) ([]projections.Projection, error) {
	ps, err := projectionsNamed(cfg, name)
	if err != nil {
		return nil, fail(cmd, 2, "%v", err)
	}
	return ps, nil
}

// completeProjections offers the projection names (and all) to shell completion.
func completeProjections(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names := []cobra.Completion{"all"}
	for _, p := range allReadModels(&Config{}) {
		names = append(names, p.Name())
	}
	names = append(names, searchName)
	return names, cobra.ShellCompDirectiveNoFileComp
}

func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "operator:" + u.Username
	}
	return "operator"
}

func projectionsStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "status [NAME…]",
		Short:             "read models: generation, position, lag, parked events (exit 3 when one is parked)",
		ValidArgsFunction: completeProjections,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per projection instead of a table")
	cmd.RunE = func(cmd *cobra.Command, names []string) error {
		return withReadTool(cmd, cfg, func(ctx context.Context, t *readTool) error {
			if len(names) == 0 {
				names = []string{"all"}
			}
			var ps []projections.Projection
			onClickHouse, withSearch := false, false
			for _, n := range names {
				// The search index is no runner's: its line comes from the index itself.
				if n == "all" || n == searchName {
					withSearch = true
					if n == searchName {
						continue
					}
				}
				if cfg.Analytics.Enabled() && (n == "all" || n == sqlstore.Name) {
					onClickHouse = true
					if n == sqlstore.Name {
						continue
					}
				}
				got, err := namedProjections(cmd, cfg, n)
				if err != nil {
					return err
				}
				ps = append(ps, got...)
			}
			stdout := cmd.OutOrStdout()
			parked := false
			if !asJSON {
				fmt.Fprintf(stdout, "%-12s %4s %12s %10s %10s  %s\n", "PROJECTION", "GEN", "POSITION", "LAG", "LAG_S", "STATE")
			}
			for _, p := range ps {
				st, err := runner.ReadStatus(ctx, t.db, t.store, p.Name())
				if err != nil {
					return fail(cmd, 1, "%s: %v", p.Name(), err)
				}
				if st.Parked != nil {
					parked = true
				}
				if asJSON {
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
			if onClickHouse {
				if err := printClickHouseStatus(ctx, cfg, t, stdout, asJSON); err != nil {
					return fail(cmd, 1, "%s (clickhouse): %v", sqlstore.Name, err)
				}
			}
			if withSearch {
				if err := printSearchStatus(ctx, cfg, t, stdout, asJSON); err != nil {
					return fail(cmd, 1, "%s: %v", searchName, err)
				}
			}
			if parked {
				return exitCode(3) // scripts and monitors can tell "parked" from "could not ask"
			}
			return nil
		})
	}
	return cmd
}

func projectionsRetryCmd() *cobra.Command {
	var actor string
	cmd := &cobra.Command{
		Use:               "retry NAME",
		Short:             "retry the event a projection is parked on",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeProjections,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().StringVar(&actor, "actor", defaultActor(), "who decides (recorded in the ProjectionRetried event)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return withProjection(cmd, cfg, args[0], func(ctx context.Context, t *readTool, name string) error {
			if err := runner.Retry(ctx, t.db, t.store, name, actor); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "projection %s: retrying the parked event\n", name)
			return nil
		})
	}
	return cmd
}

func projectionsSkipCmd() *cobra.Command {
	var actor, eventID, reason string
	cmd := &cobra.Command{
		Use:               "skip NAME --event EVENT_ID --reason TEXT",
		Short:             "skip the event a projection is parked on (an audited ProjectionEventSkipped)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeProjections,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().StringVar(&actor, "actor", defaultActor(), "who decides (recorded in the ProjectionEventSkipped event)")
	cmd.Flags().StringVar(&eventID, "event", "", "id of the parked event to skip (required: confirms which event you mean)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the event may be skipped (required; kept in the audit trail)")
	_ = cmd.MarkFlagRequired("event")
	_ = cmd.MarkFlagRequired("reason")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if eventID == "" || strings.TrimSpace(reason) == "" {
			return fail(cmd, 2, "--event and --reason must not be empty")
		}
		return withProjection(cmd, cfg, args[0], func(ctx context.Context, t *readTool, name string) error {
			if err := runner.Skip(ctx, t.db, t.store, name, eventID, actor, reason); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "projection %s: event %s skipped (recorded as ProjectionEventSkipped)\n", name, eventID)
			return nil
		})
	}
	return cmd
}

// projectionsDumpCmd prints the live read model of each projection as deterministic text (every
// row, every column, sorted): diff two dumps to compare a model with a rebuild.
func projectionsDumpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "dump [NAME|all]",
		Short:             "print a read model as sorted text (diff a model and a rebuild)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeProjections,
	}
	cfg := toolConfig(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name := "all"
		if len(args) == 1 {
			name = args[0]
		}
		ps, err := namedProjections(cmd, cfg, name)
		if err != nil {
			return err
		}
		return withReadTool(cmd, cfg, func(ctx context.Context, t *readTool) error {
			for _, p := range ps {
				snap, err := runner.Snapshot(ctx, t.db, p)
				if err != nil {
					return fail(cmd, 1, "%s: %v", p.Name(), err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "== %s\n%s", p.Name(), snap)
			}
			return nil
		})
	}
	return cmd
}

// withProjection runs f on the one projection named; f's error is the command's failure.
func withProjection(cmd *cobra.Command, cfg *Config, name string, f func(ctx context.Context, t *readTool, name string) error) error {
	if name == "all" {
		return fail(cmd, 2, "name one projection, not all (one at a time: each is parked on its own event)")
	}
	if _, err := projectionsNamed(cfg, name); err != nil {
		return fail(cmd, 2, "name one projection: %v", err)
	}
	return withReadTool(cmd, cfg, func(ctx context.Context, t *readTool) error {
		if err := f(ctx, t, name); err != nil {
			return fail(cmd, 1, "%v", err)
		}
		return nil
	})
}

// replayCmd rebuilds read models beside the live ones and swaps them in atomically.
func replayCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "replay --projection NAME|all",
		Short: "rebuild read models beside the live ones, then swap atomically",
		Args:  cobra.NoArgs,
	}
	cfg := toolConfig(cmd)
	cmd.Flags().StringVar(&name, "projection", "", "projection to rebuild, or all (required)")
	_ = cmd.MarkFlagRequired("projection")
	_ = cmd.RegisterFlagCompletionFunc("projection", completeProjections)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		// With ClickHouse the analytics model is no runner's: it is rebuilt into ClickHouse.
		onClickHouse := cfg.Analytics.Enabled() && (name == "all" || name == sqlstore.Name)
		// The search index is rebuilt by its backend's generations (an alias swap on a server).
		withSearch := name == "all" || name == searchName
		var ps []projections.Projection
		if (!onClickHouse || name == "all") && name != searchName {
			var err error
			if ps, err = namedProjections(cmd, cfg, name); err != nil {
				return err
			}
		}
		return withReadTool(cmd, cfg, func(ctx context.Context, t *readTool) error {
			if onClickHouse {
				res, err := replayClickHouse(ctx, cfg, t)
				if err != nil {
					return fail(cmd, 1, "%s (clickhouse): %v (the live model is untouched)", sqlstore.Name, err)
				}
				b, _ := json.Marshal(map[string]any{"projection": sqlstore.Name, "backend": "clickhouse", "generation": res.Generation, "position": res.Position, "events": res.Events})
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			if withSearch {
				res, backend, err := replaySearch(ctx, cfg, t)
				if err != nil {
					return fail(cmd, 1, "%s: %v (the live index is untouched)", searchName, err)
				}
				b, _ := json.Marshal(map[string]any{"projection": searchName, "backend": backend, "events": res.Events, "docs": res.Docs, "position": res.Position, "took_ms": res.Took.Milliseconds()})
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			for _, p := range ps {
				bar := replayBar(cmd.ErrOrStderr(), p.Name())
				res, err := runner.Rebuild(ctx, runner.RebuildConfig{DB: t.db, Projection: p, Store: t.store, BatchSize: cfg.ProjectionBatch, Progress: bar})
				bar(runner.Progress{Done: -1})
				if err != nil {
					return fail(cmd, 1, "%s: %v (the live read model is untouched)", p.Name(), err)
				}
				b, _ := json.Marshal(res)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			return nil
		})
	}
	return cmd
}
