package analyticstest

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/schemas/contracts"
)

// The oracle answers every Reader question by walking a scenario's own timeline, naively: it
// decodes the events itself, keeps each finding's state as the lifecycle table says
// (contracts.FindingStatusAfter), and for "at instant T" replays every event before T. It
// never calls analytics.Fold nor any backend code, so a backend that agrees with it agrees
// with the events, not with a shared bug.

type oFinding struct {
	id, asset, sev, status, scanner, cve string
	kev, hasEPSS                         bool
	epss                                 float64
	due, openStart, firstSeen            int64
	triaged                              bool
}

func (f *oFinding) open() bool {
	switch f.status {
	case "open", "reopened", "triaged", "in_remediation":
		return true
	}
	return false
}

// points is the finding's risk points in thousandths (projections/vulns "Risk score").
func (f *oFinding) points() int64 {
	base := map[string]float64{"critical": 10, "high": 5, "medium": 2, "low": 0.5, "info": 0}[f.sev]
	if f.kev {
		base *= 2
	}
	if f.hasEPSS {
		base *= 1 + f.epss
	}
	return int64(math.Round(base * 1000))
}

type oAsset struct {
	name, kind, team, env, crit, merged string
	tags                                []string
}

// change is one finding event as the oracle saw it.
type change struct {
	at            int64
	typ           string
	before, after oFinding // before.status "" before FindingOpened
}

type oracle struct {
	evs []events.Envelope
	// final state, and every change in log order
	assets   map[string]*oAsset
	findings map[string]*oFinding
	changes  []change
	scanned  map[[2]string]int64 // (asset as opened on, scanner) → last seen_at
	scans    []scanRec
	last     int64
}

type scanRec struct {
	at      int64
	scanner string
	failed  bool
}

