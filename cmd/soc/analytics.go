package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/clickhouse"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	analyticsapi "github.com/socplatform/soc/query-api/analytics"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/spf13/cobra"
)

// The analytics model (projections/analytics) has two backends: ClickHouse when
// --clickhouse-url/SOC_CLICKHOUSE_URL is set, else the embedded default on the read-model
// database (analytics/sqlstore), run by a projection runner beside the other read models. The
// analytics module opens the backend once per process; the projections target feeds it, the
// query target reads it.

const modAnalytics = "analytics"

// analyticsSide is the analytics module's output.
type analyticsSide struct {
	ch     *clickhouse.DB // nil: the embedded default
	reader analytics.Reader
}

func (in inputs) analytics() *analyticsSide { return in[modAnalytics].(*analyticsSide) }

// analyticsModels are the read models the runners apply beside readModels(): the analytics
// projection on the read-model database unless ClickHouse holds the model.
func analyticsModels(c *Config) []projections.Projection {
	if c.Analytics.Enabled() {
		return nil
	}
	return []projections.Projection{sqlstore.New()}
}

// allReadModels are the read models the runners of c apply.
func allReadModels(c *Config) []projections.Projection {
	return append(readModels(), analyticsModels(c)...)
}

// openAnalytics opens the analytics backend (the analytics module's start). With ClickHouse,
// /readyz includes the server's reachability: without it every analytics answer fails.
func openAnalytics(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	rs := in.readSide()
	if !a.cfg.Analytics.Enabled() {
		return &analyticsSide{reader: sqlstore.NewReader(rs.db)}, nil, nil
	}
	db, err := clickhouse.Open(ctx, a.cfg.Analytics)
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, func() { _ = db.Close() })
	side := &analyticsSide{ch: db, reader: clickhouse.NewReader(db)}
	return side, func(ctx context.Context) (any, bool) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		pos, err := side.reader.Position(ctx)
		if err != nil {
			return map[string]any{"error": "clickhouse unreachable"}, false
		}
		return map[string]any{"backend": "clickhouse", "position": pos}, true
	}, nil
}

// startClickHouseProjector feeds the ClickHouse model from the log: the store itself on the
// embedded log, a consumer group on Kafka. The projector is idempotent by event id, so a
// redelivered batch (a restart, a rebalance) changes no row; after a rebuild it fails with
// ErrGenerationChanged and the supervisor restarts it from the new generation's position.
func startClickHouseProjector(ctx context.Context, a *app, side *analyticsSide) (readiness, error) {
	p := clickhouse.NewProjector(side.ch)
	return superviseLogProjector(ctx, a, logProjector{name: sqlstore.Name, backend: "clickhouse",
		consumer: p.StoreConsumer(a.store), handle: p.Handle, position: side.reader.Position}), nil
}

// analyticsPosition is what the analytics routes wait for and answer: the analytics runner of
// the embedded default (it knows it has passed the events it does not fold), or the ClickHouse
// model's own position.
func analyticsPosition(a *app, rs *readSide, side *analyticsSide) interface {
	querykit.Waiter
	querykit.Positioner
} {
	if side.ch != nil {
		return querykit.ModelPosition{Model: side.reader}
	}
	return waiter{a: a, rs: rs, only: sqlstore.Name}
}

// replayClickHouse rebuilds the ClickHouse model from the log (soc replay --projection analytics).
func replayClickHouse(ctx context.Context, cfg *Config, t *readTool) (clickhouse.RebuildResult, error) {
	db, err := clickhouse.Open(ctx, cfg.Analytics)
	if err != nil {
		return clickhouse.RebuildResult{}, err
	}
	defer db.Close()
	return clickhouse.Rebuild(ctx, db, t.store, cfg.ProjectionBatch)
}

// printClickHouseStatus prints the ClickHouse model's line of soc projections status: its
// position and how far it trails the store's head.
func printClickHouseStatus(ctx context.Context, cfg *Config, t *readTool, w io.Writer, asJSON bool) error {
	db, err := clickhouse.Open(ctx, cfg.Analytics)
	if err != nil {
		return err
	}
	defer db.Close()
	return printOwnPositionStatus(ctx, t, w, asJSON, sqlstore.Name, "clickhouse", clickhouse.NewReader(db).Position)
}

// analyticsViews are the views `soc analytics` asks for (the query API's routes).
var analyticsViews = func() []string {
	var out []string
	for _, r := range analyticsapi.Routes {
		out = append(out, strings.TrimPrefix(r, "GET /v1/analytics/"))
	}
	return out
}()

