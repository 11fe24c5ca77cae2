// Package analytics is the analytics read model: what management asks of the findings over time
// (open findings by severity, discovered vs resolved, MTTR, SLA compliance, risk, exploitability,
// scanner coverage), answered from a columnar model fed by the log.
//
// This file is the contract between the model's backends and its readers (the query API, the
// reports): the query parameters, the answers and the Reader every backend implements. Two
// backends answer it with the same numbers for the same events (the suite in analyticstest
// checks that): ClickHouse (package analytics/clickhouse) and the embedded default on the SQL
// read database, SQLite or PostgreSQL (package analytics/sqlstore).
//
// # Facts
//
// Both backends store the same rows, computed by one pure function (Fold) from the log: a fact
// per change a finding event makes (facts.go), the current state of every finding and asset
// (dimensions: what later events of a finding do not repeat, and what filters and team scoping
// read), and one row per scan import. Every answer over time is a sum of fact deltas (open
// counts, risk points) bucketed by time, so an incremental model equals a rebuild and a
// redelivered batch changes no answer (facts are keyed by event id and sequence).
//
// # Time
//
// Times are stored as unix milliseconds (UTC). Buckets are computed here, in Go, in the query's
// time zone (Buckets): a day, week (Monday) or month starts at local midnight, DST included;
// backends receive the boundaries as plain instants, so they never need time-zone support.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socplatform/soc/projections/ownership"
)

// Unit is a bucket's length.
type Unit string

const (
	Day   Unit = "day"
	Week  Unit = "week" // starting on Monday
	Month Unit = "month"
)

// MaxBuckets bounds the buckets one query asks for (e.g. three years by day).
const MaxBuckets = 1100

// Filter narrows an analytics query to findings of matching assets and scanners. Empty lists
// match everything; a list matches any of its values (Tags: the asset has every tag). Assets
// are filtered by what the model knows of them now (their current team, environment, kind,
// tags), as team scoping does.
type Filter struct {
	Tags         []string `json:"tags,omitempty"`
	Teams        []string `json:"teams,omitempty"` // the asset's owner_team
	Environments []string `json:"environments,omitempty"`
	AssetKinds   []string `json:"asset_kinds,omitempty"`
	Scanners     []string `json:"scanners,omitempty"` // the finding's format (trivy, nessus, …)
	Severities   []string `json:"severities,omitempty"`
	// Scope restricts every answer to the assets these teams own (nil: every asset); see
	// projections/ownership. Set from the caller's principal, never from the request.
	Scope ownership.Scope `json:"-"`
}

// Query is one analytics question over [From, To).
type Query struct {
	Filter
	From, To time.Time
	Unit     Unit
	Location *time.Location // nil: UTC
	// Now is the instant "currently open", "overdue" and "due in the next N days" refer to (a
	// controlled clock in tests; zero: time.Now()).
	Now time.Time
}

// Bucket is one period of a series: [Start, End).
type Bucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Buckets returns the buckets of q: the periods of q.Unit in q.Location from the one holding
// q.From to the one holding the last instant before q.To.
func Buckets(q Query) ([]Bucket, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		return nil, &ParamError{Param: "from", Reason: "from must be before to"}
	}
	start := q.From.In(loc)
	y, m, d := start.Date()
	switch q.Unit {
	case Day:
		start = time.Date(y, m, d, 0, 0, 0, 0, loc)
	case Week:
		back := (int(start.Weekday()) + 6) % 7 // days since Monday
		start = time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case Month:
		start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
	default:
		return nil, &ParamError{Param: "bucket", Reason: fmt.Sprintf("unknown bucket %q: want day, week or month", q.Unit)}
	}
	var out []Bucket
	for s := start; s.Before(q.To); {
		y, m, d := s.Date()
		var e time.Time
		switch q.Unit {
		case Day:
			e = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		case Week:
			e = time.Date(y, m, d+7, 0, 0, 0, 0, loc)
		default:
			e = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
		}
		out = append(out, Bucket{Start: s.UTC(), End: e.UTC()})
		if len(out) > MaxBuckets {
			return nil, &ParamError{Param: "to", Reason: fmt.Sprintf("more than %d %ss between from and to", MaxBuckets, q.Unit)}
		}
		s = e
	}
	return out, nil
}

