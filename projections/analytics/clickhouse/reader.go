package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// Reader answers analytics.Reader from the live generation's tables.
//
// Every answer over time sums fact deltas: a fact's bucket comes from the boundaries that
// analytics.Buckets computed in Go (timeline.go; the server needs no time-zone support), "open
// at the end of bucket k" is the running sum of the buckets up to k, added up in Go. Percentiles are nearest-rank, exact: the k-th of the sorted durations, k =
// ceil(p·n) computed in integers (intDiv(n·p + 99, 100) for p in percent). Means are integer
// sums divided in Go. Facts are read as stored (the writer stores each once), dimensions with
// FINAL (schema.go). All of it is SQL
// that ClickHouse 18.16 and current ClickHouse both accept.
type Reader struct{ db *DB }

var _ analytics.Reader = (*Reader)(nil)

// NewReader returns a Reader on db.
func NewReader(db *DB) *Reader { return &Reader{db: db} }

// Option bounds (analytics.Options).
const (
	defaultLimit      = 10
	maxLimit          = 1000
	defaultDueWithin  = 7 * 24 * time.Hour
	defaultStaleAfter = 90 * 24 * time.Hour
	maxWindow         = 10 * 365 * 24 * time.Hour
)

// options applies the defaults and bounds of o.
func options(o analytics.Options) (analytics.Options, error) {
	if o.Limit == 0 {
		o.Limit = defaultLimit
	}
	if o.Limit < 0 || o.Limit > maxLimit {
		return o, &analytics.ParamError{Param: "limit", Reason: fmt.Sprintf("must be between 1 and %d", maxLimit)}
	}
	if o.DueWithin == 0 {
		o.DueWithin = defaultDueWithin
	}
	if o.DueWithin < 0 || o.DueWithin > maxWindow {
		return o, &analytics.ParamError{Param: "due_within", Reason: "must be positive and at most ten years"}
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = defaultStaleAfter
	}
	if o.StaleAfter < 0 || o.StaleAfter > maxWindow {
		return o, &analytics.ParamError{Param: "stale_after", Reason: "must be positive and at most ten years"}
	}
	return o, nil
}

func now(q *analytics.Query) int64 {
	if q.Now.IsZero() {
		return time.Now().UnixMilli()
	}
	return q.Now.UnixMilli()
}

// queryCtx allows long IN lists: the visible assets of a scoped query, the event ids of a
// batch (18.16's defaults: max_query_size 256 KiB, max_ast_elements 50,000).
func queryCtx(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{
		"max_query_size": 64 << 20, "max_ast_elements": 4_000_000, "max_expanded_ast_elements": 4_000_000,
	}))
}

// query runs sql on generation gen's tables ({facts} etc. replaced) and scans each row.
func (r *Reader) query(ctx context.Context, what, sql string, args []any, scan func(s func(dest ...any) error) error) error {
	rows, err := r.db.conn.Query(queryCtx(ctx), sql, args...)
	if err != nil {
		return r.db.wrap(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows.Scan); err != nil {
			return r.db.wrap(what, err)
		}
	}
	return r.db.wrap(what, rows.Err())
}

// prepare reads the live generation and the visible assets (need: load the asset rows even
// when no filter narrows them).
func (r *Reader) prepare(ctx context.Context, q *analytics.Query, need bool) (uint64, selection, error) {
	gen, err := r.db.liveGeneration(ctx)
	if err != nil {
		return 0, selection{}, err
	}
	sel, err := r.db.selectAssets(ctx, gen, &q.Filter, need)
	return gen, sel, err
}

// severityName is the severity of a fact's sev column (schema.go; "" for one outside
// analytics.Severities).
func severityName(rank uint8) string {
	if rank == 0 || int(rank) > len(analytics.Severities) {
		return ""
	}
	return analytics.Severities[rank-1]
}

func bySeverity() map[string]int64 {
	m := make(map[string]int64, len(analytics.Severities))
	for _, s := range analytics.Severities {
		m[s] = 0
	}
	return m
}

