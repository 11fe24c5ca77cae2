package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	model "github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/query-api/search"
	"github.com/socplatform/soc/schemas/access"
)

// fakeIndex records the requests it is asked and answers a fixed result.
type fakeIndex struct {
	mu       sync.Mutex
	requests []model.Request
	result   model.Result
	position int64
	err      error
}

func (f *fakeIndex) Search(_ context.Context, r model.Request) (model.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	return f.result, f.err
}

func (f *fakeIndex) Position(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.position, nil
}

func (f *fakeIndex) last(t *testing.T) model.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the index was not asked")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeIndex) asked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func server(t *testing.T, ix search.Index) http.Handler {
	t.Helper()
	cfg := querykit.Config{MaxWait: time.Second}
	if ix != nil {
		// cmd/soc wires the index's own position the same way.
		pos := querykit.ModelPosition{Model: ix}
		cfg.Waiter, cfg.Position = pos, pos
	}
	kit := querykit.New(cfg)
	mux := http.NewServeMux()
	search.Register(kit.Stamped(mux), kit, ix)
	return mux
}

// get answers path's status and decoded body, checked against the OpenAPI document.
func get(t *testing.T, h http.Handler, path string, principal *access.Principal) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if principal != nil {
		req = req.WithContext(access.With(req.Context(), *principal))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	if err := openapi.Validate(http.MethodGet, "/v1/search", res.StatusCode, res.Header.Get("Content-Type"), rec.Body.Bytes()); err != nil {
		t.Errorf("GET %s: the answer is not as documented: %v\n%s", path, err, rec.Body.Bytes())
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, rec.Body.Bytes())
	}
	return res.StatusCode, body
}

var (
	analyst    = access.Principal{Kind: access.KindUser, ID: "a1", Perms: []access.Permission{access.FindingsRead, access.AssetsRead, access.TeamsAll}}
	auditor    = access.Principal{Kind: access.KindUser, ID: "au1", Perms: []access.Permission{access.FindingsRead, access.AssetsRead, access.AuditRead, access.TeamsAll}}
	remediator = access.Principal{Kind: access.KindUser, ID: "r1", Teams: []string{"payments"}, Perms: []access.Permission{access.FindingsRead, access.AssetsRead}}
	// findingsOnly holds findings:read alone (an API token narrowed to it).
	findingsOnly = access.Principal{Kind: access.KindToken, ID: "t1", Perms: []access.Permission{access.FindingsRead, access.TeamsAll}}
)

func TestParametersMapToTheRequest(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)
	status, body := get(t, h, "/v1/search?q=cve:cve-2021-44228&types=finding,cve&facets=severity,team&sort=-cvss&limit=7&cursor=abc&highlight=false", &analyst)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	r := ix.last(t)
	want := query.Clause{Field: query.FieldCVE, Values: []string{"CVE-2021-44228"}}
	if len(r.Query.Clauses) != 1 || r.Query.Clauses[0].Field != want.Field || !slices.Equal(r.Query.Clauses[0].Values, want.Values) {
		t.Errorf("query = %+v, want the one clause %+v", r.Query, want)
	}
	if !slices.Equal(r.Kinds, []model.Kind{model.KindCVE, model.KindFinding}) {
		t.Errorf("kinds = %v", r.Kinds)
	}
	if !slices.Equal(r.Facets, []string{"severity", "team"}) {
		t.Errorf("facets = %v", r.Facets)
	}
	if r.Sort != (model.Sort{Field: "cvss", Desc: true}) || r.Limit != 7 || r.Cursor != "abc" || r.Highlight {
		t.Errorf("sort %+v limit %d cursor %q highlight %v", r.Sort, r.Limit, r.Cursor, r.Highlight)
	}
	if r.Scope != nil || r.Audit {
		t.Errorf("an analyst (teams:all, no audit:read) searched with scope %v, audit %v", r.Scope, r.Audit)
	}
	if body["query"] != "cve:CVE-2021-44228" {
		t.Errorf("query = %v, want the canonical q", body["query"])
	}
}

