package channels

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The receivers below stand in for Slack's, Microsoft's and Twilio's
// servers, which cannot run here. They parse the documented payload formats
// and answer like those services do.

type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	reqs   []*http.Request
}

func (r *recorder) add(req *http.Request, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	r.reqs = append(r.reqs, req)
}

func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// --- Slack

func TestSlackPayload(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.add(r, body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		var p struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
				Elements []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := NewSlack(SlackConfig{WebhookURL: srv.URL + "/services/T000/B000/XXXX"})
	if err != nil {
		t.Fatal(err)
	}

	// Templated: data is escaped, template markup is kept.
	data := SampleData(KindKEVAlert)
	data["Finding"].(map[string]any)["Title"] = "Injected <!channel> & <https://evil|click>"
	if err := s.Send(context.Background(), Message{ID: "kev-1", Kind: KindKEVAlert, Severity: "critical", Data: data}); err != nil {
		t.Fatal(err)
	}
	var p SlackPayload
	if err := json.Unmarshal(rec.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Blocks[0].Type != "header" || p.Blocks[0].Text.Type != "plain_text" || !strings.HasPrefix(p.Blocks[0].Text.Text, "[SOC CRITICAL] Known exploited CVE-2024-6387") {
		t.Fatalf("header block %+v", p.Blocks[0])
	}
	sec := p.Blocks[1]
	if sec.Type != "section" || sec.Text.Type != "mrkdwn" {
		t.Fatalf("section block %+v", sec)
	}
	if !strings.Contains(sec.Text.Text, "Injected &lt;!channel&gt; &amp; &lt;https://evil|click&gt;") {
		t.Fatalf("data not escaped: %q", sec.Text.Text)
	}
	if !strings.Contains(sec.Text.Text, "<https://soc.example.com/findings/0192f3a0|") {
		t.Fatalf("template link lost: %q", sec.Text.Text)
	}
	last := p.Blocks[len(p.Blocks)-1]
	if last.Type != "context" || !strings.Contains(last.Elements[0].Text, "kev-1") {
		t.Fatalf("context block %+v", last)
	}

	// Explicit text is plain text: everything escaped.
	if err := s.Send(context.Background(), Message{ID: "raw-1", Subject: "a < b", Text: "x & <y>"}); err != nil {
		t.Fatal(err)
	}
	p = SlackPayload{}
	_ = json.Unmarshal(rec.bodies[1], &p)
	if p.Text != "a &lt; b" || p.Blocks[1].Text.Text != "x &amp; &lt;y&gt;" {
		t.Fatalf("payload %+v", p)
	}

	// Long bodies are split into sections of at most 3000 characters.
	long := strings.Repeat("line of findings\n", 500)
	if err := s.Send(context.Background(), Message{ID: "long", Subject: "s", Text: long}); err != nil {
		t.Fatal(err)
	}
	p = SlackPayload{}
	_ = json.Unmarshal(rec.bodies[2], &p)
	if len(p.Blocks) < 4 {
		t.Fatalf("expected several sections, got %d blocks", len(p.Blocks))
	}
	for _, b := range p.Blocks {
		if b.Text != nil && len([]rune(b.Text.Text)) > 3000 {
			t.Fatal("section over 3000 characters")
		}
	}
}

func TestSlackErrors(t *testing.T) {
	cases := []struct {
		status     int
		body       string
		retryAfter string
		retryable  bool
		wait       time.Duration
	}{
		{400, "invalid_payload", "", false, 0},
		{403, "action_prohibited", "", false, 0},
		{404, "channel_not_found", "", false, 0},
		{410, "channel_is_archived", "", false, 0},
		{408, "", "", true, 0},
		{429, "rate_limited", "7", true, 7 * time.Second},
		{500, "rollup_error", "", true, 0},
		{503, "", "2", true, 2 * time.Second},
		{302, "", "", false, 0}, // redirects are not followed
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.retryAfter != "" {
					w.Header().Set("Retry-After", c.retryAfter)
				}
				if c.status == 302 {
					w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			s, _ := NewSlack(SlackConfig{WebhookURL: srv.URL})
			err := s.Send(context.Background(), Message{ID: "x", Subject: "s", Text: "t"})
			ok, wait := Retryable(err)
			if err == nil || ok != c.retryable || wait != c.wait {
				t.Fatalf("err=%v retryable=%v wait=%s; want %v %s", err, ok, wait, c.retryable, c.wait)
			}
			if c.body != "" && !strings.Contains(err.Error(), c.body) {
				t.Fatalf("error lacks server reason: %v", err)
			}
		})
	}
}

func TestHTTPConfigValidation(t *testing.T) {
	for _, u := range []string{"", "http://hooks.slack.com/services/x", "ftp://x", "https://user:pw@hooks.slack.com/x", "::"} {
		if err := (SlackConfig{WebhookURL: u}).Validate(); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	for _, u := range []string{"https://hooks.slack.com/services/T/B/X", "http://127.0.0.1:8080/x", "http://localhost/x"} {
		if err := (SlackConfig{WebhookURL: u}).Validate(); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
	c := SlackConfig{WebhookURL: "https://hooks.slack.com/services/T0/B0/SECRETTOKEN"}
	if s := fmt.Sprint(c); strings.Contains(s, "SECRETTOKEN") {
		t.Fatalf("webhook secret printed: %s", s)
	}
	tc := TeamsConfig{WebhookURL: "https://example.webhook.office.com/webhookb2/abc?sig=SECRETSIG"}
	if s := fmt.Sprint(tc); strings.Contains(s, "SECRETSIG") || strings.Contains(s, "abc") {
		t.Fatalf("webhook secret printed: %s", s)
	}
	// Transport errors do not leak the URL either.
	s, _ := NewSlack(SlackConfig{WebhookURL: "http://" + freeAddr(t) + "/services/T0/B0/SECRETTOKEN"})
	err := s.Send(context.Background(), Message{ID: "x", Text: "t"})
	if ok, _ := Retryable(err); !ok || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("err = %v", err)
	}
	var unset SlackConfig
	parseFlags(t, unset.RegisterFlags)
	if unset.Configured() {
		t.Fatal("unset must mean not configured")
	}
}

func TestHTTPContextTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s, _ := NewSlack(SlackConfig{WebhookURL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, Message{ID: "x", Text: "t"})
	if time.Since(start) > 2*time.Second {
		t.Fatal("context deadline not honoured")
	}
	if ok, _ := Retryable(err); !ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The per-attempt timeout of the config.
	w, _ := NewWebhook(WebhookConfig{URL: srv.URL, Secret: strings.Repeat("k", 32), Timeout: 100 * time.Millisecond})
	err = w.Send(context.Background(), Message{ID: "x", Text: "t"})
	if ok, _ := Retryable(err); !ok {
		t.Fatalf("err = %v", err)
	}
}

// --- Teams

func TestTeamsPayload(t *testing.T) {
	rec := &recorder{}
	var throttled atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.add(r, body)
		if throttled.Load() {
			io.WriteString(w, "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0")
			return
		}
		io.WriteString(w, "1")
	}))
	defer srv.Close()
	tm, err := NewTeams(TeamsConfig{WebhookURL: srv.URL + "/webhookb2/x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Send(context.Background(), Message{ID: "sla-1", Kind: KindSLABreach, Severity: "high", Data: SampleData(KindSLABreach)}); err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			ContentURL  *string         `json:"contentUrl"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(rec.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || msg.Attachments[0].ContentURL != nil {
		t.Fatalf("message %+v", msg)
	}
	var card struct {
		Schema  string           `json:"$schema"`
		Type    string           `json:"type"`
		Version string           `json:"version"`
		Body    []map[string]any `json:"body"`
	}
	if err := json.Unmarshal(msg.Attachments[0].Content, &card); err != nil {
		t.Fatal(err)
	}
	if card.Type != "AdaptiveCard" || card.Version != "1.4" || card.Schema == "" {
		t.Fatalf("card %+v", card)
	}
	if card.Body[0]["type"] != "TextBlock" || !strings.HasPrefix(card.Body[0]["text"].(string), "[SOC ESCALATION] SLA breached") || card.Body[0]["color"] != "Attention" {
		t.Fatalf("title block %v", card.Body[0])
	}
	if card.Body[1]["wrap"] != true || !strings.Contains(card.Body[1]["text"].(string), "owner Alice Example") {
		t.Fatalf("text block %v", card.Body[1])
	}
	if card.Body[2]["type"] != "FactSet" {
		t.Fatalf("facts %v", card.Body[2])
	}

	throttled.Store(true)
	err = tm.Send(context.Background(), Message{ID: "sla-2", Subject: "s", Text: "t"})
	if ok, _ := Retryable(err); !ok {
		t.Fatalf("throttling in a 200 body must be transient: %v", err)
	}
}

