package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/analytics/clickhouse/chtest"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/xuri/excelize/v2"
)

// The analytics acceptance test (issue 16, first "Done when"): real reports imported through
// `soc import`, findings worked through their lifecycle (triage, risk acceptance, false
// positive, resolution by reimporting a reduced report, SLA breaches recorded by the deadline
// saga for due dates in the past), then every analytics endpoint checked against numbers this
// test computes itself from the events it reads back with `soc events tail` — a small fold of
// its own, not the analytics model's. Both backends are held to the same independent numbers.

// expectedFinding is the test's own fold of one finding.
type expectedFinding struct {
	asset, severity, status, format string
	dueAt                           time.Time
	openedAt, firstSeen, triagedAt  time.Time
	epss                            *float64
}

// expected are the numbers the analytics must answer, from the events alone.
type expected struct {
	findings                              map[string]*expectedFinding
	discovered, reopened, resolved, gone  int64
	remediate, triage                     []int64 // seconds
	breaches, scansCompleted, scansFailed int64
	resolvedWithDue, withinSLA            int64
	kevEvents                             int
	scannedAssets                         map[string]map[string]bool // format → assets seen
	head                                  int64
}

var openStatuses = []string{"open", "reopened", "triaged", "in_remediation"}

// statusAfter is the lifecycle as the event catalogue documents it (schemas/events/vulns).
var statusAfter = map[string]string{
	"FindingOpened": "open", "FindingTriaged": "triaged", "FindingRemediationStarted": "in_remediation",
	"FindingResolved": "resolved", "FindingClosed": "closed", "FindingReopened": "reopened",
	"FindingMarkedFalsePositive": "false_positive", "FindingMarkedDuplicate": "duplicate", "FindingRiskAccepted": "risk_accepted",
}

