package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
)

const (
	consoleOrigin = "https://soc.example.com"
	otherOrigin   = "https://evil.example.net"
)

// preflight sends the OPTIONS a browser sends, without credentials, before a cross-origin GET
// carrying Authorization.
func preflight(t *testing.T, url, origin string) reply {
	t.Helper()
	return callWith(t, http.MethodOptions, url, "", "", http.Header{"Origin": {origin},
		"Access-Control-Request-Method": {http.MethodGet}, "Access-Control-Request-Headers": {"authorization,idempotency-key"}})
}

// corsHeaders are the Access-Control-* headers of h.
func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// TestCORSThroughARealNode: with --cors-origins, a preflight from the console's origin is
// answered 204 before authentication with what the API allows; one from another origin gets no
// CORS header; a credentialed GET from the console carries Access-Control-Allow-Origin and the
// headers scripts may read.
func TestCORSThroughARealNode(t *testing.T) {
	cfg := allTargetsConfig(t)
	cfg.CORS.Origins = []string{consoleOrigin}
	base, admin, _ := signedInNode(t, cfg)

	r := preflight(t, base+"/v1/assets", consoleOrigin)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != consoleOrigin ||
		r.header.Get("Access-Control-Max-Age") != "600" || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight from the console: %d %v", r.status, r.header)
	}
	if m := r.header.Get("Access-Control-Allow-Methods"); m != http.MethodGet {
		t.Fatalf("allowed methods %q", m)
	}
	if h := strings.ToLower(r.header.Get("Access-Control-Allow-Headers")); h != "authorization,idempotency-key" {
		t.Fatalf("allowed headers %q", h)
	}
	if r := preflight(t, base+"/v1/assets", otherOrigin); len(corsHeaders(r.header)) > 0 {
		t.Fatalf("preflight from another origin: %d %v", r.status, r.header)
	}
	// A header the API does not take is not allowed.
	r = callWith(t, http.MethodOptions, base+"/v1/assets", "", "", http.Header{"Origin": {consoleOrigin},
		"Access-Control-Request-Method": {http.MethodGet}, "Access-Control-Request-Headers": {"x-forged"}})
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight with an unknown header: %v", r.header)
	}

	r = callWith(t, http.MethodGet, base+"/v1/assets", admin, "", http.Header{"Origin": {consoleOrigin}})
	exposed := strings.Split(r.header.Get("Access-Control-Expose-Headers"), ", ")
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != consoleOrigin ||
		!slices.Contains(exposed, "Etag") || !slices.Contains(exposed, "Soc-Read-Position") || !slices.Contains(exposed, "Ratelimit") {
		t.Fatalf("GET from the console: %d %v", r.status, r.header)
	}
	r = callWith(t, http.MethodGet, base+"/v1/assets", admin, "", http.Header{"Origin": {otherOrigin}})
	if r.status != http.StatusOK || len(corsHeaders(r.header)) > 0 {
		t.Fatalf("GET from another origin: %d %v", r.status, r.header)
	}
	// Authentication is untouched: a cross-origin request without a credential is refused.
	if r := callWith(t, http.MethodGet, base+"/v1/assets", "", "", http.Header{"Origin": {consoleOrigin}}); r.status != http.StatusUnauthorized {
		t.Fatalf("GET without a credential: %d", r.status)
	}
}

