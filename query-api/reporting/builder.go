package reporting

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/contracts"
)

// FindingLister is what the findings section reads of the findings read model
// (projections/vulns' Reader implements it).
type FindingLister interface {
	Findings(ctx context.Context, q vulns.FindingQuery) (readkit.Page[vulns.Finding], error)
}

// Spec is one report to build, resolved: its window is fixed (a "last 30 days" report is the
// 30 days before it was requested, whenever it is generated) and its scope is the requester's.
type Spec struct {
	Title       string
	Sections    []string
	Filter      contracts.ReportFilter
	Window      Window
	Branding    contracts.ReportBranding
	Scope       ownership.Scope // nil: every team
	RequestedBy string
	Now         time.Time // when it is generated: "open now", "overdue", the document's date
}

// Stats are what a built document holds beyond its content, for ReportGenerated.
type Stats struct {
	Rows      int  // table rows of every section
	Truncated bool // the findings list stopped at MaxFindingRows
}

// Builder turns a Spec into a render.Document from the analytics model (figures, charts,
// tables) and the findings read model (the findings list).
type Builder struct {
	Analytics analytics.Reader
	Findings  FindingLister
}

// Limits of the lists in a document other than the findings list.
const (
	topN         = 10
	dueSoonDays  = 7
	staleDays    = 90
	secondsInDay = 86400.0
)

// Build builds the document of s, calling progress (when not nil) after each section.
func (b *Builder) Build(ctx context.Context, s Spec, progress func(done, total int)) (*render.Document, Stats, error) {
	loc := s.Window.Location
	if loc == nil {
		loc = time.UTC
	}
	now := s.Now
	if s.Window.To.Before(now) {
		now = s.Window.To // a past period's "now" answers are as of its end
	}
	q := analytics.Query{Filter: analytics.Filter{Tags: s.Filter.Tags, Teams: s.Filter.Teams, Environments: s.Filter.Environments,
		AssetKinds: s.Filter.AssetKinds, Scanners: s.Filter.Scanners, Severities: s.Filter.Severities, Scope: s.Scope},
		From: s.Window.From, To: s.Window.To, Unit: s.Window.Unit, Location: loc, Now: now}
	buckets, err := analytics.Buckets(q)
	if err != nil {
		return nil, Stats{}, err
	}
	bb := &build{b: b, ctx: ctx, q: q, spec: s, labels: labels(buckets, q.Unit, loc)}
	doc := &render.Document{Title: s.Title, Subtitle: subtitle(s, loc), GeneratedAt: s.Now, GeneratedBy: s.RequestedBy,
		From: s.Window.From, To: s.Window.To, Location: loc,
		Branding: render.Branding{Organisation: s.Branding.Organisation, Color: s.Branding.Color, Footer: s.Branding.Footer}}
	// Sections in catalogue order, whatever order the template lists them in.
	ordered := slices.Clone(s.Sections)
	slices.SortFunc(ordered, func(a, c string) int { return slices.Index(Catalogue, a) - slices.Index(Catalogue, c) })
	for i, id := range ordered {
		if b.Analytics == nil && id != SectionFindings {
			return nil, Stats{}, fmt.Errorf("section %s: %w: this node has no analytics read model", id, analytics.ErrUnavailable)
		}
		sec, err := bb.section(id)
		if err != nil {
			return nil, Stats{}, fmt.Errorf("section %s: %w", id, err)
		}
		sec.ID = id
		if sec.Table != nil {
			bb.stats.Rows += len(sec.Table.Rows)
		}
		doc.Sections = append(doc.Sections, sec)
		if progress != nil {
			progress(i+1, len(ordered))
		}
	}
	return doc, bb.stats, nil
}

// build is one Build: the analytics answers several sections share are asked once.
type build struct {
	b      *Builder
	ctx    context.Context
	q      analytics.Query
	spec   Spec
	labels []string
	stats  Stats

	open   *[]analytics.OpenPoint
	flow   *[]analytics.FlowPoint
	mttr   *analytics.MTTR
	sla    *analytics.SLA
	exploi *analytics.Exploitability
}

// memo returns *slot, asking ask first when it is not set yet.
func memo[T any](slot **T, ask func() (T, error)) (T, error) {
	if *slot == nil {
		v, err := ask()
		if err != nil {
			return v, err
		}
		*slot = &v
	}
	return **slot, nil
}

func (bb *build) openPoints() ([]analytics.OpenPoint, error) {
	return memo(&bb.open, func() ([]analytics.OpenPoint, error) { return bb.b.Analytics.OpenFindings(bb.ctx, bb.q) })
}

