// Package vulns serves the vulns context's read endpoints: the findings read model
// (projections/vulns) listed with filters and read one by one, now or as of a time, and the CVE
// catalogue's entries.
package vulns

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	model "github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
)

// Reader is what the finding and CVE endpoints need from the vulns read model
// (projections/vulns' Reader implements it). Errors: readkit.ErrNotFound (404) and
// *readkit.QueryError (400 naming its parameter).
type Reader interface {
	Finding(ctx context.Context, id string) (*model.Finding, error)
	Findings(ctx context.Context, q model.FindingQuery) (readkit.Page[model.Finding], error)
	// ScopedCVE counts a CVE's open findings among those the scope's teams own only.
	ScopedCVE(ctx context.Context, id string, s ownership.Scope) (*model.CVE, error)
}

// Routes are the mux patterns Register adds, in order.
var Routes = []string{
	"GET /v1/findings",
	"GET /v1/findings/{id}",
	"GET /v1/cves/{id}",
}

// Register adds Routes to mux, served by kit from reader. fold rebuilds one finding from its
// stream for as_of reads; nil answers as_of with 501.
func Register(mux querykit.Mux, kit *querykit.Kit, reader Reader, fold func([]events.Envelope) (*model.Finding, error)) {
	a := &api{kit: kit, reader: reader, fold: fold}
	querykit.Handle(mux, Routes, a.listFindings, a.getFinding, a.getCVE)
}

type api struct {
	kit    *querykit.Kit
	reader Reader
	fold   func([]events.Envelope) (*model.Finding, error)
}

var (
	cveRe = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	cweRe = regexp.MustCompile(`^CWE-[0-9]{1,6}$`)
)

const cveWant = "a CVE id such as CVE-2024-3094"

var (
	findings = querykit.Resource[model.Finding]{Name: "findings", Sorts: model.FindingSorts, Expires: fallsDue}
	cves     = querykit.Resource[model.CVE]{}
)

// fallsDue is when a finding turns overdue: overdue is computed at query time, so an answer
// holding an open finding that is not yet overdue stops being true at its due_at.
func fallsDue(f *model.Finding) time.Time {
	if model.IsOpen(f.Status) && !f.Overdue && f.DueAt != nil {
		return *f.DueAt
	}
	return time.Time{}
}

func (a *api) listFindings(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[0])
	var q model.FindingQuery
	q.Severity = p.EnumList("severity", openapi.Severities)
	q.Status = p.EnumList("status", openapi.FindingStatuses)
	q.Open = p.Boolean("open")
	if v, ok := p.One("asset_id"); ok {
		q.AssetID = p.StreamID("asset_id", v, "assets-asset-")
	}
	q.CVE = p.Match("cve", cveRe, cveWant)
	q.CWE = p.Match("cwe", cweRe, "a CWE id such as CWE-79")
	q.KEV = p.Boolean("kev")
	q.EPSSMin = p.Float("epss_min", 0, 1)
	q.Owner = p.Text("owner", querykit.MaxValueLen)
	q.Overdue = p.Boolean("overdue")
	p.Volatile = q.Overdue != nil // which findings are overdue changes with the clock
	q.DueBefore = p.Timestamp("due_before")
	q.DueAfter = p.Timestamp("due_after")
	p.TimeRange("due_after", q.DueAfter, "due_before", q.DueBefore)
	q.Scanner = p.Text("scanner", querykit.MaxValueLen)
	q.Format = p.Match("format", querykit.ReportFormat, querykit.ReportFormatWant)
	q.ScanID = p.Match("scan_id", querykit.ScanID, querykit.ScanIDWant)
	q.FirstSeenFrom = p.Timestamp("first_seen_from")
	q.FirstSeenTo = p.Timestamp("first_seen_to")
	p.TimeRange("first_seen_from", q.FirstSeenFrom, "first_seen_to", q.FirstSeenTo)
	q.LastSeenFrom = p.Timestamp("last_seen_from")
	q.LastSeenTo = p.Timestamp("last_seen_to")
	p.TimeRange("last_seen_from", q.LastSeenFrom, "last_seen_to", q.LastSeenTo)
	q.Q = p.Text("q", querykit.MaxQLen)
	q.Scope = p.Scope()
	querykit.ListPage(a.kit, w, r, p, findings, q, func(l readkit.List) (readkit.Page[model.Finding], error) {
		q.List = l
		q.Now = a.kit.Now()
		return a.reader.Findings(r.Context(), q)
	})
}

func (a *api) getFinding(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[1])
	id := p.PathID("id", isFindingID, "a finding id vulns-finding-<uuid>")
	querykit.GetAt(a.kit, w, r, p, findings, id, a.fold, func() (*model.Finding, error) { return a.reader.Finding(r.Context(), id) })
}

func (a *api) getCVE(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[2])
	id := p.PathID("id", cveRe.MatchString, cveWant)
	querykit.Get(a.kit, w, r, p, cves, func() (*model.CVE, error) { return a.reader.ScopedCVE(r.Context(), id, p.Scope()) })
}

func isFindingID(v string) bool { return querykit.IsStreamID(v, "vulns-finding-") }
