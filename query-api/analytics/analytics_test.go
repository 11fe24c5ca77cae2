package analytics_test

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

	model "github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/analytics/clickhouse"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/query-api/analytics"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/access"
)

// Both backends are what the endpoints are wired with.
var (
	_ analytics.Reader = (*sqlstore.Reader)(nil)
	_ analytics.Reader = (*clickhouse.Reader)(nil)
)

// fakeReader records the queries it is asked and answers fixed numbers.
type fakeReader struct {
	mu       sync.Mutex
	queries  []model.Query
	options  []model.Options
	position int64
	err      error
}

func (f *fakeReader) record(q model.Query, o model.Options) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	f.options = append(f.options, o)
	return f.err
}

func (f *fakeReader) last() (model.Query, model.Options) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1], f.options[len(f.options)-1]
}

func bySev() map[string]int64 {
	m := map[string]int64{}
	for _, s := range model.Severities {
		m[s] = 0
	}
	return m
}

func (f *fakeReader) OpenFindings(_ context.Context, q model.Query) ([]model.OpenPoint, error) {
	if err := f.record(q, model.Options{}); err != nil {
		return nil, err
	}
	bs, _ := model.Buckets(q)
	out := make([]model.OpenPoint, len(bs))
	for i, b := range bs {
		out[i] = model.OpenPoint{Bucket: b, Total: int64(i), BySeverity: bySev()}
	}
	return out, nil
}
func (f *fakeReader) Flow(_ context.Context, q model.Query) ([]model.FlowPoint, error) {
	return []model.FlowPoint{}, f.record(q, model.Options{})
}
func (f *fakeReader) MTTR(_ context.Context, q model.Query) (model.MTTR, error) {
	return model.MTTR{Remediate: model.Durations{Count: 3, Mean: 2.5, P50: 2, P90: 4}}, f.record(q, model.Options{})
}
func (f *fakeReader) SLA(_ context.Context, q model.Query, o model.Options) (model.SLA, error) {
	return model.SLA{DueWithinDays: int(o.DueWithin / (24 * time.Hour))}, f.record(q, o)
}
func (f *fakeReader) Risk(_ context.Context, q model.Query, o model.Options) (model.Risk, error) {
	return model.Risk{}, f.record(q, o)
}
func (f *fakeReader) TopAssets(_ context.Context, q model.Query, o model.Options) ([]model.AssetRisk, error) {
	return []model.AssetRisk{{AssetID: "assets-asset-1", Score: 42}}, f.record(q, o)
}
func (f *fakeReader) Exploitability(_ context.Context, q model.Query, o model.Options) (model.Exploitability, error) {
	return model.Exploitability{OpenKEV: 1}, f.record(q, o)
}
func (f *fakeReader) Coverage(_ context.Context, q model.Query, o model.Options) (model.Coverage, error) {
	return model.Coverage{}, f.record(q, o)
}
func (f *fakeReader) Position(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.position, nil
}

var now = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

func server(t *testing.T, r analytics.Reader) *httptest.Server {
	t.Helper()
	cfg := querykit.Config{Now: func() time.Time { return now }, MaxWait: 5 * time.Second}
	if r != nil {
		cfg.Waiter, cfg.Position = querykit.ModelPosition{Model: r}, querykit.ModelPosition{Model: r}
	}
	kit := querykit.New(cfg)
	mux := http.NewServeMux()
	analytics.Register(kit.Stamped(mux), kit, r)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get answers path's status and body, checked against the OpenAPI document.
func get(t *testing.T, srv *httptest.Server, path string, principal *access.Principal) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if principal != nil {
		req = req.WithContext(access.With(req.Context(), *principal))
	}
	rec := httptest.NewRecorder()
	srv.Config.Handler.ServeHTTP(rec, req)
	res := rec.Result()
	body := rec.Body.Bytes()
	route, _, _ := strings.Cut(req.URL.Path, "?")
	if err := openapi.Validate(http.MethodGet, route, res.StatusCode, res.Header.Get("Content-Type"), body); err != nil {
		t.Errorf("GET %s: the answer is not as documented: %v\n%s", path, err, body)
	}
	return res, body
}