// analyticsCmd is `soc analytics VIEW [filters]`: one analytics answer from a running node.
func analyticsCmd() *cobra.Command {
	var f clientFlags
	var asJSON bool
	var from, to, bucket, tz string
	var tags, teams, envs, kinds, scanners, sevs []string
	var limit, dueWithin, staleAfter int
	cmd := &cobra.Command{
		Use:       "analytics VIEW",
		Short:     "trends, MTTR, SLA, risk, exploitability, coverage (" + strings.Join(analyticsViews, ", ") + ")",
		Args:      cobra.ExactArgs(1),
		ValidArgs: analyticsViews,
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the answer as JSON (as -o json)")
	fl.StringVar(&from, "from", "", "start: RFC 3339 or YYYY-MM-DD (default: 90 days before --to)")
	fl.StringVar(&to, "to", "", "end, excluded: RFC 3339 or YYYY-MM-DD (default: now)")
	fl.StringVar(&bucket, "bucket", "", "day, week or month (default month)")
	fl.StringVar(&tz, "tz", "", "IANA time zone of the buckets (default UTC)")
	fl.StringSliceVar(&tags, "tags", nil, "assets carrying every one of these tags")
	fl.StringSliceVar(&teams, "team", nil, "assets of these owner teams")
	fl.StringSliceVar(&envs, "environment", nil, "assets in these environments")
	fl.StringSliceVar(&kinds, "asset-kind", nil, "assets of these kinds")
	fl.StringSliceVar(&scanners, "scanner", nil, "findings of these report formats")
	fl.StringSliceVar(&sevs, "severity", nil, "findings of these severities")
	fl.IntVar(&limit, "limit", 0, "length of top-N lists (default 10)")
	fl.IntVar(&dueWithin, "due-within", 0, "SLA forecast window in days (default 7)")
	fl.IntVar(&staleAfter, "stale-after", 0, "coverage: not scanned within this many days (default 90)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !slices.Contains(analyticsViews, args[0]) {
			return fail(cmd, 2, "unknown view %q: want one of %s", args[0], strings.Join(analyticsViews, ", "))
		}
		c, err := f.clientAs(cmd, asJSON)
		if err != nil {
			return err
		}
		q := url.Values{}
		for name, v := range map[string]string{"from": from, "to": to, "bucket": bucket, "tz": tz} {
			if v != "" {
				q.Set(name, v)
			}
		}
		for name, vs := range map[string][]string{"tags": tags, "team": teams, "environment": envs, "asset_kind": kinds, "scanner": scanners, "severity": sevs} {
			if len(vs) > 0 {
				q.Set(name, strings.Join(vs, ","))
			}
		}
		for name, n := range map[string]int{"limit": limit, "due_within": dueWithin, "stale_after": staleAfter} {
			if n != 0 {
				q.Set(name, fmt.Sprint(n))
			}
		}
		path := "/v1/analytics/" + args[0]
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		var ans map[string]any
		if err := c.Do(cmd.Context(), http.MethodGet, path, nil, http.StatusOK, &ans); err != nil {
			return apiFail(cmd, err)
		}
		w := cmd.OutOrStdout()
		if f.output == "json" {
			f.print(w, ans, nil)
			return nil
		}
		fmt.Fprintf(w, "%s from %v to %v by %v (%v), now %v\n\n", args[0], ans["from"], ans["to"], ans["bucket"], ans["tz"], ans["now"])
		printAnalytics(w, &f, ans["result"])
		return nil
	}
	return cmd
}

// printAnalytics prints an answer's result readably: a series or list as a table (nested
// by-severity maps as columns), an object as its figures, then its lists as tables.
func printAnalytics(w io.Writer, f *clientFlags, v any) {
	switch x := v.(type) {
	case []any:
		printRows(w, f, x)
	case map[string]any:
		keys := sortedKeys(x)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		var lists []string
		for _, k := range keys {
			switch y := x[k].(type) {
			case []any:
				lists = append(lists, k)
			case map[string]any:
				fmt.Fprintf(tw, "%s\t%s\n", k, flatCells(y))
			default:
				fmt.Fprintf(tw, "%s\t%s\n", k, cell(y))
			}
		}
		_ = tw.Flush()
		for _, k := range lists {
			fmt.Fprintf(w, "\n%s:\n", k)
			printRows(w, f, x[k].([]any))
		}
	default:
		fmt.Fprintln(w, cell(v))
	}
}

// printRows prints rows (objects) as a table: start and end first, nested objects flattened
// into prefix.key columns (severities in rank order).
func printRows(w io.Writer, f *clientFlags, rows []any) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "(none)")
		return
	}
	flat := make([]map[string]any, 0, len(rows))
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		m := map[string]any{}
		flatten("", r, m)
		flat = append(flat, m)
		for _, k := range sortedKeys(m) {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.SliceStable(cols, func(i, j int) bool { return colRank(cols[i]) < colRank(cols[j]) })
	f.print(w, nil, flat, cols...)
}

// colRank orders columns: the bucket first, then the scalars, then the flattened maps.
func colRank(c string) int {
	switch {
	case c == "start":
		return 0
	case c == "end":
		return 1
	case strings.Contains(c, "."):
		return 3
	}
	return 2
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, y := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		flatten(name, y, out)
	}
}

// flatCells prints a map as k=v pairs (severities in rank order).
func flatCells(m map[string]any) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+cell(m[k]))
	}
	return strings.Join(parts, " ")
}

// sortedKeys sorts severities in rank order, other keys alphabetically.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		last := k[strings.LastIndex(k, ".")+1:]
		if i := slices.Index(analytics.Severities, last); i >= 0 {
			return i
		}
		return len(analytics.Severities)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := keys[i][:strings.LastIndex(keys[i], ".")+1], keys[j][:strings.LastIndex(keys[j], ".")+1]
		if pi != pj {
			return pi < pj
		}
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}
