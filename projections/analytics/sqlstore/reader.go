package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

// Reader answers analytics questions from the views of the analytics tables.
//
// Every statement starts with the same common table expressions: av, the assets a query may
// see — each asset id with its survivor (the end of its merged_into chain, at most 32 merges)
// and the survivor's team, environment, kind, tags and criticality, filtered by the query's
// asset filters and scope — and b, the query's buckets as a VALUES list of (i, lo, hi) bounds
// computed in Go by analytics.Buckets (bucket -1 holds everything before the first one, for
// sums "up to an instant"). Facts join b on lo <= at < hi (the facts' at index serves the
// range per bucket) and av on their asset; without asset filters or scope the join is a LEFT
// JOIN, so findings of assets the model never saw registered count too. Sums of deltas are
// per bucket in SQL and accumulated over the buckets in Go; percentiles are nearest-rank,
// picked in SQL with ROW_NUMBER over the sorted durations. Every value is a bind parameter;
// the only literals are the lifecycle's status and type names. av, b and MTTR's durations are
// AS MATERIALIZED (SQLite 3.35+, PostgreSQL 12+): computed once per statement, where an
// inlined CTE would be evaluated again for every fact joined to it (3 to 10 times slower on
// 45,000 events, BenchmarkQueries).
//
// What the answers mean beyond analytics.go:
//   - "now" answers (SLA's overdue and due soon, Risk's top assets and groups, TopAssets,
//     Exploitability) read the findings' current state; Query.Now is what due dates are
//     compared with. Coverage's staleness is measured from Query.Now too.
//   - MTTR's time to triage counts a finding's first FindingTriaged that came after its
//     opening (a triage at the very instant of opening has no duration and is not counted).
//   - Scan imports belong to no team (projections/ownership): a scoped query counts none in
//     Coverage.Scans, and the asset filters do not apply to them (the scanner filter does).
type Reader struct{ db *readkit.DB }

// NewReader returns a Reader over db (the read-model database the projection writes).
func NewReader(db *projections.DB) *Reader { return &Reader{db: readkit.NewDB(db)} }

var _ analytics.Reader = (*Reader)(nil)

// Position implements analytics.Reader.
func (r *Reader) Position(ctx context.Context) (int64, error) {
	var p int64
	err := r.db.QueryRow(ctx, "SELECT position FROM analytics_position WHERE id = 1").Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return p, err
}

// stmt is one statement being built: its text and arguments, in order.
type stmt struct {
	*readkit.Query
	sql        strings.Builder
	q          analytics.Query
	o          analytics.Options
	bs         []analytics.Bucket
	restricted bool // asset filters or a scope: facts of unseen assets do not count
}

func (r *Reader) prepare(q analytics.Query, o analytics.Options) (*stmt, error) {
	q, o, bs, err := analytics.PrepareAll(q, o)
	if err != nil {
		return nil, err
	}
	s := &stmt{Query: readkit.NewQuery(r.db.Dialect), q: q, o: o, bs: bs}
	s.restricted = q.Scope != nil || len(q.Teams)+len(q.Environments)+len(q.AssetKinds)+len(q.Tags) > 0
	s.with()
	return s, nil
}

func (s *stmt) w(parts ...string) {
	for _, p := range parts {
		s.sql.WriteString(p)
	}
}

// in is "(p1, …)" for vals.
func (s *stmt) in(vals []string) string {
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = s.Arg(v)
	}
	return "(" + strings.Join(ps, ", ") + ")"
}

// minInstant stands for "before every bucket" (bucket -1's lower bound).
const minInstant = -1 << 62