// OpenFindings implements analytics.Reader.
func (r *Reader) OpenFindings(ctx context.Context, q analytics.Query) ([]analytics.OpenPoint, error) {
	tl, err := newTimeline(&q)
	if err != nil {
		return nil, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, false)
	if err != nil {
		return nil, err
	}
	cond, args := sel.where(&q.Filter, true)
	delta := make([]map[string]int64, len(bs))
	for i := range delta {
		delta[i] = map[string]int64{}
	}
	err = r.query(ctx, "open findings",
		"SELECT "+bexpr+" AS b, sev, sum(open_delta) FROM "+table("analytics_facts", gen)+
			" WHERE open_delta != 0 AND at < ?"+cond+" GROUP BY b, sev",
		append(append(bargs, tl.end), args...),
		func(scan func(...any) error) error {
			var b uint32
			var sev uint8
			var n int64
			if err := scan(&b, &sev, &n); err != nil {
				return err
			}
			if i, ok := tl.index(b); ok {
				delta[i][severityName(sev)] += n
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := make([]analytics.OpenPoint, len(bs))
	running := bySeverity()
	for i, b := range bs {
		for s, n := range delta[i] {
			running[s] += n
		}
		p := analytics.OpenPoint{Bucket: b, BySeverity: bySeverity()}
		for s, n := range running {
			if _, known := p.BySeverity[s]; known {
				p.BySeverity[s] = n
			}
			p.Total += n
		}
		out[i] = p
	}
	return out, nil
}

// leftAs are the SQL conditions on a fact that takes a finding out of the open statuses as
// resolved/closed, and otherwise (false positive, duplicate, risk accepted).
const (
	leftResolved = "(open_delta = -1 AND status_after IN ('" + vulns.StatusResolved + "', '" + vulns.StatusClosed + "'))"
	leftRemoved  = "(open_delta = -1 AND status_after NOT IN ('" + vulns.StatusResolved + "', '" + vulns.StatusClosed + "') AND status_after NOT IN ?)"
)

// Flow implements analytics.Reader.
func (r *Reader) Flow(ctx context.Context, q analytics.Query) ([]analytics.FlowPoint, error) {
	tl, err := newTimeline(&q)
	if err != nil {
		return nil, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, false)
	if err != nil {
		return nil, err
	}
	cond, args := sel.where(&q.Filter, true)
	out := make([]analytics.FlowPoint, len(bs))
	for i, b := range bs {
		out[i] = analytics.FlowPoint{Bucket: b, BySeverity: bySeverity()}
	}
	err = r.query(ctx, "flow",
		"SELECT "+bexpr+" AS b, sev, countIf(type = ? AND seq = 0), countIf(type = ? AND open_delta = 1),"+
			" countIf"+leftResolved+", countIf"+leftRemoved+" FROM "+table("analytics_facts", gen)+
			" WHERE at >= ? AND at < ?"+cond+" GROUP BY b, sev",
		append(append(bargs, contracts.TypeFindingOpened, contracts.TypeFindingReopened, openStatuses(), tl.base, tl.end), args...),
		func(scan func(...any) error) error {
			var b uint32
			var rank uint8
			var opened, reopened, resolved, removed uint64
			if err := scan(&b, &rank, &opened, &reopened, &resolved, &removed); err != nil {
				return err
			}
			sev := severityName(rank)
			if i, ok := tl.index(b); ok {
				p := &out[i]
				p.Discovered += int64(opened)
				p.Reopened += int64(reopened)
				p.Resolved += int64(resolved)
				p.Removed += int64(removed)
				if _, known := p.BySeverity[sev]; known {
					p.BySeverity[sev] += int64(opened)
				}
			}
			return nil
		})
	for i := range out {
		out[i].Net = out[i].Discovered + out[i].Reopened - out[i].Resolved - out[i].Removed
	}
	return out, err
}

// durationCols are a group's count, sum and nearest-rank p50 and p90 of duration (ms).
const durationCols = "count(), sum(duration), arraySort(groupArray(duration))[intDiv(count() * 50 + 99, 100)]," +
	" arraySort(groupArray(duration))[intDiv(count() * 90 + 99, 100)]"

// durations converts a group's millisecond figures to analytics.Durations (seconds).
func durations(n uint64, sum, p50, p90 int64) analytics.Durations {
	if n == 0 {
		return analytics.Durations{}
	}
	return analytics.Durations{Count: int64(n), Mean: float64(sum) / float64(n) / 1000, P50: p50 / 1000, P90: p90 / 1000}
}

func durationsBySeverity() map[string]analytics.Durations {
	m := make(map[string]analytics.Durations, len(analytics.Severities))
	for _, s := range analytics.Severities {
		m[s] = analytics.Durations{}
	}
	return m
}

// MTTR implements analytics.Reader.
func (r *Reader) MTTR(ctx context.Context, q analytics.Query) (analytics.MTTR, error) {
	out := analytics.MTTR{RemediateBySev: durationsBySeverity(), TriageBySeverity: durationsBySeverity()}
	tl, err := newTimeline(&q)
	if err != nil {
		return out, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, false)
	if err != nil {
		return out, err
	}
	cond, args := sel.where(&q.Filter, true)
	from, to := q.From.UnixMilli(), q.To.UnixMilli()
	facts := table("analytics_facts", gen)
	// The resolutions and closures that end an open period (the fold set their duration).
	remediated := " WHERE open_delta = -1 AND type IN ('" + contracts.TypeFindingResolved + "', '" + contracts.TypeFindingClosed + "')" + cond
	// A finding's first triage: its earliest FindingTriaged fact, the only one the fold gave a
	// duration (later ones have 0), at the severity the finding had then.
	triaged := " WHERE 1"
	triages := "(SELECT first_at AS at, first_duration AS duration, first_severity AS severity FROM (SELECT min(at) AS first_at," +
		" max(duration) AS first_duration, argMin(severity, at) AS first_severity FROM " + facts +
		" WHERE type = '" + contracts.TypeFindingTriaged + "'" + cond + " GROUP BY finding_id))"
	for _, part := range []struct {
		what, from, where string
		all               *analytics.Durations
		bySev             map[string]analytics.Durations
	}{
		{"mttr", facts, remediated, &out.Remediate, out.RemediateBySev},
		{"time to triage", triages, triaged, &out.Triage, out.TriageBySeverity},
	} {
		// One row per severity and one ('' severity) over all of them: nearest-rank
		// percentiles do not combine, so the overall row is its own aggregate.
		sql := "SELECT severity, " + durationCols + " FROM " + part.from + part.where + " AND at >= ? AND at < ? GROUP BY severity" +
			" UNION ALL SELECT '' AS severity, " + durationCols + " FROM " + part.from + part.where + " AND at >= ? AND at < ?"
		// The filter's arguments come before from and to in both forms (in the WHERE of
		// the facts, or in the triage subquery).
		qargs := append(append(append(append([]any{}, args...), from, to), args...), from, to)
		err := r.query(ctx, part.what, sql, qargs, func(scan func(...any) error) error {
			var sev string
			var n uint64
			var sum, p50, p90 int64
			if err := scan(&sev, &n, &sum, &p50, &p90); err != nil {
				return err
			}
			d := durations(n, sum, p50, p90)
			if sev == "" {
				*part.all = d
			} else if _, known := part.bySev[sev]; known {
				part.bySev[sev] = d
			}
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	out.ResolvedInPeriods = make([]analytics.MTTRPoint, len(bs))
	for i, b := range bs {
		out.ResolvedInPeriods[i] = analytics.MTTRPoint{Bucket: b}
	}
	err = r.query(ctx, "mttr periods",
		"SELECT "+bexpr+" AS b, "+durationCols+" FROM "+facts+remediated+" AND at >= ? AND at < ? GROUP BY b",
		append(append(bargs, args...), tl.base, tl.end),
		func(scan func(...any) error) error {
			var b uint32
			var n uint64
			var sum, p50, p90 int64
			if err := scan(&b, &n, &sum, &p50, &p90); err != nil {
				return err
			}
			if i, ok := tl.index(b); ok {
				out.ResolvedInPeriods[i].Durations = durations(n, sum, p50, p90)
			}
			return nil
		})
	return out, err
}

// SLA implements analytics.Reader.
func (r *Reader) SLA(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.SLA, error) {
	out := analytics.SLA{OverdueBy: bySeverity(), DueSoonBy: bySeverity()}
	o, err := options(o)
	if err != nil {
		return out, err
	}
	out.DueWithinDays = int(o.DueWithin / (24 * time.Hour))
	tl, err := newTimeline(&q)
	if err != nil {
		return out, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, false)
	if err != nil {
		return out, err
	}
	cond, args := sel.where(&q.Filter, true)
	out.Periods = make([]analytics.SLAPoint, len(bs))
	for i, b := range bs {
		out.Periods[i] = analytics.SLAPoint{Bucket: b}
	}
	err = r.query(ctx, "sla",
		"SELECT "+bexpr+" AS b, countIf("+leftResolved+" AND due_at != 0),"+
			" countIf("+leftResolved+" AND due_at != 0 AND at <= due_at), countIf(type = ?) FROM "+table("analytics_facts", gen)+
			" WHERE at >= ? AND at < ?"+cond+" GROUP BY b",
		append(append(bargs, contracts.TypeSLABreached, tl.base, tl.end), args...),
		func(scan func(...any) error) error {
			var b uint32
			var resolved, within, breaches uint64
			if err := scan(&b, &resolved, &within, &breaches); err != nil {
				return err
			}
			if i, ok := tl.index(b); ok {
				p := &out.Periods[i]
				p.Resolved, p.WithinSLA, p.Breaches = int64(resolved), int64(within), int64(breaches)
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	for i := range out.Periods {
		if p := &out.Periods[i]; p.Resolved > 0 {
			rate := float64(p.WithinSLA) / float64(p.Resolved)
			p.Rate = &rate
		}
	}
	t := now(&q)
	err = r.query(ctx, "sla due dates",
		"SELECT severity, countIf(due_at < ?), countIf(due_at >= ? AND due_at < ?) FROM "+table("analytics_findings", gen)+
			" FINAL WHERE status IN ? AND due_at != 0"+cond+" GROUP BY severity",
		append([]any{t, t, t + o.DueWithin.Milliseconds(), openStatuses()}, args...),
		func(scan func(...any) error) error {
			var sev string
			var overdue, soon uint64
			if err := scan(&sev, &overdue, &soon); err != nil {
				return err
			}
			out.Overdue += int64(overdue)
			out.DueSoon += int64(soon)
			if _, known := out.OverdueBy[sev]; known {
				out.OverdueBy[sev], out.DueSoonBy[sev] = int64(overdue), int64(soon)
			}
			return nil
		})
	return out, err
}

// score is an asset's risk score from its points in thousandths (projections/assets).
func score(milli int64, criticality string) (points, factor, s float64) {
	points, factor = float64(milli)/1000, assets.CriticalityFactor(criticality)
	return points, factor, math.Min(assets.MaxRisk, points*factor)
}

// TopAssets implements analytics.Reader.
func (r *Reader) TopAssets(ctx context.Context, q analytics.Query, o analytics.Options) ([]analytics.AssetRisk, error) {
	o, err := options(o)
	if err != nil {
		return nil, err
	}
	gen, sel, err := r.prepare(ctx, &q, true)
	if err != nil {
		return nil, err
	}
	all, err := r.assetRisks(ctx, gen, &q, sel)
	if err != nil {
		return nil, err
	}
	return all[:min(len(all), o.Limit)], nil
}

// assetRisks are the visible assets with open findings at q.Now, riskiest first (ties by id):
// the sums of their facts' open and risk deltas up to Now (as the series sums them up to each
// bucket's end; no FINAL read of the findings' rows).
func (r *Reader) assetRisks(ctx context.Context, gen uint64, q *analytics.Query, sel selection) ([]analytics.AssetRisk, error) {
	cond, args := sel.where(&q.Filter, true)
	var out []analytics.AssetRisk
	err := r.query(ctx, "asset risk",
		"SELECT asset_id, sum(risk_delta), sum(open_delta) AS open FROM "+table("analytics_facts", gen)+
			" WHERE open_delta != 0 AND at <= ?"+cond+" GROUP BY asset_id HAVING open > 0",
		append([]any{now(q)}, args...),
		func(scan func(...any) error) error {
			var a analytics.AssetRisk
			var milli int64
			if err := scan(&a.AssetID, &milli, &a.Open); err != nil {
				return err
			}
			var crit string
			if d := sel.assets[a.AssetID]; d != nil {
				a.Name, a.Kind, crit = d.Name, d.Kind, d.Criticality
			}
			if s := survivor(sel.assets, a.AssetID); s != nil {
				a.Team, a.Environment = s.Team, s.Environment
			}
			a.Points, a.Factor, a.Score = score(milli, crit)
			out = append(out, a)
			return nil
		})
	slices.SortFunc(out, func(a, b analytics.AssetRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.AssetID, b.AssetID))
	})
	return out, err
}

// Risk implements analytics.Reader.
func (r *Reader) Risk(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Risk, error) {
	var out analytics.Risk
	o, err := options(o)
	if err != nil {
		return out, err
	}
	tl, err := newTimeline(&q)
	if err != nil {
		return out, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, true)
	if err != nil {
		return out, err
	}
	// The series: each asset's points at the end of each bucket (a running sum of its risk
	// deltas), scored and summed over the assets.
	cond, args := sel.where(&q.Filter, true)
	delta := map[string][]int64{}
	// One row per asset with its (bucket, delta) pairs: a row per (bucket, asset) would send
	// hundreds of thousands of rows over a million facts.
	err = r.query(ctx, "risk series",
		"SELECT asset_id, groupArray(b), groupArray(d) FROM (SELECT "+bexpr+" AS b, asset_id, sum(risk_delta) AS d FROM "+
			table("analytics_facts", gen)+" WHERE risk_delta != 0 AND at < ?"+cond+" GROUP BY b, asset_id) GROUP BY asset_id",
		append(append(bargs, tl.end), args...),
		func(scan func(...any) error) error {
			var id string
			var b []uint32
			var d []int64
			if err := scan(&id, &b, &d); err != nil {
				return err
			}
			row := make([]int64, len(bs))
			for j := range b {
				if i, ok := tl.index(b[j]); ok {
					row[i] += d[j]
				}
			}
			delta[id] = row
			return nil
		})
	if err != nil {
		return out, err
	}
	ids := make([]string, 0, len(delta))
	for id := range delta {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed order of the float additions
	out.Series = make([]analytics.RiskPoint, len(bs))
	running := make(map[string]int64, len(ids))
	for i, b := range bs {
		out.Series[i].Bucket = b
		for _, id := range ids {
			running[id] += delta[id][i]
			var crit string
			if d := sel.assets[id]; d != nil {
				crit = d.Criticality
			}
			_, _, s := score(running[id], crit)
			out.Series[i].Score += s
		}
	}
	all, err := r.assetRisks(ctx, gen, &q, sel)
	if err != nil {
		return out, err
	}
	out.TopAssets = all[:min(len(all), o.Limit)]
	out.Teams = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Team })
	out.Environments = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Environment })
	return out, nil
}

// groupRisk sums the assets' scores by key, riskiest first (ties by key).
func groupRisk(all []analytics.AssetRisk, key func(*analytics.AssetRisk) string) []analytics.GroupRisk {
	idx := map[string]int{}
	out := []analytics.GroupRisk{}
	for i := range all {
		k := key(&all[i])
		j, ok := idx[k]
		if !ok {
			j, idx[k] = len(out), len(out)
			out = append(out, analytics.GroupRisk{Key: k})
		}
		out[j].Assets++
		out[j].Score += all[i].Score
	}
	slices.SortFunc(out, func(a, b analytics.GroupRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Exploitability implements analytics.Reader.
func (r *Reader) Exploitability(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Exploitability, error) {
	out := analytics.Exploitability{OpenKEVBySev: bySeverity(), EPSS: make([]analytics.EPSSBucket, 10), KEVOverdueList: []analytics.FindingRef{}}
	for i := range out.EPSS {
		out.EPSS[i] = analytics.EPSSBucket{Min: float64(i) / 10, Max: float64(i+1) / 10}
	}
	o, err := options(o)
	if err != nil {
		return out, err
	}
	gen, sel, err := r.prepare(ctx, &q, false)
	if err != nil {
		return out, err
	}
	cond, args := sel.where(&q.Filter, true)
	t := now(&q)
	findings := table("analytics_findings", gen)
	// EPSS bucket: least(9, floor(epss × 10)) — the last bucket holds 1.
	err = r.query(ctx, "exploitability",
		"SELECT severity, has_epss, if(has_epss = 1, least(9, toUInt8(floor(epss * 10))), 0) AS e, countIf(kev = 1),"+
			" countIf(kev = 1 AND due_at != 0 AND due_at < ?), count() FROM "+findings+" FINAL WHERE status IN ?"+cond+
			" GROUP BY severity, has_epss, e",
		append([]any{t, openStatuses()}, args...),
		func(scan func(...any) error) error {
			var sev string
			var has, e uint8
			var kev, overdue, n uint64
			if err := scan(&sev, &has, &e, &kev, &overdue, &n); err != nil {
				return err
			}
			out.OpenKEV += int64(kev)
			out.KEVOverdue += int64(overdue)
			if _, known := out.OpenKEVBySev[sev]; known {
				out.OpenKEVBySev[sev] += int64(kev)
			}
			if has == 1 {
				out.EPSS[e].Count += int64(n)
			} else {
				out.NoEPSS += int64(n)
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	err = r.query(ctx, "kev overdue findings",
		"SELECT finding_id, asset_id, severity, cve, due_at FROM "+findings+" FINAL WHERE status IN ? AND kev = 1 AND due_at != 0 AND due_at < ?"+
			cond+" ORDER BY due_at, finding_id LIMIT ?",
		append(append([]any{openStatuses(), t}, args...), o.Limit),
		func(scan func(...any) error) error {
			var f analytics.FindingRef
			var due int64
			if err := scan(&f.FindingID, &f.AssetID, &f.Severity, &f.CVE, &due); err != nil {
				return err
			}
			f.DueAt = time.UnixMilli(due).UTC()
			out.KEVOverdueList = append(out.KEVOverdueList, f)
			return nil
		})
	return out, err
}

// Coverage implements analytics.Reader.
func (r *Reader) Coverage(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Coverage, error) {
	out := analytics.Coverage{Scanners: []analytics.ScannerCoverage{}}
	o, err := options(o)
	if err != nil {
		return out, err
	}
	tl, err := newTimeline(&q)
	if err != nil {
		return out, err
	}
	bs := tl.buckets
	bexpr, bargs := tl.expr()
	gen, sel, err := r.prepare(ctx, &q, true)
	if err != nil {
		return out, err
	}
	cond, args := sel.where(&q.Filter, false)
	stale := now(&q) - o.StaleAfter.Milliseconds()
	scanned := table("analytics_scanned", gen)
	byScanner := map[string]int{}
	err = r.query(ctx, "coverage",
		"SELECT scanner, count(), countIf(at < ?) FROM "+scanned+" FINAL WHERE 1"+cond+" GROUP BY scanner ORDER BY scanner",
		append([]any{stale}, args...),
		func(scan func(...any) error) error {
			var c analytics.ScannerCoverage
			var n, s uint64
			if err := scan(&c.Scanner, &n, &s); err != nil {
				return err
			}
			c.AssetsScanned, c.Stale, c.StaleAssets = int64(n), int64(s), []analytics.StaleAsset{}
			byScanner[c.Scanner] = len(out.Scanners)
			out.Scanners = append(out.Scanners, c)
			return nil
		})
	if err != nil {
		return out, err
	}
	// The least recently scanned first, at most Limit per scanner.
	err = r.query(ctx, "stale assets",
		"SELECT scanner, asset_id, at FROM "+scanned+" FINAL WHERE at < ?"+cond+" ORDER BY scanner, at, asset_id LIMIT ? BY scanner",
		append(append([]any{stale}, args...), o.Limit),
		func(scan func(...any) error) error {
			var scanner string
			var a analytics.StaleAsset
			var at uint64
			if err := scan(&scanner, &a.AssetID, &at); err != nil {
				return err
			}
			a.LastScanned = time.UnixMilli(int64(at)).UTC()
			if d := sel.assets[a.AssetID]; d != nil {
				a.Name = d.Name
			}
			if i, ok := byScanner[scanner]; ok {
				out.Scanners[i].StaleAssets = append(out.Scanners[i].StaleAssets, a)
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	out.Scans = make([]analytics.ScanPoint, len(bs))
	for i, b := range bs {
		out.Scans[i] = analytics.ScanPoint{Bucket: b, ByScanner: map[string]int64{}}
	}
	var scannerCond string
	var scannerArgs []any
	if len(q.Scanners) > 0 {
		scannerCond, scannerArgs = " AND scanner IN ?", []any{set(q.Scanners)}
	}
	err = r.query(ctx, "scans",
		"SELECT "+bexpr+" AS b, scanner, countIf(failed = 0), countIf(failed = 1) FROM "+table("analytics_scans", gen)+
			" WHERE at >= ? AND at < ?"+scannerCond+" GROUP BY b, scanner",
		append(append(bargs, tl.base, tl.end), scannerArgs...),
		func(scan func(...any) error) error {
			var b uint32
			var scanner string
			var done, failed uint64
			if err := scan(&b, &scanner, &done, &failed); err != nil {
				return err
			}
			if i, ok := tl.index(b); ok {
				p := &out.Scans[i]
				p.Completed += int64(done)
				p.Failed += int64(failed)
				if done > 0 {
					p.ByScanner[scanner] += int64(done)
				}
			}
			return nil
		})
	return out, err
}

// Position implements analytics.Reader.
func (r *Reader) Position(ctx context.Context) (int64, error) {
	gen, err := r.db.liveGeneration(ctx)
	if err != nil {
		return 0, err
	}
	return r.db.position(ctx, gen)
}
