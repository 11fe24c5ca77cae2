package vulns

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
)

// Reader runs the vulns read models' queries over the views (findings, finding_cves,
// finding_cwes, cves; a finding's asset name from assets).
type Reader struct {
	db *readkit.DB
}

// NewReader returns a Reader over db.
func NewReader(db *projections.DB) *Reader {
	return &Reader{db: readkit.NewDB(db)}
}

// optional numbers: "" is "none", stored as noScore.
func scoreSort[R any](expr string, get func(*R) *float64) readkit.SortSpec[R] {
	return readkit.SortSpec[R]{Exprs: []string{expr},
		Format: func(r *R) string {
			if v := get(r); v != nil {
				return readkit.FmtFloat(*v)
			}
			return ""
		},
		Parse: func(s string) ([]any, error) {
			if s == "" {
				return []any{noScore}, nil
			}
			f, err := readkit.ParseFloat(s)
			if err == nil && f < 0 {
				err = errors.New("want a number ≥ 0")
			}
			return readkit.One(f, err)
		}}
}

// ---- findings --------------------------------------------------------------------------------

func dueKey(f *Finding) string {
	if f.DueAt == nil {
		return ""
	}
	return readkit.FmtTime(*f.DueAt)
}

func parseDue(s string) (int64, error) {
	if s == "" {
		return noDue, nil
	}
	return readkit.ParseTime(s)
}

// findingSorts: severity orders by severity, then by urgency (the earlier due date first when
// descending; no due date last), as a triage list wants; its key value is "<severity>|<due>".
var findingSorts = map[string]readkit.SortSpec[Finding]{
	"severity": {
		Exprs:  []string{"f.severity_rank", "f.due_urgency"},
		Format: func(f *Finding) string { return f.Severity + "|" + dueKey(f) },
		Parse: func(s string) ([]any, error) {
			sev, due, ok := strings.Cut(s, "|")
			if !ok || severityRank(sev) == 0 {
				return nil, errors.New(`want "<severity>|<due date or empty>"`)
			}
			d, err := parseDue(due)
			if err != nil {
				return nil, err
			}
			return []any{severityRank(sev), -d}, nil
		},
	},
	"due_at":     {Exprs: []string{"f.due_at"}, Format: dueKey, Parse: func(s string) ([]any, error) { return readkit.One(parseDue(s)) }},
	"first_seen": readkit.TimeSort("f.first_seen", func(f *Finding) time.Time { return f.FirstSeen }),
	"last_seen":  readkit.TimeSort("f.last_seen", func(f *Finding) time.Time { return f.LastSeen }),
	"updated_at": readkit.TimeSort("f.updated_at", func(f *Finding) time.Time { return f.UpdatedAt }),
	"epss":       scoreSort("f.epss", func(f *Finding) *float64 { return f.EPSS }),
	"cvss":       scoreSort("f.cvss_score", func(f *Finding) *float64 { return f.CVSSScore }),
	"id":         readkit.IDSort(func(f *Finding) string { return f.ID }),
}

func (r *Reader) findingSelect() string {
	return "SELECT " + findingTable.Qualified("f") + ", COALESCE(a.name, '') FROM findings f LEFT JOIN assets a ON a.id = f.asset_id"
}

func scanFindingRow(now time.Time) func(readkit.Scanner) (*Finding, error) {
	return func(s readkit.Scanner) (*Finding, error) {
		var name string
		f, err := scanFinding(s, &name)
		if err != nil {
			return nil, err
		}
		f.AssetName = name
		f.Overdue = IsOpen(f.Status) && f.DueAt != nil && f.DueAt.Before(now)
		return f, nil
	}
}

// Finding returns one finding by stream id.
func (r *Reader) Finding(ctx context.Context, id string) (*Finding, error) {
	return readkit.Get(ctx, r.db, r.findingSelect(), "f.id", id, scanFindingRow(time.Now()))
}