// with writes the common table expressions av and b (see Reader), and p: the instants "now"
// answers compare with (now, now + DueWithin, now - StaleAfter).
func (s *stmt) with() {
	s.w("WITH RECURSIVE chain(id, top, depth) AS (SELECT asset_id, merged_into, 0 FROM asset_dims WHERE merged_into > ''",
		" UNION ALL SELECT c.id, t.merged_into, c.depth + 1 FROM chain c JOIN asset_dims t ON t.asset_id = c.top WHERE t.merged_into > '' AND c.depth < 32),",
		" own(id, top) AS (SELECT c.id, c.top FROM chain c JOIN asset_dims s ON s.asset_id = c.top WHERE s.merged_into = ''),",
		" av(id, top, name, kind, team, environment, criticality) AS MATERIALIZED (SELECT a.asset_id, v.asset_id, v.name, v.kind, v.team, v.environment, v.criticality",
		" FROM asset_dims a LEFT JOIN own o ON o.id = a.asset_id JOIN asset_dims v ON v.asset_id = COALESCE(o.top, a.asset_id) WHERE 1 = 1")
	q := s.q
	switch {
	case q.Scope == nil:
	case len(q.Scope) == 0:
		s.w(" AND 1 = 0")
	default:
		s.w(" AND v.team IN ", s.in(q.Scope))
	}
	if len(q.Teams) > 0 {
		s.w(" AND v.team IN ", s.in(q.Teams))
	}
	if len(q.Environments) > 0 {
		s.w(" AND v.environment IN ", s.in(q.Environments))
	}
	if len(q.AssetKinds) > 0 {
		s.w(" AND v.kind IN ", s.in(q.AssetKinds))
	}
	for _, t := range q.Tags {
		s.w(" AND v.tags LIKE ", s.Arg("%,"+readkit.EscapeLike(t)+",%"), ` ESCAPE '\'`)
	}
	s.w("), b(i, lo, hi) AS MATERIALIZED (VALUES ")
	lo := int64(minInstant)
	for i, b := range s.bs {
		if i == 0 {
			s.w("(", s.bigint(int64(-1)), ", ", s.bigint(lo), ", ", s.bigint(b.Start.UnixMilli()), "), ")
		} else {
			s.w(", ")
		}
		s.w("(", s.bigint(int64(i)), ", ", s.bigint(b.Start.UnixMilli()), ", ", s.bigint(b.End.UnixMilli()), ")")
	}
	now := q.Now.UnixMilli()
	s.w("), p(now, soon, stale) AS (SELECT ", s.bigint(now), ", ", s.bigint(q.Now.Add(s.o.DueWithin).UnixMilli()), ", ",
		s.bigint(q.Now.Add(-s.o.StaleAfter).UnixMilli()), ") ")
}

// bigint is a BIGINT parameter (PostgreSQL types a VALUES list's parameters as text otherwise).
func (s *stmt) bigint(v int64) string { return "CAST(" + s.Arg(v) + " AS BIGINT)" }

// assets joins av on the asset column col (see survivor).
func (s *stmt) assets(col string) {
	if s.restricted {
		s.w(" JOIN av ON av.id = ", col)
	} else {
		s.w(" LEFT JOIN av ON av.id = ", col)
	}
}

// survivor is the expression of the surviving asset of the asset column col, once assets has
// joined av on it.
func survivor(col string) string { return "COALESCE(av.top, " + col + ")" }

// findingConds writes the severity and scanner filters on alias's columns (after a WHERE).
func (s *stmt) findingConds(alias string) {
	if len(s.q.Severities) > 0 {
		s.w(" AND ", alias, ".severity IN ", s.in(s.q.Severities))
	}
	if len(s.q.Scanners) > 0 {
		s.w(" AND ", alias, ".scanner IN ", s.in(s.q.Scanners))
	}
}

// factsPerBucket writes "SELECT b.i, <cols> FROM b JOIN facts f … WHERE …" (bucket -1
// included when before) and its filters; the caller adds GROUP BY.
func (s *stmt) factsPerBucket(cols string, before bool) {
	s.w("SELECT b.i, ", cols, " FROM b JOIN facts f ON f.at >= b.lo AND f.at < b.hi")
	s.assets("f.asset_id")
	if before {
		s.w(" WHERE 1 = 1")
	} else {
		s.w(" WHERE b.i >= 0")
	}
	s.findingConds("f")
}

