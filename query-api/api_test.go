package queryapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/problem"
)

// fakeReader stands in for the SQL readers (projections/vulns, assets and scans): it serves
// fixed rows and records the queries it is asked.
type fakeReader struct {
	mu       sync.Mutex
	assets   map[string]*assets.Asset
	findings []vulns.Finding
	next     *readkit.Key
	cves     map[string]*vulns.CVE
	err      error
	findingQ []vulns.FindingQuery
	assetQ   []assets.Query
	scanQ    []scans.Query
}

func (f *fakeReader) Asset(_ context.Context, id string) (*assets.Asset, error) {
	if a := f.assets[id]; a != nil {
		return a, nil
	}
	return nil, readkit.ErrNotFound
}

func (f *fakeReader) Assets(_ context.Context, q assets.Query) (readkit.Page[assets.Asset], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assetQ = append(f.assetQ, q)
	var out []assets.Asset
	for _, a := range f.assets {
		out = append(out, *a)
	}
	return readkit.Page[assets.Asset]{Items: out}, f.err
}

func (f *fakeReader) Finding(_ context.Context, id string) (*vulns.Finding, error) {
	for i := range f.findings {
		if f.findings[i].ID == id {
			return &f.findings[i], nil
		}
	}
	return nil, readkit.ErrNotFound
}

func (f *fakeReader) Findings(_ context.Context, q vulns.FindingQuery) (readkit.Page[vulns.Finding], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.findingQ = append(f.findingQ, q)
	if f.err != nil {
		return readkit.Page[vulns.Finding]{}, f.err
	}
	return readkit.Page[vulns.Finding]{Items: f.findings, Next: f.next}, nil
}

func (f *fakeReader) Scan(_ context.Context, id string) (*scans.Scan, error) {
	if id == "scan-1" {
		return &scans.Scan{ID: id, StreamID: "scans-scan-0190a0a0-0000-7000-8000-000000000001", Status: "completed",
			StartedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), BySeverity: map[string]int64{"high": 2},
			Outcome: map[string]int64{"new": 2, "parsed": 3, "stored": 2, "duplicate_count": 1, "held_back": 0}}, nil
	}
	return nil, readkit.ErrNotFound
}

func (f *fakeReader) Scans(_ context.Context, q scans.Query) (readkit.Page[scans.Scan], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scanQ = append(f.scanQ, q)
	return readkit.Page[scans.Scan]{}, nil
}

// OwnedStreams: the fake rows belong to no team (the scoping tests use the real read models).
func (f *fakeReader) OwnedStreams(_ context.Context, s ownership.Scope, ids []string) ([]string, error) {
	if s == nil {
		return ids, nil
	}
	return nil, nil
}

func (f *fakeReader) ScopedCVE(_ context.Context, id string, _ ownership.Scope) (*vulns.CVE, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.cves[id]; c != nil {
		cp := *c
		return &cp, nil
	}
	return nil, readkit.ErrNotFound
}

// fakeWaiter has applied everything up to reached; a later position blocks until ctx ends.
type fakeWaiter struct{ reached int64 }