func TestDefaults(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)
	for _, tc := range []struct {
		q    string
		sort model.Sort
	}{
		{"log4j", model.Sort{Field: model.SortRelevance, Desc: true}},
		{"severity:critical", model.Sort{Field: "at", Desc: true}},
		{"", model.Sort{Field: "at", Desc: true}},
	} {
		if status, body := get(t, h, "/v1/search?q="+tc.q, &analyst); status != http.StatusOK {
			t.Fatalf("q=%s: status %d: %v", tc.q, status, body)
		}
		r := ix.last(t)
		if r.Sort != tc.sort {
			t.Errorf("q=%s: sort %+v, want %+v", tc.q, r.Sort, tc.sort)
		}
		if r.Limit != search.DefaultLimit || !r.Highlight || !slices.Equal(r.Facets, search.DefaultFacets) || r.Kinds != nil {
			t.Errorf("q=%s: limit %d highlight %v facets %v kinds %v", tc.q, r.Limit, r.Highlight, r.Facets, r.Kinds)
		}
	}
	if !slices.Equal(search.DefaultFacets, model.FacetFields) {
		t.Errorf("the default facets %v are not every facet %v", search.DefaultFacets, model.FacetFields)
	}
}

func TestTheAnswerCarriesHitsFacetsCursorAndPosition(t *testing.T) {
	cvss := 10.0
	ix := &fakeIndex{position: 42, result: model.Result{
		Total: 3,
		Hits: []model.Hit{{Doc: model.Doc{ID: "vulns-finding-1", Kind: model.KindFinding, Version: 2, Title: "log4j RCE",
			At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Severity: "critical", CVEs: []string{"CVE-2021-44228"}, CVSS: &cvss,
			State: json.RawMessage(`{"secret":"fold state"}`)}, Score: 1.5,
			Highlights: map[string][]string{"title": {"<mark>log4j</mark> RCE"}}}},
		Facets: map[string][]model.FacetValue{"severity": {{Value: "critical", Count: 3}}},
		Next:   "next-page",
	}}
	h := server(t, ix)
	status, body := get(t, h, "/v1/search?q=log4j", &analyst)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["total"] != 3.0 || body["next_cursor"] != "next-page" || body["position"] != 42.0 {
		t.Errorf("total %v next_cursor %v position %v", body["total"], body["next_cursor"], body["position"])
	}
	hits := body["hits"].([]any)
	hit := hits[0].(map[string]any)
	if hit["id"] != "vulns-finding-1" || hit["kind"] != "finding" || hit["score"] != 1.5 || hit["cvss"] != 10.0 || hit["severity"] != "critical" {
		t.Errorf("hit = %v", hit)
	}
	if _, ok := hit["state"]; ok {
		t.Errorf("a hit carries the fold's state: %v", hit)
	}
	if hl := hit["highlights"].(map[string]any)["title"].([]any); hl[0] != "<mark>log4j</mark> RCE" {
		t.Errorf("highlights = %v", hl)
	}
	if f := body["facets"].(map[string]any)["severity"].([]any); f[0].(map[string]any)["count"] != 3.0 {
		t.Errorf("facets = %v", body["facets"])
	}
}

func TestParseErrorsPointAtTheirPosition(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)
	q := "log4j sevrity:critical"
	status, body := get(t, h, "/v1/search?q="+strings.ReplaceAll(q, " ", "+"), &analyst)
	if status != http.StatusBadRequest {
		t.Fatalf("status %d: %v", status, body)
	}
	_, want := query.Parse(q)
	pe, ok := want.(*query.ParseError)
	if !ok {
		t.Fatalf("the parser accepts %q (%v): pick a q it refuses", q, want)
	}
	if body["field"] != "q" || body["position"] != float64(pe.Pos) || pe.Pos != strings.Index(q, "sevrity") {
		t.Errorf("field %v position %v, want q and %d: %v", body["field"], body["position"], strings.Index(q, "sevrity"), body)
	}
	if body["suggestion"] != "severity" || !strings.Contains(body["detail"].(string), "did you mean severity") {
		t.Errorf("suggestion %v detail %v", body["suggestion"], body["detail"])
	}
	if ix.asked() != 0 {
		t.Error("the index was asked a query that does not parse")
	}
}

func TestBadParametersAreNamed(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)
	for _, tc := range []struct{ query, param string }{
		{"types=finding,widget", "types"},
		{"facets=severity,colour", "facets"},
		{"sort=-risk", "sort"},
		{"limit=0", "limit"},
		{fmt.Sprintf("limit=%d", model.MaxLimit+1), "limit"},
		{"highlight=maybe", "highlight"},
		{"cursor=" + strings.Repeat("c", 2049), "cursor"},
		{"q=" + strings.Repeat("a", query.MaxLength+1), "q"},
		{"q=a&q=b", "q"},
		{"colour=red", "colour"},
	} {
		status, body := get(t, h, "/v1/search?"+tc.query, &analyst)
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.query, status)
			continue
		}
		if !namesParam(body, tc.param) {
			t.Errorf("%s: the problem does not name %s: %v", tc.query, tc.param, body)
		}
	}
	if ix.asked() != 0 {
		t.Error("the index was asked a bad request")
	}
}