func (r *Reader) query(ctx context.Context, s *stmt, each func(*sql.Rows) error) error {
	rows, err := r.db.Query(ctx, s.sql.String(), s.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func zeros() map[string]int64 { return vulns.ZeroCounts() }

// OpenFindings implements analytics.Reader.
func (r *Reader) OpenFindings(ctx context.Context, q analytics.Query) ([]analytics.OpenPoint, error) {
	s, err := r.prepare(q, analytics.Options{})
	if err != nil {
		return nil, err
	}
	s.factsPerBucket("f.severity, SUM(f.open_delta)", true)
	s.w(" GROUP BY b.i, f.severity")
	delta := make([]map[string]int64, len(s.bs)+1) // [0]: before the first bucket
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var i, n int64
		var sev string
		if err := rows.Scan(&i, &sev, &n); err != nil {
			return err
		}
		if delta[i+1] == nil {
			delta[i+1] = map[string]int64{}
		}
		delta[i+1][sev] += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return analytics.OpenSeries(s.bs, delta), nil
}

// Lifecycle names the SQL compares with (constants of the code, never input).
var (
	remediated = "('" + vulns.StatusResolved + "', '" + vulns.StatusClosed + "')"
	removed    = "('" + vulns.StatusFalsePositive + "', '" + vulns.StatusDuplicate + "', '" + vulns.StatusRiskAccepted + "')"
	isRemedy   = "f.open_delta = -1 AND f.status_after IN " + remediated
)

func when(cond string) string { return "SUM(CASE WHEN " + cond + " THEN 1 ELSE 0 END)" }

// Flow implements analytics.Reader.
func (r *Reader) Flow(ctx context.Context, q analytics.Query) ([]analytics.FlowPoint, error) {
	s, err := r.prepare(q, analytics.Options{})
	if err != nil {
		return nil, err
	}
	s.factsPerBucket("f.severity, "+when("f.type = '"+contracts.TypeFindingOpened+"'")+", "+
		when("f.type = '"+contracts.TypeFindingReopened+"' AND f.open_delta = 1")+", "+when(isRemedy)+", "+
		when("f.open_delta = -1 AND f.status_after IN "+removed), false)
	s.w(" GROUP BY b.i, f.severity")
	out := make([]analytics.FlowPoint, len(s.bs))
	for i, b := range s.bs {
		out[i] = analytics.FlowPoint{Bucket: b, BySeverity: zeros()}
	}
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var i, disc, reop, res, rem int64
		var sev string
		if err := rows.Scan(&i, &sev, &disc, &reop, &res, &rem); err != nil {
			return err
		}
		p := &out[i]
		p.Discovered, p.Reopened, p.Resolved, p.Removed = p.Discovered+disc, p.Reopened+reop, p.Resolved+res, p.Removed+rem
		p.BySeverity[sev] += disc
		p.Net = p.Discovered + p.Reopened - p.Resolved - p.Removed
		return nil
	})
	return out, err
}

// MTTR groups: the durations are summarised per (group, severity, bucket).
const (
	gRemedy = iota
	gRemedySev
	gRemedyBucket
	gTriage
	gTriageSev
)

