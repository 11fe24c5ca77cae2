package reporting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/access"
)

// The data the fakes answer from: two teams' assets and their open findings. The fakes honour
// the scope and the filters as the read models do, so a report that forgot its requester's
// scope shows the other team's findings.
type fakeFinding struct {
	id, asset, team, severity, format string
}

var dataset = []fakeFinding{
	{"vulns-finding-00000000-0000-7000-8000-000000000001", "red-web", "red", "critical", "trivy"},
	{"vulns-finding-00000000-0000-7000-8000-000000000002", "red-web", "red", "high", "nessus"},
	{"vulns-finding-00000000-0000-7000-8000-000000000003", "blue-db", "blue", "critical", "trivy"},
}

func visible(f fakeFinding, scope []string, teams, severities, formats []string) bool {
	return (scope == nil || slices.Contains(scope, f.team)) && (len(teams) == 0 || slices.Contains(teams, f.team)) &&
		(len(severities) == 0 || slices.Contains(severities, f.severity)) && (len(formats) == 0 || slices.Contains(formats, f.format))
}

// fakeAnalytics is an analytics.Reader over dataset: every bucket's open count is the visible
// findings. It records the queries; err fails every answer; gate, when set, holds OpenFindings
// until it is closed or the query's context ends.
type fakeAnalytics struct {
	mu      sync.Mutex
	queries []analytics.Query
	err     error
	gate    chan struct{}
	entered chan struct{} // receives once per held OpenFindings
}

func (f *fakeAnalytics) record(q analytics.Query) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return f.err
}

func (f *fakeAnalytics) bySeverity(q analytics.Query) map[string]int64 {
	m := map[string]int64{}
	for _, s := range analytics.Severities {
		m[s] = 0
	}
	for _, d := range dataset {
		if visible(d, q.Scope, q.Teams, q.Severities, q.Scanners) {
			m[d.severity]++
		}
	}
	return m
}

