package ports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/ports"
	"github.com/socplatform/soc/events"
)

type env struct {
	t     *testing.T
	store *events.Guarded
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := testsupport.SQLiteStore(t)
	mux := http.NewServeMux()
	if err := ports.Register(mux, store, ports.Config{Schemas: testsupport.CommandSchemas(t)}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, srv: srv}
}

// open appends a FindingOpened on a fresh asset and returns the finding's stream id.
func (e *env) open() string {
	e.t.Helper()
	return openFinding(e.t, e.store, events.NewStreamID("assets", "asset"))
}

// openFinding appends a FindingOpened on asset and returns the finding's stream id.
func openFinding(t *testing.T, store *events.Guarded, asset string) string {
	t.Helper()
	id := events.NewStreamID("vulns", "finding")
	data, _ := json.Marshal(map[string]any{
		"asset_id": asset, "scope": "s", "identity_key": "k-" + id, "fingerprint": "fp",
		"scan_id": "scan-1", "format": "trivy", "title": "CVE-2024-0001 in openssl", "severity": "high",
		"seen_at": time.Now().UTC().Format(time.RFC3339),
	})
	if _, err := store.Append(context.Background(), id, events.NoStream, []events.Envelope{{Type: "FindingOpened", Data: data}}); err != nil {
		t.Fatal(err)
	}
	return id
}

type reply = testsupport.Reply