// MTTR implements analytics.Reader.
func (r *Reader) MTTR(ctx context.Context, q analytics.Query) (analytics.MTTR, error) {
	s, err := r.prepare(q, analytics.Options{})
	if err != nil {
		return analytics.MTTR{}, err
	}
	from, to := s.q.From.UnixMilli(), s.q.To.UnixMilli()
	s.w(", d(sev, at, secs, tri) AS MATERIALIZED (SELECT f.severity, f.at, f.duration / 1000, CASE WHEN f.type = '", contracts.TypeFindingTriaged, "' THEN 1 ELSE 0 END FROM facts f")
	s.assets("f.asset_id")
	s.w(" WHERE ((", isRemedy, ") OR (f.type = '", contracts.TypeFindingTriaged, "' AND f.duration > 0))")
	s.findingConds("f")
	s.w("), g(g, k, bi, secs) AS (")
	inRange := func() string { return "at >= " + s.bigint(from) + " AND at < " + s.bigint(to) }
	s.w("SELECT ", strconv.Itoa(gRemedy), ", '', CAST(0 AS BIGINT), secs FROM d WHERE tri = 0 AND ", inRange())
	s.w(" UNION ALL SELECT ", strconv.Itoa(gRemedySev), ", sev, CAST(0 AS BIGINT), secs FROM d WHERE tri = 0 AND ", inRange())
	s.w(" UNION ALL SELECT ", strconv.Itoa(gRemedyBucket), ", '', b.i, secs FROM d JOIN b ON d.at >= b.lo AND d.at < b.hi WHERE b.i >= 0 AND tri = 0")
	s.w(" UNION ALL SELECT ", strconv.Itoa(gTriage), ", '', CAST(0 AS BIGINT), secs FROM d WHERE tri = 1 AND ", inRange())
	s.w(" UNION ALL SELECT ", strconv.Itoa(gTriageSev), ", sev, CAST(0 AS BIGINT), secs FROM d WHERE tri = 1 AND ", inRange())
	s.w("), ranked AS (SELECT g, k, bi, secs, ROW_NUMBER() OVER (PARTITION BY g, k, bi ORDER BY secs) AS rn,",
		" COUNT(*) OVER (PARTITION BY g, k, bi) AS n, SUM(secs) OVER (PARTITION BY g, k, bi) AS total FROM g)",
		" SELECT g, k, bi, n, total, rn, secs FROM ranked WHERE rn = (50 * n + 99) / 100 OR rn = (90 * n + 99) / 100")
	type key struct {
		g  int
		k  string
		bi int64
	}
	got := map[key]*analytics.Durations{}
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var k key
		var n, total, rn, secs int64
		if err := rows.Scan(&k.g, &k.k, &k.bi, &n, &total, &rn, &secs); err != nil {
			return err
		}
		d := got[k]
		if d == nil {
			d = &analytics.Durations{Count: n, Mean: float64(total) / float64(n)}
			got[k] = d
		}
		if int(rn) == analytics.NearestRank(50, int(n)) {
			d.P50 = secs
		}
		if int(rn) == analytics.NearestRank(90, int(n)) {
			d.P90 = secs
		}
		return nil
	})
	if err != nil {
		return analytics.MTTR{}, err
	}
	one := func(k key) analytics.Durations {
		if d := got[k]; d != nil {
			return *d
		}
		return analytics.Durations{}
	}
	m := analytics.MTTR{Remediate: one(key{g: gRemedy}), Triage: one(key{g: gTriage}),
		RemediateBySev: map[string]analytics.Durations{}, TriageBySeverity: map[string]analytics.Durations{}}
	for _, sev := range analytics.Severities {
		m.RemediateBySev[sev], m.TriageBySeverity[sev] = one(key{g: gRemedySev, k: sev}), one(key{g: gTriageSev, k: sev})
	}
	for i, b := range s.bs {
		m.ResolvedInPeriods = append(m.ResolvedInPeriods, analytics.MTTRPoint{Bucket: b, Durations: one(key{g: gRemedyBucket, bi: int64(i)})})
	}
	return m, nil
}

// SLA implements analytics.Reader.
func (r *Reader) SLA(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.SLA, error) {
	s, err := r.prepare(q, o)
	if err != nil {
		return analytics.SLA{}, err
	}
	due := isRemedy + " AND f.due_at > 0"
	s.factsPerBucket(when(due)+", "+when(due+" AND f.at <= f.due_at")+", "+when("f.type = '"+contracts.TypeSLABreached+"'"), false)
	s.w(" GROUP BY b.i")
	out := analytics.SLA{OverdueBy: zeros(), DueSoonBy: zeros(), DueWithinDays: int(s.o.DueWithin / (24 * time.Hour))}
	out.Periods = make([]analytics.SLAPoint, len(s.bs))
	for i, b := range s.bs {
		out.Periods[i].Bucket = b
	}
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var i, res, within, breaches int64
		if err := rows.Scan(&i, &res, &within, &breaches); err != nil {
			return err
		}
		p := &out.Periods[i]
		p.Resolved, p.WithinSLA, p.Breaches = res, within, breaches
		if res > 0 {
			rate := float64(within) / float64(res)
			p.Rate = &rate
		}
		return nil
	})
	if err != nil {
		return analytics.SLA{}, err
	}
	s, _ = r.prepare(q, o)
	s.w("SELECT fd.severity, ", when("fd.due_at < p.now"), ", ", when("fd.due_at >= p.now AND fd.due_at < p.soon"))
	s.current()
	s.w(" AND fd.due_at > 0 GROUP BY fd.severity")
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var sev string
		var over, dueSoon int64
		if err := rows.Scan(&sev, &over, &dueSoon); err != nil {
			return err
		}
		out.OverdueBy[sev], out.DueSoonBy[sev] = over, dueSoon
		out.Overdue += over
		out.DueSoon += dueSoon
		return nil
	})
	return out, err
}

