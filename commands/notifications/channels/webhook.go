package channels

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook headers.
const (
	HeaderDelivery  = "X-SOC-Delivery"  // the message id; the same on every resend
	HeaderTimestamp = "X-SOC-Timestamp" // unix seconds of this attempt
	HeaderSignature = "X-SOC-Signature" // v1=<hex HMAC-SHA256 of "<timestamp>.<body>">
)

// DefaultWebhookTolerance is how far X-SOC-Timestamp may be from the
// receiver's clock.
const DefaultWebhookTolerance = 5 * time.Minute

// MinWebhookSecretLen is the shortest secret Validate accepts.
const MinWebhookSecretLen = 16

// WebhookConfig configures a generic signed webhook.
type WebhookConfig struct {
	URL        string        // SOC_WEBHOOK_URL
	Secret     string        // SOC_WEBHOOK_SECRET; never printed
	Timeout    time.Duration // per attempt; default DefaultHTTPTimeout
	HTTPClient *http.Client  // optional; overrides Timeout
	Templates  *Templates    // optional; default DefaultTemplates()
	Now        func() time.Time
}

// RegisterFlags declares the webhook channel's settings. The channel stays off unless
// --webhook-url is set.
func (c *WebhookConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "webhook-url", "", "webhook channel: https URL receiving signed JSON notifications; empty: no webhook")
	fs.Var(secretFlag{&c.Secret}, "webhook-secret", fmt.Sprintf("webhook channel: HMAC-SHA256 signing secret, at least %d bytes", MinWebhookSecretLen))
}

// Configured reports whether the channel should be used at all.
func (c WebhookConfig) Configured() bool { return c.URL != "" }

// Validate reports every problem at once.
func (c WebhookConfig) Validate() error {
	problems := validateEndpoint("SOC_WEBHOOK_URL", c.URL)
	if len(c.Secret) < MinWebhookSecretLen {
		problems = append(problems, fmt.Sprintf("SOC_WEBHOOK_SECRET: required, at least %d bytes", MinWebhookSecretLen))
	}
	return problemsError("webhook", problems)
}

func (c WebhookConfig) String() string {
	return fmt.Sprintf("WebhookConfig{URL:%s Secret:%s Timeout:%s}", redactURL(c.URL), redactSecret(c.Secret), c.Timeout)
}

// Webhook posts signed JSON payloads.
type Webhook struct {
	url       string
	secret    []byte
	client    *http.Client
	templates *Templates
	now       func() time.Time
}

// NewWebhook validates the config and returns the sender.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Webhook{url: cfg.URL, secret: []byte(cfg.Secret), client: newHTTPClient(cfg.HTTPClient, cfg.Timeout), templates: orDefault(cfg.Templates), now: now}, nil
}

// WebhookPayload is the JSON body of a generic webhook. The body is the same
// on every resend of a delivery; only X-SOC-Timestamp and the signature change.
type WebhookPayload struct {
	ID        string         `json:"id"` // equals X-SOC-Delivery; covered by the signature
	Kind      string         `json:"kind,omitempty"`
	Severity  string         `json:"severity,omitempty"`
	Subject   string         `json:"subject,omitempty"`
	Text      string         `json:"text,omitempty"`
	Recipient Recipient      `json:"recipient"`
	Data      map[string]any `json:"data,omitempty"`
}

// BuildWebhookBody renders the JSON body Send posts.
func (w *Webhook) BuildWebhookBody(m Message) ([]byte, error) {
	r, _, err := content(w.templates, ChannelWebhook, m)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(WebhookPayload{ID: m.ID, Kind: m.Kind, Severity: m.Severity, Subject: oneLine(r.Subject), Text: r.Text, Recipient: m.To, Data: m.Data})
	if err != nil {
		return nil, &PermanentError{Channel: ChannelWebhook, Err: fmt.Errorf("encode payload: %w", err)}
	}
	return body, nil
}

// Send signs and posts m. Any 2xx is success.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if err := validateID(ChannelWebhook, m.ID); err != nil {
		return err
	}
	body, err := w.BuildWebhookBody(m)
	if err != nil {
		return err
	}
	ts := w.now().Unix()
	h := http.Header{}
	h.Set(HeaderDelivery, m.ID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, SignWebhook(w.secret, ts, body))
	_, err = post(ctx, w.client, ChannelWebhook, w.url, "application/json", body, h)
	return err
}

// SignWebhook returns the X-SOC-Signature value for a body sent at ts:
// "v1=" + hex(HMAC-SHA256(secret, "<ts>.<body>")).
func SignWebhook(secret []byte, ts int64, body []byte) string {
	return "v1=" + hex.EncodeToString(webhookMAC(secret, ts, body))
}

func webhookMAC(secret []byte, ts int64, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// Webhook verification errors.
var (
	ErrWebhookMissingHeader    = errors.New("webhook: missing signature headers")
	ErrWebhookBadTimestamp     = errors.New("webhook: malformed timestamp")
	ErrWebhookStale            = errors.New("webhook: timestamp outside tolerance (possible replay)")
	ErrWebhookBadSignature     = errors.New("webhook: signature mismatch")
	ErrWebhookDeliveryMismatch = errors.New("webhook: X-SOC-Delivery does not match the signed body id")
)

// VerifyWebhook checks a received webhook: the timestamp must be within
// tolerance of now (either side; tolerance <= 0 means
// DefaultWebhookTolerance), one of the v1 signatures in X-SOC-Signature must
// match (constant-time; several comma-separated values are accepted, for
// secret rotation), and when the body is a JSON object with an "id" string it
// must equal X-SOC-Delivery, so the delivery id a receiver deduplicates on is
// covered by the signature.
//
// Within the tolerance window a captured request can be replayed verbatim;
// receivers detect that by remembering delivery ids for the window (see
// ReplayCache). The same id also marks our own at-most-one resend.
func VerifyWebhook(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	tsRaw, sigRaw := header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if tsRaw == "" || sigRaw == "" {
		return ErrWebhookMissingHeader
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil || ts <= 0 {
		return ErrWebhookBadTimestamp
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > tolerance || age < -tolerance {
		return ErrWebhookStale
	}
	want := webhookMAC(secret, ts, body)
	ok := false
	for _, part := range strings.Split(sigRaw, ",") {
		v, found := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !found {
			continue
		}
		got, err := hex.DecodeString(v)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrWebhookBadSignature
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		var probe struct {
			ID *string `json:"id"`
		}
		if json.Unmarshal(body, &probe) == nil && probe.ID != nil && *probe.ID != header.Get(HeaderDelivery) {
			return ErrWebhookDeliveryMismatch
		}
	}
	return nil
}

// ReplayCache remembers delivery ids for a window (the verification
// tolerance, or longer), so a receiver can drop a replayed or resent
// delivery. It is in memory; a receiver with several instances keeps the ids
// in a shared store instead.
type ReplayCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	seen map[string]time.Time
	next time.Time // next prune
}

// NewReplayCache keeps ids for ttl.
func NewReplayCache(ttl time.Duration) *ReplayCache {
	return &ReplayCache{ttl: ttl, seen: make(map[string]time.Time)}
}

// Seen records id and reports whether it was already recorded within the
// window.
func (c *ReplayCache) Seen(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.next) {
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
		c.next = now.Add(c.ttl / 2)
	}
	if exp, ok := c.seen[id]; ok && !now.After(exp) {
		return true
	}
	c.seen[id] = now.Add(c.ttl)
	return false
}