func namesParam(body map[string]any, name string) bool {
	if body["field"] == name {
		return true
	}
	ips, _ := body["invalid_params"].([]any)
	for _, ip := range ips {
		if ip.(map[string]any)["name"] == name {
			return true
		}
	}
	return false
}

func TestKindsFollowThePermissions(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)

	// Events are the audit trail: without audit:read, naming them is a 403 naming the permission.
	status, body := get(t, h, "/v1/search?types=finding,event", &analyst)
	if status != http.StatusForbidden || !strings.Contains(body["detail"].(string), "audit:read") {
		t.Errorf("types=event without audit:read: status %d %v, want 403 naming audit:read", status, body)
	}
	status, body = get(t, h, "/v1/search?types=asset", &findingsOnly)
	if status != http.StatusForbidden || !strings.Contains(body["detail"].(string), "assets:read") {
		t.Errorf("types=asset without assets:read: status %d %v, want 403 naming assets:read", status, body)
	}
	if ix.asked() != 0 {
		t.Error("the index was asked a forbidden search")
	}

	// Without types, each principal searches what it may read.
	for _, tc := range []struct {
		who   string
		p     access.Principal
		kinds []model.Kind
		audit bool
	}{
		{"analyst", analyst, nil, false},
		{"auditor", auditor, nil, true},
		{"findings:read alone", findingsOnly, []model.Kind{model.KindFinding, model.KindCVE}, false},
	} {
		if status, body := get(t, h, "/v1/search?q=x", &tc.p); status != http.StatusOK {
			t.Fatalf("%s: status %d %v", tc.who, status, body)
		}
		r := ix.last(t)
		if !slices.Equal(r.Kinds, tc.kinds) || r.Audit != tc.audit {
			t.Errorf("%s: kinds %v audit %v, want %v %v", tc.who, r.Kinds, r.Audit, tc.kinds, tc.audit)
		}
	}
	if status, body := get(t, h, "/v1/search?types=event", &auditor); status != http.StatusOK {
		t.Errorf("an auditor asking for events: status %d %v", status, body)
	} else if r := ix.last(t); !r.Audit || !slices.Equal(r.Kinds, []model.Kind{model.KindEvent}) {
		t.Errorf("auditor: kinds %v audit %v", r.Kinds, r.Audit)
	}
}

func TestTheScopeIsThePrincipals(t *testing.T) {
	ix := &fakeIndex{}
	h := server(t, ix)
	if status, body := get(t, h, "/v1/search?q=team:other", &remediator); status != http.StatusOK {
		t.Fatalf("status %d %v", status, body)
	}
	if r := ix.last(t); !slices.Equal(r.Scope, []string{"payments"}) {
		t.Errorf("a remediator of payments searched with scope %v", r.Scope)
	}
}

func TestModelErrorsMapToProblems(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		param  string
	}{
		{fmt.Errorf("page: %w", model.ErrBadCursor), http.StatusBadRequest, "cursor"},
		{&model.ParamError{Param: "sort", Reason: "this backend cannot"}, http.StatusBadRequest, "sort"},
		{fmt.Errorf("dial: %w", model.ErrUnavailable), http.StatusServiceUnavailable, ""},
	} {
		h := server(t, &fakeIndex{err: tc.err})
		status, body := get(t, h, "/v1/search?q=x", &analyst)
		if status != tc.status || (tc.param != "" && !namesParam(body, tc.param)) {
			t.Errorf("%v: status %d %v, want %d naming %q", tc.err, status, body, tc.status, tc.param)
		}
	}
	if status, _ := get(t, server(t, nil), "/v1/search?q=x", &analyst); status != http.StatusNotImplemented {
		t.Errorf("no index: status %d, want 501", status)
	}
}

func TestMinPositionWaitsForTheIndex(t *testing.T) {
	ix := &fakeIndex{position: 5}
	h := server(t, ix)
	if status, _ := get(t, h, "/v1/search?q=x&min_position=5", &analyst); status != http.StatusOK {
		t.Errorf("a reached position: status %d", status)
	}
	if status, _ := get(t, h, "/v1/search?q=x&min_position=6&wait=0", &analyst); status != http.StatusServiceUnavailable {
		t.Errorf("an unreached position: status %d, want 503", status)
	}
}