// current writes " FROM finding_dims fd … WHERE fd.open = 1" and the filters: the open
// findings' current state, what "now" answers read.
func (s *stmt) current() {
	s.w(" FROM finding_dims fd CROSS JOIN p")
	s.assets("fd.asset_id")
	s.w(" WHERE fd.open = 1")
	s.findingConds("fd")
}

// Risk implements analytics.Reader.
func (r *Reader) Risk(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Risk, error) {
	s, err := r.prepare(q, o)
	if err != nil {
		return analytics.Risk{}, err
	}
	surv := survivor("f.asset_id")
	s.factsPerBucket(surv+", COALESCE(av.criticality, ''), SUM(f.risk_delta)", true)
	s.w(" GROUP BY b.i, ", surv, ", av.criticality")
	type asset struct {
		factor float64
		points int64
	}
	byID := map[string]*asset{}
	deltas := make([]map[string]int64, len(s.bs)+1) // [0]: before the first bucket
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var i, d int64
		var id, crit string
		if err := rows.Scan(&i, &id, &crit, &d); err != nil {
			return err
		}
		if byID[id] == nil {
			byID[id] = &asset{factor: assets.CriticalityFactor(crit)}
		}
		if deltas[i+1] == nil {
			deltas[i+1] = map[string]int64{}
		}
		deltas[i+1][id] += d
		return nil
	})
	if err != nil {
		return analytics.Risk{}, err
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out analytics.Risk
	for i := range deltas {
		for id, d := range deltas[i] {
			byID[id].points += d
		}
		if i == 0 {
			continue
		}
		p := analytics.RiskPoint{Bucket: s.bs[i-1]}
		for _, id := range ids { // a fixed order: the float sum does not depend on map order
			if a := byID[id]; a.points != 0 {
				p.Score += analytics.Score(a.points, a.factor)
			}
		}
		out.Series = append(out.Series, p)
	}
	all, err := r.assetRisks(ctx, q, s.o)
	if err != nil {
		return analytics.Risk{}, err
	}
	out.TopAssets = all[:min(len(all), s.o.Limit)]
	out.Teams = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Team })
	out.Environments = groupRisk(all, func(a *analytics.AssetRisk) string { return a.Environment })
	return out, nil
}

// TopAssets implements analytics.Reader.
func (r *Reader) TopAssets(ctx context.Context, q analytics.Query, o analytics.Options) ([]analytics.AssetRisk, error) {
	o, err := o.Check()
	if err != nil {
		return nil, err
	}
	all, err := r.assetRisks(ctx, q, o)
	if err != nil {
		return nil, err
	}
	return all[:min(len(all), o.Limit)], nil
}