func (bb *build) flowPoints() ([]analytics.FlowPoint, error) {
	return memo(&bb.flow, func() ([]analytics.FlowPoint, error) { return bb.b.Analytics.Flow(bb.ctx, bb.q) })
}

func (bb *build) mttrAnswer() (analytics.MTTR, error) {
	return memo(&bb.mttr, func() (analytics.MTTR, error) { return bb.b.Analytics.MTTR(bb.ctx, bb.q) })
}

func (bb *build) slaAnswer() (analytics.SLA, error) {
	return memo(&bb.sla, func() (analytics.SLA, error) {
		return bb.b.Analytics.SLA(bb.ctx, bb.q, analytics.Options{Limit: topN, DueWithin: dueSoonDays * 24 * time.Hour})
	})
}

func (bb *build) exploitability() (analytics.Exploitability, error) {
	return memo(&bb.exploi, func() (analytics.Exploitability, error) {
		return bb.b.Analytics.Exploitability(bb.ctx, bb.q, analytics.Options{Limit: topN})
	})
}

// sectionBuilders build each section from the build's memoised answers.
var sectionBuilders = map[string]func(*build) (render.Section, error){
	SectionSummary:   (*build).summary,
	SectionOpenTrend: (*build).openTrend,
	SectionFlow:      (*build).flowSection,
	SectionMTTR:      (*build).mttrSection,
	SectionSLA:       (*build).slaSection,
	SectionRisk:      (*build).risk,
	SectionTopAssets: (*build).topAssets,
	SectionKEV:       (*build).kev,
	SectionCoverage:  (*build).coverage,
	SectionFindings:  (*build).findings,
}

func (bb *build) section(id string) (render.Section, error) {
	if f, ok := sectionBuilders[id]; ok {
		return f(bb)
	}
	return render.Section{}, fmt.Errorf("unknown section %q", id) // validated on request: a bug
}

// complianceRate is the share of resolutions with a due date made in time over the periods, in
// percent; ok false when there were none.
func complianceRate(ps []analytics.SLAPoint) (rate float64, ok bool) {
	var resolved, within int64
	for _, p := range ps {
		resolved += p.Resolved
		within += p.WithinSLA
	}
	if resolved == 0 {
		return 0, false
	}
	return 100 * float64(within) / float64(resolved), true
}

func (bb *build) summary() (render.Section, error) {
	open, err := bb.openPoints()
	if err != nil {
		return render.Section{}, err
	}
	flow, err := bb.flowPoints()
	if err != nil {
		return render.Section{}, err
	}
	m, err := bb.mttrAnswer()
	if err != nil {
		return render.Section{}, err
	}
	sla, err := bb.slaAnswer()
	if err != nil {
		return render.Section{}, err
	}
	ex, err := bb.exploitability()
	if err != nil {
		return render.Section{}, err
	}
	var last analytics.OpenPoint
	if len(open) > 0 {
		last = open[len(open)-1]
	}
	var discovered, resolved int64
	for _, p := range flow {
		discovered += p.Discovered
		resolved += p.Resolved
	}
	figs := []render.Figure{
		{Label: "Open findings", Value: float64(last.Total)},
		{Label: "Critical open", Value: float64(last.BySeverity["critical"]), Severity: "critical"},
		{Label: "High open", Value: float64(last.BySeverity["high"]), Severity: "high"},
		{Label: "Discovered", Value: float64(discovered)},
		{Label: "Resolved", Value: float64(resolved)},
		{Label: "Overdue", Value: float64(sla.Overdue)},
		{Label: "Open KEV-listed", Value: float64(ex.OpenKEV)},
		{Label: "Mean time to remediate", Value: days(m.Remediate.Mean), Unit: "days"},
	}
	if rate, ok := complianceRate(sla.Periods); ok {
		figs = append(figs, render.Figure{Label: "SLA compliance", Value: rate, Unit: "%"})
	}
	return render.Section{Title: "Summary", Figures: figs,
		Text: "Open findings at the end of the period; discovered, resolved and time to remediate over the period; overdue and KEV-listed now."}, nil
}

func (bb *build) openTrend() (render.Section, error) {
	open, err := bb.openPoints()
	if err != nil {
		return render.Section{}, err
	}
	c := &render.Chart{Kind: render.StackedBars, X: bb.labels, YLabel: "open findings"}
	for _, sev := range analytics.Severities {
		vals := make([]float64, len(bb.labels))
		for i := range min(len(open), len(vals)) {
			vals[i] = float64(open[i].BySeverity[sev])
		}
		c.Series = append(c.Series, render.Series{Name: sev, Values: vals})
	}
	return render.Section{Title: "Open findings by severity", Chart: c}, nil
}