func newOracle(t *testing.T, evs []events.Envelope) *oracle {
	t.Helper()
	o := &oracle{evs: evs, assets: map[string]*oAsset{}, findings: map[string]*oFinding{}, scanned: map[[2]string]int64{}}
	for i := range evs {
		o.apply(t, &evs[i])
	}
	return o
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func (o *oracle) apply(t *testing.T, e *events.Envelope) {
	t.Helper()
	o.last = max(o.last, e.GlobalPosition)
	dec := func(v any) {
		if err := json.Unmarshal(e.Data, v); err != nil {
			t.Fatalf("oracle: %s: %v", e.Type, err)
		}
	}
	at := millis(e.OccurredAt)
	switch e.Type {
	case contracts.TypeAssetRegistered:
		var d contracts.AssetRegistered
		dec(&d)
		o.assets[e.StreamID] = &oAsset{name: d.Name, kind: string(d.Kind), team: d.OwnerTeam, env: string(d.Environment), crit: string(d.Criticality), tags: d.Tags}
		return
	case contracts.TypeAssetRegisteredWeakly:
		var d contracts.AssetRegisteredWeakly
		dec(&d)
		o.assets[e.StreamID] = &oAsset{name: d.Name, kind: string(d.Kind)}
		return
	case contracts.TypeAssetClassified:
		var d contracts.AssetClassified
		dec(&d)
		a := o.assets[e.StreamID]
		if d.Criticality != nil && *d.Criticality != "" {
			a.crit = string(*d.Criticality)
		}
		if d.Environment != nil && *d.Environment != "" {
			a.env = string(*d.Environment)
		}
		if d.OwnerTeam != nil {
			a.team = *d.OwnerTeam
		}
		if d.Tags != nil {
			a.tags = *d.Tags
		}
		return
	case contracts.TypeAssetUpdated:
		var d contracts.AssetUpdated
		dec(&d)
		if d.Name != nil {
			o.assets[e.StreamID].name = *d.Name
		}
		return
	case contracts.TypeAssetMergedInto:
		var d contracts.AssetMergedInto
		dec(&d)
		o.assets[e.StreamID].merged = d.TargetAssetID
		return
	case contracts.TypeScanImportCompleted, contracts.TypeScanImportFailed:
		var d contracts.ScanImportFailed
		dec(&d)
		o.scans = append(o.scans, scanRec{at: at, scanner: d.Format, failed: e.Type == contracts.TypeScanImportFailed})
		return
	}
	if !strings.HasPrefix(e.StreamID, "vulns-finding-") {
		return
	}
	var d struct {
		contracts.FindingOpenedV2
		ResolvedAt time.Time `json:"resolved_at"`
		ClosedAt   time.Time `json:"closed_at"`
		BreachedAt time.Time `json:"breached_at"`
		DueAt      time.Time `json:"due_at"`
		KEV        *bool     `json:"kev"`
		EPSS       *float64  `json:"epss"`
	}
	dec(&d)
	var before oFinding
	if f := o.findings[e.StreamID]; f != nil {
		before = *f
	}
	after := before
	switch e.Type {
	case contracts.TypeFindingOpened:
		after = oFinding{id: e.StreamID, asset: d.AssetID, sev: string(d.Severity), scanner: d.Format, openStart: millis(d.SeenAt), firstSeen: millis(d.SeenAt)}
		if len(d.CVEs) > 0 {
			after.cve = d.CVEs[0]
		}
		at = millis(d.SeenAt)
	case contracts.TypeFindingSeen:
		at = millis(d.SeenAt)
		if d.Severity != "" {
			after.sev = string(d.Severity)
		}
	case contracts.TypeFindingReopened:
		if !d.SeenAt.IsZero() {
			at = millis(d.SeenAt)
		}
		after.openStart = at
	case contracts.TypeFindingResolved:
		at = millis(d.ResolvedAt)
	case contracts.TypeFindingClosed:
		at = millis(d.ClosedAt)
	case contracts.TypeSLABreached:
		at = millis(d.BreachedAt)
	case contracts.TypeFindingDueDateSet:
		after.due = millis(d.DueAt)
	case contracts.TypeFindingExploitabilityChanged:
		if d.KEV != nil {
			after.kev = *d.KEV
		}
		if d.EPSS != nil {
			after.epss, after.hasEPSS = *d.EPSS, true
		}
	}
	if s, ok := contracts.FindingStatusAfter[e.Type]; ok {
		after.status = string(s)
	}
	if e.Type == contracts.TypeFindingTriaged {
		after.triaged = true
	}
	switch e.Type {
	case contracts.TypeFindingOpened, contracts.TypeFindingSeen, contracts.TypeFindingReopened:
		if e.Type != contracts.TypeFindingReopened || !d.SeenAt.IsZero() {
			k := [2]string{after.asset, after.scanner}
			o.scanned[k] = max(o.scanned[k], at)
		}
	}
	o.findings[e.StreamID] = &after
	o.changes = append(o.changes, change{at: at, typ: e.Type, before: before, after: after})
}

// stateAt is every finding's state after the changes before instant t.
func (o *oracle) stateAt(t int64) map[string]oFinding {
	st := map[string]oFinding{}
	for _, c := range o.changes {
		if c.at < t {
			st[c.after.id] = c.after
		}
	}
	return st
}

// survivor is the asset a (merged) asset's findings belong to now.
func (o *oracle) survivor(id string) string {
	for i := 0; i < 32; i++ {
		a := o.assets[id]
		if a == nil || a.merged == "" {
			return id
		}
		id = a.merged
	}
	return id
}

// visible reports whether the findings of asset id pass q's asset filters and scope.
func (o *oracle) visible(q analytics.Query, id string) bool {
	a := o.assets[o.survivor(id)]
	if q.Scope == nil && len(q.Teams)+len(q.Environments)+len(q.AssetKinds)+len(q.Tags) == 0 {
		return true
	}
	if a == nil {
		return false
	}
	if q.Scope != nil && (a.team == "" || !slices.Contains(q.Scope, a.team)) {
		return false
	}
	if len(q.Teams) > 0 && !slices.Contains(q.Teams, a.team) {
		return false
	}
	if len(q.Environments) > 0 && !slices.Contains(q.Environments, a.env) {
		return false
	}
	if len(q.AssetKinds) > 0 && !slices.Contains(q.AssetKinds, a.kind) {
		return false
	}
	for _, tag := range q.Tags {
		if !slices.Contains(a.tags, tag) {
			return false
		}
	}
	return true
}

func (o *oracle) matches(q analytics.Query, f oFinding) bool {
	if len(q.Severities) > 0 && !slices.Contains(q.Severities, f.sev) {
		return false
	}
	if len(q.Scanners) > 0 && !slices.Contains(q.Scanners, f.scanner) {
		return false
	}
	return o.visible(q, f.asset)
}

func zero5() map[string]int64 {
	return map[string]int64{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
}

func bucketsOf(t *testing.T, q analytics.Query) []analytics.Bucket {
	t.Helper()
	bs, err := analytics.Buckets(q)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func (o *oracle) openFindings(t *testing.T, q analytics.Query) []analytics.OpenPoint {
	var out []analytics.OpenPoint
	for _, b := range bucketsOf(t, q) {
		p := analytics.OpenPoint{Bucket: b, BySeverity: zero5()}
		for _, f := range o.stateAt(millis(b.End)) {
			if f.open() && o.matches(q, f) {
				p.Total++
				p.BySeverity[f.sev]++
			}
		}
		out = append(out, p)
	}
	return out
}

// in reports whether instant at falls in bucket b.
func in(b analytics.Bucket, at int64) bool { return at >= millis(b.Start) && at < millis(b.End) }

func resolvedOrClosed(s string) bool { return s == "resolved" || s == "closed" }

func (o *oracle) flow(t *testing.T, q analytics.Query) []analytics.FlowPoint {
	var out []analytics.FlowPoint
	for _, b := range bucketsOf(t, q) {
		p := analytics.FlowPoint{Bucket: b, BySeverity: zero5()}
		for _, c := range o.changes {
			if !in(b, c.at) || !o.matches(q, c.after) {
				continue
			}
			switch {
			case c.typ == contracts.TypeFindingOpened:
				p.Discovered++
				p.BySeverity[c.after.sev]++
			case c.typ == contracts.TypeFindingReopened && !c.before.open():
				p.Reopened++
			case c.before.open() && !c.after.open() && resolvedOrClosed(c.after.status):
				p.Resolved++
			case c.before.open() && !c.after.open():
				p.Removed++
			}
		}
		p.Net = p.Discovered + p.Reopened - p.Resolved - p.Removed
		out = append(out, p)
	}
	return out
}

// summary is Durations of millisecond values, computed the long way.
func summary(ms []int64) analytics.Durations {
	if len(ms) == 0 {
		return analytics.Durations{}
	}
	var secs []int64
	var sum int64
	for _, v := range ms {
		secs = append(secs, v/1000)
		sum += v / 1000
	}
	slices.Sort(secs)
	pct := func(p int) int64 { // the smallest value with at least p% of the values at or below it
		for i, v := range secs {
			if (i+1)*100 >= p*len(secs) {
				return v
			}
		}
		return secs[len(secs)-1]
	}
	return analytics.Durations{Count: int64(len(secs)), Mean: float64(sum) / float64(len(secs)), P50: pct(50), P90: pct(90)}
}

// remediation is a change that ended an open period by resolution or closure.
func remediation(c change) bool {
	return c.before.open() && !c.after.open() && resolvedOrClosed(c.after.status)
}

func (o *oracle) mttr(t *testing.T, q analytics.Query) analytics.MTTR {
	from, to := millis(q.From), millis(q.To)
	var rem, tri []int64
	remBy, triBy := map[string][]int64{}, map[string][]int64{}
	for _, c := range o.changes {
		if c.at < from || c.at >= to || !o.matches(q, c.after) {
			continue
		}
		if remediation(c) {
			rem = append(rem, c.at-c.before.openStart)
			remBy[c.after.sev] = append(remBy[c.after.sev], c.at-c.before.openStart)
		}
		if c.typ == contracts.TypeFindingTriaged && !c.before.triaged && c.at > c.after.firstSeen {
			tri = append(tri, c.at-c.after.firstSeen)
			triBy[c.after.sev] = append(triBy[c.after.sev], c.at-c.after.firstSeen)
		}
	}
	m := analytics.MTTR{Remediate: summary(rem), Triage: summary(tri), RemediateBySev: map[string]analytics.Durations{}, TriageBySeverity: map[string]analytics.Durations{}}
	for _, s := range analytics.Severities {
		m.RemediateBySev[s], m.TriageBySeverity[s] = summary(remBy[s]), summary(triBy[s])
	}
	for _, b := range bucketsOf(t, q) {
		var ds []int64
		for _, c := range o.changes {
			if in(b, c.at) && remediation(c) && o.matches(q, c.after) {
				ds = append(ds, c.at-c.before.openStart)
			}
		}
		m.ResolvedInPeriods = append(m.ResolvedInPeriods, analytics.MTTRPoint{Bucket: b, Durations: summary(ds)})
	}
	return m
}

func (o *oracle) now(q analytics.Query) []oFinding {
	var out []oFinding
	for _, f := range o.findings {
		if f.open() && o.matches(q, *f) {
			out = append(out, *f)
		}
	}
	return out
}

func (o *oracle) sla(t *testing.T, q analytics.Query, opt analytics.Options) analytics.SLA {
	s := analytics.SLA{OverdueBy: zero5(), DueSoonBy: zero5(), DueWithinDays: int(opt.DueWithin / (24 * time.Hour))}
	for _, b := range bucketsOf(t, q) {
		p := analytics.SLAPoint{Bucket: b}
		for _, c := range o.changes {
			if !in(b, c.at) || !o.matches(q, c.after) {
				continue
			}
			if remediation(c) && c.before.due != 0 {
				p.Resolved++
				if c.at <= c.before.due {
					p.WithinSLA++
				}
			}
			if c.typ == contracts.TypeSLABreached {
				p.Breaches++
			}
		}
		if p.Resolved > 0 {
			r := float64(p.WithinSLA) / float64(p.Resolved)
			p.Rate = &r
		}
		s.Periods = append(s.Periods, p)
	}
	now, soon := millis(q.Now), millis(q.Now.Add(opt.DueWithin))
	for _, f := range o.now(q) {
		switch {
		case f.due == 0:
		case f.due < now:
			s.Overdue++
			s.OverdueBy[f.sev]++
		case f.due < soon:
			s.DueSoon++
			s.DueSoonBy[f.sev]++
		}
	}
	return s
}

// factor is the criticality factor (projections/assets), written again on purpose: the oracle
// shares no code with what it checks.
func factor(crit string) float64 {
	switch crit {
	case "critical":
		return 1.5
	case "high":
		return 1.2
	case "low":
		return 0.8
	}
	return 1
}

// assetRisks sums the points of open matching findings per surviving asset.
func (o *oracle) assetRisks(q analytics.Query, fs map[string]oFinding) map[string]*analytics.AssetRisk {
	pts := map[string]int64{}
	out := map[string]*analytics.AssetRisk{}
	for _, f := range fs {
		if !f.open() || !o.matches(q, f) {
			continue
		}
		id := o.survivor(f.asset)
		r := out[id]
		if r == nil {
			r = &analytics.AssetRisk{AssetID: id}
			if a := o.assets[id]; a != nil {
				r.Name, r.Kind, r.Team, r.Environment, r.Factor = a.name, a.kind, a.team, a.env, factor(a.crit)
			} else {
				r.Factor = 1
			}
			out[id] = r
		}
		r.Open++
		pts[id] += f.points()
	}
	for id, r := range out {
		r.Points = float64(pts[id]) / 1000
		r.Score = math.Min(100, r.Points*r.Factor)
	}
	return out
}

func (o *oracle) risk(t *testing.T, q analytics.Query, opt analytics.Options) analytics.Risk {
	var r analytics.Risk
	for _, b := range bucketsOf(t, q) {
		p := analytics.RiskPoint{Bucket: b}
		for _, a := range o.assetRisks(q, o.stateAt(millis(b.End))) {
			p.Score += a.Score
		}
		r.Series = append(r.Series, p)
	}
	cur := map[string]oFinding{}
	for id, f := range o.findings {
		cur[id] = *f
	}
	all := o.assetRisks(q, cur)
	list := []analytics.AssetRisk{}
	teams, envs := map[string]*analytics.GroupRisk{}, map[string]*analytics.GroupRisk{}
	for _, a := range all {
		list = append(list, *a)
		for _, g := range []struct {
			m   map[string]*analytics.GroupRisk
			key string
		}{{teams, a.Team}, {envs, a.Environment}} {
			if g.m[g.key] == nil {
				g.m[g.key] = &analytics.GroupRisk{Key: g.key}
			}
			g.m[g.key].Assets++
			g.m[g.key].Score += a.Score
		}
	}
	slices.SortFunc(list, func(x, y analytics.AssetRisk) int {
		if x.Score != y.Score {
			if x.Score > y.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.AssetID, y.AssetID)
	})
	r.TopAssets = list[:min(len(list), opt.Limit)]
	groups := func(m map[string]*analytics.GroupRisk) []analytics.GroupRisk {
		out := []analytics.GroupRisk{}
		for _, g := range m {
			out = append(out, *g)
		}
		slices.SortFunc(out, func(x, y analytics.GroupRisk) int {
			if math.Abs(x.Score-y.Score) > 1e-9 {
				if x.Score > y.Score {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Key, y.Key)
		})
		return out
	}
	r.Teams, r.Environments = groups(teams), groups(envs)
	return r
}

func (o *oracle) exploitability(t *testing.T, q analytics.Query, opt analytics.Options) analytics.Exploitability {
	x := analytics.Exploitability{OpenKEVBySev: zero5()}
	for i := 0; i < 10; i++ {
		x.EPSS = append(x.EPSS, analytics.EPSSBucket{Min: float64(i) / 10, Max: float64(i+1) / 10})
	}
	now := millis(q.Now)
	var overdue []oFinding
	for _, f := range o.now(q) {
		if f.kev {
			x.OpenKEV++
			x.OpenKEVBySev[f.sev]++
			if f.due != 0 && f.due < now {
				x.KEVOverdue++
				overdue = append(overdue, f)
			}
		}
		if !f.hasEPSS {
			x.NoEPSS++
			continue
		}
		for i := range x.EPSS {
			if f.epss >= x.EPSS[i].Min && (f.epss < x.EPSS[i].Max || i == 9) {
				x.EPSS[i].Count++
				break
			}
		}
	}
	slices.SortFunc(overdue, func(a, b oFinding) int {
		if a.due != b.due {
			return int(a.due - b.due)
		}
		return strings.Compare(a.id, b.id)
	})
	x.KEVOverdueList = []analytics.FindingRef{}
	for _, f := range overdue[:min(len(overdue), opt.Limit)] {
		x.KEVOverdueList = append(x.KEVOverdueList, analytics.FindingRef{FindingID: f.id, AssetID: o.survivor(f.asset), Severity: f.sev, CVE: f.cve, DueAt: time.UnixMilli(f.due).UTC()})
	}
	return x
}

func (o *oracle) coverage(t *testing.T, q analytics.Query, opt analytics.Options) analytics.Coverage {
	last := map[string]map[string]int64{} // scanner → surviving asset → last scan
	for k, at := range o.scanned {
		if len(q.Scanners) > 0 && !slices.Contains(q.Scanners, k[1]) || !o.visible(q, k[0]) {
			continue
		}
		id := o.survivor(k[0])
		if last[k[1]] == nil {
			last[k[1]] = map[string]int64{}
		}
		last[k[1]][id] = max(last[k[1]][id], at)
	}
	c := analytics.Coverage{Scanners: []analytics.ScannerCoverage{}}
	cutoff := millis(q.Now) - opt.StaleAfter.Milliseconds()
	for scanner, as := range last {
		sc := analytics.ScannerCoverage{Scanner: scanner, AssetsScanned: int64(len(as)), StaleAssets: []analytics.StaleAsset{}}
		var stale []analytics.StaleAsset
		for id, at := range as {
			if at < cutoff {
				sa := analytics.StaleAsset{AssetID: id, LastScanned: time.UnixMilli(at).UTC()}
				if a := o.assets[id]; a != nil {
					sa.Name = a.name
				}
				stale = append(stale, sa)
			}
		}
		slices.SortFunc(stale, func(x, y analytics.StaleAsset) int {
			if c := x.LastScanned.Compare(y.LastScanned); c != 0 {
				return c
			}
			return strings.Compare(x.AssetID, y.AssetID)
		})
		sc.Stale = int64(len(stale))
		sc.StaleAssets = append(sc.StaleAssets, stale[:min(len(stale), opt.Limit)]...)
		c.Scanners = append(c.Scanners, sc)
	}
	slices.SortFunc(c.Scanners, func(x, y analytics.ScannerCoverage) int { return strings.Compare(x.Scanner, y.Scanner) })
	for _, b := range bucketsOf(t, q) {
		p := analytics.ScanPoint{Bucket: b, ByScanner: map[string]int64{}}
		for _, s := range o.scans {
			if q.Scope != nil || !in(b, s.at) || len(q.Scanners) > 0 && !slices.Contains(q.Scanners, s.scanner) {
				continue
			}
			if s.failed {
				p.Failed++
			} else {
				p.Completed++
				p.ByScanner[s.scanner]++
			}
		}
		c.Scans = append(c.Scans, p)
	}
	return c
}