// ParamError is a query parameter the model cannot answer for (the query API maps it to 400
// problem+json naming Param).
type ParamError struct {
	Param  string
	Reason string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Reason }

// ErrUnavailable is returned (wrapped) when the backend cannot be reached.
var ErrUnavailable = errors.New("analytics backend unavailable")

// Severities in rank order; every by-severity map of an answer holds all five keys.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// OpenPoint is the number of findings open at the end of a bucket (statuses open, reopened,
// triaged, in_remediation).
type OpenPoint struct {
	Bucket
	Total      int64            `json:"total"`
	BySeverity map[string]int64 `json:"by_severity"`
}

// FlowPoint is what a bucket discovered and resolved (the burn-down): Discovered counts
// FindingOpened, Reopened FindingReopened, Resolved the findings that left the open statuses
// as resolved or closed, Removed those that left them otherwise (false positive, duplicate,
// risk accepted); Net = Discovered + Reopened - Resolved - Removed.
type FlowPoint struct {
	Bucket
	Discovered int64            `json:"discovered"`
	Reopened   int64            `json:"reopened"`
	Resolved   int64            `json:"resolved"`
	Removed    int64            `json:"removed"`
	Net        int64            `json:"net"`
	BySeverity map[string]int64 `json:"discovered_by_severity"`
}

// Durations summarises durations in seconds: Mean is Sum/Count, P50 and P90 are nearest-rank
// percentiles (the smallest value with at least p% of the values at or below it), exact.
type Durations struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_seconds"`
	P50   int64   `json:"p50_seconds"`
	P90   int64   `json:"p90_seconds"`
}

// MTTR is the time to remediate (from the start of a finding's open period to its resolution
// or closure, for resolutions in [From, To)) and the time to triage (from FindingOpened to the
// first FindingTriaged, for triages in [From, To)), by severity (all five keys) and overall.
type MTTR struct {
	Remediate         Durations            `json:"remediate"`
	RemediateBySev    map[string]Durations `json:"remediate_by_severity"`
	Triage            Durations            `json:"triage"`
	TriageBySeverity  map[string]Durations `json:"triage_by_severity"`
	ResolvedInPeriods []MTTRPoint          `json:"periods"`
}

// MTTRPoint is the time to remediate of the resolutions in one bucket.
type MTTRPoint struct {
	Bucket
	Durations
}

// SLAPoint is one bucket's SLA record: of the findings with a due date that left the open
// statuses as resolved or closed in the bucket, how many did so at or before their due date;
// Rate is WithinSLA/Resolved (nil when none); Breaches counts SLABreached events.
type SLAPoint struct {
	Bucket
	Resolved  int64    `json:"resolved_with_due_date"`
	WithinSLA int64    `json:"within_sla"`
	Rate      *float64 `json:"rate,omitempty"`
	Breaches  int64    `json:"breaches"`
}

// SLA is the compliance series and, at Query.Now, the open findings past their due date and
// those due within the next DueWithin (forecast), by severity (all five keys).
type SLA struct {
	Periods       []SLAPoint       `json:"periods"`
	Overdue       int64            `json:"overdue"`
	OverdueBy     map[string]int64 `json:"overdue_by_severity"`
	DueSoon       int64            `json:"due_soon"`
	DueSoonBy     map[string]int64 `json:"due_soon_by_severity"`
	DueWithinDays int              `json:"due_within_days"`
}

// AssetRisk is an asset's risk at an instant: the read model's explained score,
// min(100, points × criticality factor), points being the sum of its open findings' points
// (projections/vulns "Risk score"; thousandths summed exactly).
type AssetRisk struct {
	AssetID     string  `json:"asset_id"`
	Name        string  `json:"name"`
	Kind        string  `json:"kind,omitempty"`
	Team        string  `json:"team,omitempty"`
	Environment string  `json:"environment,omitempty"`
	Points      float64 `json:"points"`
	Factor      float64 `json:"criticality_factor"`
	Score       float64 `json:"score"`
	Open        int64   `json:"open_findings"`
}

