package clickhouse

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// Reader answers analytics.Reader from the live generation's tables, with the meanings the
// embedded backend documents (analytics/sqlstore's Reader) and the contract suite checks.
//
// Every answer over time sums fact deltas: a fact's bucket comes from the boundaries that
// analytics.Buckets computed in Go (timeline.go; the server needs no time-zone support), "open
// at the end of bucket k" is the running sum of the buckets up to k, added up in Go. Facts are
// read as stored (the writer stores each once), dimensions with FINAL (schema.go). Percentiles
// are nearest-rank, exact: the k-th of the sorted durations, k = analytics.NearestRank computed
// in integers in SQL (intDiv(n·p + 99, 100)); means are integer sums divided in Go. "Now"
// answers read the findings' current rows. The filter and scope become the list of visible
// asset ids (selection.go); a merged asset counts under its survivor wherever an answer names
// assets. All of it is SQL that ClickHouse 18.16 and current ClickHouse both accept.
type Reader struct {
	db     *DB
	assets assetCache
}

var _ analytics.Reader = (*Reader)(nil)

// NewReader returns a Reader on db.
func NewReader(db *DB) *Reader { return &Reader{db: db} }

// request is one answer being computed: the checked query and options, its buckets, the live
// generation and the visible assets with the filter's SQL condition.
type request struct {
	q    analytics.Query
	o    analytics.Options
	tl   *timeline
	gen  uint64
	sel  selection
	cond string // " AND …" on a table with asset_id, scanner and severity
	args []any
}

// prepare checks q and o (a bad one is a *analytics.ParamError) and reads the live generation
// and the visible assets (assets: load the asset rows even when nothing narrows them, for the
// answers that name assets).
func (r *Reader) prepare(ctx context.Context, q analytics.Query, o analytics.Options, assetRows bool) (*request, error) {
	q, o, bs, err := analytics.PrepareAll(q, o)
	if err != nil {
		return nil, err
	}
	rq := &request{q: q, o: o}
	if rq.tl, err = newTimeline(bs); err != nil {
		return nil, err
	}
	if rq.gen, err = r.db.liveGeneration(ctx); err != nil {
		return nil, err
	}
	if rq.sel, err = r.selectAssets(ctx, rq.gen, &q.Filter, assetRows); err != nil {
		return nil, err
	}
	rq.cond, rq.args = rq.sel.where(&q.Filter, true)
	return rq, nil
}

func (rq *request) facts() string    { return table("analytics_facts", rq.gen) }
func (rq *request) findings() string { return table("analytics_findings", rq.gen) + " FINAL" }
func (rq *request) now() int64       { return rq.q.Now.UnixMilli() }

// with returns args... followed by the filter's arguments (for SQL whose filter comes last).
func (rq *request) with(args ...any) []any { return append(args, rq.args...) }

// queryCtx allows long IN lists: the visible assets of a scoped query, the event ids of a
// batch (18.16's defaults: max_query_size 256 KiB, max_ast_elements 50,000).
func queryCtx(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings{
		"max_query_size": 64 << 20, "max_ast_elements": 4_000_000, "max_expanded_ast_elements": 4_000_000,
	}))
}

// query runs sql and scans each row.
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

// severityName is the severity of a fact's sev column (schema.go; "" for one outside
// analytics.Severities).
func severityName(rank uint8) string {
	if rank == 0 || int(rank) > len(analytics.Severities) {
		return ""
	}
	return analytics.Severities[rank-1]
}

func zeros() map[string]int64 { return vulns.ZeroCounts() }

// The lifecycle's names the SQL compares with (constants of the code, never input): a fact
// that takes a finding out of the open statuses as resolved or closed (a remedy), or as false
// positive, duplicate or accepted risk (removed).
var (
	isRemedy  = "(open_delta = -1 AND status_after IN ('" + vulns.StatusResolved + "', '" + vulns.StatusClosed + "'))"
	isRemoved = "(open_delta = -1 AND status_after IN ('" + vulns.StatusFalsePositive + "', '" + vulns.StatusDuplicate + "', '" +
		vulns.StatusRiskAccepted + "'))"
	isOpen = "status IN ('" + strings.Join(vulns.OpenStatuses, "', '") + "')"
)