// assetRisks is every surviving asset with open findings, riskiest first (then by id).
func (r *Reader) assetRisks(ctx context.Context, q analytics.Query, o analytics.Options) ([]analytics.AssetRisk, error) {
	s, err := r.prepare(q, o)
	if err != nil {
		return nil, err
	}
	surv := survivor("fd.asset_id")
	s.w("SELECT ", surv, ", COALESCE(av.name, ''), COALESCE(av.kind, ''), COALESCE(av.team, ''), COALESCE(av.environment, ''),",
		" COALESCE(av.criticality, ''), SUM(fd.risk), COUNT(*)")
	s.current()
	s.w(" GROUP BY ", surv, ", av.name, av.kind, av.team, av.environment, av.criticality")
	out := []analytics.AssetRisk{}
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var a analytics.AssetRisk
		var crit string
		var pts int64
		if err := rows.Scan(&a.AssetID, &a.Name, &a.Kind, &a.Team, &a.Environment, &crit, &pts, &a.Open); err != nil {
			return err
		}
		a.Factor = assets.CriticalityFactor(crit)
		a.Points, a.Score = float64(pts)/1000, analytics.Score(pts, a.Factor)
		out = append(out, a)
		return nil
	})
	slices.SortFunc(out, func(x, y analytics.AssetRisk) int { return riskierFirst(x.Score, y.Score, x.AssetID, y.AssetID) })
	return out, err
}

// riskierFirst orders by score, highest first, then by key.
func riskierFirst(xScore, yScore float64, xKey, yKey string) int {
	if c := cmp.Compare(yScore, xScore); c != 0 {
		return c
	}
	return strings.Compare(xKey, yKey)
}

// groupRisk sums the scores of assets (sorted by id within a group, so the sum is the same
// whatever the input order) per key, riskiest first.
func groupRisk(all []analytics.AssetRisk, key func(*analytics.AssetRisk) string) []analytics.GroupRisk {
	byID := slices.Clone(all)
	slices.SortFunc(byID, func(x, y analytics.AssetRisk) int { return strings.Compare(x.AssetID, y.AssetID) })
	m := map[string]*analytics.GroupRisk{}
	var keys []string
	for i := range byID {
		k := key(&byID[i])
		if m[k] == nil {
			m[k] = &analytics.GroupRisk{Key: k}
			keys = append(keys, k)
		}
		m[k].Assets++
		m[k].Score += byID[i].Score
	}
	out := make([]analytics.GroupRisk, 0, len(keys))
	for _, k := range keys {
		out = append(out, *m[k])
	}
	slices.SortFunc(out, func(x, y analytics.GroupRisk) int { return riskierFirst(x.Score, y.Score, x.Key, y.Key) })
	return out
}

// Exploitability implements analytics.Reader.
func (r *Reader) Exploitability(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Exploitability, error) {
	s, err := r.prepare(q, o)
	if err != nil {
		return analytics.Exploitability{}, err
	}
	bounds := analytics.EPSSBounds()
	overdue := "fd.kev = 1 AND fd.due_at > 0 AND fd.due_at < p.now"
	s.w("SELECT fd.severity, SUM(fd.kev), ", when(overdue), ", ", when("fd.has_epss = 0"))
	for i := 0; i < 10; i++ {
		c := "fd.has_epss = 1 AND fd.epss >= " + s.Arg(bounds[i])
		if i < 9 {
			c += " AND fd.epss < " + s.Arg(bounds[i+1])
		}
		s.w(", ", when(c))
	}
	s.current()
	s.w(" GROUP BY fd.severity")
	x := analytics.Exploitability{OpenKEVBySev: zeros(), KEVOverdueList: []analytics.FindingRef{}}
	for i := 0; i < 10; i++ {
		x.EPSS = append(x.EPSS, analytics.EPSSBucket{Min: bounds[i], Max: bounds[i+1]})
	}
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var sev string
		var kev, over, none int64
		var epss [10]int64
		dest := []any{&sev, &kev, &over, &none}
		for i := range epss {
			dest = append(dest, &epss[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		x.OpenKEVBySev[sev] = kev
		x.OpenKEV += kev
		x.KEVOverdue += over
		x.NoEPSS += none
		for i, n := range epss {
			x.EPSS[i].Count += n
		}
		return nil
	})
	if err != nil {
		return analytics.Exploitability{}, err
	}
	s, _ = r.prepare(q, o)
	s.w("SELECT fd.finding_id, ", survivor("fd.asset_id"), ", fd.severity, fd.cve, fd.due_at")
	s.current()
	s.w(" AND ", overdue, " ORDER BY fd.due_at, fd.finding_id LIMIT ", s.Arg(int64(s.o.Limit)))
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var f analytics.FindingRef
		var due int64
		if err := rows.Scan(&f.FindingID, &f.AssetID, &f.Severity, &f.CVE, &due); err != nil {
			return err
		}
		f.DueAt = time.UnixMilli(due).UTC()
		x.KEVOverdueList = append(x.KEVOverdueList, f)
		return nil
	})
	return x, err
}