func (bb *build) flowSection() (render.Section, error) {
	flow, err := bb.flowPoints()
	if err != nil {
		return render.Section{}, err
	}
	names := []string{"discovered", "reopened", "resolved", "removed"}
	get := []func(analytics.FlowPoint) int64{
		func(p analytics.FlowPoint) int64 { return p.Discovered }, func(p analytics.FlowPoint) int64 { return p.Reopened },
		func(p analytics.FlowPoint) int64 { return p.Resolved }, func(p analytics.FlowPoint) int64 { return p.Removed },
	}
	c := &render.Chart{Kind: render.Bars, X: bb.labels, YLabel: "findings"}
	for k, n := range names {
		vals := make([]float64, len(bb.labels))
		for i := range min(len(flow), len(vals)) {
			vals[i] = float64(get[k](flow[i]))
		}
		c.Series = append(c.Series, render.Series{Name: n, Values: vals})
	}
	return render.Section{Title: "Discovered vs resolved", Chart: c,
		Text: "Removed: false positives, duplicates and accepted risks."}, nil
}

func (bb *build) mttrSection() (render.Section, error) {
	m, err := bb.mttrAnswer()
	if err != nil {
		return render.Section{}, err
	}
	t := &render.Table{Columns: []render.Column{{Name: "Severity", Type: render.Severity}, {Name: "Resolved", Type: render.Int},
		{Name: "Mean days", Type: render.Float}, {Name: "p50 days", Type: render.Float}, {Name: "p90 days", Type: render.Float},
		{Name: "Triaged", Type: render.Int}, {Name: "Mean days to triage", Type: render.Float}}}
	for _, sev := range analytics.Severities {
		r, tr := m.RemediateBySev[sev], m.TriageBySeverity[sev]
		t.Rows = append(t.Rows, []any{sev, r.Count, days(r.Mean), days(float64(r.P50)), days(float64(r.P90)), tr.Count, days(tr.Mean)})
	}
	return render.Section{Title: "Time to remediate", Table: t, Figures: []render.Figure{
		{Label: "Mean", Value: days(m.Remediate.Mean), Unit: "days"},
		{Label: "Median (p50)", Value: days(float64(m.Remediate.P50)), Unit: "days"},
		{Label: "p90", Value: days(float64(m.Remediate.P90)), Unit: "days"},
		{Label: "Mean time to triage", Value: days(m.Triage.Mean), Unit: "days"},
	}}, nil
}

func (bb *build) slaSection() (render.Section, error) {
	sla, err := bb.slaAnswer()
	if err != nil {
		return render.Section{}, err
	}
	var breaches int64
	within := make([]float64, len(bb.labels))
	late := make([]float64, len(bb.labels))
	for i, p := range sla.Periods {
		breaches += p.Breaches
		if i < len(within) {
			within[i], late[i] = float64(p.WithinSLA), float64(p.Resolved-p.WithinSLA)
		}
	}
	figs := []render.Figure{}
	if rate, ok := complianceRate(sla.Periods); ok {
		figs = append(figs, render.Figure{Label: "Compliance", Value: rate, Unit: "%"})
	}
	figs = append(figs, render.Figure{Label: "Breaches", Value: float64(breaches)},
		render.Figure{Label: "Overdue now", Value: float64(sla.Overdue)},
		render.Figure{Label: fmt.Sprintf("Due in the next %d days", sla.DueWithinDays), Value: float64(sla.DueSoon)})
	t := &render.Table{Columns: []render.Column{{Name: "Severity", Type: render.Severity}, {Name: "Overdue", Type: render.Int},
		{Name: fmt.Sprintf("Due within %d days", sla.DueWithinDays), Type: render.Int}}}
	for _, sev := range analytics.Severities {
		t.Rows = append(t.Rows, []any{sev, sla.OverdueBy[sev], sla.DueSoonBy[sev]})
	}
	return render.Section{Title: "SLA compliance", Figures: figs, Table: t,
		Chart: &render.Chart{Kind: render.StackedBars, X: bb.labels, YLabel: "resolutions with a due date",
			Series: []render.Series{{Name: "within SLA", Values: within}, {Name: "late", Values: late}}}}, nil
}