func (w *fakeWaiter) WaitFor(ctx context.Context, pos int64) error {
	if pos <= w.reached {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

// fakeQuerier records audit queries (the store adapters' QueryEvents is being written).
type fakeQuerier struct {
	mu  sync.Mutex
	got []events.EventQuery
	out []events.Envelope
}

func (q *fakeQuerier) QueryEvents(_ context.Context, eq events.EventQuery) ([]events.Envelope, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.got = append(q.got, eq)
	return q.out, nil
}

type harness struct {
	t       *testing.T
	mux     *http.ServeMux
	reader  *fakeReader
	querier *fakeQuerier
	store   events.EventStore
	now     time.Time
}

const (
	assetID   = "assets-asset-0190a0a0-0000-7000-8000-000000000001"
	findingID = "vulns-finding-0190a0a0-0000-7000-8000-000000000002"
)

func newHarness(t *testing.T, mut func(*Config)) *harness {
	t.Helper()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{Path: t.TempDir() + "/e.db", Synchronous: "NORMAL"})
	h := &harness{t: t, reader: &fakeReader{
		assets: map[string]*assets.Asset{assetID: {ID: assetID, Kind: "host", Name: "web-1", Status: "active",
			OpenFindings: map[string]int64{"critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0},
			Risk:         assets.Risk{Score: 42, Formula: "x", Components: []assets.RiskComponent{{Name: "c", Value: 1}}}}},
		findings: []vulns.Finding{{ID: findingID, AssetID: assetID, Title: "t", Severity: "high", Status: "open", Format: "sarif", Fingerprint: "fp",
			Locations: []vulns.Location{{File: "db/users.go", Line: ptr(12)}, {File: "db/orders.go", Line: ptr(40), Column: ptr(2)}}}},
		cves: map[string]*vulns.CVE{"CVE-2024-3094": {ID: "CVE-2024-3094", StreamID: "vulns-cve-0190a0a0-0000-5000-8000-000000000003", KEV: true, Version: 1}},
	}, querier: &fakeQuerier{}, store: store, now: time.Now()}
	cfg := Config{Reader: h.reader, Assets: h.reader, Scans: h.reader, Store: store, Querier: h.querier, Waiter: &fakeWaiter{reached: 10},
		FoldAsset: assets.FoldAsset, MaxWait: 150 * time.Millisecond}
	if mut != nil {
		mut(&cfg)
	}
	api, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.mux = http.NewServeMux()
	api.Register(h.mux)
	return h
}

// do sends a GET and checks the answer against the OpenAPI document.
func (h *harness) do(target string, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	if err := openapi.Validate(http.MethodGet, req.URL.Path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
		h.t.Errorf("GET %s: %v\n%s", target, err, rec.Body.String())
	}
	return rec
}

func (h *harness) json(target string, status int, v any, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	rec := h.do(target, headers...)
	if rec.Code != status {
		h.t.Fatalf("GET %s: %d, want %d\n%s", target, rec.Code, status, rec.Body.String())
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			h.t.Fatalf("GET %s: %v", target, err)
		}
	}
	return rec
}

func TestBadInputNamesTheParameter(t *testing.T) {
	h := newHarness(t, nil)
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	cases := []struct {
		target  string
		param   string
		headers []string
	}{
		{"/v1/findings?sevrity=high", "sevrity", nil},
		{"/v1/findings?severity=urgent", "severity", nil},
		{"/v1/findings?severity=high,", "severity", nil},
		{"/v1/findings?severity=" + strings.Repeat("high,", 33) + "low", "severity", nil},
		{"/v1/findings?status=fixed", "status", nil},
		{"/v1/findings?limit=0", "limit", nil},
		{"/v1/findings?limit=1001", "limit", nil},
		{"/v1/findings?limit=99999999999999999999", "limit", nil},
		{"/v1/findings?limit=ten", "limit", nil},
		{"/v1/findings?limit=1&limit=2", "limit", nil},
		{"/v1/findings?sort=bogus", "sort", nil},
		{"/v1/findings?sort=-", "sort", nil},
		{"/v1/findings?cursor=%21%21%21", "cursor", nil},
		{"/v1/findings?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"x":1}`)), "cursor", nil},
		{"/v1/findings?epss_min=2", "epss_min", nil},
		{"/v1/findings?epss_min=NaN", "epss_min", nil},
		{"/v1/findings?kev=yes", "kev", nil},
		{"/v1/findings?open=", "open", nil},
		{"/v1/findings?asset_id=web-1", "asset_id", nil},
		{"/v1/findings?asset_id=" + findingID, "asset_id", nil},
		{"/v1/findings?cve=CVE-1", "cve", nil},
		{"/v1/findings?cwe=79", "cwe", nil},
		{"/v1/findings?due_before=yesterday", "due_before", nil},
		{"/v1/findings?due_after=2025-02-01T00:00:00Z&due_before=2025-01-01T00:00:00Z", "due_after", nil},
		{"/v1/findings?first_seen_from=2025-02-01T00:00:00Z&first_seen_to=2025-01-01T00:00:00Z", "first_seen_from", nil},
		{"/v1/findings?last_seen_from=2025-02-01T00:00:00Z&last_seen_to=2025-02-01T00:00:00Z", "last_seen_from", nil},
		{"/v1/findings?q=" + strings.Repeat("a", 201), "q", nil},
		{"/v1/findings?owner=a%01b", "owner", nil},
		{"/v1/findings?scanner=" + strings.Repeat("s", 257), "scanner", nil},
		{"/v1/findings?format=SARIF", "format", nil},
		{"/v1/findings?scan_id=a%20b", "scan_id", nil},
		{"/v1/findings?min_position=-1", "min_position", nil},
		{"/v1/findings?min_position=soon", "min_position", nil},
		{"/v1/findings", "X-Min-Position", []string{"X-Min-Position", "-3"}},
		{"/v1/findings?min_position=4", "X-Min-Position", []string{"X-Min-Position", "5"}},
		{"/v1/findings?wait=99999", "wait", nil},
		{"/v1/findings", "Prefer", []string{"Prefer", "wait=abc"}},
		{"/v1/findings?" + strings.Repeat("q=a&", 2100), "query", nil},
		{"/v1/findings?q=%zz", "query", nil},
		{"/v1/assets?kind=server", "kind", nil},
		{"/v1/assets?criticality=extreme", "criticality", nil},
		{"/v1/assets?environment=prod", "environment", nil},
		{"/v1/assets?status=deleted", "status", nil},
		{"/v1/assets?min_risk=101", "min_risk", nil},
		{"/v1/assets?has_open=1", "has_open", nil},
		{"/v1/assets?sort=severity", "sort", nil},
		{"/v1/assets?as_of=2025-01-01T00:00:00Z", "as_of", nil},
		{"/v1/scans?status=done", "status", nil},
		{"/v1/scans?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from", nil},
		{"/v1/scans?format=x", "format", nil},
		{"/v1/scans?severity=high", "severity", nil},
		{"/v1/assets/not-an-id", "id", nil},
		{"/v1/assets/" + findingID, "id", nil},
		{"/v1/findings/" + assetID, "id", nil},
		{"/v1/cves/cve-2024-3094", "id", nil},
		{"/v1/cves/CVE-2024-3094?as_of=2025-01-01T00:00:00Z", "as_of", nil},
		{"/v1/scans/a%20b", "id", nil},
		{"/v1/assets/" + assetID + "?as_of=yesterday", "as_of", nil},
		{"/v1/assets/" + assetID + "?as_of=" + future, "as_of", nil},
		{"/v1/findings/" + findingID + "?as_of=" + future, "as_of", nil},
		{"/v1/streams/nope/events", "stream_id", nil},
		{"/v1/streams/" + assetID + "/events?from=0", "from", nil},
		{"/v1/streams/" + assetID + "/events?direction=sideways", "direction", nil},
		{"/v1/streams/" + assetID + "/events?limit=1001", "limit", nil},
		{"/v1/streams/" + assetID + "/events?as_of=" + future, "as_of", nil},
		{"/v1/streams/" + assetID + "/events?min_position=3", "min_position", nil},
		{"/v1/events?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from", nil},
		{"/v1/events?type=findingOpened", "type", nil},
		{"/v1/events?after=-1", "after", nil},
		{"/v1/events?after=5&before=6", "after", nil},
		{"/v1/events?before=0", "before", nil},
		{"/v1/events?limit=5000", "limit", nil},
		{"/v1/events?stream_id=x", "stream_id", nil},
		{"/v1/events?actor=", "actor", nil},
		{"/openapi.json?x=1", "x", nil},
	}
	for _, c := range cases {
		var d problem.Details
		rec := h.json(c.target, http.StatusBadRequest, &d, c.headers...)
		if rec.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("%s: content type %q", c.target, rec.Header().Get("Content-Type"))
		}
		found := false
		for _, p := range d.InvalidParams {
			found = found || p.Name == c.param
		}
		if !found || d.Field == "" {
			t.Errorf("%s: problem does not name %s: %+v", c.target, c.param, d)
		}
	}
	// Several bad parameters are all named at once.
	var d problem.Details
	h.json("/v1/findings?severity=x&limit=0&bogus=1", http.StatusBadRequest, &d)
	if len(d.InvalidParams) != 3 {
		t.Errorf("want 3 invalid params: %+v", d.InvalidParams)
	}
}

func TestFindingFiltersMapToTheQuery(t *testing.T) {
	h := newHarness(t, nil)
	h.json("/v1/findings?severity=high,critical&severity=high&status=open&open=true&asset_id="+assetID+
		"&cve=CVE-2024-3094&cwe=CWE-79&kev=false&epss_min=0.5&owner=alice&overdue=true&due_before=2025-03-01T00:00:00%2B01:00"+
		"&scanner=trivy&format=sarif&scan_id=scan-1&first_seen_from=2025-01-01T00:00:00Z&q=openssl&sort=epss&limit=7", http.StatusOK, nil)
	q := h.reader.findingQ[0]
	if strings.Join(q.Severity, ",") != "critical,high" || q.Status[0] != "open" || !*q.Open || q.AssetID != assetID ||
		q.CVE != "CVE-2024-3094" || q.CWE != "CWE-79" || *q.KEV || *q.EPSSMin != 0.5 || q.Owner != "alice" || !*q.Overdue ||
		!q.DueBefore.Equal(time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC)) || q.Scanner != "trivy" || q.Format != "sarif" ||
		q.ScanID != "scan-1" || q.FirstSeenFrom.IsZero() || q.Q != "openssl" || q.Sort != "epss" || q.Desc || q.Limit != 7 ||
		q.After != nil || q.Now.IsZero() {
		t.Fatalf("%+v", q)
	}
	h.json("/v1/findings", http.StatusOK, nil)
	q = h.reader.findingQ[1]
	if q.Sort != "severity" || !q.Desc || q.Limit != querykit.DefaultListLimit {
		t.Fatalf("defaults: %+v", q.List)
	}
	h.json("/v1/assets?kind=host&criticality=high,low&environment=production&owner_team=sec&status=active&tag=pci&q=web&min_risk=50&has_open=true&sort=-name", http.StatusOK, nil)
	aq := h.reader.assetQ[0]
	if len(aq.Kind) != 1 || len(aq.Criticality) != 2 || aq.Environment != "production" || aq.OwnerTeam != "sec" || aq.Status != "active" ||
		aq.Tag != "pci" || aq.Q != "web" || *aq.MinRisk != 50 || !*aq.HasOpen || aq.Sort != "name" || !aq.Desc {
		t.Fatalf("%+v", aq)
	}
	h.json("/v1/scans?format=sarif&status=failed&actor=bob&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&sort=findings_total", http.StatusOK, nil)
	sq := h.reader.scanQ[0]
	if sq.Format != "sarif" || sq.Status != "failed" || sq.Actor != "bob" || sq.From.IsZero() || sq.To.IsZero() || sq.Sort != "findings_total" || sq.Desc {
		t.Fatalf("%+v", sq)
	}
	var page struct{ Items []any }
	h.json("/v1/scans", http.StatusOK, &page)
	if page.Items == nil {
		t.Fatal("an empty page must be [] not null")
	}
}

