package reporting

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Sections of the fixed catalogue a template chooses from, in the order a document shows them.
const (
	SectionSummary   = "summary"    // headline figures: open now, overdue, KEV, discovered/resolved, MTTR, SLA rate
	SectionOpenTrend = "open_trend" // open findings by severity at the end of each bucket
	SectionFlow      = "flow"       // discovered vs resolved per bucket (the burn-down)
	SectionMTTR      = "mttr"       // time to remediate and to triage by severity
	SectionSLA       = "sla"        // SLA compliance per bucket, overdue and due soon
	SectionRisk      = "risk"       // the risk score over time and by team
	SectionTopAssets = "top_assets" // the riskiest assets now
	SectionKEV       = "kev"        // KEV exposure: open KEV-listed, known exploited and overdue, EPSS
	SectionCoverage  = "coverage"   // scanner coverage: assets not scanned recently
	SectionFindings  = "findings"   // the detailed list of open findings (capped at MaxFindingRows)
)

// Catalogue lists every section a template may choose, in document order.
var Catalogue = []string{SectionSummary, SectionOpenTrend, SectionFlow, SectionMTTR, SectionSLA, SectionRisk,
	SectionTopAssets, SectionKEV, SectionCoverage, SectionFindings}

// tabular lists the sections that hold a table: a CSV is one table, so a CSV report needs one
// of them (the renderer writes the first).
var tabular = []string{SectionMTTR, SectionSLA, SectionRisk, SectionTopAssets, SectionKEV, SectionCoverage, SectionFindings}

// validateFormat checks that the sections can be written in format.
func validateFormat(v *invalid, format string, sections []string) {
	if format == string(render.CSV) && !slices.ContainsFunc(sections, func(s string) bool { return slices.Contains(tabular, s) }) {
		v.add("/format", "a CSV holds one table, and none of the sections %v has one: choose pdf or xlsx", sections)
	}
}

// Built-in templates: not stored as events, never changed; users copy them (based_on).
const (
	Executive = "executive"
	Findings  = "findings"
)

// Template is what a report is made of: which sections, which findings (filters), which period,
// and the document's look. Saved templates are reporting-template-<uuid> streams; the built-in
// ones are Builtin.
type Template struct {
	ID          string                   `json:"id"`
	Name        string                   `json:"name"`
	Description string                   `json:"description,omitempty"`
	BuiltIn     bool                     `json:"built_in"`
	BasedOn     string                   `json:"based_on,omitempty"`
	Sections    []string                 `json:"sections"`
	Filters     contracts.ReportFilter   `json:"filters"`
	Period      contracts.ReportPeriod   `json:"period"`
	Branding    contracts.ReportBranding `json:"branding"`
	Version     int64                    `json:"version,omitempty"` // stream version (0: built in)
	UpdatedAt   time.Time                `json:"updated_at,omitzero"`
	UpdatedBy   string                   `json:"updated_by,omitempty"`
}

// Builtin returns the built-in templates (fresh copies), executive first.
func Builtin() []Template {
	return []Template{
		{ID: Executive, Name: "Executive summary", BuiltIn: true,
			Description: "Summary figures, open findings by severity over time, discovered vs resolved, MTTR, SLA compliance and due soon, the riskiest assets, KEV exposure.",
			Sections:    []string{SectionSummary, SectionOpenTrend, SectionFlow, SectionMTTR, SectionSLA, SectionTopAssets, SectionKEV},
			Period:      contracts.ReportPeriod{Kind: contracts.ReportPeriodKindLast90Days, Bucket: contracts.ReportBucketWeek}},
		{ID: Findings, Name: "Findings", BuiltIn: true,
			Description: fmt.Sprintf("The open findings, most severe and most urgent first (at most %d).", MaxFindingRows),
			Sections:    []string{SectionFindings},
			Period:      contracts.ReportPeriod{Kind: contracts.ReportPeriodKindLast30Days, Bucket: contracts.ReportBucketDay}},
	}
}

// Bounds of a template's inputs beyond what the command schema bounds.
const (
	// MaxFindingRows caps the findings section: a larger list is not a report anyone reads; the
	// document says when it stopped there (and ReportGenerated records truncated).
	MaxFindingRows = 5000
	// maxPeriod bounds a custom period (the analytics series bound their buckets too).
	maxPeriod = 3 * 366 * 24 * time.Hour
)

// invalid collects the input problems of a body, each named by its JSON pointer, so a client
// fixes them all at once (problem+json invalid-params; field = the first).
type invalid []problem.InvalidParam

func (v *invalid) add(field, format string, args ...any) {
	*v = append(*v, problem.InvalidParam{Name: field, Reason: fmt.Sprintf(format, args...)})
}