func (bb *build) risk() (render.Section, error) {
	r, err := bb.b.Analytics.Risk(bb.ctx, bb.q, analytics.Options{Limit: topN})
	if err != nil {
		return render.Section{}, err
	}
	vals := make([]float64, len(bb.labels))
	for i := range min(len(r.Series), len(vals)) {
		vals[i] = r.Series[i].Score
	}
	t := &render.Table{Columns: []render.Column{{Name: "Team", Type: render.Text}, {Name: "Assets", Type: render.Int},
		{Name: "Risk score", Type: render.Float}}}
	for _, g := range r.Teams {
		t.Rows = append(t.Rows, []any{orNone(g.Key), g.Assets, g.Score})
	}
	return render.Section{Title: "Risk", Table: t,
		Chart: &render.Chart{Kind: render.Line, X: bb.labels, YLabel: "risk score", Series: []render.Series{{Name: "risk score", Values: vals}}}}, nil
}

func (bb *build) topAssets() (render.Section, error) {
	as, err := bb.b.Analytics.TopAssets(bb.ctx, bb.q, analytics.Options{Limit: topN})
	if err != nil {
		return render.Section{}, err
	}
	t := &render.Table{Columns: []render.Column{{Name: "Asset", Type: render.Text}, {Name: "Kind", Type: render.Text},
		{Name: "Team", Type: render.Text}, {Name: "Environment", Type: render.Text}, {Name: "Open findings", Type: render.Int},
		{Name: "Risk score", Type: render.Float}}}
	for _, a := range as {
		t.Rows = append(t.Rows, []any{orDefault(a.Name, a.AssetID), a.Kind, a.Team, a.Environment, a.Open, a.Score})
	}
	return render.Section{Title: "Riskiest assets", Table: t}, nil
}

func (bb *build) kev() (render.Section, error) {
	ex, err := bb.exploitability()
	if err != nil {
		return render.Section{}, err
	}
	x := make([]string, len(ex.EPSS))
	vals := make([]float64, len(ex.EPSS))
	for i, e := range ex.EPSS {
		x[i] = fmt.Sprintf("%.1f–%.1f", e.Min, e.Max)
		vals[i] = float64(e.Count)
	}
	t := &render.Table{Columns: []render.Column{{Name: "Finding", Type: render.Text}, {Name: "Asset", Type: render.Text},
		{Name: "Severity", Type: render.Severity}, {Name: "CVE", Type: render.Text}, {Name: "Due", Type: render.Date}}}
	for _, f := range ex.KEVOverdueList {
		t.Rows = append(t.Rows, []any{f.FindingID, f.AssetID, f.Severity, f.CVE, f.DueAt})
	}
	return render.Section{Title: "Known exploited vulnerabilities", Table: t,
		Text: "Open findings whose CVE is in CISA's KEV catalogue; the table lists those past their due date, most overdue first.",
		Figures: []render.Figure{{Label: "Open KEV-listed", Value: float64(ex.OpenKEV)}, {Label: "KEV-listed and overdue", Value: float64(ex.KEVOverdue)},
			{Label: "Open without EPSS", Value: float64(ex.NoEPSS)}},
		Chart: &render.Chart{Kind: render.Bars, X: x, YLabel: "open findings by EPSS", Series: []render.Series{{Name: "open findings", Values: vals}}}}, nil
}

func (bb *build) coverage() (render.Section, error) {
	c, err := bb.b.Analytics.Coverage(bb.ctx, bb.q, analytics.Options{Limit: topN, StaleAfter: staleDays * 24 * time.Hour})
	if err != nil {
		return render.Section{}, err
	}
	t := &render.Table{Columns: []render.Column{{Name: "Scanner", Type: render.Text}, {Name: "Assets scanned", Type: render.Int},
		{Name: fmt.Sprintf("Not scanned in %d days", staleDays), Type: render.Int}}}
	for _, s := range c.Scanners {
		t.Rows = append(t.Rows, []any{s.Scanner, s.AssetsScanned, s.Stale})
	}
	return render.Section{Title: "Scanner coverage", Table: t}, nil
}

// findingsPage is the page size of the findings list's reads.
const findingsPage = readkit.MaxLimit