func TestCursorRoundTripAndTampering(t *testing.T) {
	h := newHarness(t, nil)
	h.reader.next = &readkit.Key{Value: "3", ID: findingID}
	var page struct {
		Items      []vulns.Finding `json:"items"`
		NextCursor string          `json:"next_cursor"`
		Next       string          `json:"next"`
	}
	h.json("/v1/findings?severity=high,critical&sort=-due_at&limit=1&min_position=3", http.StatusOK, &page)
	if page.NextCursor == "" || !strings.HasPrefix(page.Next, "/v1/findings?") || strings.Contains(page.Next, "min_position") {
		t.Fatalf("%+v", page)
	}
	// Following next reaches the reader with the key and the same filters.
	h.json(page.Next, http.StatusOK, nil)
	q := h.reader.findingQ[1]
	if q.After == nil || *q.After != *h.reader.next || q.Sort != "due_at" || !q.Desc || q.Limit != 1 || len(q.Severity) != 2 {
		t.Fatalf("%+v", q)
	}
	// The same filters spelt differently, and another limit, are the same query.
	h.json("/v1/findings?severity=critical&severity=high&sort=-due_at&limit=20&cursor="+page.NextCursor, http.StatusOK, nil)
	// Other filters, another sort, another resource or a forged cursor are refused.
	for _, target := range []string{
		"/v1/findings?severity=low&sort=-due_at&cursor=" + page.NextCursor,
		"/v1/findings?severity=high,critical&sort=due_at&cursor=" + page.NextCursor,
		"/v1/findings?severity=high,critical&cursor=" + page.NextCursor,
		"/v1/findings?severity=high,critical&sort=-due_at&kev=true&cursor=" + page.NextCursor,
		"/v1/assets?cursor=" + page.NextCursor,
		"/v1/findings?severity=high,critical&sort=-due_at&cursor=" + page.NextCursor[:len(page.NextCursor)-3],
		"/v1/findings?severity=high,critical&sort=-due_at&cursor=" + page.NextCursor + "&cursor=" + page.NextCursor,
	} {
		var d problem.Details
		h.json(target, http.StatusBadRequest, &d)
		if d.Field != "cursor" {
			t.Errorf("%s: %+v", target, d)
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(page.NextCursor)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"s":"-due_at"`, `"s":"-severity"`, 1)))
	var d problem.Details
	h.json("/v1/findings?severity=high,critical&sort=-due_at&cursor="+forged, http.StatusBadRequest, &d)
	if d.Field != "cursor" {
		t.Errorf("forged sort: %+v", d)
	}
	// The last page has no next.
	h.reader.next = nil
	var last map[string]any
	h.json("/v1/findings", http.StatusOK, &last)
	if _, ok := last["next"]; ok {
		t.Errorf("last page: %v", last)
	}
}

func TestReaderErrorsMapToProblems(t *testing.T) {
	h := newHarness(t, nil)
	h.reader.err = &readkit.QueryError{Param: "sort", Reason: "not supported on this backend"}
	var d problem.Details
	h.json("/v1/findings", http.StatusBadRequest, &d)
	if d.Field != "sort" || len(d.InvalidParams) != 1 {
		t.Errorf("%+v", d)
	}
	h.json("/v1/cves/CVE-2024-0001", http.StatusNotFound, &d)
	h.json("/v1/scans/nope", http.StatusNotFound, &d)
	h.json("/v1/findings/vulns-finding-0190a0a0-0000-7000-8000-00000000ffff", http.StatusNotFound, &d)
	var s scans.Scan
	h.json("/v1/scans/scan-1", http.StatusOK, &s)
	var f vulns.Finding
	h.json("/v1/findings/"+findingID, http.StatusOK, &f)
	var a assets.Asset
	h.json("/v1/assets/"+assetID, http.StatusOK, &a)
	if a.Risk.Score != 42 {
		t.Errorf("%+v", a)
	}
}

func TestETagAndNotModified(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.json("/v1/cves/CVE-2024-3094", http.StatusOK, nil)
	etag := rec.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("etag %q cache-control %q", etag, rec.Header().Get("Cache-Control"))
	}
	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		rec := h.do("/v1/cves/CVE-2024-3094", "If-None-Match", inm)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q", inm, rec.Code, rec.Body.String())
		}
	}
	// A change gives another ETag, and the old one no longer matches.
	h.reader.mu.Lock()
	h.reader.cves["CVE-2024-3094"].Version = 2
	h.reader.mu.Unlock()
	rec = h.json("/v1/cves/CVE-2024-3094", http.StatusOK, nil, "If-None-Match", etag)
	if rec.Header().Get("ETag") == etag {
		t.Error("the ETag did not change with the body")
	}
	// Lists and the document carry ETags as well.
	rec = h.json("/v1/findings", http.StatusOK, nil)
	if rec2 := h.do("/v1/findings", "If-None-Match", rec.Header().Get("ETag")); rec2.Code != http.StatusNotModified {
		t.Errorf("list: %d", rec2.Code)
	}
	rec = h.json("/openapi.json", http.StatusOK, nil)
	if rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != string(openapi.Spec()) {
		t.Error("/openapi.json does not serve the document")
	}
	if rec2 := h.do("/openapi.json", "If-None-Match", rec.Header().Get("ETag")); rec2.Code != http.StatusNotModified {
		t.Errorf("openapi: %d", rec2.Code)
	}
}

func TestMinPosition(t *testing.T) {
	h := newHarness(t, nil)
	h.json("/v1/findings?min_position=10", http.StatusOK, nil)
	h.json("/v1/cves/CVE-2024-3094?min_position=3&wait=0", http.StatusOK, nil)
	h.json("/v1/assets", http.StatusOK, nil, "X-Min-Position", "10")
	h.json("/v1/assets?min_position=10", http.StatusOK, nil, "X-Min-Position", "10")

	for _, c := range []struct {
		target  string
		headers []string
	}{
		{"/v1/findings?min_position=11", nil},
		{"/v1/assets/" + assetID, []string{"X-Min-Position", "99"}},
		{"/v1/scans?min_position=11&wait=60", nil}, // capped at MaxWait
		{"/v1/cves/CVE-2024-3094?min_position=11", []string{"Prefer", "respond-async, wait=100"}},
	} {
		start := time.Now()
		var d struct {
			problem.Details
			MinPosition int64 `json:"min_position"`
		}
		rec := h.json(c.target, http.StatusServiceUnavailable, &d, c.headers...)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: waited %s, over MaxWait", c.target, took)
		}
		if rec.Header().Get("Retry-After") == "" || d.MinPosition < 11 || !strings.Contains(d.Detail, "position") {
			t.Errorf("%s: %v %+v", c.target, rec.Header(), d)
		}
	}
	// No projection on this node: a position cannot be waited for.
	h2 := newHarness(t, func(c *Config) { c.Waiter = nil })
	h2.json("/v1/findings?min_position=1", http.StatusServiceUnavailable, nil)
	h2.json("/v1/findings", http.StatusOK, nil)
}

func appendEvent(t *testing.T, store events.EventStore, stream, typ, data string) events.AppendResult {
	t.Helper()
	res, err := store.Append(context.Background(), stream, events.Any, []events.Envelope{{Type: typ, Data: json.RawMessage(data), Actor: "tester"}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAsOf(t *testing.T) {
	h := newHarness(t, nil)
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	appendEvent(t, h.store, assetID, "AssetRegistered", `{"kind":"host","name":"web-1","identifiers":{"hostnames":["web-1"]}}`)
	time.Sleep(5 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	appendEvent(t, h.store, assetID, "AssetUpdated", `{"name":"web-2"}`)

	var a map[string]any
	rec := h.json("/v1/assets/"+assetID+"?as_of="+url.QueryEscape(between.Format(time.RFC3339Nano)), http.StatusOK, &a)
	if a["name"] != "web-1" || a["version"] != 1.0 || a["as_of"] == nil || rec.Header().Get(AsOfHeader) == "" {
		t.Fatalf("%v %v", a, rec.Header())
	}
	h.json("/v1/assets/"+assetID+"?as_of="+url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano)), http.StatusOK, &a)
	if a["name"] != "web-2" || a["version"] != 2.0 {
		t.Fatalf("now: %v", a)
	}
	// Before the first event the asset did not exist.
	var d problem.Details
	h.json("/v1/assets/"+assetID+"?as_of="+url.QueryEscape(before.Format(time.RFC3339Nano)), http.StatusNotFound, &d)
	h.json("/v1/assets/assets-asset-0190a0a0-0000-7000-8000-00000000ffff?as_of=2020-01-01T00:00:00Z", http.StatusNotFound, &d)
	// A few seconds of clock skew are tolerated.
	h.json("/v1/assets/"+assetID+"?as_of="+url.QueryEscape(time.Now().Add(2*time.Second).UTC().Format(time.RFC3339Nano)), http.StatusOK, nil)
	// No fold configured for findings: 501.
	h.json("/v1/findings/"+findingID+"?as_of=2025-01-01T00:00:00Z", http.StatusNotImplemented, &d)
}

func TestStreamPaging(t *testing.T) {
	h := newHarness(t, nil)
	appendEvent(t, h.store, assetID, "AssetRegistered", `{"kind":"host","name":"web-1","identifiers":{"hostnames":["web-1"]}}`)
	for i := 0; i < 4; i++ {
		appendEvent(t, h.store, assetID, "AssetUpdated", `{"name":"web-`+string(rune('2'+i))+`"}`)
	}
	walk := func(target string) []int64 {
		var versions []int64
		for target != "" && len(versions) < 20 {
			var page struct {
				Items []events.Envelope `json:"items"`
				Next  string            `json:"next"`
			}
			h.json(target, http.StatusOK, &page)
			for _, e := range page.Items {
				versions = append(versions, e.Version)
			}
			target = page.Next
		}
		return versions
	}
	base := "/v1/streams/" + assetID + "/events"
	if got := walk(base + "?limit=2"); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Errorf("forwards: %v", got)
	}
	if got := walk(base + "?limit=2&direction=backwards"); len(got) != 5 || got[0] != 5 || got[4] != 1 {
		t.Errorf("backwards: %v", got)
	}
	if got := walk(base + "?from=4"); len(got) != 2 || got[0] != 4 {
		t.Errorf("from 4: %v", got)
	}
	if got := walk(base + "?direction=backwards&from=2&limit=1"); len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Errorf("backwards from 2: %v", got)
	}
	// Before its first event the stream did not exist.
	var d problem.Details
	h.json(base+"?as_of=2020-01-01T00:00:00Z", http.StatusNotFound, &d)
	h.json("/v1/streams/assets-asset-0190a0a0-0000-7000-8000-00000000ffff/events", http.StatusNotFound, &d)
	if d.Status != 404 {
		t.Errorf("%+v", d)
	}
}

func TestAuditQuery(t *testing.T) {
	h := newHarness(t, nil)
	h.querier.out = []events.Envelope{
		{EventID: "e1", StreamID: assetID, StreamType: "assets-asset", Version: 1, GlobalPosition: 7, Type: "AssetRegistered", SchemaVersion: 1, Data: json.RawMessage(`{}`)},
		{EventID: "e2", StreamID: assetID, StreamType: "assets-asset", Version: 2, GlobalPosition: 9, Type: "AssetUpdated", SchemaVersion: 1, Data: json.RawMessage(`{}`)},
	}
	var page struct {
		Items []events.Envelope `json:"items"`
		Next  string            `json:"next"`
	}
	h.json("/v1/events?type=AssetUpdated,AssetRegistered&type=AssetRetired&actor=alice&correlation_id=c-1&stream_id="+assetID+
		"&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z&after=5&limit=2", http.StatusOK, &page)
	q := h.querier.got[0]
	if strings.Join(q.Types, ",") != "AssetRegistered,AssetRetired,AssetUpdated" || q.Actor != "alice" || q.CorrelationID != "c-1" ||
		q.StreamID != assetID || q.From.IsZero() || q.To.IsZero() || q.After != 5 || q.Limit != 2 || q.Backwards {
		t.Fatalf("%+v", q)
	}
	if len(page.Items) != 2 || !strings.Contains(page.Next, "after=9") || !strings.Contains(page.Next, "actor=alice") {
		t.Fatalf("%+v", page)
	}
	h.json("/v1/events?direction=backwards&before=100&after=3&limit=2", http.StatusOK, &page)
	q = h.querier.got[1]
	if !q.Backwards || q.Before != 100 || q.After != 3 {
		t.Fatalf("%+v", q)
	}
	if !strings.Contains(page.Next, "before=9") {
		t.Fatalf("backwards next: %s", page.Next)
	}
	page.Next = ""
	h.json("/v1/events", http.StatusOK, &page)
	if q := h.querier.got[2]; q.Limit != DefaultAuditLimit || page.Next != "" {
		t.Fatalf("defaults: %+v, next %q", q, page.Next)
	}
	h2 := newHarness(t, func(c *Config) { c.Querier = nil })
	var d problem.Details
	h2.json("/v1/events", http.StatusNotImplemented, &d)
}

type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) HandleFunc(p string, fn func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, p)
	m.ServeMux.HandleFunc(p, fn)
}

func TestEveryRouteIsDocumented(t *testing.T) {
	api, err := New(Config{Reader: &fakeReader{}, Assets: &fakeReader{}, Scans: &fakeReader{}, Store: newHarness(t, nil).store})
	if err != nil {
		t.Fatal(err)
	}
	m := &recordingMux{ServeMux: http.NewServeMux()}
	api.Register(m)
	documented := map[openapi.Operation]bool{}
	for _, op := range openapi.Operations() {
		documented[op] = true
	}
	if len(m.patterns) != len(Routes) {
		t.Errorf("registered %v, Routes %v", m.patterns, Routes)
	}
	for _, p := range m.patterns {
		op, ok := openapi.FromMuxPattern(p)
		if !ok || !documented[op] {
			t.Errorf("route %s is not in the OpenAPI document", p)
		}
		if openapi.QueryParams(op.Method, op.Path) == nil && p != "GET /openapi.json" {
			t.Errorf("route %s declares no query parameters", p)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "Reader") || !strings.Contains(err.Error(), "Store") {
		t.Fatalf("%v", err)
	}
}

// TestFindingLocationsAndImportCountsAreServed: a finding's locations and an import's v2 counts
// reach the client, as the OpenAPI document describes them.
func TestFindingLocationsAndImportCountsAreServed(t *testing.T) {
	h := newHarness(t, nil)
	var f vulns.Finding
	h.json("/v1/findings/"+findingID, http.StatusOK, &f)
	if len(f.Locations) != 2 || f.Locations[1].File != "db/orders.go" || *f.Locations[1].Column != 2 {
		t.Errorf("locations %+v", f.Locations)
	}
	var s scans.Scan
	h.json("/v1/scans/scan-1", http.StatusOK, &s)
	if s.Outcome["parsed"] != 3 || s.Outcome["duplicate_count"] != 1 {
		t.Errorf("outcome %v", s.Outcome)
	}
}

func ptr[T any](v T) *T { return &v }