// foldExpected computes the expected answers from the log.
func foldExpected(t *testing.T, evs []tailed) expected {
	t.Helper()
	x := expected{findings: map[string]*expectedFinding{}, scannedAssets: map[string]map[string]bool{}}
	for _, e := range evs {
		x.head = max(x.head, e.GlobalPosition)
		var d struct {
			AssetID    string    `json:"asset_id"`
			Severity   string    `json:"severity"`
			Format     string    `json:"format"`
			SeenAt     time.Time `json:"seen_at"`
			ResolvedAt time.Time `json:"resolved_at"`
			ClosedAt   time.Time `json:"closed_at"`
			BreachedAt time.Time `json:"breached_at"`
			DueAt      time.Time `json:"due_at"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("event %s: %v", e.Type, err)
		}
		// The instant an event counts at: its business time, else when it happened.
		at := e.OccurredAt
		if at.IsZero() {
			at = e.RecordedAt
		}
		for _, bt := range []time.Time{d.SeenAt, d.ResolvedAt, d.ClosedAt, d.BreachedAt} {
			if !bt.IsZero() && e.Type != "FindingDueDateSet" {
				at = bt
			}
		}
		switch e.Type {
		case "ScanImportCompleted":
			x.scansCompleted++
			continue
		case "ScanImportFailed":
			x.scansFailed++
			continue
		case "CVEListedInKEV":
			x.kevEvents++
			continue
		}
		f := x.findings[e.StreamID]
		if e.Type == "FindingOpened" {
			f = &expectedFinding{asset: d.AssetID, severity: d.Severity, status: "open", format: d.Format, openedAt: at, firstSeen: at}
			x.findings[e.StreamID] = f
			x.discovered++
			x.scan(f)
			continue
		}
		if f == nil {
			continue
		}
		wasOpen := slices.Contains(openStatuses, f.status)
		switch e.Type {
		case "FindingSeen":
			if d.Severity != "" {
				f.severity = d.Severity
			}
			x.scan(f)
		case "FindingDueDateSet":
			f.dueAt = d.DueAt
		case "SLABreached":
			x.breaches++
		}
		next, ok := statusAfter[e.Type]
		if !ok {
			continue
		}
		if e.Type == "FindingTriaged" && f.triagedAt.IsZero() {
			f.triagedAt = at
			if ms := at.Sub(f.firstSeen).Milliseconds(); ms > 0 {
				x.triage = append(x.triage, ms/1000)
			}
		}
		isOpen := slices.Contains(openStatuses, next)
		switch {
		case !wasOpen && isOpen:
			if e.Type == "FindingReopened" {
				x.reopened++
				f.openedAt = at
			}
		case wasOpen && !isOpen && (next == "resolved" || next == "closed"):
			x.resolved++
			x.remediate = append(x.remediate, at.Sub(f.openedAt).Milliseconds()/1000)
			if !f.dueAt.IsZero() {
				x.resolvedWithDue++
				if !at.After(f.dueAt) {
					x.withinSLA++
				}
			}
		case wasOpen && !isOpen:
			x.gone++
		}
		f.status = next
	}
	return x
}

func (x *expected) scan(f *expectedFinding) {
	if x.scannedAssets[f.format] == nil {
		x.scannedAssets[f.format] = map[string]bool{}
	}
	x.scannedAssets[f.format][f.asset] = true
}

// open counts the open findings by severity.
func (x *expected) open() (int64, map[string]int64) {
	by := map[string]int64{"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
	var n int64
	for _, f := range x.findings {
		if slices.Contains(openStatuses, f.status) {
			by[f.severity]++
			n++
		}
	}
	return n, by
}

// durations is the nearest-rank summary of secs (analytics.Durations' meaning).
func durations(secs []int64) (count int64, mean float64, p50, p90 int64) {
	if len(secs) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(secs)
	slices.Sort(s)
	var sum int64
	for _, v := range s {
		sum += v
	}
	rank := func(p float64) int64 { return s[int(math.Ceil(p*float64(len(s))))-1] }
	return int64(len(s)), float64(sum) / float64(len(s)), rank(0.5), rank(0.9)
}

// readEvents is the whole log as `soc events tail` prints it.
func readEvents(t *testing.T, env []string) []tailed {
	t.Helper()
	evs, _ := tail(t, env)
	return evs
}

// reducedReport writes the Trivy report with its Node.js findings cut to the first keep.
func reducedReport(t *testing.T, src string, keep int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	// A later scan: the report says when it was made.
	r["CreatedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	for _, res := range r["Results"].([]any) {
		m := res.(map[string]any)
		if vs, ok := m["Vulnerabilities"].([]any); ok && len(vs) > keep {
			m["Vulnerabilities"] = vs[:keep]
		}
	}
	out, _ := json.Marshal(r)
	p := filepath.Join(t.TempDir(), "trivy-reduced.json")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// analyticsFlow runs the scenario on one backend (env) and checks every endpoint.
func analyticsFlow(t *testing.T, env []string) {
	targets := "SOC_TARGET=commands,projections,query,sagas"
	if slices.ContainsFunc(env, func(v string) bool { return strings.HasPrefix(v, "SOC_KAFKA_BROKERS=") }) {
		targets += ",relay"
	}
	n := startNode(t, append(env, targets))
	server := "http://" + n.addr
	c := apiClient{t: t, base: server}
	testdata := sharedTestdata(t)
	trivy := filepath.Join(testdata, "trivy", "trivy_image_juice-shop-v12.10.2.json")
	grype := filepath.Join(testdata, "grype", "grype_busybox_epss_15matches.json")
	importInto(t, n, env, trivy)
	importInto(t, n, env, grype)

	// Work findings through their lifecycle.
	x := foldExpected(t, readEvents(t, env))
	var open []string
	for id, f := range x.findings {
		if f.status == "open" {
			open = append(open, id)
		}
	}
	sort.Strings(open)
	if len(open) < 20 {
		t.Fatalf("only %d open findings after the imports", len(open))
	}
	post := func(id, action, body string) {
		t.Helper()
		if r := c.do("POST", "/v1/findings/"+id+"/"+action, body); r.status != 200 {
			t.Fatalf("%s %s: %d %s", action, id, r.status, r.body)
		}
	}
	for _, id := range open[:8] {
		post(id, "triage", `{}`)
	}
	expires := time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for _, id := range open[8:10] {
		post(id, "accept-risk", `{"approver":"ciso@example.com","justification":"compensating control","expires_at":"`+expires+`"}`)
	}
	post(open[10], "false-positive", `{"justification":"not reachable"}`)
	// A deadline in the past: the deadline saga records the breach (the controlled clock is the
	// due date); one due in three days is in the SLA forecast.
	post(open[11], "due-date", `{"due_at":"`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`","reason":"e2e"}`)
	post(open[12], "due-date", `{"due_at":"`+time.Now().Add(72*time.Hour).UTC().Format(time.RFC3339)+`","reason":"e2e"}`)
	// Resolve by reimport: a later scan of the same image without 61 of its Node.js findings.
	importInto(t, n, env, reducedReport(t, trivy, 100), "--format", "trivy")
	// An import failure (coverage counts them).
	junk := filepath.Join(t.TempDir(), "junk.json")
	if err := os.WriteFile(junk, []byte(`{"not":"a report"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, code := socCmd(t, env, "import", junk, "--server", server); code == 0 {
		t.Fatal("importing a file that is no report succeeded")
	}

	// The sagas breach asynchronously: wait until every open finding past its due date has its
	// breach in the log, then take the log as the truth.
	var evs []tailed
	eventually(t, "the SLA breaches of the overdue open findings", func() bool {
		evs = readEvents(t, env)
		breached := map[string]time.Time{}
		for _, e := range evs {
			if e.Type == "SLABreached" {
				var d struct {
					DueAt time.Time `json:"due_at"`
				}
				_ = json.Unmarshal(e.Data, &d)
				breached[e.StreamID] = d.DueAt
			}
		}
		x = foldExpected(t, evs)
		for id, f := range x.findings {
			if slices.Contains(openStatuses, f.status) && !f.dueAt.IsZero() && f.dueAt.Before(time.Now()) && !breached[id].Equal(f.dueAt) {
				return false
			}
		}
		return true
	})
	if x.breaches == 0 || x.resolved == 0 || len(x.triage) == 0 || x.gone < 3 {
		t.Fatalf("the scenario did not exercise the lifecycle: %d breaches, %d resolved, %d triaged, %d removed", x.breaches, x.resolved, len(x.triage), x.gone)
	}

	openNow, _ := x.open()
	t.Logf("from the events: %d findings, %d open, %d discovered, %d reopened, %d resolved, %d removed, %d first triages, %d SLA breaches, %d scans (%d failed)",
		len(x.findings), openNow, x.discovered, x.reopened, x.resolved, x.gone, len(x.triage), x.breaches, x.scansCompleted, x.scansFailed)

	// Every answer over all time (the reports date from 2021 on), read once the analytics model
	// has applied the whole log.
	q := url.Values{"from": {"2015-01-01"}, "to": {time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)},
		"bucket": {"month"}, "min_position": {fmt.Sprint(x.head)}, "limit": {"1000"}}
	// pathOf is a view's query: the views without top-N lists take no limit.
	pathOf := func(view string) string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		if view == "flow" || view == "open-findings" || view == "mttr" {
			qq.Del("limit")
		}
		if view == "sla" {
			qq.Set("due_within", "7")
		}
		return "/v1/analytics/" + view + "?" + qq.Encode()
	}
	// answer asks for one view, keeps its result for the workbook check (results) and decodes it
	// into dst; it returns the answer's now.
	results := map[string]json.RawMessage{}
	answer := func(view string, dst any) time.Time {
		t.Helper()
		r := c.get(pathOf(view))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", view, r.status, r.body)
		}
		var a struct {
			Now    time.Time       `json:"now"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
		results[view] = a.Result
		_ = json.Unmarshal(a.Result, dst)
		return a.Now
	}
	// Read-your-writes: the model may trail the log by more than one bounded wait (ClickHouse
	// behind Kafka); a 503 position-not-reached is retried as a client would.
	var last apiResponse
	waitProgress(t, "the analytics model to reach the log's head", func() (bool, int64) {
		last = c.get("/v1/analytics/flow?min_position=" + fmt.Sprint(x.head))
		var pos int64
		fmt.Sscan(last.header.Get("Soc-Read-Position"), &pos)
		return last.status == 200, pos
	})
	// The model is eventually consistent: on Kafka its position (the highest it applied) may
	// pass events of another topic still on their way, so the answers are checked until they
	// agree with the events (at once on the embedded log, where the position is exact).
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	verify := func() {
		problems = nil
		check := func(what string, got, want any) {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				fail("%s: analytics answer %v, the events say %v", what, got, want)
			}
		}

		// open-findings: the last bucket ends after now, so it holds every finding open now.
		var points []struct {
			Total      int64            `json:"total"`
			BySeverity map[string]int64 `json:"by_severity"`
		}
		answer("open-findings", &points)
		openN, openBy := x.open()
		check("open findings now", points[len(points)-1].Total, openN)
		check("open findings by severity", points[len(points)-1].BySeverity, openBy)

		// flow: the buckets' sums are the lifecycle's transitions.
		var flow []struct{ Discovered, Reopened, Resolved, Removed, Net int64 }
		answer("flow", &flow)
		var fd, fr, fres, frem, net int64
		for _, p := range flow {
			fd, fr, fres, frem, net = fd+p.Discovered, fr+p.Reopened, fres+p.Resolved, frem+p.Removed, net+p.Net
		}
		check("discovered", fd, x.discovered)
		check("reopened", fr, x.reopened)
		check("resolved", fres, x.resolved)
		check("removed", frem, x.gone)
		check("net", net, openN)

		// mttr: nearest-rank percentiles and the mean of the durations the events give.
		type durationStats struct {
			Count int64   `json:"count"`
			Mean  float64 `json:"mean_seconds"`
			P50   int64   `json:"p50_seconds"`
			P90   int64   `json:"p90_seconds"`
		}
		var mttr struct{ Remediate, Triage durationStats }
		answer("mttr", &mttr)
		for name, g := range map[string]durationStats{"remediate": mttr.Remediate, "triage": mttr.Triage} {
			secs := x.remediate
			if name == "triage" {
				secs = x.triage
			}
			n, mean, p50, p90 := durations(secs)
			check(name+" count", g.Count, n)
			check(name+" p50", g.P50, p50)
			check(name+" p90", g.P90, p90)
			if math.Abs(g.Mean-mean) > 1e-6*math.Max(1, mean) {
				fail("%s mean: analytics %v, the events say %v", name, g.Mean, mean)
			}
		}

		// sla: breaches, compliance, overdue and due soon at the answer's now.
		var slaAns struct {
			Periods []struct {
				Resolved  int64 `json:"resolved_with_due_date"`
				WithinSLA int64 `json:"within_sla"`
				Breaches  int64 `json:"breaches"`
			} `json:"periods"`
			Overdue int64 `json:"overdue"`
			DueSoon int64 `json:"due_soon"`
		}
		now := answer("sla", &slaAns)
		var br, rd, within int64
		for _, p := range slaAns.Periods {
			br, rd, within = br+p.Breaches, rd+p.Resolved, within+p.WithinSLA
		}
		var overdue, dueSoon int64
		for _, f := range x.findings {
			if slices.Contains(openStatuses, f.status) && !f.dueAt.IsZero() {
				if f.dueAt.Before(now) {
					overdue++
				} else if !f.dueAt.After(now.Add(7 * 24 * time.Hour)) {
					dueSoon++
				}
			}
		}
		check("SLA breaches", br, x.breaches)
		check("resolved with a due date", rd, x.resolvedWithDue)
		check("resolved within the SLA", within, x.withinSLA)
		check("overdue now", slaAns.Overdue, overdue)
		check("due within 7 days", slaAns.DueSoon, dueSoon)

		// top-assets and risk: every open finding is on a listed asset.
		var top []struct {
			AssetID string  `json:"asset_id"`
			Open    int64   `json:"open_findings"`
			Score   float64 `json:"score"`
		}
		answer("top-assets", &top)
		perAsset := map[string]int64{}
		for _, f := range x.findings {
			if slices.Contains(openStatuses, f.status) {
				perAsset[f.asset]++
			}
		}
		for _, a := range top {
			check("open findings of "+a.AssetID, a.Open, perAsset[a.AssetID])
			delete(perAsset, a.AssetID)
		}
		if len(perAsset) > 0 {
			fail("assets with open findings missing from top-assets: %v", perAsset)
		}
		var risk struct {
			TopAssets []struct {
				AssetID string  `json:"asset_id"`
				Score   float64 `json:"score"`
			} `json:"top_assets"`
		}
		answer("risk", &risk)
		check("risk's top assets", len(risk.TopAssets), len(top))

		// exploitability: the EPSS distribution covers every open finding.
		var ex struct {
			OpenKEV int64 `json:"open_kev"`
			EPSS    []struct {
				Count int64 `json:"count"`
			} `json:"epss"`
			NoEPSS int64 `json:"no_epss"`
		}
		answer("exploitability", &ex)
		epssTotal := ex.NoEPSS
		for _, b := range ex.EPSS {
			epssTotal += b.Count
		}
		check("open findings in the EPSS distribution", epssTotal, openN)
		if x.kevEvents == 0 {
			check("open KEV findings without a KEV catalogue", ex.OpenKEV, 0)
		}

		// coverage: the scans imported and the assets each scanner saw.
		var cov struct {
			Scanners []struct {
				Scanner       string `json:"scanner"`
				AssetsScanned int64  `json:"assets_scanned"`
			} `json:"scanners"`
			Scans []struct{ Completed, Failed int64 } `json:"scans"`
		}
		answer("coverage", &cov)
		var done, failed int64
		for _, s := range cov.Scans {
			done, failed = done+s.Completed, failed+s.Failed
		}
		check("scans completed", done, x.scansCompleted)
		check("scans failed", failed, x.scansFailed)
		got := map[string]int64{}
		for _, s := range cov.Scanners {
			got[s.Scanner] = s.AssetsScanned
		}
		want := map[string]int64{}
		for format, as := range x.scannedAssets {
			want[format] = int64(len(as))
		}
		check("assets scanned per scanner", got, want)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		if verify(); len(problems) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range problems {
		t.Error(p)
	}

	// With ClickHouse, /readyz reports its reachability.
	if slices.ContainsFunc(env, func(v string) bool { return strings.HasPrefix(v, "SOC_CLICKHOUSE_URL=") }) {
		if code, body := get(t, server+"/readyz"); code != 200 || !strings.Contains(body, `"backend":"clickhouse"`) {
			t.Errorf("/readyz with ClickHouse: %d %s", code, body)
		}
	}
	// A bad parameter is a problem naming it.
	if r := c.get("/v1/analytics/flow?severity=urgent"); r.status != 400 || !strings.Contains(string(r.body), `"severity"`) {
		t.Errorf("bad severity: %d %s", r.status, r.body)
	}
	// The CLI prints the same answer.
	out, errOut, code := socCmd(t, env, "analytics", "flow", "--from", "2015-01-01", "--json", "--server", server)
	if code != 0 || !strings.Contains(out, `"discovered"`) {
		t.Errorf("soc analytics flow --json: exit %d %s %s", code, out, errOut)
	}
	if out, errOut, code := socCmd(t, env, "analytics", "open-findings", "--from", "2015-01-01", "--server", server); code != 0 || !strings.Contains(out, "TOTAL") {
		t.Errorf("soc analytics open-findings: exit %d %s %s", code, out, errOut)
	}

	// The model is in soc projections status, whichever its backend.
	if out, errOut, code := socCmd(t, env, "projections", "status"); code != 0 || !strings.Contains(out, "\nanalytics ") {
		t.Errorf("soc projections status: exit %d %s %s", code, out, errOut)
	}
	// The executive workbook holds the API's answers: its Summary's "Open findings" and
	// "Overdue now" figures are the open-findings and sla answers (both at the same instant:
	// nothing changes the model any more).
	checkWorkbook(t, c, results)

	// Rebuilding the model from the log changes no answer.
	if _, errOut, code := socCmd(t, env, "replay", "--projection", "analytics"); code != 0 {
		t.Fatalf("soc replay --projection analytics exited %d: %s", code, errOut)
	}
	for view, before := range results {
		var after json.RawMessage
		eventually(t, view+" after the replay", func() bool {
			r := c.get(pathOf(view))
			var a struct {
				Result json.RawMessage `json:"result"`
			}
			_ = json.Unmarshal(r.body, &a)
			after = a.Result
			return r.status == 200
		})
		if string(after) != string(before) {
			t.Errorf("%s changed across soc replay:\n before %s\n after  %s", view, before, after)
		}
	}
}

// checkWorkbook generates the executive report as XLSX through the API, opens it with excelize
// and compares the Summary sheet's figures with the analytics answers in results.
func checkWorkbook(t *testing.T, c apiClient, results map[string]json.RawMessage) {
	t.Helper()
	r := c.do(http.MethodPost, "/v1/reports", `{"template":"executive","format":"xlsx"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v1/reports: %d %s", r.status, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	eventually(t, "the executive workbook", func() bool {
		st, _ := c.get("/v1/reports/" + id).json(t)["status"].(string)
		if st == "failed" {
			t.Fatalf("the executive workbook failed: %s", c.get("/v1/reports/"+id).body)
		}
		return st == "generated"
	})
	// Not through c.get: the OpenAPI validator decodes JSON bodies, not workbooks.
	resp, err := testClient.Get(c.base + "/v1/reports/" + id + "/file")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the workbook's file: %d %v", resp.StatusCode, err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer book.Close()
	rows, err := book.GetRows(render.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	figure := map[string]string{}
	for _, row := range rows {
		if len(row) >= 3 {
			figure[row[1]] = row[2]
		}
	}
	var open []struct {
		Total int64 `json:"total"`
	}
	var sla struct {
		Overdue int64 `json:"overdue"`
	}
	if json.Unmarshal(results["open-findings"], &open) != nil || len(open) == 0 || json.Unmarshal(results["sla"], &sla) != nil {
		t.Fatalf("answers: %s %s", results["open-findings"], results["sla"])
	}
	if want := strconv.FormatInt(open[len(open)-1].Total, 10); figure["Open findings"] != want {
		t.Errorf("workbook: Open findings %q, the API answers %s (Summary %v)", figure["Open findings"], want, rows)
	}
	if want := strconv.FormatInt(sla.Overdue, 10); figure["Overdue now"] != want {
		t.Errorf("workbook: Overdue now %q, the API answers %s", figure["Overdue now"], want)
	}
}

func TestAnalyticsEmbedded(t *testing.T) {
	analyticsFlow(t, []string{"SOC_DATA_DIR=" + t.TempDir()})
}

func TestAnalyticsClickHousePostgresAndKafka(t *testing.T) {
	analyticsFlow(t, append(postgresKafkaEnv(t, "e2e"), "SOC_DATA_DIR="+t.TempDir(), "SOC_CLICKHOUSE_URL="+chtest.FreshDatabase(t)))
}

// TestAnalyticsClickHouseEmbedded: ClickHouse fed from the embedded store (no Kafka).
func TestAnalyticsClickHouseEmbedded(t *testing.T) {
	analyticsFlow(t, []string{"SOC_DATA_DIR=" + t.TempDir(), "SOC_CLICKHOUSE_URL=" + chtest.FreshDatabase(t)})
}
