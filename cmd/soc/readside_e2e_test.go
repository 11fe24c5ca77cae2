package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	"github.com/socplatform/soc/query-api/openapi"
)

// apiClient talks to a node and checks every response it gets against the OpenAPI document, so
// the document cannot drift from what the server really answers.
type apiClient struct {
	t    *testing.T
	base string
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (c apiClient) do(method, path, body string, header ...string) apiResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	u, _ := url.Parse(path)
	if err := openapi.Validate(method, u.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b); err != nil {
		c.t.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", method, path, resp.StatusCode, err, b)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c apiClient) get(path string, header ...string) apiResponse {
	c.t.Helper()
	return c.do(http.MethodGet, path, "", header...)
}

// eventually polls f until it returns true (a projection catching up), failing after a minute.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); !f(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProgress waits until f reports done, for as long as what f measures keeps moving: it
// fails only when the progress value has not changed for two minutes (a loaded 2-core machine
// may be slow, but a stuck one makes no progress at all).
func waitProgress(t *testing.T, what string, f func() (done bool, progress int64)) {
	t.Helper()
	last, since := int64(-1), time.Now()
	for {
		done, p := f()
		if done {
			return
		}
		if p != last {
			last, since = p, time.Now()
		} else if time.Since(since) > 2*time.Minute {
			t.Fatalf("timed out waiting for %s: no progress for two minutes (at %d)", what, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type findingJSON struct {
	ID       string `json:"id"`
	AssetID  string `json:"asset_id"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Owner    string `json:"owner"`
	Version  int64  `json:"version"`
}

type findingsPage struct {
	Items      []findingJSON `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// readSideFlow is the read side's acceptance test on one backend: import a report, query it,
// change a finding through a command and see the change at once with min_position and on a
// WebSocket, audit it, and read the finding as it was before.
func readSideFlow(t *testing.T, env []string, args []string) {
	report := filepath.Join(sharedTestdata(t), "trivy", "trivy_image_juice-shop-v12.10.2.json")
	// The read side only: the sagas would record SLA breaches of this 2021 report's findings
	// while the test compares responses (their ETags) over time.
	targets := "SOC_TARGET=commands,projections,query"
	if slices.ContainsFunc(env, func(v string) bool { return strings.HasPrefix(v, "SOC_KAFKA_BROKERS=") }) {
		targets += ",relay"
	}
	n := startNode(t, append(env, targets), args...)
	c := apiClient{t: t, base: "http://" + n.addr}

	// A WebSocket subscriber of the findings the import opens, connected before it.
	opened := dialLive(t, n.addr, c.base, "types=FindingOpened&projections=findings")

	importInto(t, n, env, report)
	var all []findingJSON
	eventually(t, "the 185 findings of the import in the read model", func() bool {
		all = all[:0]
		cursor := ""
		for {
			r := c.get("/v1/findings?limit=100&sort=id" + cursor)
			if r.status != 200 {
				t.Fatalf("GET /v1/findings: %d %s", r.status, r.body)
			}
			var p findingsPage
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			all = append(all, p.Items...)
			if p.NextCursor == "" {
				break
			}
			cursor = "&cursor=" + url.QueryEscape(p.NextCursor)
		}
		return len(all) == 185
	})
	seen := map[string]bool{}
	for _, f := range all {
		if seen[f.ID] {
			t.Fatalf("pagination returned finding %s twice", f.ID)
		}
		seen[f.ID] = true
	}
	// The subscriber received every one of them, once (it was not reading during the import).
	for id := range readOpened(t, opened, len(all)) {
		if !seen[id] {
			t.Fatalf("WebSocket: FindingOpened of %s, not a finding of the import", id)
		}
	}

	// A filtered list holds exactly the findings the full list has with that severity.
	wantCritical := 0
	for _, f := range all {
		if f.Severity == "critical" {
			wantCritical++
		}
	}
	r := c.get("/v1/findings?severity=critical&status=open&limit=1000")
	var crit findingsPage
	_ = json.Unmarshal(r.body, &crit)
	if r.status != 200 || len(crit.Items) != wantCritical || wantCritical == 0 {
		t.Fatalf("critical open findings: %d, %d items, want %d", r.status, len(crit.Items), wantCritical)
	}
	// ETags: the same list again is 304 with If-None-Match.
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("list response has no ETag")
	}
	if r2 := c.get("/v1/findings?severity=critical&status=open&limit=1000", "If-None-Match", etag); r2.status != http.StatusNotModified {
		t.Fatalf("If-None-Match with the current ETag: %d, want 304", r2.status)
	}
	// Bad input names the parameter.
	if r := c.get("/v1/findings?severty=critical"); r.status != 400 || !strings.Contains(string(r.body), "severty") {
		t.Fatalf("unknown filter: %d %s", r.status, r.body)
	}
	if r := c.get("/v1/findings?limit=1000000"); r.status != 400 || !strings.Contains(string(r.body), "limit") {
		t.Fatalf("huge limit: %d %s", r.status, r.body)
	}
	if r := c.get("/v1/findings?cursor=not-a-cursor"); r.status != 400 || !strings.Contains(string(r.body), "cursor") {
		t.Fatalf("malformed cursor: %d %s", r.status, r.body)
	}

	// The asset of the report, with its open findings counted by severity and an explained risk.
	// Each projection consumes at its own pace (with Kafka: its own topics), so the assets model
	// may trail the findings model by a moment: wait for it rather than read once.
	var assets struct {
		Items []struct {
			ID           string           `json:"id"`
			OpenFindings map[string]int64 `json:"open_findings"`
			Risk         struct {
				Score      float64 `json:"score"`
				Components []any   `json:"components"`
			} `json:"risk"`
		} `json:"items"`
	}
	var open int64
	eventually(t, "the asset with its 185 open findings in the read model", func() bool {
		r = c.get("/v1/assets?limit=10")
		assets.Items = nil
		if err := json.Unmarshal(r.body, &assets); err != nil || r.status != 200 || len(assets.Items) > 1 {
			t.Fatalf("GET /v1/assets: %d %s", r.status, r.body)
		}
		if len(assets.Items) == 0 {
			return false
		}
		open = 0
		for _, v := range assets.Items[0].OpenFindings {
			open += v
		}
		return open == 185
	})
	if open != 185 || assets.Items[0].Risk.Score <= 0 || len(assets.Items[0].Risk.Components) == 0 {
		t.Fatalf("asset: %d open findings (want 185), risk %+v", open, assets.Items[0].Risk)
	}
	if r := c.get("/v1/assets/" + assets.Items[0].ID); r.status != 200 {
		t.Fatalf("GET /v1/assets/{id}: %d %s", r.status, r.body)
	}

	// A WebSocket subscriber of triage events.
	ws := dialLive(t, n.addr, c.base, "")
	if err := ws.WriteJSON(map[string]any{"type": "subscribe", "filter": map[string]any{"types": []string{"FindingTriaged"}}}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ack map[string]any
	if err := ws.ReadJSON(&ack); err != nil || ack["type"] != "subscribed" {
		t.Fatalf("subscribe: %v %v", err, ack)
	}

	// Change a finding through a command; read it back at once with min_position.
	target := crit.Items[0]
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond) // as_of below must fall strictly before the triage's recorded_at
	w := c.do(http.MethodPost, "/v1/findings/"+target.ID+"/triage", `{"note":"confirmed on the image"}`)
	if w.status != 200 {
		t.Fatalf("triage: %d %s", w.status, w.body)
	}
	pos := int64(w.json(t)["global_position"].(float64))
	r = c.get(fmt.Sprintf("/v1/findings/%s?min_position=%d", target.ID, pos))
	var got findingJSON
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Status != "triaged" {
		t.Fatalf("read-your-writes: %d %s, want status triaged", r.status, r.body)
	}
	// The subscriber receives the change.
	for {
		var msg liveMessage
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("WebSocket: no FindingTriaged for %s: %v", target.ID, err)
		}
		if msg.Type == "event" && msg.Event.StreamID == target.ID {
			if msg.Event.Type != "FindingTriaged" || msg.Severity != "critical" {
				t.Fatalf("WebSocket message: %+v", msg)
			}
			break
		}
	}

	// Audit: the stream's events and the store-wide trail.
	r = c.get("/v1/streams/" + target.ID + "/events")
	if r.status != 200 || !strings.Contains(string(r.body), `"FindingOpened"`) || !strings.Contains(string(r.body), `"FindingTriaged"`) {
		t.Fatalf("stream events: %d %s", r.status, r.body)
	}
	r = c.get("/v1/events?type=FindingTriaged&from=" + url.QueryEscape(before.Format(time.RFC3339Nano)))
	if r.status != 200 || !strings.Contains(string(r.body), target.ID) {
		t.Fatalf("audit trail: %d %s", r.status, r.body)
	}
	// Point in time: before the triage the finding was open.
	r = c.get("/v1/findings/" + target.ID + "?as_of=" + url.QueryEscape(before.Format(time.RFC3339Nano)))
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Status != "open" {
		t.Fatalf("as_of before the triage: %d %s, want status open", r.status, r.body)
	}
	if r := c.get("/v1/findings/" + target.ID + "?as_of=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))); r.status != 400 || !strings.Contains(string(r.body), "as_of") {
		t.Fatalf("as_of in the future: %d %s", r.status, r.body)
	}
	// Scans and the CVE catalogue.
	r = c.get("/v1/scans")
	if r.status != 200 || !strings.Contains(string(r.body), `"completed"`) {
		t.Fatalf("GET /v1/scans: %d %s", r.status, r.body)
	}
	if r := c.get("/v1/cves/CVE-1999-0001"); r.status != 404 {
		t.Fatalf("unknown CVE: %d %s", r.status, r.body)
	}
	// The import's scan carries the job summary's accounting (ScanImportCompleted v2).
	if r := c.get("/v1/scans"); !strings.Contains(string(r.body), `"parsed":`) || !strings.Contains(string(r.body), `"stored":185`) {
		t.Fatalf("scan outcome without the import's counts: %s", r.body)
	}

	// A merge through the command endpoint: the report's asset goes into a new one, and its
	// findings follow on the read side.
	source := assets.Items[0].ID
	r = c.do(http.MethodPost, "/v1/assets", `{"kind":"host","name":"juice-shop","identifiers":{"hostnames":["juice-shop.example.com"]}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("registering the merge target: %d %s", r.status, r.body)
	}
	mergeTarget, _ := r.json(t)["stream_id"].(string)
	if r = c.do(http.MethodPost, "/v1/assets/"+source+"/merge", fmt.Sprintf(`{"target_asset_id":%q,"reason":"same image"}`, mergeTarget)); r.status != 200 {
		t.Fatalf("merge: %d %s", r.status, r.body)
	}
	eventually(t, "the source's findings under the merge target", func() bool {
		var p findingsPage
		r := c.get("/v1/findings?limit=1000&asset_id=" + mergeTarget)
		return json.Unmarshal(r.body, &p) == nil && r.status == 200 && len(p.Items) == 185
	})
	eventually(t, "the source shown merged into the target", func() bool {
		m := c.get("/v1/assets/" + source).json(t)
		return m["status"] == "merged" && m["merged_into"] == mergeTarget
	})
	if r := c.get("/openapi.json"); r.status != 200 || !strings.Contains(string(r.body), `"openapi"`) {
		t.Fatalf("/openapi.json: %d", r.status)
	}

	// Live updates under load: a subscriber reading as fast as it can while an import of
	// several projection batches is applied stays connected and receives every event (the old
	// hub pushed a 1,000-event batch into a 256-message buffer and dropped such readers).
	const loadFindings = 3000
	load := dialLive(t, n.addr, c.base, "types=FindingOpened&projections=findings")
	readErr := make(chan error, 1)
	go func() { _, err := collectOpened(load, loadFindings); readErr <- err }()
	importInto(t, n, env, trivytest.WriteFile(t, loadFindings, "registry.example/ws-load:1", trivytest.Options{}))
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	n.stop(t)
}

// liveMessage is what the tests read of a /ws message.
type liveMessage struct {
	Type  string `json:"type"`
	Event struct {
		Type     string `json:"type"`
		StreamID string `json:"stream_id"`
	} `json:"event"`
	Severity string `json:"severity"`
}

// dialLive subscribes to the node's /ws with the filter of query; the connection is closed
// when the test ends.
func dialLive(t *testing.T, addr, origin, query string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws?"+query, testHeader(addr, http.Header{"Origin": {origin}}))
	if err != nil {
		t.Fatalf("dialing /ws?%s: %v", query, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readOpened reads FindingOpened events of want distinct findings from live and returns their
// stream ids; any other message, or a finding's second, fails the test.
func readOpened(t *testing.T, live *websocket.Conn, want int) map[string]bool {
	t.Helper()
	got, err := collectOpened(live, want)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// collectOpened is readOpened for a goroutine: it reports instead of failing the test. It waits
// on progress: each message may take up to two minutes (a loaded 2-core machine), the whole
// read as long as messages keep coming.
func collectOpened(live *websocket.Conn, want int) (map[string]bool, error) {
	got := map[string]bool{}
	for len(got) < want {
		_ = live.SetReadDeadline(time.Now().Add(2 * time.Minute))
		var msg liveMessage
		if err := live.ReadJSON(&msg); err != nil {
			return got, fmt.Errorf("WebSocket: %d of the %d FindingOpened events: %v", len(got), want, err)
		}
		if msg.Type != "event" || msg.Event.Type != "FindingOpened" || got[msg.Event.StreamID] {
			return got, fmt.Errorf("WebSocket: %+v after %d events, want each new finding's FindingOpened once", msg, len(got))
		}
		got[msg.Event.StreamID] = true
	}
	return got, nil
}

func TestReadSideEmbedded(t *testing.T) {
	data := t.TempDir()
	readSideFlow(t, []string{"SOC_DATA_DIR=" + data}, nil)
}

func TestReadSidePostgresAndKafka(t *testing.T) {
	readSideFlow(t, postgresKafkaEnv(t, "e2e"), nil)
}
