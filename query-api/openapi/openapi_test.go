package openapi

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/socplatform/soc/schemas"
)

func TestDocumentShape(t *testing.T) {
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(Spec(), &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	n := 0
	for path, item := range doc.Paths {
		for method, op := range item {
			n++
			resps, _ := op["responses"].(map[string]any)
			if len(resps) == 0 {
				t.Errorf("%s %s has no responses", method, path)
			}
			if op["operationId"] == nil {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
	if n != len(Operations()) {
		t.Errorf("%d operations in the document, %d listed", n, len(Operations()))
	}
	// Every command schema is a component, and every command is a request body somewhere.
	used := string(Spec())
	err := fs.WalkDir(schemas.CommandsFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "/"+schemas.DefsFile) {
			return err // a context's shared shapes, no command's body
		}
		name := strings.TrimSuffix(p[strings.LastIndexByte(p, '/')+1:], ".json")
		b, err := fs.ReadFile(schemas.CommandsFS(), p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), `"x-command-type"`) {
			return nil // a saga's command (command bus), not an endpoint's
		}
		if doc.Components.Schemas[name] == nil {
			t.Errorf("command schema %s is not a component", name)
		}
		if !strings.Contains(used, `"$ref": "#/components/schemas/`+name+`"`) {
			t.Errorf("command %s is no operation's request body", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The command routes registered by commands/*/ports: the document must describe each one.
var commandRoutes = []string{
	"POST /v1/assets", "PATCH /v1/assets/{id}", "POST /v1/assets/{id}/update", "POST /v1/assets/{id}/classify",
	"POST /v1/assets/{id}/link", "POST /v1/assets/{id}/unlink", "POST /v1/assets/{id}/retire", "POST /v1/assets/{id}/reactivate",
	"POST /v1/findings/{id}/triage", "POST /v1/findings/{id}/start-remediation", "POST /v1/findings/{id}/resolve",
	"POST /v1/findings/{id}/reopen", "POST /v1/findings/{id}/false-positive", "POST /v1/findings/{id}/duplicate",
	"POST /v1/findings/{id}/accept-risk", "POST /v1/findings/{id}/assign", "POST /v1/findings/{id}/comment",
	"POST /v1/findings/{id}/due-date", "POST /v1/scans/imports", "GET /v1/scans/{id}/import",
	"POST /v1/scan-definitions", "GET /v1/scan-definitions", "GET /v1/scan-definitions/{id}", "PUT /v1/scan-definitions/{id}",
	"DELETE /v1/scan-definitions/{id}", "POST /v1/scan-definitions/{id}/runs", "POST /v1/scan-definitions/{id}/reports",
	"GET /v1/scan-runs/{id}", "POST /v1/scan-runs/{id}/cancel",
	"GET /healthz", "GET /readyz", "GET /metrics", "GET /ws", "GET /v1/notifications/ws", "GET /openapi.json",
	"POST /v1/ws-tickets",
}

func TestCommandRoutesDocumented(t *testing.T) {
	have := map[Operation]bool{}
	for _, op := range Operations() {
		have[op] = true
	}
	for _, p := range commandRoutes {
		op, ok := FromMuxPattern(p)
		if !ok || !have[op] {
			t.Errorf("%s is not documented", p)
		}
		if op.MuxPattern() != p {
			t.Errorf("round trip %s → %s", p, op.MuxPattern())
		}
	}
}

func TestFindPrefersLiteralSegments(t *testing.T) {
	cases := map[string]string{
		"GET /v1/scans/abc":                  "/v1/scans/{id}",
		"GET /v1/scans/abc/import":           "/v1/scans/{id}/import",
		"POST /v1/scans/imports":             "/v1/scans/imports",
		"POST /v1/assets/x/link":             "/v1/assets/{id}/link",
		"GET /v1/streams/s/events?limit=2":   "/v1/streams/{stream_id}/events",
		"PATCH /v1/assets/assets-asset-1234": "/v1/assets/{id}",
	}
	for in, want := range cases {
		m, p, _ := strings.Cut(in, " ")
		op, ok := Find(m, p)
		if !ok || op.Path != want {
			t.Errorf("%s → %v %v, want %s", in, op, ok, want)
		}
	}
	if _, ok := Find("DELETE", "/v1/assets/x"); ok {
		t.Error("DELETE matched")
	}
	if _, ok := Find("GET", "/v1/assets//"); ok {
		t.Error("an empty segment matched a template")
	}
}

func TestValidateCatchesDrift(t *testing.T) {
	problem := []byte(`{"type":"https://soc-platform.dev/problems/not-found","title":"Not found","status":404}`)
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 404, "application/problem+json", problem); err != nil {
		t.Errorf("a documented problem: %v", err)
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 418, "application/problem+json", problem); err == nil {
		t.Error("an undocumented status passed")
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 404, "application/json", problem); err == nil {
		t.Error("a wrong content type passed")
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 200, "application/json", []byte(`{"id":"CVE-2024-1","stream_id":"s","kev":false,"open_findings":0,"version":1,"bogus":1}`)); err == nil {
		t.Error("an undocumented field passed")
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 200, "application/json", []byte(`{"id":"CVE-2024-1","stream_id":"s","kev":"no","open_findings":0,"version":1}`)); err == nil {
		t.Error("a mistyped field passed")
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 200, "application/json; charset=utf-8", []byte(`{"id":"CVE-2024-1","stream_id":"s","kev":true,"open_findings":0,"version":1,"published":"2024-01-02T03:04:05Z"}`)); err != nil {
		t.Errorf("a valid CVE: %v", err)
	}
	if err := Validate("GET", "/v1/cves/CVE-2024-1", 200, "application/json", []byte(`{"id":"CVE-2024-1","stream_id":"s","kev":true,"open_findings":0,"version":1,"published":"yesterday"}`)); err == nil {
		t.Error("a malformed date-time passed")
	}
	if err := Validate("GET", "/v1/cves/x", 304, "", []byte("x")); err == nil {
		t.Error("a 304 with a body passed")
	}
	if err := Validate("GET", "/v1/nothing", 200, "application/json", nil); err == nil {
		t.Error("an undocumented path passed")
	}
	if err := Validate("POST", "/v1/findings/vulns-finding-x/triage", 200, "application/json", []byte(`{"stream_id":"s","version":2,"global_position":9}`)); err != nil {
		t.Errorf("a command result: %v", err)
	}
}

func TestQueryParams(t *testing.T) {
	ps := QueryParams("GET", "/v1/findings")
	for _, want := range []string{"severity", "cursor", "limit", "sort", "min_position", "wait", "q"} {
		found := false
		for _, p := range ps {
			found = found || p == want
		}
		if !found {
			t.Errorf("findings lacks %s", want)
		}
	}
	for _, p := range ps {
		if p == "X-Min-Position" || p == "If-None-Match" {
			t.Errorf("header %s listed as a query parameter", p)
		}
	}
	if QueryParams("GET", "/nope") != nil {
		t.Error("unknown operation has parameters")
	}
}

// TestDocumentIsValidOpenAPI: kin-openapi, which Validate loads the document with, finds it a
// valid OpenAPI 3.1 document (every $ref resolves, every schema is well-formed).
func TestDocumentIsValidOpenAPI(t *testing.T) {
	doc, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Fatalf("the document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Authentication is on for every route but the always-open ones: each other operation
// documents its 401, and the JWKS is served as a JWK set.
func TestAuthenticatedOperationsDocument401(t *testing.T) {
	unauthorized := []byte(`{"type":"https://soc-platform.dev/problems/unauthorized","title":"Unauthorized","status":401,"detail":"invalid access token","field":"Authorization"}`)
	for _, op := range Operations() {
		path := strings.NewReplacer("{id}", "x", "{stream_id}", "x", "{user_id}", "x").Replace(op.Path)
		err := Validate(op.Method, path, 401, Problem, unauthorized)
		if open := alwaysOpen[op.Path]; open != (err != nil) {
			t.Errorf("%s %s: 401 validates with %v; always open: %v", op.Method, op.Path, err, open)
		}
	}
	if err := Validate("GET", "/.well-known/jwks.json", 200, JWKSet, []byte(`{"keys":[]}`)); err != nil {
		t.Errorf("the JWKS: %v", err)
	}
}

// The import upload documents what a compressed upload may meet: its 415 (a problem naming
// Content-Encoding, with Accept-Encoding) and the Content-Encoding it reads.
func TestImportDocumentsContentEncoding(t *testing.T) {
	unsupported := []byte(`{"type":"https://soc-platform.dev/problems/unsupported-media-type","title":"Unsupported media type","status":415,` +
		`"detail":"Content-Encoding \"br\" is not read here","instance":"/v1/scans/imports","field":"Content-Encoding"}`)
	if err := Validate("POST", "/v1/scans/imports", 415, "application/problem+json", unsupported); err != nil {
		t.Errorf("the 415 of an upload: %v", err)
	}
	doc, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Value("/v1/scans/imports").Post
	if p := op.Parameters.GetByInAndName("header", "Content-Encoding"); p == nil {
		t.Error("the import does not document its Content-Encoding")
	}
	if r := op.Responses.Status(415); r == nil || r.Value.Headers["Accept-Encoding"] == nil {
		t.Error("the import's 415 does not document Accept-Encoding")
	}
}
