package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/channels/smtptest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// Notification throughput (`make bench`): a fixed batch of recorded notifications drained by the
// Worker (attempt recorded, channel called, outcome recorded) to a local SMTP server and to a
// local webhook receiver, each beside a bare client sending the same number of messages to the
// same kind of server with the same concurrency. The figures are msgs/s of the timed work only
// (recording the requests happens before the timer). No figure is asserted.

// benchNotifications is the batch size; SOC_BENCH_NOTIFICATIONS overrides it.
func benchNotifications(b *testing.B) int {
	n := 2000
	if v := os.Getenv("SOC_BENCH_NOTIFICATIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SOC_BENCH_NOTIFICATIONS=%q: want a positive integer", v)
		}
	}
	return n
}

const (
	benchUser = "bench"
	benchPass = "bench-password"
	// benchSecret signs the webhooks; the receiver verifies nothing.
	benchSecret = "bench-webhook-secret-0123456789"
)

var benchRecipient = channels.Recipient{UserID: "bench-user", Name: "Bench User", Email: "bench@example.com"}

// benchRequest is the i-th notification of the batch: a new_findings message rendered from the
// channel's templates.
func benchRequest(i int, channel string) Request {
	return Request{Trigger: "new_findings|bench-scan-" + strconv.Itoa(i), Recipient: benchRecipient, Channel: channel,
		Kind: channels.KindNewFindings, Severity: "critical", Data: channels.SampleData(channels.KindNewFindings)}
}

// benchMessage is what the worker hands the channel for benchRequest (for the bare clients' bytes).
func benchMessage(i int) channels.Message {
	return channels.Message{ID: "bench-" + strconv.Itoa(i), To: benchRecipient, Kind: channels.KindNewFindings,
		Severity: "critical", Data: channels.SampleData(channels.KindNewFindings)}
}

func BenchmarkNotify(b *testing.B) {
	b.Run("smtp", func(b *testing.B) {
		srv := startBenchSMTP(b)
		s, err := channels.NewSMTP(benchSMTPConfig(b, srv))
		if err != nil {
			b.Fatal(err)
		}
		benchWorker(b, channels.ChannelEmail, s, srv.Count)
	})
	b.Run("smtp-bare", func(b *testing.B) {
		srv := startBenchSMTP(b)
		cfg := benchSMTPConfig(b, srv)
		s, err := channels.NewSMTP(cfg)
		if err != nil {
			b.Fatal(err)
		}
		msg, err := s.BuildMIME(benchMessage(0)) // the bytes the channel sends
		if err != nil {
			b.Fatal(err)
		}
		tc := cfg.TLSConfig.Clone()
		tc.ServerName, tc.MinVersion = "127.0.0.1", tls.VersionTLS12
		// One session per message, as the channel does: dial, STARTTLS, EHLO, AUTH PLAIN, MAIL,
		// RCPT, DATA, QUIT.
		send := func(int) error {
			c, err := smtp.DialStartTLS(srv.Addr(), tc)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Auth(sasl.NewPlainClient("", benchUser, benchPass)); err != nil {
				return err
			}
			if err := c.SendMail("soc@example.com", []string{benchRecipient.Email}, bytes.NewReader(msg)); err != nil {
				return err
			}
			_ = c.Quit()
			return nil
		}
		benchBare(b, channels.ChannelEmail, send, srv.Count)
	})
	b.Run("webhook", func(b *testing.B) {
		url, count := startBenchReceiver(b)
		wh, err := channels.NewWebhook(channels.WebhookConfig{URL: url, Secret: benchSecret})
		if err != nil {
			b.Fatal(err)
		}
		benchWorker(b, channels.ChannelWebhook, wh, count)
	})
	b.Run("webhook-bare", func(b *testing.B) {
		url, count := startBenchReceiver(b)
		wh, err := channels.NewWebhook(channels.WebhookConfig{URL: url, Secret: benchSecret})
		if err != nil {
			b.Fatal(err)
		}
		body, err := wh.BuildWebhookBody(benchMessage(0)) // the body the channel posts
		if err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Timeout: channels.DefaultHTTPTimeout}
		send := func(int) error {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("receiver answered %s", resp.Status)
			}
			return nil
		}
		benchBare(b, channels.ChannelWebhook, send, count)
	})
}