// post sends a JSON command; headers may override its Content-Type.
func (e *env) post(path, body string, headers ...string) reply {
	e.t.Helper()
	return testsupport.Do(e.t, http.MethodPost, e.srv.URL+path, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

func (e *env) types(id string) []string {
	e.t.Helper()
	return testsupport.StreamTypes(e.t, e.store, id)
}

var expectProblem = testsupport.ExpectProblem

func TestEveryCommandHappyPath(t *testing.T) {
	e := newEnv(t)
	id, other := e.open(), e.open()
	future := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	steps := []struct{ cmd, body, event string }{
		{"triage", `{"note":"confirmed"}`, "FindingTriaged"},
		{"start-remediation", `{}`, "FindingRemediationStarted"},
		{"assign", `{"owner":"team-a"}`, "FindingAssigned"},
		{"comment", `{"comment":"patch scheduled"}`, "FindingCommented"},
		{"due-date", `{"due_at":"` + future + `","reason":"agreed"}`, "FindingDueDateSet"},
		{"resolve", `{"reason":"patched","scan_id":"scan-2"}`, "FindingResolved"},
		{"reopen", `{"reason":"still there"}`, "FindingReopened"},
		{"false-positive", `{"justification":"not reachable"}`, "FindingMarkedFalsePositive"},
		{"reopen", `{"reason":"it is reachable"}`, "FindingReopened"},
		{"duplicate", `{"duplicate_of":"` + other + `"}`, "FindingMarkedDuplicate"},
		{"reopen", `{"reason":"not a duplicate"}`, "FindingReopened"},
		{"accept-risk", `{"approver":"ciso","justification":"compensating control","expires_at":"` + future + `"}`, "FindingRiskAccepted"},
	}
	want := []string{"FindingOpened"}
	var lastPos int64
	for i, s := range steps {
		r := e.post("/v1/findings/"+id+"/"+s.cmd, s.body)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %v", s.cmd, r.Status, r.Body)
		}
		if r.Str("stream_id") != id || r.Num("version") != int64(i+2) || r.Num("global_position") <= lastPos {
			t.Fatalf("%s: reply %v", s.cmd, r.Body)
		}
		if et := r.Header.Get("ETag"); et != `"`+itoa(int64(i+2))+`"` {
			t.Errorf("%s: ETag %q", s.cmd, et)
		}
		lastPos = r.Num("global_position")
		want = append(want, s.event)
	}
	if got := e.types(id); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("stream\n got %v\nwant %v", got, want)
	}
	// Assigning the current owner changes nothing: 200 at the current version, nothing appended.
	r := e.post("/v1/findings/"+other+"/assign", `{"owner":"x"}`)
	r2 := e.post("/v1/findings/"+other+"/assign", `{"owner":"x"}`)
	if r2.Status != http.StatusOK || r2.Num("version") != r.Num("version") || r2.Num("global_position") != r.Num("global_position") {
		t.Fatalf("no-op assign: %v after %v", r2.Body, r.Body)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestInvalidTransitionIs409NamingStatus(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	if r := e.post("/v1/findings/"+id+"/resolve", `{"reason":"fixed"}`); r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `{}`), http.StatusConflict, "/status")
	if n := len(e.types(id)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestRuleErrorsAre422NamingTheField(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	expectProblem(t, e.post("/v1/findings/"+id+"/false-positive", `{}`), http.StatusUnprocessableEntity, "/justification")
	expectProblem(t, e.post("/v1/findings/"+id+"/false-positive", `{"justification":"  "}`), http.StatusUnprocessableEntity, "/justification")
	expectProblem(t, e.post("/v1/findings/"+id+"/accept-risk", `{"approver":"a","justification":"j","expires_at":"2001-01-01T00:00:00Z"}`),
		http.StatusUnprocessableEntity, "/expires_at")
	expectProblem(t, e.post("/v1/findings/"+id+"/resolve", `{}`), http.StatusUnprocessableEntity, "/reason")
	expectProblem(t, e.post("/v1/findings/"+id+"/duplicate", `{"duplicate_of":"`+id+`"}`), http.StatusUnprocessableEntity, "/duplicate_of")
	expectProblem(t, e.post("/v1/findings/"+id+"/due-date", `{}`), http.StatusUnprocessableEntity, "/due_at")
	if n := len(e.types(id)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestMalformedBodiesAre400NamingTheField(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `{"note":"x","bogus":1}`), http.StatusBadRequest, "/bogus")
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `{"note":42}`), http.StatusBadRequest, "/note")
	expectProblem(t, e.post("/v1/findings/"+id+"/assign", `{"owner":"`+strings.Repeat("a", 257)+`"}`), http.StatusBadRequest, "/owner")
	expectProblem(t, e.post("/v1/findings/"+id+"/due-date", `{"due_at":"tomorrow"}`), http.StatusBadRequest, "/due_at")
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `[]`), http.StatusBadRequest, "/")
	if r := e.post("/v1/findings/"+id+"/triage", `{"note":`); r.Status != http.StatusBadRequest {
		t.Fatalf("truncated JSON: %d", r.Status)
	}
	if r := e.post("/v1/findings/"+id+"/triage", `{} {}`); r.Status != http.StatusBadRequest {
		t.Fatalf("two values: %d", r.Status)
	}
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `{}`, "Idempotency-Key", strings.Repeat("k", 201)), http.StatusBadRequest, "Idempotency-Key")
	expectProblem(t, e.post("/v1/findings/"+id+"/triage", `{}`, "If-Match", "3"), http.StatusBadRequest, "If-Match")
	if n := len(e.types(id)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	big := `{"comment":"` + strings.Repeat("a", 1<<20) + `"}`
	expectProblem(t, e.post("/v1/findings/"+id+"/comment", big), http.StatusRequestEntityTooLarge, "body")
	if n := len(e.types(id)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	first := e.post("/v1/findings/"+id+"/triage", `{"note":"n"}`, "Idempotency-Key", "req-1")
	if first.Status != http.StatusOK {
		t.Fatal(first.Body)
	}
	// Something else happens in between; the retry is still answered as the first time.
	if r := e.post("/v1/findings/"+id+"/comment", `{"comment":"c"}`); r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	again := e.post("/v1/findings/"+id+"/triage", `{"note":"n"}`, "Idempotency-Key", "req-1")
	if again.Status != http.StatusOK || again.Num("version") != first.Num("version") || again.Num("global_position") != first.Num("global_position") {
		t.Fatalf("replay %d %v, first %v", again.Status, again.Body, first.Body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay not flagged")
	}
	if got := e.types(id); strings.Join(got, ",") != "FindingOpened,FindingTriaged,FindingCommented" {
		t.Fatalf("stream %v", got)
	}
	// The same key on another finding is another request.
	id2 := e.open()
	if r := e.post("/v1/findings/"+id2+"/triage", `{}`, "Idempotency-Key", "req-1"); r.Status != http.StatusOK || r.Num("version") != 2 {
		t.Fatalf("%d %v", r.Status, r.Body)
	}
}

func TestIfMatch(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	expectProblem(t, e.post("/v1/findings/"+id+"/comment", `{"comment":"c"}`, "If-Match", `"7"`), http.StatusConflict, "")
	if n := len(e.types(id)); n != 1 {
		t.Fatalf("%d events after a stale If-Match, want 1", n)
	}
	r := e.post("/v1/findings/"+id+"/comment", `{"comment":"c"}`, "If-Match", `"1"`)
	if r.Status != http.StatusOK || r.Num("version") != 2 {
		t.Fatalf("%d %v", r.Status, r.Body)
	}
	// The version it answered with is now stale for a second writer that read version 1.
	expectProblem(t, e.post("/v1/findings/"+id+"/comment", `{"comment":"d"}`, "If-Match", `"1"`), http.StatusConflict, "")
	if r := e.post("/v1/findings/"+id+"/comment", `{"comment":"d"}`, "If-Match", `*`); r.Status != http.StatusOK {
		t.Fatalf("If-Match *: %d %v", r.Status, r.Body)
	}
	if n := len(e.types(id)); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

func TestUnknownFindingIs404(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{events.NewStreamID("vulns", "finding"), "not-a-finding", events.NewStreamID("assets", "asset")} {
		r := e.post("/v1/findings/"+id+"/triage", `{}`)
		if r.Status != http.StatusNotFound || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %v", id, r.Status, r.Body)
		}
	}
}

// Concurrent commands on one finding: each either succeeds at its own version or gets a 409;
// none is lost.
func TestConcurrentWritesNeverLoseAnUpdate(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	const n = 8
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/findings/"+id+"/comment", strings.NewReader(`{"comment":"c"}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	ok := 0
	for i := 0; i < n; i++ {
		switch c := <-codes; c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", c)
		}
	}
	if got := len(e.types(id)) - 1; got != ok {
		t.Fatalf("%d comments stored, %d answered 200", got, ok)
	}
}