// GroupRisk is the risk a team or environment inherits from its assets: the sum of their scores.
type GroupRisk struct {
	Key    string  `json:"key"` // team or environment ("" for none)
	Assets int64   `json:"assets"`
	Score  float64 `json:"score"`
}

// RiskPoint is the summed score of the filtered assets at the end of a bucket.
type RiskPoint struct {
	Bucket
	Score float64 `json:"score"`
}

// Risk is the risk series and, at Query.Now, the riskiest assets (at most Limit), teams and
// environments.
type Risk struct {
	Series       []RiskPoint `json:"series"`
	TopAssets    []AssetRisk `json:"top_assets"`
	Teams        []GroupRisk `json:"teams"`
	Environments []GroupRisk `json:"environments"`
}

// EPSSBucket counts open findings whose EPSS is in [Min, Max) (the last bucket includes 1).
type EPSSBucket struct {
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Count int64   `json:"count"`
}

// Exploitability is, at Query.Now: open KEV-listed findings, those also past their due date
// ("known exploited and overdue"), the EPSS distribution of open findings (ten buckets of 0.1;
// NoEPSS counts those without a score).
type Exploitability struct {
	OpenKEV        int64            `json:"open_kev"`
	OpenKEVBySev   map[string]int64 `json:"open_kev_by_severity"`
	KEVOverdue     int64            `json:"kev_overdue"`
	EPSS           []EPSSBucket     `json:"epss"`
	NoEPSS         int64            `json:"no_epss"`
	KEVOverdueList []FindingRef     `json:"kev_overdue_findings"` // at most Limit, most overdue first
}

// FindingRef names a finding in an answer.
type FindingRef struct {
	FindingID string    `json:"finding_id"`
	AssetID   string    `json:"asset_id"`
	Severity  string    `json:"severity"`
	CVE       string    `json:"cve,omitempty"`
	DueAt     time.Time `json:"due_at"`
}

// ScannerCoverage is, for one scanner (format), the assets it scanned and those it has not
// scanned within StaleAfter of Query.Now (PCI DSS 11.3.1: a quarterly internal scan).
type ScannerCoverage struct {
	Scanner       string       `json:"scanner"`
	AssetsScanned int64        `json:"assets_scanned"`
	Stale         int64        `json:"stale"`
	StaleAssets   []StaleAsset `json:"stale_assets"` // at most Limit, least recently scanned first
}

// StaleAsset is an asset a scanner has not scanned recently.
type StaleAsset struct {
	AssetID     string    `json:"asset_id"`
	Name        string    `json:"name"`
	LastScanned time.Time `json:"last_scanned"`
}

// ScanPoint counts one bucket's scan imports.
type ScanPoint struct {
	Bucket
	Completed int64            `json:"completed"`
	Failed    int64            `json:"failed"`
	ByScanner map[string]int64 `json:"completed_by_scanner"`
}

// Coverage is the per-scanner coverage at Query.Now and the scan imports per bucket.
type Coverage struct {
	Scanners []ScannerCoverage `json:"scanners"`
	Scans    []ScanPoint       `json:"scans"`
}

// Options are the parameters some answers take beyond the Query.
type Options struct {
	Limit      int           // top-N lists (default 10, at most 1000)
	DueWithin  time.Duration // SLA forecast window (default 7 days)
	StaleAfter time.Duration // coverage: not scanned within (default 90 days)
}

// Reader answers analytics questions. Every method honours q.Filter (Scope included).
type Reader interface {
	OpenFindings(ctx context.Context, q Query) ([]OpenPoint, error)
	Flow(ctx context.Context, q Query) ([]FlowPoint, error)
	MTTR(ctx context.Context, q Query) (MTTR, error)
	SLA(ctx context.Context, q Query, o Options) (SLA, error)
	Risk(ctx context.Context, q Query, o Options) (Risk, error)
	TopAssets(ctx context.Context, q Query, o Options) ([]AssetRisk, error)
	Exploitability(ctx context.Context, q Query, o Options) (Exploitability, error)
	Coverage(ctx context.Context, q Query, o Options) (Coverage, error)
	// Position is the global position of the last event the model applied (read-your-writes:
	// the query API waits for it like for the other read models).
	Position(ctx context.Context) (int64, error)
}