func (f *fakeAnalytics) OpenFindings(ctx context.Context, q analytics.Query) ([]analytics.OpenPoint, error) {
	if err := f.record(q); err != nil {
		return nil, err
	}
	if f.gate != nil {
		f.entered <- struct{}{}
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	bs, err := analytics.Buckets(q)
	if err != nil {
		return nil, err
	}
	out := make([]analytics.OpenPoint, len(bs))
	for i, b := range bs {
		m := f.bySeverity(q)
		var total int64
		for _, n := range m {
			total += n
		}
		out[i] = analytics.OpenPoint{Bucket: b, Total: total, BySeverity: m}
	}
	return out, nil
}

func (f *fakeAnalytics) Flow(_ context.Context, q analytics.Query) ([]analytics.FlowPoint, error) {
	if err := f.record(q); err != nil {
		return nil, err
	}
	bs, _ := analytics.Buckets(q)
	out := make([]analytics.FlowPoint, len(bs))
	for i, b := range bs {
		out[i] = analytics.FlowPoint{Bucket: b, Discovered: 2, Resolved: 1, Net: 1, BySeverity: f.bySeverity(q)}
	}
	return out, nil
}

func durations() map[string]analytics.Durations {
	m := map[string]analytics.Durations{}
	for _, s := range analytics.Severities {
		m[s] = analytics.Durations{Count: 1, Mean: 86400, P50: 86400, P90: 86400}
	}
	return m
}

func (f *fakeAnalytics) MTTR(_ context.Context, q analytics.Query) (analytics.MTTR, error) {
	return analytics.MTTR{Remediate: analytics.Durations{Count: 4, Mean: 3 * 86400, P50: 2 * 86400, P90: 5 * 86400},
		RemediateBySev: durations(), TriageBySeverity: durations()}, f.record(q)
}

func (f *fakeAnalytics) SLA(_ context.Context, q analytics.Query, o analytics.Options) (analytics.SLA, error) {
	bs, _ := analytics.Buckets(q)
	ps := make([]analytics.SLAPoint, len(bs))
	for i, b := range bs {
		ps[i] = analytics.SLAPoint{Bucket: b, Resolved: 4, WithinSLA: 3}
	}
	return analytics.SLA{Periods: ps, OverdueBy: f.bySeverity(q), DueSoonBy: f.bySeverity(q), DueWithinDays: int(o.DueWithin / (24 * time.Hour))}, f.record(q)
}

func (f *fakeAnalytics) Risk(_ context.Context, q analytics.Query, _ analytics.Options) (analytics.Risk, error) {
	return analytics.Risk{}, f.record(q)
}

func (f *fakeAnalytics) TopAssets(_ context.Context, q analytics.Query, _ analytics.Options) ([]analytics.AssetRisk, error) {
	var out []analytics.AssetRisk
	for _, d := range dataset {
		if visible(d, q.Scope, q.Teams, nil, nil) && !slices.ContainsFunc(out, func(a analytics.AssetRisk) bool { return a.AssetID == d.asset }) {
			out = append(out, analytics.AssetRisk{AssetID: d.asset, Name: d.asset, Team: d.team, Score: 50})
		}
	}
	return out, f.record(q)
}

func (f *fakeAnalytics) Exploitability(_ context.Context, q analytics.Query, _ analytics.Options) (analytics.Exploitability, error) {
	return analytics.Exploitability{OpenKEV: 1, OpenKEVBySev: f.bySeverity(q)}, f.record(q)
}

func (f *fakeAnalytics) Coverage(_ context.Context, q analytics.Query, _ analytics.Options) (analytics.Coverage, error) {
	return analytics.Coverage{}, f.record(q)
}

func (f *fakeAnalytics) Position(context.Context) (int64, error) { return 0, nil }

// fakeFindings is the findings read model over dataset (or over many generated findings), in
// pages as the real one serves them.
type fakeFindings struct {
	extra int // further generated findings of team red, severity low
}

func (f *fakeFindings) Findings(_ context.Context, q vulns.FindingQuery) (readkit.Page[vulns.Finding], error) {
	var all []vulns.Finding
	var formats []string
	if q.Format != "" {
		formats = []string{q.Format}
	}
	for _, d := range dataset {
		if visible(d, q.Scope, nil, q.Severity, formats) {
			all = append(all, vulns.Finding{ID: d.id, AssetID: d.asset, AssetName: d.asset, Severity: d.severity, Format: d.format,
				Status: "open", Title: "finding of " + d.team})
		}
	}
	for i := range f.extra {
		if visible(fakeFinding{team: "red", severity: "low", format: "trivy"}, q.Scope, nil, q.Severity, formats) {
			all = append(all, vulns.Finding{ID: fmt.Sprintf("vulns-finding-%036d", i), Severity: "low", Format: "trivy", Status: "open"})
		}
	}
	start := 0
	if q.After != nil {
		fmt.Sscan(q.After.Value, &start)
	}
	end := min(start+q.Limit, len(all))
	page := readkit.Page[vulns.Finding]{Items: all[start:end]}
	if end < len(all) {
		page.Next = &readkit.Key{Value: fmt.Sprint(end)}
	}
	return page, nil
}

// textRenderer writes a document as lines of text, enough for a test to read its figures and
// rows back.
type textRenderer struct{ format render.Format }

func (r textRenderer) Format() render.Format { return r.format }

func (r textRenderer) Render(w io.Writer, d *render.Document) error {
	fmt.Fprintf(w, "title: %s\nsubtitle: %s\nby: %s\n", d.Title, d.Subtitle, d.GeneratedBy)
	for _, s := range d.Sections {
		fmt.Fprintf(w, "section: %s\n", s.ID)
		if s.Text != "" {
			fmt.Fprintf(w, "text: %s\n", s.Text)
		}
		for _, f := range s.Figures {
			fmt.Fprintf(w, "figure: %s=%g\n", f.Label, f.Value)
		}
		if s.Chart != nil {
			for _, ser := range s.Chart.Series {
				if len(ser.Values) != len(s.Chart.X) {
					return fmt.Errorf("series %s has %d values for %d labels", ser.Name, len(ser.Values), len(s.Chart.X))
				}
			}
		}
		if s.Table != nil {
			for _, row := range s.Table.Rows {
				if len(row) != len(s.Table.Columns) {
					return fmt.Errorf("a row of %d cells for %d columns", len(row), len(s.Table.Columns))
				}
				fmt.Fprintf(w, "row: %v\n", row)
			}
		}
	}
	return nil
}

var (
	admin = access.Principal{Kind: access.KindUser, ID: "admin", Perms: access.Permissions()}
	red   = access.Principal{Kind: access.KindUser, ID: "rita", Teams: []string{"red"}, Perms: mustRole(access.RoleRemediator)}
	blue  = access.Principal{Kind: access.KindUser, ID: "bob", Teams: []string{"blue"}, Perms: mustRole(access.RoleRemediator)}
)

func mustRole(name string) []access.Permission {
	p, ok := access.RolePermissions(name)
	if !ok {
		panic(name)
	}
	return p
}

// harness is a reporting service over a real SQLite store, mounted on an HTTP server whose
// requests act as the principal named by the X-As header.
type harness struct {
	t         *testing.T
	store     *events.Guarded
	dir       string
	analytics *fakeAnalytics
	findings  *fakeFindings
	renderers []render.Renderer
	svc       *reporting.Service
	srv       *httptest.Server
	stop      func()
	// configure, when set, changes each node's Config (a clock, a notifier) before it starts.
	configure func(*reporting.Config)
}

func newHarness(t *testing.T, an *fakeAnalytics) *harness {
	t.Helper()
	return newHarnessRendering(t, an, textRenderer{render.PDF}, textRenderer{render.CSV})
}

// newHarnessRendering is newHarness with these renderers.
func newHarnessRendering(t *testing.T, an *fakeAnalytics, rs ...render.Renderer) *harness {
	t.Helper()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	h := &harness{t: t, store: store, dir: t.TempDir(), analytics: an, findings: &fakeFindings{}, renderers: rs}
	h.start()
	return h
}

// start starts a service (a node) over the harness's store and data directory.
func (h *harness) start() {
	h.t.Helper()
	cfg := reporting.Config{Store: h.store, Analytics: h.analytics, Findings: h.findings,
		Renderers: h.renderers, Dir: h.dir, Workers: 2}
	if h.configure != nil {
		h.configure(&cfg)
	}
	svc, err := reporting.NewService(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := reporting.Register(mux, svc, nil); err != nil {
		h.t.Fatal(err)
	}
	as := map[string]access.Principal{"admin": admin, "rita": red, "bob": blue}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := as[r.Header.Get("X-As")]; ok {
			r = r.WithContext(access.With(r.Context(), p))
		}
		mux.ServeHTTP(w, r)
	}))
	h.svc, h.srv = svc, srv
	h.stop = func() {
		srv.Close()
		cancel()
		svc.Wait()
	}
	h.t.Cleanup(h.stop)
}