// Coverage implements analytics.Reader. Scan imports belong to no team (projections/ownership):
// a scoped query counts none, and asset filters do not apply to them.
func (r *Reader) Coverage(ctx context.Context, q analytics.Query, o analytics.Options) (analytics.Coverage, error) {
	s, err := r.prepare(q, o)
	if err != nil {
		return analytics.Coverage{}, err
	}
	surv := survivor("sc.asset_id")
	s.w("SELECT sc.scanner, ", surv, ", COALESCE(av.name, ''), MAX(sc.at) FROM scanned sc")
	s.assets("sc.asset_id")
	s.w(" WHERE 1 = 1")
	if len(s.q.Scanners) > 0 {
		s.w(" AND sc.scanner IN ", s.in(s.q.Scanners))
	}
	s.w(" GROUP BY sc.scanner, ", surv, ", av.name ORDER BY sc.scanner")
	c := analytics.Coverage{Scanners: []analytics.ScannerCoverage{}}
	cutoff := s.q.Now.Add(-s.o.StaleAfter).UnixMilli()
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var scanner, id, name string
		var at int64
		if err := rows.Scan(&scanner, &id, &name, &at); err != nil {
			return err
		}
		if n := len(c.Scanners); n == 0 || c.Scanners[n-1].Scanner != scanner {
			c.Scanners = append(c.Scanners, analytics.ScannerCoverage{Scanner: scanner, StaleAssets: []analytics.StaleAsset{}})
		}
		sc := &c.Scanners[len(c.Scanners)-1]
		sc.AssetsScanned++
		if at < cutoff {
			sc.Stale++
			sc.StaleAssets = append(sc.StaleAssets, analytics.StaleAsset{AssetID: id, Name: name, LastScanned: time.UnixMilli(at).UTC()})
		}
		return nil
	})
	if err != nil {
		return analytics.Coverage{}, err
	}
	for i := range c.Scanners {
		st := c.Scanners[i].StaleAssets
		slices.SortFunc(st, func(x, y analytics.StaleAsset) int {
			if c := x.LastScanned.Compare(y.LastScanned); c != 0 {
				return c
			}
			return strings.Compare(x.AssetID, y.AssetID)
		})
		c.Scanners[i].StaleAssets = st[:min(len(st), s.o.Limit)]
	}
	c.Scans = make([]analytics.ScanPoint, len(s.bs))
	for i, b := range s.bs {
		c.Scans[i] = analytics.ScanPoint{Bucket: b, ByScanner: map[string]int64{}}
	}
	if s.q.Scope != nil {
		return c, nil
	}
	s, _ = r.prepare(q, o)
	s.w("SELECT b.i, sf.scanner, SUM(1 - sf.failed), SUM(sf.failed) FROM b JOIN scan_facts sf ON sf.at >= b.lo AND sf.at < b.hi WHERE b.i >= 0")
	if len(s.q.Scanners) > 0 {
		s.w(" AND sf.scanner IN ", s.in(s.q.Scanners))
	}
	s.w(" GROUP BY b.i, sf.scanner")
	err = r.query(ctx, s, func(rows *sql.Rows) error {
		var i, done, failed int64
		var scanner string
		if err := rows.Scan(&i, &scanner, &done, &failed); err != nil {
			return err
		}
		p := &c.Scans[i]
		p.Completed += done
		p.Failed += failed
		if done > 0 {
			p.ByScanner[scanner] += done
		}
		return nil
	})
	return c, err
}