// findings lists the open findings the filters and scope select, most severe and most urgent
// first, at most MaxFindingRows of them.
func (bb *build) findings() (render.Section, error) {
	scope := bb.spec.Scope
	if teams := bb.spec.Filter.Teams; len(teams) > 0 {
		// The teams filter narrows the scope: a scoped requester's report never reaches past it.
		if scope == nil {
			scope = ownership.Normalize(teams)
		} else {
			scope = ownership.Normalize(slices.DeleteFunc(slices.Clone(scope), func(t string) bool { return !slices.Contains(teams, t) }))
		}
	}
	open := true
	base := vulns.FindingQuery{Open: &open, Severity: bb.spec.Filter.Severities, Scope: scope, Now: bb.q.Now}
	// The read model filters by one format; several scanners are one read each, merged below.
	formats := bb.spec.Filter.Scanners
	if len(formats) == 0 {
		formats = []string{""}
	}
	var rows []vulns.Finding
	for _, format := range formats {
		fq := base
		fq.Format = format
		fq.List = readkit.List{Sort: vulns.FindingSorts[0], Desc: true, Limit: findingsPage}
		for n := 0; ; {
			page, err := bb.b.Findings.Findings(bb.ctx, fq)
			if err != nil {
				return render.Section{}, err
			}
			rows = append(rows, page.Items...)
			if n += len(page.Items); page.Next == nil {
				break
			}
			if n >= MaxFindingRows { // more match than a report lists
				bb.stats.Truncated = true
				break
			}
			fq.List.After = page.Next
		}
	}
	if len(formats) > 1 {
		slices.SortStableFunc(rows, byUrgency)
	}
	if len(rows) > MaxFindingRows {
		rows, bb.stats.Truncated = rows[:MaxFindingRows], true
	}
	t := &render.Table{Columns: []render.Column{{Name: "Severity", Type: render.Severity}, {Name: "Title", Type: render.Text},
		{Name: "Asset", Type: render.Text}, {Name: "Status", Type: render.Text}, {Name: "CVEs", Type: render.Text},
		{Name: "KEV", Type: render.Text}, {Name: "EPSS", Type: render.Float}, {Name: "Due", Type: render.Date},
		{Name: "Overdue", Type: render.Text}, {Name: "First seen", Type: render.Date}, {Name: "Scanner", Type: render.Text},
		{Name: "Finding", Type: render.Text}}}
	for _, f := range rows {
		var epss, due any
		if f.EPSS != nil {
			epss = *f.EPSS
		}
		if f.DueAt != nil {
			due = *f.DueAt
		}
		t.Rows = append(t.Rows, []any{f.Severity, f.Title, orDefault(f.AssetName, f.AssetID), f.Status, strings.Join(f.CVEs, " "),
			yes(f.KEV), epss, due, yes(f.Overdue), f.FirstSeen, f.Format, f.ID})
	}
	text := fmt.Sprintf("%d open findings, most severe and most urgent first.", len(rows))
	if bb.stats.Truncated {
		text = fmt.Sprintf("The first %d open findings, most severe and most urgent first: more match, and a report lists at most %d (narrow the filters for the rest).", len(rows), MaxFindingRows)
	}
	return render.Section{Title: "Open findings", Text: text, Table: t}, nil
}

// severityOrder ranks severities for merging lists (critical first).
func severityOrder(s string) int {
	if i := slices.Index(analytics.Severities, s); i >= 0 {
		return i
	}
	return len(analytics.Severities)
}

// byUrgency is the findings list's order (the read model's "severity" sort, descending): most
// severe first, then the earliest due date, no due date last.
func byUrgency(a, b vulns.Finding) int {
	if d := severityOrder(a.Severity) - severityOrder(b.Severity); d != 0 {
		return d
	}
	switch {
	case a.DueAt == nil && b.DueAt == nil:
		return strings.Compare(b.ID, a.ID)
	case a.DueAt == nil:
		return 1
	case b.DueAt == nil:
		return -1
	}
	if c := a.DueAt.Compare(*b.DueAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

func days(seconds float64) float64 { return seconds / secondsInDay }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orNone(s string) string { return orDefault(s, "(none)") }

// labels names the buckets as a chart's X axis: the day a bucket starts (the month for months),
// in the report's time zone.
func labels(bs []analytics.Bucket, u analytics.Unit, loc *time.Location) []string {
	layout := "2006-01-02"
	if u == analytics.Month {
		layout = "2006-01"
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Start.In(loc).Format(layout)
	}
	return out
}

// subtitle says in words what the document covers: its period and its filters.
func subtitle(s Spec, loc *time.Location) string {
	parts := []string{fmt.Sprintf("%s to %s (%s)", s.Window.From.In(loc).Format("2 Jan 2006 15:04"),
		s.Window.To.In(loc).Format("2 Jan 2006 15:04"), loc)}
	f := s.Filter
	for _, kv := range []struct {
		name string
		vals []string
	}{{"teams", f.Teams}, {"tags", f.Tags}, {"environments", f.Environments}, {"asset kinds", f.AssetKinds},
		{"scanners", f.Scanners}, {"severities", f.Severities}} {
		if len(kv.vals) > 0 {
			parts = append(parts, kv.name+": "+strings.Join(kv.vals, ", "))
		}
	}
	if s.Scope != nil {
		parts = append(parts, "covering the assets of "+orDefault(strings.Join(s.Scope, ", "), "no team"))
	}
	return strings.Join(parts, " · ")
}
