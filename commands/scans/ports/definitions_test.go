package ports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/ports"
	"github.com/socplatform/soc/commands/scans/runner"
)

// noRunner validates options like the nmap runner (scripts must exist) but runs nothing: no
// saga drives runs here; the orchestrator and runner tests execute them.
type noRunner struct{ *runner.Runner }

func (noRunner) Run(context.Context, app.RunSpec) ([]byte, []string, error) {
	panic("not called")
}

type api struct {
	t   *testing.T
	srv *httptest.Server
	dir string
}

func newAPI(t *testing.T, maxBody int64) *api {
	t.Helper()
	store := testsupport.SQLiteStore(t)
	im, err := app.New(store, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := im.Start(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	orch, err := app.NewOrchestrator(app.OrchestratorConfig{Store: store, Runner: noRunner{runner.New(runner.Config{})}, EvidenceDir: dir,
		Import: im.Import})
	if err != nil {
		t.Fatal(err)
	}
	if err := orch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := ports.Register(mux, orch, ports.Config{Schemas: testsupport.CommandSchemas(t), MaxBodyBytes: maxBody}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		_ = orch.Wait()
		_ = im.Wait()
	})
	return &api{t: t, srv: srv, dir: dir}
}

func (a *api) do(method, path string, body any, hdr ...string) (int, map[string]any, http.Header) {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, r)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if strings.Contains(string(raw), "token_sha256") {
		a.t.Fatalf("%s %s leaked a token hash: %s", method, path, raw)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		a.t.Fatalf("%s %s: %d with %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m, resp.Header
}

func (a *api) want(status int, wantStatus int, m map[string]any, field string) {
	a.t.Helper()
	if status != wantStatus {
		a.t.Fatalf("status %d, want %d: %v", status, wantStatus, m)
	}
	if field != "" && m["field"] != field {
		a.t.Fatalf("field %v, want %s: %v", m["field"], field, m)
	}
}

func nmapDef() map[string]any {
	return map[string]any{"name": "loopback web", "scanner": "nmap", "target": map[string]any{"addresses": []string{"127.0.0.1"}},
		"options":  map[string]any{"ports": "80,443", "scripts": []string{"http-title"}, "service_detection": true},
		"schedule": "@hourly", "timeout_seconds": 600, "max_attempts": 3, "retry_backoff_seconds": 30}
}

func with(m map[string]any, kv ...any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestDefinitionEndpoints(t *testing.T) {
	if _, err := os.Stat("/usr/share/nmap/scripts/http-title.nse"); err != nil {
		if os.Getenv("SOC_REQUIRE_SERVERS") == "1" {
			t.Fatal("nmap's scripts are required (SOC_REQUIRE_SERVERS=1): install the Debian package nmap")
		}
		t.Skip("nmap's scripts are not installed (the definition names http-title)")
	}
	a := newAPI(t, 0)
	st, m, h := a.do("POST", "/v1/scan-definitions", nmapDef())
	a.want(st, 201, m, "")
	id, _ := m["id"].(string)
	if id == "" || m["token"] != nil || h.Get("Location") != "/v1/scan-definitions/"+id || m["position"].(float64) < 1 {
		t.Fatalf("created %v %v", m, h)
	}

	// Bad input: 400 naming the field.
	bad := []struct {
		body  any
		field string
	}{
		{with(nmapDef(), "bogus", 1), "/bogus"},
		{with(nmapDef(), "name", nil), "/name"},
		{with(nmapDef(), "options", map[string]any{"ports": "80 -iL /etc/passwd"}), "/options/ports"},
		{with(nmapDef(), "options", map[string]any{"ports": "70000"}), "/options/ports"},
		{with(nmapDef(), "options", map[string]any{"scripts": []string{"no-such-script-here"}}), "/options/scripts/0"},
		{with(nmapDef(), "options", map[string]any{"timing": 9}), "/options/timing"},
		{with(nmapDef(), "schedule", "every tuesday"), "/schedule"},
		{with(nmapDef(), "max_attempts", 11), "/max_attempts"},
		{with(nmapDef(), "target", map[string]any{"addresses": []string{"not an address!"}}), "/target/addresses/0"},
		{with(nmapDef(), "target", map[string]any{}), "/target"},
		{with(nmapDef(), "scanner", "nessus"), "/scanner"},
		{"{", ""},
	}
	for _, b := range bad {
		st, m, _ := a.do("POST", "/v1/scan-definitions", b.body)
		if st != 400 || (b.field != "" && m["field"] != b.field) {
			t.Fatalf("%v: %d %v, want 400 naming %s", b.body, st, m, b.field)
		}
	}

	st, m, _ = a.do("GET", "/v1/scan-definitions", nil)
	if items, _ := m["items"].([]any); st != 200 || len(items) != 1 {
		t.Fatalf("list %d %v", st, m)
	}
	st, m, _ = a.do("PUT", "/v1/scan-definitions/"+id, with(nmapDef(), "name", "renamed", "schedule", nil), "If-Match", `"1"`)
	a.want(st, 200, m, "")
	if m["version"].(float64) != 2 {
		t.Fatalf("update %v", m)
	}
	st, m, _ = a.do("PUT", "/v1/scan-definitions/"+id, nmapDef(), "If-Match", `"1"`)
	a.want(st, 409, m, "")
	st, m, _ = a.do("PUT", "/v1/scan-definitions/"+id, with(nmapDef(), "scanner", "external", "options", nil, "format", "trivy"))
	a.want(st, 400, m, "/scanner")
	st, m, _ = a.do("PUT", "/v1/scan-definitions/0190f3f0-0000-7000-8000-000000000000", nmapDef())
	a.want(st, 404, m, "")

	// A manual run, then its cancellation; a finished run cannot be cancelled again.
	st, m, h = a.do("POST", "/v1/scan-definitions/"+id+"/runs", nil)
	a.want(st, 202, m, "")
	run, _ := m["run_id"].(string)
	if h.Get("Location") != "/v1/scan-runs/"+run {
		t.Fatalf("location %v", h)
	}
	st, m, _ = a.do("GET", "/v1/scan-runs/"+run, nil)
	if st != 200 || m["status"] != "requested" || m["trigger"] != "manual" || m["definition_id"] != id {
		t.Fatalf("run %d %v", st, m)
	}
	st, m, _ = a.do("POST", "/v1/scan-runs/"+run+"/cancel", map[string]any{"reason": "wrong window", "bogus": 1})
	a.want(st, 400, m, "/bogus")
	st, m, _ = a.do("POST", "/v1/scan-runs/"+run+"/cancel", map[string]any{"reason": "wrong window"})
	a.want(st, 200, m, "")
	st, m, _ = a.do("POST", "/v1/scan-runs/"+run+"/cancel", nil)
	a.want(st, 409, m, "")
	st, m, _ = a.do("GET", "/v1/scan-definitions/"+id, nil)
	if runs, _ := m["runs"].([]any); st != 200 || m["name"] != "renamed" || len(runs) != 1 || runs[0].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("definition %d %v", st, m)
	}
	st, m, _ = a.do("GET", "/v1/scan-runs/0190f3f0-0000-7000-8000-000000000000", nil)
	a.want(st, 404, m, "")

	st, m, _ = a.do("DELETE", "/v1/scan-definitions/"+id, map[string]any{"reason": "decommissioned"})
	a.want(st, 200, m, "")
	st, m, _ = a.do("POST", "/v1/scan-definitions/"+id+"/runs", nil)
	a.want(st, 409, m, "")
	st, m, _ = a.do("DELETE", "/v1/scan-definitions/"+id, nil)
	a.want(st, 409, m, "")
}

func TestPushedReportEndToEnd(t *testing.T) {
	report := filepath.Join(testsupport.SharedTestdata(t, "trivy"), "trivy_image_juice-shop-v12.10.2.json")
	a := newAPI(t, 0)
	st, m, _ := a.do("POST", "/v1/scan-definitions", map[string]any{"name": "ci trivy", "scanner": "external", "format": "trivy"})
	a.want(st, 201, m, "")
	id, token := m["id"].(string), m["token"].(string)
	if len(token) != 43 { // 32 bytes, base64url without padding
		t.Fatalf("token %q", token)
	}
	body, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/scan-definitions/" + id + "/reports?format=trivy"
	st, m, h := a.do("POST", path, body)
	a.want(st, 401, m, "Authorization")
	if h.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	st, m, _ = a.do("POST", path, body, "Authorization", "Bearer "+token+"x")
	a.want(st, 401, m, "")
	st, m, _ = a.do("POST", "/v1/scan-definitions/"+id+"/reports?format=sarif", body, "Authorization", "Bearer "+token)
	a.want(st, 400, m, "format")
	st, m, _ = a.do("POST", "/v1/scan-definitions/"+id+"/runs", nil)
	a.want(st, 409, m, "") // external definitions are not run here

	st, m, _ = a.do("POST", path, body, "Authorization", "Bearer "+token, "Idempotency-Key", "ci-build-42")
	a.want(st, 200, m, "")
	run, _ := m["run_id"].(string)
	sum, _ := m["summary"].(map[string]any)
	if m["status"] != "completed" || sum["findings_total"].(float64) < 100 || sum["new"].(float64) < 1 {
		t.Fatalf("push %v", m)
	}
	// A retried push (same Idempotency-Key) imports nothing again.
	st, m2, _ := a.do("POST", path, body, "Authorization", "Bearer "+token, "Idempotency-Key", "ci-build-42")
	if st != 200 || m2["run_id"] != run {
		t.Fatalf("retried push %d %v", st, m2)
	}
	st, m, _ = a.do("GET", "/v1/scan-runs/"+run, nil)
	if st != 200 || m["status"] != "completed" || m["trigger"] != "push" {
		t.Fatalf("run %d %v", st, m)
	}
	ev := m["evidence"].(map[string]any)
	kept, err := os.ReadFile(filepath.Join(a.dir, ev["path"].(string)))
	if err != nil || !bytes.Equal(kept, body) || ev["bytes"].(float64) != float64(len(body)) {
		t.Fatalf("evidence %v %v", ev, err)
	}
	// A report that is not trivy fails its run and says so.
	st, m, _ = a.do("POST", path, "{\"not\":\"trivy\"}", "Authorization", "Bearer "+token)
	if st != 422 || !strings.Contains(m["detail"].(string), "failed") {
		t.Fatalf("bad report %d %v", st, m)
	}
	// Deleted definitions accept no pushes.
	st, m, _ = a.do("DELETE", "/v1/scan-definitions/"+id, nil)
	a.want(st, 200, m, "")
	st, m, _ = a.do("POST", path, body, "Authorization", "Bearer "+token)
	a.want(st, 409, m, "")
}

func TestPushBodyIsBounded(t *testing.T) {
	a := newAPI(t, 1024)
	_, m, _ := a.do("POST", "/v1/scan-definitions", map[string]any{"name": "ci", "scanner": "external", "format": "trivy"})
	id, token := m["id"].(string), m["token"].(string)
	st, m, _ := a.do("POST", "/v1/scan-definitions/"+id+"/reports", strings.Repeat("x", 4096), "Authorization", "Bearer "+token)
	a.want(st, 413, m, "")
	_ = time.Second
}

// A definition the allowlist (default loopback) would refuse at its run is a 422 naming the
// address when it is written; a body encoding/json would silently repair is a 400 naming the
// value. Neither writes anything.
func TestDefinitionRefusedAtTheDoor(t *testing.T) {
	a := newAPI(t, 0)
	def := func(addrs ...string) map[string]any {
		return map[string]any{"name": "lab", "scanner": "nmap", "target": map[string]any{"addresses": addrs}}
	}
	st, m, _ := a.do("POST", "/v1/scan-definitions", def("127.0.0.1", "::1", "192.0.2.10"))
	a.want(st, 422, m, "/target/addresses/2")
	if d, _ := m["detail"].(string); !strings.Contains(d, "192.0.2.10") || !strings.Contains(d, "127.0.0.0/8") {
		t.Fatalf("detail %q: want the address and the allowlist", d)
	}
	for body, field := range map[string]string{
		`{"name":"lab","name":"lab2","scanner":"nmap","target":{"addresses":["127.0.0.1"]}}`:             "/name",
		`{"name":"lab\u0000","scanner":"nmap","target":{"addresses":["127.0.0.1"]}}`:                     "/name",
		"{\"name\":\"lab\xff\",\"scanner\":\"nmap\",\"target\":{\"addresses\":[\"127.0.0.1\"]}}":         "/name",
		`{"name":"lab","scanner":"nmap","target":{"addresses":["127.0.0.1"],"addresses":["192.0.2.1"]}}`: "/target/addresses",
	} {
		st, m, _ := a.do("POST", "/v1/scan-definitions", body)
		a.want(st, 400, m, field)
	}
	st, m, _ = a.do("GET", "/v1/scan-definitions", nil)
	if items, _ := m["items"].([]any); st != 200 || len(items) != 0 {
		t.Fatalf("refused definitions were written: %v", m)
	}

	st, m, _ = a.do("POST", "/v1/scan-definitions", def("127.0.0.1"))
	a.want(st, 201, m, "")
	id, _ := m["id"].(string)
	st, m, _ = a.do("PUT", "/v1/scan-definitions/"+id, def("10.1.2.0/24"))
	a.want(st, 422, m, "/target/addresses/0")
	st, m, _ = a.do("GET", "/v1/scan-definitions/"+id, nil)
	if st != 200 || m["version"].(float64) != 1 {
		t.Fatalf("the refused update changed the definition: %d %v", st, m)
	}
}
