package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
)

// TestHotChannelKeys: the KV keys are the channel flags in snake_case, secrets included.
func TestHotChannelKeys(t *testing.T) {
	keys := channelKeys()
	for _, want := range []string{"smtp_addr", "smtp_password", "slack_webhook_url", "teams_webhook_url", "webhook_url", "webhook_secret", "sms_auth_token"} {
		if !slices.Contains(keys, want) {
			t.Errorf("%s missing from %v", want, keys)
		}
	}
}

// TestHotNotificationChannels: the notifier's subscriber of config/soc/notifier builds the
// channels from the flags overlaid with the KV keys, checked as at start: a webhook put there
// gets the next notifications (a real worker posting to a real receiver), a bad value is
// refused naming its key and never its value, the set in force kept; without the keys the
// flags' channels are back.
func TestHotNotificationChannels(t *testing.T) {
	const secret = "hot-webhook-secret-0123456789"
	var mu sync.Mutex
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/slack" { // Slack's incoming webhooks are not signed
			if err := channels.VerifyWebhook([]byte(secret), r.Header, body, time.Now(), time.Minute); err != nil {
				t.Errorf("%s: %v", r.URL.Path, err)
			}
		}
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)

	var logs bytes.Buffer
	cfg := &Config{StoreConfig: StoreConfig{DataDir: t.TempDir(), SQLiteSync: "NORMAL"}, Targets: []string{"notifier"}}
	cfg.Channels.Slack.WebhookURL = receiver.URL + "/slack"
	a := &app{cfg: cfg, log: newLogger(&logs, "info")}
	store, b, _, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	tmpl := channels.DefaultTemplates()
	senders, err := notificationChannels(cfg.Channels, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	w, err := notifyapp.NewWorker(notifyapp.WorkerConfig{Store: store, Senders: senders, Logger: a.log})
	if err != nil {
		t.Fatal(err)
	}
	hot := a.newHotChannels(w, tmpl, senders, nil)
	svc := notifyapp.NewService(store, nil, nil)
	n := 0
	deliver := func(channel string) {
		t.Helper()
		n++
		_, err := svc.Request(context.Background(), notifyapp.Request{Trigger: "hot-" + strconv.Itoa(n), Channel: channel,
			Recipient: channels.Recipient{UserID: "alice", Name: "Alice", Email: "alice@example.com"},
			Kind:      channels.KindKEVAlert, Severity: "high", Subject: "KEV on web-01", Text: "patch web-01"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.DispatchDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.Wait()
	}
	put := func(v string) {
		t.Helper()
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatal(err)
		}
		a.consulNode().apply("notifier", m)
	}
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}

	put(`{"webhook_url":"` + receiver.URL + `/hook","webhook_secret":"` + secret + `","log_level":"info"}`)
	if c := hot.configured(); !slices.Equal(c, []string{"slack", "webhook"}) {
		t.Fatalf("configured %v", c)
	}
	deliver("webhook")
	deliver("slack") // the flag's channel stays
	if r := received(); !slices.Equal(r, []string{"/hook", "/slack"}) {
		t.Fatalf("received %v", r)
	}

	// A bad value: refused naming the key, never showing a value; the set in force stays.
	for _, bad := range []string{
		`{"webhook_url":"ftp://hooks.example.com/x","webhook_secret":"` + secret + `"}`,
		`{"webhook_url":"` + receiver.URL + `/hook","webhook_secret":"` + secret + `","slack_webhook_url":{"nested":"x"}}`,
	} {
		logs.Reset()
		put(bad)
		if !strings.Contains(logs.String(), "the notification channels in force are kept") || strings.Contains(logs.String(), secret) ||
			strings.Contains(logs.String(), "hooks.example.com") || strings.Contains(logs.String(), receiver.URL) {
			t.Fatalf("%s logged:\n%s", bad, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "slack_webhook_url") {
		t.Fatalf("the bad key is not named:\n%s", logs.String())
	}
	deliver("webhook")
	if r := received(); len(r) != 3 || r[2] != "/hook" {
		t.Fatalf("after refusals, received %v", r)
	}

	// The webhook's URL changes: the next notification goes to the new one.
	put(`{"webhook_url":"` + receiver.URL + `/hook2","webhook_secret":"` + secret + `"}`)
	deliver("webhook")
	if r := received(); len(r) != 4 || r[3] != "/hook2" {
		t.Fatalf("after the URL changed, received %v", r)
	}

	put(`{"log_level":"info"}`)
	if c := hot.configured(); !slices.Equal(c, []string{"slack"}) {
		t.Fatalf("without the keys, configured %v; want the flags' slack", c)
	}
}