func TestEveryViewAnswersThroughTheReader(t *testing.T) {
	f := &fakeReader{position: 7}
	srv := server(t, f)
	for _, route := range analytics.Routes {
		path := strings.TrimPrefix(route, "GET ")
		res, body := get(t, srv, path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		if got := res.Header.Get(querykit.ReadPositionHeader); got != "7" {
			t.Errorf("%s: read position %q, want the model's 7", path, got)
		}
		var a struct {
			From, To, Now time.Time
			Bucket, TZ    string
			Result        json.RawMessage
		}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		// Defaults: the last 90 days by month in UTC, now from the query API's clock.
		if !a.To.Equal(now) || !a.From.Equal(now.Add(-analytics.DefaultPeriod)) || a.Bucket != "month" || a.TZ != "UTC" || !a.Now.Equal(now) {
			t.Errorf("%s: %+v", path, a)
		}
		if len(a.Result) == 0 || string(a.Result) == "null" {
			t.Errorf("%s: no result", path)
		}
	}
	if len(f.queries) != len(analytics.Routes) {
		t.Errorf("%d reads for %d routes", len(f.queries), len(analytics.Routes))
	}
	q, o := f.last()
	if o.Limit != 0 || o.DueWithin != 0 || o.StaleAfter != 0 {
		t.Errorf("defaults are the model's (zero options): %+v", o)
	}
	if q.Scope != nil {
		t.Errorf("no principal: unscoped, got %v", q.Scope)
	}
}

func TestParametersMapToTheQuery(t *testing.T) {
	f := &fakeReader{}
	srv := server(t, f)
	paris, _ := time.LoadLocation("Europe/Paris")
	remediator := access.Principal{Kind: access.KindUser, ID: "u1", Teams: []string{"payments", "infra"}, Perms: []access.Permission{access.AnalyticsRead}}
	res, body := get(t, srv, "/v1/analytics/sla?from=2026-01-01&to=2026-03-01T00:00:00Z&bucket=week&tz=Europe/Paris"+
		"&severity=high,critical&severity=high&team=payments&tags=PCI&environment=production&asset_kind=host&scanner=trivy"+
		"&limit=5&due_within=14&stale_after=30", &remediator)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	q, o := f.last()
	if !q.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, paris)) || !q.To.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("period %s – %s: a date is midnight in tz", q.From, q.To)
	}
	if q.Unit != model.Week || q.Location.String() != "Europe/Paris" || !q.Now.Equal(now) {
		t.Errorf("unit %s, location %s, now %s", q.Unit, q.Location, q.Now)
	}
	if !slices.Equal(q.Severities, []string{"critical", "high"}) || !slices.Equal(q.Teams, []string{"payments"}) ||
		!slices.Equal(q.Tags, []string{"PCI"}) || !slices.Equal(q.Environments, []string{"production"}) ||
		!slices.Equal(q.AssetKinds, []string{"host"}) || !slices.Equal(q.Scanners, []string{"trivy"}) {
		t.Errorf("filters %+v", q.Filter)
	}
	if !slices.Equal(q.Scope, []string{"infra", "payments"}) {
		t.Errorf("scope %v: the principal's teams", q.Scope)
	}
	if o.Limit != 5 || o.DueWithin != 14*24*time.Hour || o.StaleAfter != 30*24*time.Hour {
		t.Errorf("options %+v", o)
	}
	var a analytics.Answer
	_ = json.Unmarshal(body, &a)
	if a.TZ != "Europe/Paris" || a.Bucket != "week" {
		t.Errorf("answer %+v", a)
	}
}

func TestBadParametersAreNamed(t *testing.T) {
	f := &fakeReader{}
	srv := server(t, f)
	long := strings.Repeat("x", 300)
	many := strings.TrimSuffix(strings.Repeat("a,", 40), ",")
	for query, param := range map[string]string{
		"severity=urgent":               "severity",
		"bucket=year":                   "bucket",
		"tz=Mars/Olympus":               "tz",
		"tz=Local":                      "tz",
		"from=yesterday":                "from",
		"from=2026-02-01&to=2026-01-01": "from",
		"from=2000-01-01&to=2026-01-01&bucket=day": "to", // over MaxBuckets
		"environment=moon":                         "environment",
		"asset_kind=spaceship":                     "asset_kind",
		"scanner=Not%20A%20Format":                 "scanner",
		"team=" + long:                             "team",
		"tags=" + many:                             "tags",
		"limit=0":                                  "limit",
		"limit=1001":                               "limit",
		"due_within=0":                             "due_within",
		"stale_after=999999":                       "stale_after",
		"colour=red":                               "colour",
	} {
		res, body := get(t, srv, "/v1/analytics/open-findings?"+query, nil)
		if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s", query, res.StatusCode, body)
			continue
		}
		var p struct {
			InvalidParams []struct{ Name string } `json:"invalid_params"`
		}
		_ = json.Unmarshal(body, &p)
		if len(p.InvalidParams) == 0 || p.InvalidParams[0].Name != param {
			t.Errorf("%s: names %+v, want %s", query, p.InvalidParams, param)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("a bad query reached the reader: %+v", f.queries)
	}
}

func TestModelErrorsMapToProblems(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("dial: %w", model.ErrUnavailable), http.StatusServiceUnavailable},
		{&model.ParamError{Param: "teams", Reason: "too many"}, http.StatusBadRequest},
	} {
		srv := server(t, &fakeReader{err: c.err})
		res, body := get(t, srv, "/v1/analytics/flow", nil)
		if res.StatusCode != c.status {
			t.Errorf("%v: %d %s", c.err, res.StatusCode, body)
		}
		if c.status == http.StatusBadRequest && !strings.Contains(string(body), `"name":"team"`) {
			t.Errorf("the model's filter name is mapped to the parameter: %s", body)
		}
	}
	srv := server(t, nil)
	if res, body := get(t, srv, "/v1/analytics/flow", nil); res.StatusCode != http.StatusNotImplemented {
		t.Errorf("no model: %d %s", res.StatusCode, body)
	}
}

// TestMinPositionWaitsForTheAnalyticsModel: read-your-writes follows the analytics model's own
// position: a position it has not reached answers 503 after the wait, one it reaches answers.
func TestMinPositionWaitsForTheAnalyticsModel(t *testing.T) {
	f := &fakeReader{position: 10}
	srv := server(t, f)
	if res, body := get(t, srv, "/v1/analytics/mttr?min_position=11&wait=0", nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("unreached: %d %s", res.StatusCode, body)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.mu.Lock()
		f.position = 11
		f.mu.Unlock()
	}()
	if res, body := get(t, srv, "/v1/analytics/mttr?min_position=11", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("reached: %d %s", res.StatusCode, body)
	}
}