// TestCORSOffByDefault: without --cors-origins no answer carries Access-Control-*, and an
// OPTIONS is what it was (a request without credentials).
func TestCORSOffByDefault(t *testing.T) {
	base, admin, _ := signedInNode(t, allTargetsConfig(t))
	if r := preflight(t, base+"/v1/assets", consoleOrigin); r.status != http.StatusUnauthorized || len(corsHeaders(r.header)) > 0 {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	if r := callWith(t, http.MethodGet, base+"/v1/assets", admin, "", http.Header{"Origin": {consoleOrigin}}); r.status != http.StatusOK || len(corsHeaders(r.header)) > 0 {
		t.Fatalf("GET: %d %v", r.status, r.header)
	}
}

// TestCORSConfigValidate: exact origins only; * and wildcards are refused.
func TestCORSConfigValidate(t *testing.T) {
	for _, ok := range [][]string{nil, {consoleOrigin}, {consoleOrigin, "http://localhost:5173"}} {
		if err := (&CORSConfig{Origins: ok}).Validate(); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"*", "https://*.example.com", "https://soc.example.com/", "soc.example.com", "ftp://soc.example.com", "https://soc.example.com/app"} {
		err := (&CORSConfig{Origins: []string{consoleOrigin, bad}}).Validate()
		if err == nil || !strings.Contains(err.Error(), "--cors-origins/SOC_CORS_ORIGINS") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	t.Setenv("SOC_CORS_ORIGINS", consoleOrigin+",http://localhost:5173")
	if got := parseServeConfig(t).CORS.Origins; !slices.Equal(got, []string{consoleOrigin, "http://localhost:5173"}) {
		t.Fatalf("SOC_CORS_ORIGINS: %q", got)
	}
	t.Setenv("SOC_CORS_ORIGINS", "*")
	cfg := parseServeConfig(t)
	if err := cfg.Validate(true); err == nil || !strings.Contains(err.Error(), "--cors-origins/SOC_CORS_ORIGINS") {
		t.Fatalf("Validate with *: %v", err)
	}
}

// TestHotCORSOrigins: cors_origins from any target's configuration changes the origins in force
// at once (union of the targets'), a bad value is refused with the origins kept, and without
// the key the flag's origins are back.
func TestHotCORSOrigins(t *testing.T) {
	var logs bytes.Buffer
	a := &app{cfg: &Config{Targets: []string{"query", "commands"}, CORS: CORSConfig{Origins: []string{consoleOrigin}}}, log: newLogger(&logs, "info")}
	h := a.withCORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	allowed := func(origin string) bool {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodOptions, "/v1/assets", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", http.MethodGet)
		h.ServeHTTP(w, r)
		return w.Code == http.StatusNoContent && w.Header().Get("Access-Control-Allow-Origin") == origin
	}
	c := a.consulNode()
	put := func(target, v string) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatal(err)
		}
		c.apply(target, m)
	}
	const second = "https://console.example.org"
	if !allowed(consoleOrigin) || allowed(second) {
		t.Fatal("the flag's origins are not in force")
	}
	put("query", `{"cors_origins":["`+second+`"]}`)
	if allowed(consoleOrigin) || !allowed(second) {
		t.Fatal("query's cors_origins not in force")
	}
	put("commands", `{"cors_origins":["`+otherOrigin+`"]}`)
	if !allowed(second) || !allowed(otherOrigin) {
		t.Fatal("the origins of both targets are not all allowed")
	}
	for _, bad := range []string{`{"cors_origins":["*"]}`, `{"cors_origins":"` + second + `"}`} {
		put("commands", bad)
		if !allowed(second) || !allowed(otherOrigin) {
			t.Fatalf("%s changed the origins", bad)
		}
	}
	if n := strings.Count(logs.String(), "the CORS origins in force are kept"); n != 2 {
		t.Fatalf("%d refusals logged:\n%s", n, logs.String())
	}
	put("commands", `{"cors_origins":[]}`) // an empty list: this target allows nothing more
	if allowed(otherOrigin) || !allowed(second) {
		t.Fatal("an empty list did not withdraw commands' origins")
	}
	put("query", `{}`)
	put("commands", `{}`)
	if !allowed(consoleOrigin) || allowed(second) {
		t.Fatal("the flag's origins are not back once no target sets cors_origins")
	}
}

// TestHotCORSAndChannelsFromConsul runs a notifier node following the real Consul (SOC_TEST_CONSUL_ADDR):
// cors_origins and a webhook put in config/soc/notifier take effect without a restart, and the
// next notification on the webhook is delivered where KV says.
func TestHotCORSAndChannelsFromConsul(t *testing.T) {
	client, ccfg := consulTestClient(t)
	key := clearedConfigKey(t, client, "notifier") // the notifier's key is this test's to change
	cfg := allTargetsConfig(t)
	cfg.Targets = []string{"notifier"}
	cfg.Consul = ccfg
	addr, _ := serveInProcess(t, cfg)
	base := "http://" + addr
	if r := preflight(t, base+"/v1/notifications", consoleOrigin); len(corsHeaders(r.header)) > 0 {
		t.Fatalf("CORS on before KV says so: %v", r.header)
	}
	const secret = "a-webhook-secret-long-enough"
	hooks := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := channels.VerifyWebhook([]byte(secret), r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook: %v", err)
		}
		hooks <- r.URL.Path
	}))
	t.Cleanup(receiver.Close)
	v, _ := json.Marshal(map[string]any{"cors_origins": []string{consoleOrigin},
		"webhook_url": receiver.URL + "/hook", "webhook_secret": secret})
	if _, err := client.KV().Put(&api.KVPair{Key: key, Value: v}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a preflight from the console allowed", func() bool {
		return preflight(t, base+"/v1/notifications", consoleOrigin).header.Get("Access-Control-Allow-Origin") == consoleOrigin
	})
	eventually(t, "the webhook channel configured", func() bool {
		_, body := get(t, base+"/readyz")
		var ready struct {
			Checks struct {
				Notifier struct{ Channels []string } `json:"notifier"`
			} `json:"checks"`
		}
		return json.Unmarshal([]byte(body), &ready) == nil && slices.Contains(ready.Checks.Notifier.Channels, "webhook")
	})

	// A notification requested on the webhook (appended to the node's SQLite store, as a saga
	// would) reaches the receiver KV named.
	store, b, _, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := notifyapp.NewService(store, nil, nil).Request(context.Background(), notifyapp.Request{Trigger: "hot-consul",
		Channel: channels.ChannelWebhook, Recipient: channels.Recipient{UserID: "alice", Name: "Alice"},
		Kind: channels.KindKEVAlert, Severity: "high", Subject: "KEV on web-01", Text: "patch web-01"}); err != nil {
		t.Fatal(err)
	}
	select {
	case path := <-hooks:
		if path != "/hook" {
			t.Fatalf("webhook posted to %s", path)
		}
	case <-time.After(time.Minute):
		t.Fatal("no webhook delivery within a minute")
	}
}