// restart stops the node and starts another over the same store and directory.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
}

func (h *harness) do(as, method, path string, body any, hdr ...string) answer {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("X-As", as)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	// Every answer is what the OpenAPI document says it is; a document's bytes (PDF, a workbook,
	// CSV) are not for the validator, which would parse them.
	document := strings.HasSuffix(req.URL.Path, "/file") && (res.StatusCode == http.StatusOK || res.StatusCode == http.StatusPartialContent)
	if err := openapi.Validate(method, req.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), b); err != nil && !document {
		h.t.Errorf("%s %s: %v", method, path, err)
	}
	return answer{res.StatusCode, res.Header, b}
}

// requestReport posts a report request and returns its id.
func (h *harness) requestReport(as string, body map[string]any) string {
	h.t.Helper()
	a := h.do(as, "POST", "/v1/reports", body)
	if a.status != http.StatusAccepted {
		h.t.Fatalf("POST /v1/reports: %d %s", a.status, a.body)
	}
	var acc struct{ ID, Status, Location string }
	a.json(h.t, &acc)
	if acc.Status != reporting.StatusPending || a.header.Get("Location") != "/v1/reports/"+acc.ID {
		h.t.Fatalf("202 answer %s, Location %q", a.body, a.header.Get("Location"))
	}
	return acc.ID
}

// await polls the report until it is finished (generated or failed), as a client does.
func (h *harness) await(as, id string) reporting.Report {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a bound on a hang, not a timing assertion
	for {
		var r reporting.Report
		a := h.do(as, "GET", "/v1/reports/"+id, nil)
		if a.status != http.StatusOK {
			h.t.Fatalf("GET report: %d %s", a.status, a.body)
		}
		a.json(h.t, &r)
		if r.Status == reporting.StatusGenerated || r.Status == reporting.StatusFailed {
			return r
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("report %s still %s", id, r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streamEvents returns the types and data of a stream's events.
func (h *harness) streamEvents(id string) []events.Envelope {
	h.t.Helper()
	evs, err := h.store.ReadStream(context.Background(), id, events.ReadStreamOptions{})
	if err != nil && !errors.Is(err, events.ErrStreamNotFound) {
		h.t.Fatal(err)
	}
	return evs
}

func types(evs []events.Envelope) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// file downloads a generated report's file.
func (h *harness) file(as, id string) answer {
	h.t.Helper()
	return h.do(as, "GET", "/v1/reports/"+id+"/file", nil)
}

func lines(b []byte, prefix string) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, strings.TrimPrefix(l, prefix))
		}
	}
	return out
}

func reportPath(dir, id, ext string) string { return filepath.Join(dir, "reports", id+"."+ext) }
