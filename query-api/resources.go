package queryapi

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
)

// Defaults and bounds of the list endpoints.
const (
	DefaultListLimit = 50
)

var (
	cveRe    = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	cweRe    = regexp.MustCompile(`^CWE-[0-9]{1,6}$`)
	formatRe = regexp.MustCompile(`^[a-z][a-z0-9]{1,31}$`)
	scanIDRe = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	// eventTypeRe: event types are PascalCase past tense (FindingOpened).
	eventTypeRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{1,99}$`)
)

// listResponse is one page of a list.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Next       string `json:"next,omitempty"`
}

// streamIDOf checks a stream id parameter (and its "<context>-<aggregate>-" prefix when set).
func (p *params) streamID(name, v, prefix string) string {
	if !events.ValidStreamID(v) || !strings.HasPrefix(v, prefix) {
		want := "a stream id <context>-<aggregate>-<uuid>"
		if prefix != "" {
			want = "an id " + prefix + "<uuid>"
		}
		p.add(name, "must be "+want)
		return ""
	}
	return v
}

// pathID checks the {id} path segment.
func pathID(r *http.Request, p *params, name string, ok func(string) bool, want string) string {
	v := r.PathValue(name)
	if !ok(v) {
		p.add(name, "must be "+want)
		return ""
	}
	return v
}

// listPage finishes a list: paging parameters, read-your-writes, the read, the page.
func listPage[T any](a *API, w http.ResponseWriter, r *http.Request, p *params, resource string, filters any, sorts []string,
	read func(readkit.List) (readkit.Page[T], error)) {
	hash := filterHash(resource, filters)
	var l readkit.List
	var canon string
	l.Sort, l.Desc, canon = p.sort(sorts)
	l.Limit = p.limit(DefaultListLimit, readkit.MaxLimit)
	l.After = p.cursor(canon, hash)
	c := p.consistency(a.cfg.MaxWait)
	if err := p.err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.await(w, r, c) {
		return
	}
	a.serve(w, r, p, func() ([]byte, time.Time, error) {
		page, err := read(l)
		if err != nil {
			return nil, time.Time{}, err
		}
		resp := listResponse[T]{Items: page.Items}
		if resp.Items == nil {
			resp.Items = []T{}
		}
		if page.Next != nil {
			resp.NextCursor = encodeCursor(cursor{K: *page.Next, S: canon, F: hash})
			resp.Next = nextURL(r.URL, p.q, map[string]string{"cursor": resp.NextCursor}, "min_position", "wait")
		}
		b, err := marshalBody(resp)
		return b, expiresAt(resp.Items), err
	})
}

func (a *API) listFindings(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/findings")
	var q vulns.FindingQuery
	q.Severity = p.enumList("severity", openapi.Severities)
	q.Status = p.enumList("status", openapi.FindingStatuses)
	q.Open = p.boolean("open")
	if v, ok := p.one("asset_id"); ok {
		q.AssetID = p.streamID("asset_id", v, "assets-asset-")
	}
	q.CVE = p.match("cve", cveRe, "a CVE id such as CVE-2024-3094")
	q.CWE = p.match("cwe", cweRe, "a CWE id such as CWE-79")
	q.KEV = p.boolean("kev")
	q.EPSSMin = p.float("epss_min", 0, 1)
	q.Owner = p.text("owner", maxValueLen)
	q.Overdue = p.boolean("overdue")
	p.volatile = q.Overdue != nil // which findings are overdue changes with the clock
	q.DueBefore = p.timestamp("due_before")
	q.DueAfter = p.timestamp("due_after")
	p.timeRange("due_after", q.DueAfter, "due_before", q.DueBefore)
	q.Scanner = p.text("scanner", maxValueLen)
	q.Format = p.match("format", formatRe, "a report format name (lowercase letters and digits)")
	q.ScanID = p.match("scan_id", scanIDRe, "a scan id (1–128 visible ASCII characters)")
	q.FirstSeenFrom = p.timestamp("first_seen_from")
	q.FirstSeenTo = p.timestamp("first_seen_to")
	p.timeRange("first_seen_from", q.FirstSeenFrom, "first_seen_to", q.FirstSeenTo)
	q.LastSeenFrom = p.timestamp("last_seen_from")
	q.LastSeenTo = p.timestamp("last_seen_to")
	p.timeRange("last_seen_from", q.LastSeenFrom, "last_seen_to", q.LastSeenTo)
	q.Q = p.text("q", maxQLen)
	listPage(a, w, r, p, "findings", q, vulns.FindingSorts, func(l readkit.List) (readkit.Page[vulns.Finding], error) {
		q.List = l
		q.Now = a.cfg.Now()
		return a.cfg.Reader.Findings(r.Context(), q)
	})
}

func (a *API) listAssets(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/assets")
	var q assets.Query
	q.Kind = p.enumList("kind", openapi.AssetKinds)
	q.Criticality = p.enumList("criticality", openapi.Criticalities)
	q.Environment = p.enum("environment", openapi.Environments)
	q.OwnerTeam = p.text("owner_team", maxValueLen)
	q.Status = p.enum("status", openapi.AssetStatuses)
	q.Tag = p.text("tag", maxValueLen)
	q.Q = p.text("q", maxQLen)
	q.MinRisk = p.float("min_risk", 0, 100)
	q.HasOpen = p.boolean("has_open")
	listPage(a, w, r, p, "assets", q, assets.Sorts, func(l readkit.List) (readkit.Page[assets.Asset], error) {
		q.List = l
		return a.cfg.Assets.Assets(r.Context(), q)
	})
}

func (a *API) listScans(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/scans")
	var q scans.Query
	q.Format = p.match("format", formatRe, "a report format name (lowercase letters and digits)")
	q.Status = p.enum("status", openapi.ScanStatuses)
	q.Actor = p.text("actor", maxValueLen)
	q.From = p.timestamp("from")
	q.To = p.timestamp("to")
	p.timeRange("from", q.From, "to", q.To)
	listPage(a, w, r, p, "scans", q, scans.Sorts, func(l readkit.List) (readkit.Page[scans.Scan], error) {
		q.List = l
		return a.cfg.Scans.Scans(r.Context(), q)
	})
}

func isAssetID(v string) bool {
	return strings.HasPrefix(v, "assets-asset-") && events.ValidStreamID(v)
}
func isFindingID(v string) bool {
	return strings.HasPrefix(v, "vulns-finding-") && events.ValidStreamID(v)
}

// getOne finishes a single-resource read: read-your-writes, the read, the answer.
func getOne[T any](a *API, w http.ResponseWriter, r *http.Request, p *params, read func() (*T, error)) {
	c := p.consistency(a.cfg.MaxWait)
	if err := p.err(); err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.await(w, r, c) {
		return
	}
	a.serve(w, r, p, func() ([]byte, time.Time, error) {
		v, err := read()
		if err == nil && v == nil {
			err = readkit.ErrNotFound
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		b, err := marshalBody(v)
		return b, expiresAt(v), err
	})
}

func (a *API) getAsset(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/assets/{id}")
	id := pathID(r, p, "id", isAssetID, "an asset id assets-asset-<uuid>")
	if _, ok := p.q["as_of"]; ok {
		pointInTime(a, w, r, p, id, a.cfg.FoldAsset)
		return
	}
	getOne(a, w, r, p, func() (*assets.Asset, error) { return a.cfg.Assets.Asset(r.Context(), id) })
}

func (a *API) getFinding(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/findings/{id}")
	id := pathID(r, p, "id", isFindingID, "a finding id vulns-finding-<uuid>")
	if _, ok := p.q["as_of"]; ok {
		pointInTime(a, w, r, p, id, a.cfg.FoldFinding)
		return
	}
	getOne(a, w, r, p, func() (*vulns.Finding, error) { return a.cfg.Reader.Finding(r.Context(), id) })
}

func (a *API) getScan(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/scans/{id}")
	id := pathID(r, p, "id", scanIDRe.MatchString, "a scan id (1–128 visible ASCII characters)")
	getOne(a, w, r, p, func() (*scans.Scan, error) { return a.cfg.Scans.Scan(r.Context(), id) })
}

func (a *API) getCVE(w http.ResponseWriter, r *http.Request) {
	p := newParams(r, "GET /v1/cves/{id}")
	id := pathID(r, p, "id", cveRe.MatchString, "a CVE id such as CVE-2024-3094")
	getOne(a, w, r, p, func() (*vulns.CVE, error) { return a.cfg.Reader.CVE(r.Context(), id) })
}