// --- SMS (Twilio-compatible)

func TestSMSTwilio(t *testing.T) {
	rec := &recorder{}
	var status atomic.Int64
	var retryAfter atomic.Value
	retryAfter.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		rec.add(r, []byte(r.PostForm.Encode()))
		user, pass, ok := r.BasicAuth()
		switch {
		case r.URL.Path != "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json":
			w.WriteHeader(404)
			io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
		case !ok || user != "AC0123456789abcdef" || pass != "tw-token":
			w.WriteHeader(401)
			io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
		case status.Load() != 0:
			if ra := retryAfter.Load().(string); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			w.WriteHeader(int(status.Load()))
			fmt.Fprintf(w, `{"code":21211,"message":"Invalid 'To' Phone Number","status":%d}`, status.Load())
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"sid":"SM0001","status":"queued","to":%q,"from":%q,"body":%q}`, r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body"))
		}
	}))
	defer srv.Close()
	s, err := NewSMS(SMSConfig{BaseURL: srv.URL, AccountSID: "AC0123456789abcdef", AuthToken: "tw-token", From: "+14155550100"})
	if err != nil {
		t.Fatal(err)
	}
	to := Recipient{Phone: "+4915123456789"}
	if err := s.Send(context.Background(), Message{ID: "kev-1", To: to, Kind: KindKEVAlert, Data: SampleData(KindKEVAlert)}); err != nil {
		t.Fatal(err)
	}
	req := rec.reqs[0]
	if req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %q", req.Header.Get("Content-Type"))
	}
	if req.PostForm.Get("To") != "+4915123456789" || req.PostForm.Get("From") != "+14155550100" || !strings.HasPrefix(req.PostForm.Get("Body"), "SOC CRITICAL: known exploited CVE-2024-6387") {
		t.Fatalf("form %v", req.PostForm)
	}

	// Long bodies are cut to 1600 characters.
	if err := s.Send(context.Background(), Message{ID: "long", To: to, Text: strings.Repeat("ü", 2000)}); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(rec.reqs[1].PostForm.Get("Body"))); n != MaxSMSBody {
		t.Fatalf("body %d characters, want %d", n, MaxSMSBody)
	}

	// Numbers that are not E.164 never reach the API.
	for _, bad := range []string{"", "015123456789", "+0123", "+1 415 555 0100", "+1234567890123456"} {
		if err := s.Send(context.Background(), Message{ID: "x", To: Recipient{Phone: bad}, Text: "t"}); !IsPermanent(err) {
			t.Fatalf("phone %q: %v", bad, err)
		}
	}
	if rec.n() != 2 {
		t.Fatalf("%d requests", rec.n())
	}

	status.Store(400)
	err = s.Send(context.Background(), Message{ID: "x", To: to, Text: "t"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "21211") {
		t.Fatalf("err = %v", err)
	}
	status.Store(429)
	retryAfter.Store("3")
	if ok, wait := Retryable(s.Send(context.Background(), Message{ID: "x", To: to, Text: "t"})); !ok || wait != 3*time.Second {
		t.Fatalf("429: retryable=%v wait=%s", ok, wait)
	}
	status.Store(503)
	retryAfter.Store("")
	if ok, _ := Retryable(s.Send(context.Background(), Message{ID: "x", To: to, Text: "t"})); !ok {
		t.Fatal("503 must be retryable")
	}

	// Wrong credentials: permanent.
	bad, _ := NewSMS(SMSConfig{BaseURL: srv.URL, AccountSID: "AC0123456789abcdef", AuthToken: "wrong", From: "+14155550100"})
	status.Store(0)
	if err := bad.Send(context.Background(), Message{ID: "x", To: to, Text: "t"}); !IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMSConfig(t *testing.T) {
	err := SMSConfig{BaseURL: "http://api.example.com", From: "555"}.Validate()
	for _, want := range []string{"SOC_SMS_URL", "SOC_SMS_ACCOUNT_SID", "SOC_SMS_AUTH_TOKEN", "SOC_SMS_FROM"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	c := SMSConfig{AccountSID: "AC1", AuthToken: "tok-SECRET", From: "+14155550100"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(c), "tok-SECRET") {
		t.Fatal("token printed")
	}
}

// --- Retry-After

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"120":                           2 * time.Minute,
		"999999":                        maxRetryAfter,
		"Thu, 01 Jan 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 01 Jan 2026 11:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
	if ok, _ := Retryable(nil); ok {
		t.Fatal("nil is not retryable")
	}
	if ok, _ := Retryable(errors.New("unknown")); !ok {
		t.Fatal("unclassified errors are retryable")
	}
	if ok, _ := Retryable(fmt.Errorf("wrapped: %w", &PermanentError{Channel: "x", Err: errors.New("y")})); ok {
		t.Fatal("wrapped permanent must not be retryable")
	}
}