// startBenchSMTP starts a discarding SMTP server offering STARTTLS and requiring AUTH PLAIN.
func startBenchSMTP(b *testing.B) *smtptest.Server {
	b.Helper()
	srv, err := smtptest.Start(smtptest.Options{TLS: true, Username: benchUser, Password: benchPass, Discard: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

// benchSMTPConfig is the email channel's config for srv: STARTTLS, AUTH PLAIN, trusting its CA.
func benchSMTPConfig(b *testing.B, srv *smtptest.Server) channels.SMTPConfig {
	b.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CAPEM()) {
		b.Fatal("smtptest CA not accepted")
	}
	return channels.SMTPConfig{Addr: srv.Addr(), From: "soc@example.com", Username: benchUser, Password: benchPass,
		StartTLS: true, TLSConfig: &tls.Config{RootCAs: pool}, Timeout: 10 * time.Second}
}

// startBenchReceiver starts a webhook receiver on 127.0.0.1 that verifies nothing and answers
// 204; count is the number of requests it answered.
func startBenchReceiver(b *testing.B) (url string, count func() int64) {
	b.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL, n.Load
}

// newBenchWorker returns a worker with the default concurrency and timeouts, sending channel's
// notifications with sender.
func newBenchWorker(b *testing.B, store events.EventStore, channel string, sender channels.Sender) *Worker {
	b.Helper()
	w, err := NewWorker(WorkerConfig{Store: store, Senders: map[string]channels.Sender{channel: sender},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// benchWorker records the batch in a fresh store (untimed), then times a running Worker until
// the server counted every message and nothing is pending; it checks that every notification
// was recorded as sent.
func benchWorker(b *testing.B, channel string, sender channels.Sender, served func() int64) {
	n := benchNotifications(b)
	var timed time.Duration
	for range b.N {
		b.StopTimer()
		store := testsupport.OpenSQLiteStore(b, sqlite.Config{})
		svc := NewService(store, nil, nil)
		for i := range n {
			if _, err := svc.Request(context.Background(), benchRequest(i, channel)); err != nil {
				b.Fatal(err)
			}
		}
		w := newBenchWorker(b, store, channel, sender)
		base := served()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)

		b.StartTimer()
		t0 := time.Now()
		go func() { done <- w.Run(ctx) }()
		deadline := t0.Add(5 * time.Minute)
		for {
			if served()-base >= int64(n) {
				if live, _ := w.Pending(); live == 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				live, _ := w.Pending()
				cancel()
				b.Fatalf("timed out: server counted %d of %d, %d pending", served()-base, n, live)
			}
			time.Sleep(time.Millisecond)
		}
		timed += time.Since(t0)
		b.StopTimer()

		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if got := served() - base; got != int64(n) {
			b.Fatalf("server counted %d messages, want %d", got, n)
		}
		if sent := countEvents(b, store, contracts.TypeNotificationSent); sent != n {
			b.Fatalf("%d NotificationSent recorded, want %d", sent, n)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/timed.Seconds(), "msgs/s")
}

// benchBare sends the batch with send, as many at once as the worker's per-channel concurrency,
// until the server counted every message.
func benchBare(b *testing.B, channel string, send func(i int) error, served func() int64) {
	n := benchNotifications(b)
	// The worker's slots for channel with the default configuration.
	conc := cap(newBenchWorker(b, testsupport.OpenSQLiteStore(b, sqlite.Config{}), channel, nopSender{}).sems[channel])
	var timed time.Duration
	for range b.N {
		base := served()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, conc)
		t0 := time.Now()
		for range conc {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := send(i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		timed += time.Since(t0)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		if got := served() - base; got != int64(n) {
			b.Fatalf("server counted %d messages, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/timed.Seconds(), "msgs/s")
}

type nopSender struct{}

func (nopSender) Send(context.Context, channels.Message) error { return nil }

// countEvents counts the events of type typ in the store.
func countEvents(b *testing.B, store events.EventStore, typ string) int {
	b.Helper()
	count := 0
	var after int64
	for {
		evs, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) == 0 {
			return count
		}
		for _, e := range evs {
			if e.Type == typ {
				count++
			}
		}
		after = evs[len(evs)-1].GlobalPosition
	}
}