// OpenFindings implements analytics.Reader.
func (r *Reader) OpenFindings(ctx context.Context, q analytics.Query) ([]analytics.OpenPoint, error) {
	rq, err := r.prepare(ctx, q, analytics.Options{}, false)
	if err != nil {
		return nil, err
	}
	bs := rq.tl.buckets
	bexpr, bargs := rq.tl.expr()
	delta := make([]map[string]int64, len(bs)+1) // [0]: before the first bucket, counted in bucket 1 here
	for i := range delta {
		delta[i] = map[string]int64{}
	}
	err = r.query(ctx, "open findings",
		"SELECT "+bexpr+" AS b, sev, sum(open_delta) FROM "+rq.facts()+" WHERE open_delta != 0 AND at < ?"+rq.cond+" GROUP BY b, sev",
		rq.with(append(bargs, rq.tl.end)...),
		func(scan func(...any) error) error {
			var b uint32
			var sev uint8
			var n int64
			if err := scan(&b, &sev, &n); err != nil {
				return err
			}
			if i, ok := rq.tl.index(b); ok {
				delta[i+1][severityName(sev)] += n
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return analytics.OpenSeries(bs, delta), nil
}

// Flow implements analytics.Reader.
func (r *Reader) Flow(ctx context.Context, q analytics.Query) ([]analytics.FlowPoint, error) {
	rq, err := r.prepare(ctx, q, analytics.Options{}, false)
	if err != nil {
		return nil, err
	}
	bs := rq.tl.buckets
	bexpr, bargs := rq.tl.expr()
	out := make([]analytics.FlowPoint, len(bs))
	for i, b := range bs {
		out[i] = analytics.FlowPoint{Bucket: b, BySeverity: zeros()}
	}
	err = r.query(ctx, "flow",
		"SELECT "+bexpr+" AS b, sev, countIf(type = ?), countIf(type = ? AND open_delta = 1), countIf"+isRemedy+", countIf"+isRemoved+
			" FROM "+rq.facts()+" WHERE at >= ? AND at < ?"+rq.cond+" GROUP BY b, sev",
		rq.with(append(bargs, contracts.TypeFindingOpened, contracts.TypeFindingReopened, rq.tl.base, rq.tl.end)...),
		func(scan func(...any) error) error {
			var b uint32
			var rank uint8
			var opened, reopened, resolved, removed uint64
			if err := scan(&b, &rank, &opened, &reopened, &resolved, &removed); err != nil {
				return err
			}
			if i, ok := rq.tl.index(b); ok {
				p := &out[i]
				p.Discovered += int64(opened)
				p.Reopened += int64(reopened)
				p.Resolved += int64(resolved)
				p.Removed += int64(removed)
				if s := severityName(rank); s != "" {
					p.BySeverity[s] += int64(opened)
				}
			}
			return nil
		})
	for i := range out {
		out[i].Net = out[i].Discovered + out[i].Reopened - out[i].Resolved - out[i].Removed
	}
	return out, err
}

// durationCols are a group's count, sum and nearest-rank p50 and p90 of secs.
const durationCols = "count(), sum(secs), arraySort(groupArray(secs))[intDiv(count() * 50 + 99, 100)]," +
	" arraySort(groupArray(secs))[intDiv(count() * 90 + 99, 100)]"

func durations(n uint64, sum, p50, p90 int64) analytics.Durations {
	if n == 0 {
		return analytics.Durations{}
	}
	return analytics.Durations{Count: int64(n), Mean: float64(sum) / float64(n), P50: p50, P90: p90}
}

// MTTR implements analytics.Reader: the remedies' durations, and the first triages' (the
// FindingTriaged fact the fold gave a duration: a triage at the very instant of opening has
// none and is not counted), in whole seconds.
func (r *Reader) MTTR(ctx context.Context, q analytics.Query) (analytics.MTTR, error) {
	out := analytics.MTTR{RemediateBySev: map[string]analytics.Durations{}, TriageBySeverity: map[string]analytics.Durations{}}
	for _, s := range analytics.Severities {
		out.RemediateBySev[s], out.TriageBySeverity[s] = analytics.Durations{}, analytics.Durations{}
	}
	rq, err := r.prepare(ctx, q, analytics.Options{}, false)
	if err != nil {
		return out, err
	}
	bs := rq.tl.buckets
	bexpr, bargs := rq.tl.expr()
	from, to := rq.q.From.UnixMilli(), rq.q.To.UnixMilli()
	secs := "(SELECT at, sev, intDiv(duration, 1000) AS secs FROM " + rq.facts() + " WHERE %s" + rq.cond + ")"
	remedies := strings.Replace(secs, "%s", isRemedy, 1)
	triages := strings.Replace(secs, "%s", "type = '"+contracts.TypeFindingTriaged+"' AND duration > 0", 1)
	for _, part := range []struct {
		what, from string
		all        *analytics.Durations
		bySev      map[string]analytics.Durations
	}{
		{"mttr", remedies, &out.Remediate, out.RemediateBySev},
		{"time to triage", triages, &out.Triage, out.TriageBySeverity},
	} {
		// One row per severity and one (sev 255) over all of them: nearest-rank percentiles
		// do not combine, so the overall row is its own aggregate.
		sql := "SELECT sev, " + durationCols + " FROM " + part.from + " WHERE at >= ? AND at < ? GROUP BY sev" +
			" UNION ALL SELECT toUInt8(255) AS sev, " + durationCols + " FROM " + part.from + " WHERE at >= ? AND at < ?"
		args := append(append(append(append([]any{}, rq.args...), from, to), rq.args...), from, to)
		err := r.query(ctx, part.what, sql, args, func(scan func(...any) error) error {
			var rank uint8
			var n uint64
			var sum, p50, p90 int64
			if err := scan(&rank, &n, &sum, &p50, &p90); err != nil {
				return err
			}
			d := durations(n, sum, p50, p90)
			if rank == 255 {
				*part.all = d
			} else if s := severityName(rank); s != "" {
				part.bySev[s] = d
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
		"SELECT "+bexpr+" AS b, "+durationCols+" FROM "+remedies+" WHERE at >= ? AND at < ? GROUP BY b",
		append(append(bargs, rq.args...), rq.tl.base, rq.tl.end),
		func(scan func(...any) error) error {
			var b uint32
			var n uint64
			var sum, p50, p90 int64
			if err := scan(&b, &n, &sum, &p50, &p90); err != nil {
				return err
			}
			if i, ok := rq.tl.index(b); ok {
				out.ResolvedInPeriods[i].Durations = durations(n, sum, p50, p90)
			}
			return nil
		})
	return out, err
}

// SLA implements analytics.Reader.
func (r *Reader) SLA(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.SLA, error) {
	out := analytics.SLA{OverdueBy: zeros(), DueSoonBy: zeros()}
	rq, err := r.prepare(ctx, q, o, false)
	if err != nil {
		return out, err
	}
	out.DueWithinDays = int(rq.o.DueWithin / (24 * time.Hour))
	bs := rq.tl.buckets
	bexpr, bargs := rq.tl.expr()
	out.Periods = make([]analytics.SLAPoint, len(bs))
	for i, b := range bs {
		out.Periods[i] = analytics.SLAPoint{Bucket: b}
	}
	due := isRemedy + " AND due_at > 0"
	err = r.query(ctx, "sla",
		"SELECT "+bexpr+" AS b, countIf("+due+"), countIf("+due+" AND at <= due_at), countIf(type = ?) FROM "+rq.facts()+
			" WHERE at >= ? AND at < ?"+rq.cond+" GROUP BY b",
		rq.with(append(bargs, contracts.TypeSLABreached, rq.tl.base, rq.tl.end)...),
		func(scan func(...any) error) error {
			var b uint32
			var resolved, within, breaches uint64
			if err := scan(&b, &resolved, &within, &breaches); err != nil {
				return err
			}
			if i, ok := rq.tl.index(b); ok {
				p := &out.Periods[i]
				p.Resolved, p.WithinSLA, p.Breaches = int64(resolved), int64(within), int64(breaches)
				if resolved > 0 {
					rate := float64(within) / float64(resolved)
					p.Rate = &rate
				}
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	t := rq.now()
	err = r.query(ctx, "sla due dates",
		"SELECT severity, countIf(due_at < ?), countIf(due_at >= ? AND due_at < ?) FROM "+rq.findings()+
			" WHERE "+isOpen+" AND due_at > 0"+rq.cond+" GROUP BY severity",
		rq.with(t, t, rq.q.Now.Add(rq.o.DueWithin).UnixMilli()),
		func(scan func(...any) error) error {
			var sev string
			var overdue, soon uint64
			if err := scan(&sev, &overdue, &soon); err != nil {
				return err
			}
			out.OverdueBy[sev], out.DueSoonBy[sev] = int64(overdue), int64(soon)
			out.Overdue += int64(overdue)
			out.DueSoon += int64(soon)
			return nil
		})
	return out, err
}

// Risk implements analytics.Reader.
func (r *Reader) Risk(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Risk, error) {
	var out analytics.Risk
	rq, err := r.prepare(ctx, q, o, true)
	if err != nil {
		return out, err
	}
	bs := rq.tl.buckets
	bexpr, bargs := rq.tl.expr()
	// The series: each surviving asset's points at the end of each bucket (a running sum of
	// the risk deltas of its facts and of those of the assets merged into it), scored and
	// summed. One row per asset with its (bucket, delta) pairs: a row per (bucket, asset)
	// would send hundreds of thousands of rows over a million facts.
	delta := map[string][]int64{} // survivor → delta per bucket
	err = r.query(ctx, "risk series",
		"SELECT asset_id, groupArray(b), groupArray(d) FROM (SELECT "+bexpr+" AS b, asset_id, sum(risk_delta) AS d FROM "+
			rq.facts()+" WHERE risk_delta != 0 AND at < ?"+rq.cond+" GROUP BY b, asset_id) GROUP BY asset_id",
		rq.with(append(bargs, rq.tl.end)...),
		func(scan func(...any) error) error {
			var id string
			var b []uint32
			var d []int64
			if err := scan(&id, &b, &d); err != nil {
				return err
			}
			top, _ := rq.sel.survivor(id)
			row := delta[top]
			if row == nil {
				row = make([]int64, len(bs))
				delta[top] = row
			}
			for j := range b {
				if i, ok := rq.tl.index(b[j]); ok {
					row[i] += d[j]
				}
			}
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
	factor := make([]float64, len(ids))
	for j, id := range ids {
		_, a := rq.sel.survivor(id)
		factor[j] = assets.CriticalityFactor(a.Criticality)
	}
	points := make([]int64, len(ids))
	out.Series = make([]analytics.RiskPoint, len(bs))
	for i, b := range bs {
		out.Series[i].Bucket = b
		for j, id := range ids {
			if points[j] += delta[id][i]; points[j] != 0 {
				out.Series[i].Score += analytics.Score(points[j], factor[j])
			}
		}
	}
	all, err := r.assetRisks(ctx, rq)
	if err != nil {
		return out, err
	}
	out.TopAssets = all[:min(len(all), rq.o.Limit)]
	out.Teams = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Team })
	out.Environments = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Environment })
	return out, nil
}

// TopAssets implements analytics.Reader.
func (r *Reader) TopAssets(ctx context.Context, q analytics.Query, o analytics.Options) ([]analytics.AssetRisk, error) {
	rq, err := r.prepare(ctx, q, o, true)
	if err != nil {
		return nil, err
	}
	all, err := r.assetRisks(ctx, rq)
	if err != nil {
		return nil, err
	}
	return all[:min(len(all), rq.o.Limit)], nil
}

// assetRisks is every surviving asset with open findings, from the findings' current rows,
// riskiest first (then by id).
func (r *Reader) assetRisks(ctx context.Context, rq *request) ([]analytics.AssetRisk, error) {
	type sums struct{ points, open int64 }
	bySurvivor := map[string]*sums{}
	err := r.query(ctx, "asset risk",
		"SELECT asset_id, sum(risk), count() FROM "+rq.findings()+" WHERE "+isOpen+rq.cond+" GROUP BY asset_id",
		rq.args,
		func(scan func(...any) error) error {
			var id string
			var points int64
			var n uint64
			if err := scan(&id, &points, &n); err != nil {
				return err
			}
			top, _ := rq.sel.survivor(id)
			s := bySurvivor[top]
			if s == nil {
				s = &sums{}
				bySurvivor[top] = s
			}
			s.points += points
			s.open += int64(n)
			return nil
		})
	out := make([]analytics.AssetRisk, 0, len(bySurvivor))
	for id, s := range bySurvivor {
		_, a := rq.sel.survivor(id)
		ar := analytics.AssetRisk{AssetID: id, Name: a.Name, Kind: a.Kind, Team: a.Team, Environment: a.Environment,
			Points: float64(s.points) / 1000, Factor: assets.CriticalityFactor(a.Criticality), Open: s.open}
		ar.Score = analytics.Score(s.points, ar.Factor)
		out = append(out, ar)
	}
	slices.SortFunc(out, func(a, b analytics.AssetRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.AssetID, b.AssetID))
	})
	return out, err
}

// groupRisk sums the assets' scores by key (in asset id order, so that the float sum does not
// depend on the input's order), riskiest first (ties by key).
func groupRisk(all []analytics.AssetRisk, key func(*analytics.AssetRisk) string) []analytics.GroupRisk {
	byID := slices.Clone(all)
	slices.SortFunc(byID, func(a, b analytics.AssetRisk) int { return strings.Compare(a.AssetID, b.AssetID) })
	idx := map[string]int{}
	out := []analytics.GroupRisk{}
	for i := range byID {
		k := key(&byID[i])
		j, ok := idx[k]
		if !ok {
			j, idx[k] = len(out), len(out)
			out = append(out, analytics.GroupRisk{Key: k})
		}
		out[j].Assets++
		out[j].Score += byID[i].Score
	}
	slices.SortFunc(out, func(a, b analytics.GroupRisk) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Key, b.Key))
	})
	return out
}

// Exploitability implements analytics.Reader.
func (r *Reader) Exploitability(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Exploitability, error) {
	out := analytics.Exploitability{OpenKEVBySev: zeros(), KEVOverdueList: []analytics.FindingRef{}}
	bounds := analytics.EPSSBounds()
	for i := 0; i < 10; i++ {
		out.EPSS = append(out.EPSS, analytics.EPSSBucket{Min: bounds[i], Max: bounds[i+1]})
	}
	rq, err := r.prepare(ctx, q, o, true)
	if err != nil {
		return out, err
	}
	t := rq.now()
	// The EPSS buckets compare with analytics.EPSSBounds' very values, the last one unbounded
	// above (it holds 1), as every backend does.
	var epss strings.Builder
	args := []any{t}
	for i := 0; i < 10; i++ {
		epss.WriteString(", countIf(has_epss = 1 AND epss >= ?")
		args = append(args, bounds[i])
		if i < 9 {
			epss.WriteString(" AND epss < ?")
			args = append(args, bounds[i+1])
		}
		epss.WriteString(")")
	}
	overdue := "kev = 1 AND due_at > 0 AND due_at < ?"
	err = r.query(ctx, "exploitability",
		"SELECT severity, sum(kev), countIf("+overdue+"), countIf(has_epss = 0)"+epss.String()+" FROM "+rq.findings()+
			" WHERE "+isOpen+rq.cond+" GROUP BY severity",
		rq.with(args...),
		func(scan func(...any) error) error {
			var sev string
			var kev uint64
			var over, none uint64
			var buckets [10]uint64
			dest := []any{&sev, &kev, &over, &none}
			for i := range buckets {
				dest = append(dest, &buckets[i])
			}
			if err := scan(dest...); err != nil {
				return err
			}
			out.OpenKEVBySev[sev] = int64(kev)
			out.OpenKEV += int64(kev)
			out.KEVOverdue += int64(over)
			out.NoEPSS += int64(none)
			for i, n := range buckets {
				out.EPSS[i].Count += int64(n)
			}
			return nil
		})
	if err != nil {
		return out, err
	}
	err = r.query(ctx, "kev overdue findings",
		"SELECT finding_id, asset_id, severity, cve, due_at FROM "+rq.findings()+" WHERE "+isOpen+" AND "+overdue+rq.cond+
			" ORDER BY due_at, finding_id LIMIT ?",
		append(rq.with(t), rq.o.Limit),
		func(scan func(...any) error) error {
			var f analytics.FindingRef
			var due int64
			if err := scan(&f.FindingID, &f.AssetID, &f.Severity, &f.CVE, &due); err != nil {
				return err
			}
			f.AssetID, _ = rq.sel.survivor(f.AssetID)
			f.DueAt = time.UnixMilli(due).UTC()
			out.KEVOverdueList = append(out.KEVOverdueList, f)
			return nil
		})
	return out, err
}

// Coverage implements analytics.Reader. An asset merged into another counts as its survivor
// (scanned when either was). Scan imports belong to no team (projections/ownership): a scoped
// query counts none, and the asset filters do not apply to them (the scanner filter does).
func (r *Reader) Coverage(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Coverage, error) {
	out := analytics.Coverage{Scanners: []analytics.ScannerCoverage{}}
	rq, err := r.prepare(ctx, q, o, true)
	if err != nil {
		return out, err
	}
	cond, args := rq.sel.where(&rq.q.Filter, false)
	type key struct{ scanner, asset string }
	last := map[key]int64{}
	// The latest scan per (asset, scanner) is max(at): the table's version column, right
	// before and after a merge, without FINAL.
	err = r.query(ctx, "coverage",
		"SELECT scanner, asset_id, max(at) FROM "+table("analytics_scanned", rq.gen)+" WHERE 1"+cond+" GROUP BY scanner, asset_id",
		args,
		func(scan func(...any) error) error {
			var k key
			var at uint64
			if err := scan(&k.scanner, &k.asset, &at); err != nil {
				return err
			}
			k.asset, _ = rq.sel.survivor(k.asset)
			last[k] = max(last[k], int64(at))
			return nil
		})
	if err != nil {
		return out, err
	}
	stale := rq.q.Now.Add(-rq.o.StaleAfter).UnixMilli()
	byScanner := map[string]*analytics.ScannerCoverage{}
	for k, at := range last {
		c := byScanner[k.scanner]
		if c == nil {
			c = &analytics.ScannerCoverage{Scanner: k.scanner, StaleAssets: []analytics.StaleAsset{}}
			byScanner[k.scanner] = c
		}
		c.AssetsScanned++
		if at < stale {
			c.Stale++
			_, a := rq.sel.survivor(k.asset)
			c.StaleAssets = append(c.StaleAssets, analytics.StaleAsset{AssetID: k.asset, Name: a.Name, LastScanned: time.UnixMilli(at).UTC()})
		}
	}
	for _, c := range byScanner {
		slices.SortFunc(c.StaleAssets, func(a, b analytics.StaleAsset) int {
			return cmp.Or(a.LastScanned.Compare(b.LastScanned), strings.Compare(a.AssetID, b.AssetID))
		})
		c.StaleAssets = c.StaleAssets[:min(len(c.StaleAssets), rq.o.Limit)]
		out.Scanners = append(out.Scanners, *c)
	}
	slices.SortFunc(out.Scanners, func(a, b analytics.ScannerCoverage) int { return strings.Compare(a.Scanner, b.Scanner) })

	bs := rq.tl.buckets
	out.Scans = make([]analytics.ScanPoint, len(bs))
	for i, b := range bs {
		out.Scans[i] = analytics.ScanPoint{Bucket: b, ByScanner: map[string]int64{}}
	}
	if rq.q.Scope != nil {
		return out, nil
	}
	bexpr, bargs := rq.tl.expr()
	var scannerCond string
	var scannerArgs []any
	if len(rq.q.Scanners) > 0 {
		scannerCond, scannerArgs = " AND scanner IN ?", []any{set(rq.q.Scanners)}
	}
	err = r.query(ctx, "scans",
		"SELECT "+bexpr+" AS b, scanner, countIf(failed = 0), countIf(failed = 1) FROM "+table("analytics_scans", rq.gen)+
			" WHERE at >= ? AND at < ?"+scannerCond+" GROUP BY b, scanner",
		append(append(bargs, rq.tl.base, rq.tl.end), scannerArgs...),
		func(scan func(...any) error) error {
			var b uint32
			var scanner string
			var done, failed uint64
			if err := scan(&b, &scanner, &done, &failed); err != nil {
				return err
			}
			if i, ok := rq.tl.index(b); ok {
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
