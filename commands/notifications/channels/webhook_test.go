package channels

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "whsec-0123456789abcdef0123456789abcdef"

// receiver is what a customer's endpoint does: verify, then deduplicate on
// the delivery id.
type receiver struct {
	secret []byte
	replay *ReplayCache

	mu         sync.Mutex
	accepted   []WebhookPayload
	duplicates int
	rejected   []error
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	if err := VerifyWebhook(rv.secret, r.Header, body, now, DefaultWebhookTolerance); err != nil {
		rv.mu.Lock()
		rv.rejected = append(rv.rejected, err)
		rv.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.replay.Seen(r.Header.Get(HeaderDelivery), now) {
		rv.duplicates++
		w.WriteHeader(http.StatusOK) // acknowledged, not processed twice
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rv.accepted = append(rv.accepted, p)
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhookSignedDelivery(t *testing.T) {
	rv := &receiver{secret: []byte(testSecret), replay: NewReplayCache(2 * DefaultWebhookTolerance)}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	w, err := NewWebhook(WebhookConfig{URL: srv.URL + "/hooks/soc", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	m := Message{ID: "notif-9.user-3.webhook", To: Recipient{UserID: "u3", Name: "Carol"}, Kind: KindNewFindings, Severity: "high", Data: SampleData(KindNewFindings)}
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	// The at-most-one resend after a crash: same id, new timestamp.
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(rv.accepted) != 1 || rv.duplicates != 1 {
		t.Fatalf("accepted %d, duplicates %d; want 1 and 1", len(rv.accepted), rv.duplicates)
	}
	p := rv.accepted[0]
	if p.ID != m.ID || p.Kind != KindNewFindings || p.Severity != "high" || p.Recipient.UserID != "u3" {
		t.Fatalf("payload %+v", p)
	}
	if p.Subject != "[SOC] 2 new findings from scan nightly nmap 10.0.0.0/24" || !strings.Contains(p.Text, "[CRITICAL] OpenSSH") {
		t.Fatalf("payload content %q / %q", p.Subject, p.Text)
	}
	if f := p.Data["Findings"].([]any); len(f) != 2 {
		t.Fatalf("data %v", p.Data)
	}
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte(testSecret)
	now := time.Unix(1_780_000_000, 0)
	body := []byte(`{"id":"d-1","kind":"kev_alert"}`)
	signed := func(ts time.Time, b []byte, key []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderDelivery, "d-1")
		h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderSignature, SignWebhook(key, ts.Unix(), b))
		return h
	}
	if err := VerifyWebhook(secret, signed(now, body, secret), body, now, time.Minute); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	tampered := []byte(`{"id":"d-1","kind":"sla_breach"}`)
	if err := VerifyWebhook(secret, signed(now, body, secret), tampered, now, time.Minute); !errors.Is(err, ErrWebhookBadSignature) {
		t.Fatalf("tampered body: %v", err)
	}
	if err := VerifyWebhook(secret, signed(now, body, []byte("another-secret-of-some-length")), body, now, time.Minute); !errors.Is(err, ErrWebhookBadSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := VerifyWebhook(secret, signed(now.Add(-2*time.Minute), body, secret), body, now, time.Minute); !errors.Is(err, ErrWebhookStale) {
		t.Fatalf("stale: %v", err)
	}
	if err := VerifyWebhook(secret, signed(now.Add(2*time.Minute), body, secret), body, now, time.Minute); !errors.Is(err, ErrWebhookStale) {
		t.Fatalf("future: %v", err)
	}
	// Re-signing the old body with a fresh timestamp needs the secret; just
	// changing the timestamp header breaks the signature.
	h := signed(now.Add(-2*time.Minute), body, secret)
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	if err := VerifyWebhook(secret, h, body, now, time.Minute); !errors.Is(err, ErrWebhookBadSignature) {
		t.Fatalf("moved timestamp: %v", err)
	}
	// The delivery id header is bound to the signed body id.
	h = signed(now, body, secret)
	h.Set(HeaderDelivery, "d-2")
	if err := VerifyWebhook(secret, h, body, now, time.Minute); !errors.Is(err, ErrWebhookDeliveryMismatch) {
		t.Fatalf("delivery mismatch: %v", err)
	}
	// Missing or malformed headers.
	if err := VerifyWebhook(secret, http.Header{}, body, now, time.Minute); !errors.Is(err, ErrWebhookMissingHeader) {
		t.Fatalf("missing: %v", err)
	}
	h = signed(now, body, secret)
	h.Set(HeaderTimestamp, "yesterday")
	if err := VerifyWebhook(secret, h, body, now, time.Minute); !errors.Is(err, ErrWebhookBadTimestamp) {
		t.Fatalf("bad timestamp: %v", err)
	}
	h = signed(now, body, secret)
	h.Set(HeaderSignature, "v0="+strings.TrimPrefix(h.Get(HeaderSignature), "v1="))
	if err := VerifyWebhook(secret, h, body, now, time.Minute); !errors.Is(err, ErrWebhookBadSignature) {
		t.Fatalf("unknown scheme: %v", err)
	}
	// Secret rotation: several signatures, one valid.
	h = signed(now, body, secret)
	h.Set(HeaderSignature, "v1=00ff, "+h.Get(HeaderSignature))
	if err := VerifyWebhook(secret, h, body, now, time.Minute); err != nil {
		t.Fatalf("rotation: %v", err)
	}

	// Replay of a captured request within the tolerance verifies, and is
	// caught by the delivery id.
	rc := NewReplayCache(time.Minute)
	if rc.Seen("d-1", now) {
		t.Fatal("first delivery reported as seen")
	}
	if err := VerifyWebhook(secret, signed(now, body, secret), body, now.Add(30*time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	if !rc.Seen("d-1", now.Add(30*time.Second)) {
		t.Fatal("replay within tolerance not detected")
	}
	// After the window the id is forgotten; by then the timestamp check
	// refuses the replay.
	if rc.Seen("d-1", now.Add(2*time.Minute)) {
		t.Fatal("id kept beyond its window")
	}
}

func TestWebhookStaleSenderClockRejected(t *testing.T) {
	rv := &receiver{secret: []byte(testSecret), replay: NewReplayCache(time.Hour)}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	w, _ := NewWebhook(WebhookConfig{URL: srv.URL, Secret: testSecret, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	err := w.Send(context.Background(), Message{ID: "x", Text: "t"})
	if !IsPermanent(err) || len(rv.rejected) != 1 || !errors.Is(rv.rejected[0], ErrWebhookStale) {
		t.Fatalf("err=%v rejected=%v", err, rv.rejected)
	}
	// Wrong secret: 401 from the receiver, permanent.
	w, _ = NewWebhook(WebhookConfig{URL: srv.URL, Secret: "not-the-receivers-secret"})
	if err := w.Send(context.Background(), Message{ID: "y", Text: "t"}); !IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestWebhookConfig(t *testing.T) {
	err := WebhookConfig{URL: "http://example.com/x", Secret: "short"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "SOC_WEBHOOK_URL") || !strings.Contains(err.Error(), "SOC_WEBHOOK_SECRET") {
		t.Fatalf("Validate = %v", err)
	}
	var c WebhookConfig
	parseFlags(t, c.RegisterFlags, "--webhook-url", "https://hooks.example.com/soc", "--webhook-secret", testSecret)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.String(), testSecret) {
		t.Fatal("secret printed")
	}
}