// Findings lists findings.
func (r *Reader) Findings(ctx context.Context, fq FindingQuery) (readkit.Page[Finding], error) {
	now := fq.Now
	if now.IsZero() {
		now = time.Now()
	}
	q := readkit.NewQuery(r.db.Dialect)
	if len(fq.Severity) > 0 {
		// By rank, which the triage indexes carry, so the filter is checked without reading rows.
		ranks := make([]string, 0, len(fq.Severity))
		for _, s := range fq.Severity {
			ranks = append(ranks, q.Arg(severityRank(s)))
		}
		q.Where = append(q.Where, "f.severity_rank IN ("+strings.Join(ranks, ", ")+")")
	}
	q.In("f.status", fq.Status)
	if len(fq.Status) > 0 && !slices.ContainsFunc(fq.Status, func(s string) bool { return !IsOpen(s) }) && fq.Open == nil {
		// Implied by the statuses, but only this lets the planner use the open_sev index.
		q.Where = append(q.Where, "f.open = 1")
	}
	if fq.Open != nil {
		q.Cond("f.open = %s", readkit.BoolInt(*fq.Open))
	}
	q.Eq("f.asset_id", fq.AssetID)
	ownership.Restrict(q, "f.asset_id", fq.Scope)
	if fq.CVE != "" {
		q.Cond("f.id IN (SELECT finding_id FROM finding_cves WHERE cve = %s)", fq.CVE)
	}
	if fq.CWE != "" {
		q.Cond("f.id IN (SELECT finding_id FROM finding_cwes WHERE cwe = %s)", fq.CWE)
	}
	if fq.KEV != nil {
		q.Cond("f.kev = %s", readkit.BoolInt(*fq.KEV))
	}
	if fq.EPSSMin != nil {
		q.Cond("f.epss >= %s", *fq.EPSSMin)
	}
	q.Eq("f.owner", fq.Owner)
	if fq.Overdue != nil {
		if *fq.Overdue {
			q.Cond("(f.open = 1 AND f.due_at < %s)", now.UnixMicro())
		} else {
			q.Cond("NOT (f.open = 1 AND f.due_at < %s)", now.UnixMicro())
		}
	}
	if !fq.DueBefore.IsZero() {
		q.Cond("f.due_at < %s", fq.DueBefore.UnixMicro()) // no due date is noDue: never before
	}
	if !fq.DueAfter.IsZero() {
		q.Cond("(f.due_at >= %s AND f.due_at <> %s)", fq.DueAfter.UnixMicro(), int64(noDue))
	}
	q.Eq("f.scanner", fq.Scanner)
	q.Eq("f.format", fq.Format)
	if fq.ScanID != "" {
		q.Cond("(f.first_scan_id = %s OR f.last_scan_id = %s)", fq.ScanID, fq.ScanID)
	}
	readkit.TimeRange(q, "f.first_seen", fq.FirstSeenFrom, fq.FirstSeenTo)
	readkit.TimeRange(q, "f.last_seen", fq.LastSeenFrom, fq.LastSeenTo)
	if fq.Q != "" {
		q.Like("f.title", fq.Q)
	}
	spec, tail, limit, err := readkit.Paginate(q, fq.List, findingSorts, FindingSorts[0], "f.id")
	if err != nil {
		return readkit.Page[Finding]{}, err
	}
	return readkit.ListPage(ctx, r.db, r.findingSelect()+q.WhereSQL()+tail, q.Args, limit, spec, scanFindingRow(now), func(f *Finding) string { return f.ID })
}

// ---- CVEs ------------------------------------------------------------------------------------

// ScopedCVE returns one catalogue entry by CVE id, with the number of open findings that carry
// it among those s owns (nil: every finding): the catalogue entry is global, what it says of
// findings is scoped like the findings (projections/ownership).
func (r *Reader) ScopedCVE(ctx context.Context, id string, s ownership.Scope) (*CVE, error) {
	c, err := readkit.Get(ctx, r.db, "SELECT "+cveTable.Qualified("c")+" FROM cves c", "c.id", id, cveTable.Scan)
	if err != nil {
		return nil, err
	}
	q := readkit.NewQuery(r.db.Dialect)
	q.Cond("fc.cve = %s", id)
	q.Where = append(q.Where, "f.open = 1")
	ownership.Restrict(q, "f.asset_id", s)
	err = r.db.QueryRow(ctx, "SELECT COUNT(*) FROM finding_cves fc JOIN findings f ON f.id = fc.finding_id"+q.WhereSQL(), q.Args...).Scan(&c.OpenFindings)
	return c, err
}