func (v invalid) err() error {
	if len(v) == 0 {
		return nil
	}
	return &problem.ParamError{Params: v}
}

var colorRe = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// validateSections checks a template's sections against the catalogue and its filters against
// what those sections can honour.
func validateSections(v *invalid, at string, sections []string, f contracts.ReportFilter) {
	if len(sections) == 0 {
		v.add(at+"/sections", "choose at least one section of %v", Catalogue)
	}
	seen := map[string]bool{}
	for i, s := range sections {
		switch {
		case !slices.Contains(Catalogue, s):
			v.add(at+"/sections/"+strconv.Itoa(i), "unknown section %q: want one of %v", s, Catalogue)
		case seen[s]:
			v.add(at+"/sections/"+strconv.Itoa(i), "section %q is listed twice", s)
		}
		seen[s] = true
	}
	// The findings list is the findings read model's, which filters by team (scope), severity
	// and scanner; an asset's tags, environment and kind are the analytics model's alone.
	if seen[SectionFindings] {
		for name, list := range map[string][]string{"tags": f.Tags, "environments": f.Environments, "asset_kinds": f.AssetKinds} {
			if len(list) > 0 {
				v.add(at+"/filters/"+name, "the findings section cannot filter by %s: filter by teams, severities or scanners", name)
			}
		}
	}
}

// validateFilter checks the values the schema leaves open.
func validateFilter(v *invalid, at string, f contracts.ReportFilter) {
	for i, s := range f.Severities {
		if !slices.Contains(analytics.Severities, s) {
			v.add(at+"/filters/severities/"+strconv.Itoa(i), "unknown severity %q: want one of %v", s, analytics.Severities)
		}
	}
}

func validateBranding(v *invalid, at string, b contracts.ReportBranding) {
	if b.Color != "" && !colorRe.MatchString(b.Color) {
		v.add(at+"/branding/color", "want #RRGGBB")
	}
}

// Window is a resolved period: the instants a report covers and how its series are bucketed.
type Window struct {
	From, To time.Time
	Unit     analytics.Unit
	Location *time.Location
}

// resolvePeriod turns a period into its window at now, reporting its problems under at.
// quarter is the last complete calendar quarter in the period's time zone; a bucket left out
// is a day up to two months, a week up to a year, a month beyond.
func resolvePeriod(v *invalid, at string, p contracts.ReportPeriod, now time.Time) Window {
	loc := time.UTC
	if p.TimeZone != "" {
		l, err := time.LoadLocation(p.TimeZone)
		if err != nil || p.TimeZone == "Local" {
			v.add(at+"/period/time_zone", "unknown time zone %q: want an IANA name such as Europe/Paris", p.TimeZone)
		} else {
			loc = l
		}
	}
	w := Window{Location: loc}
	custom := p.Kind == contracts.ReportPeriodKindCustom
	if !custom && (!p.From.IsZero() || !p.To.IsZero()) {
		v.add(at+"/period/kind", "from and to are for a custom period only")
	}
	local := now.In(loc)
	switch p.Kind {
	case contracts.ReportPeriodKindLast30Days:
		w.From, w.To = now.AddDate(0, 0, -30), now
	case contracts.ReportPeriodKindLast90Days:
		w.From, w.To = now.AddDate(0, 0, -90), now
	case contracts.ReportPeriodKindQuarter:
		q := (int(local.Month()) - 1) / 3 // this quarter, 0..3
		end := time.Date(local.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, loc)
		w.From, w.To = end.AddDate(0, -3, 0), end
	case contracts.ReportPeriodKindCustom:
		w.From, w.To = p.From, p.To
		switch {
		case p.From.IsZero():
			v.add(at+"/period/from", "a custom period needs from")
		case p.To.IsZero():
			v.add(at+"/period/to", "a custom period needs to")
		case !p.From.Before(p.To):
			v.add(at+"/period/to", "to must be after from")
		case p.To.Sub(p.From) > maxPeriod:
			v.add(at+"/period/to", "a period spans at most three years")
		}
	default:
		v.add(at+"/period/kind", "want one of %v", contracts.ReportPeriodKindValues())
	}
	w.Unit = analytics.Unit(p.Bucket)
	if p.Bucket == "" {
		switch span := w.To.Sub(w.From); {
		case span <= 62*24*time.Hour:
			w.Unit = analytics.Day
		case span <= 366*24*time.Hour:
			w.Unit = analytics.Week
		default:
			w.Unit = analytics.Month
		}
	}
	if len(*v) == 0 {
		if _, err := analytics.Buckets(analytics.Query{From: w.From, To: w.To, Unit: w.Unit, Location: loc}); err != nil {
			v.add(at+"/period/bucket", "%v", err)
		}
	}
	return w
}
