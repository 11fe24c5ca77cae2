package channels

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Throughput of the channels against local servers, each beside a bare
// client doing the same protocol work with the same bytes: the ratio is the
// channel's overhead (rendering, MIME, validation, classification).

func benchMessage(i int) Message {
	return Message{ID: "bench-" + strconv.Itoa(i), To: Recipient{Name: "Bench User", Email: "bench@example.com"}, Kind: KindNewFindings, Severity: "critical", Data: SampleData(KindNewFindings)}
}

// prerendered is benchMessage with its content already rendered, to
// separate template cost from delivery cost.
func prerendered(i int) Message {
	m := benchMessage(i)
	r, err := DefaultTemplates().Render(ChannelEmail, m)
	if err != nil {
		panic(err)
	}
	m.Subject, m.Text, m.HTML = r.Subject, r.Text, r.HTML
	return m
}

type smtpBenchMode struct {
	name string
	tls  bool
}

var smtpBenchModes = []smtpBenchMode{{"plain", false}, {"starttls+auth", true}}

func BenchmarkSMTPChannel(b *testing.B) {
	for _, mode := range smtpBenchModes {
		b.Run(mode.name, func(b *testing.B) {
			be := &testBackend{discard: true}
			cfg := SMTPConfig{From: "soc@example.com", Timeout: 10 * time.Second}
			if mode.tls {
				be.user, be.pass = testUser, testPass
			}
			addr, pool := startSMTP(b, be, serverOpts{tls: mode.tls})
			cfg.Addr = addr
			if mode.tls {
				cfg.StartTLS, cfg.Username, cfg.Password, cfg.TLSConfig = true, testUser, testPass, tlsClientConfig(pool)
			}
			s, err := NewSMTP(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var start int64
			benchSend(b, s, func() { start = be.Count() }, func(b *testing.B, sent int) {
				if got := be.Count() - start; got != int64(sent) {
					b.Fatalf("server counted %d, sent %d", got, sent)
				}
			})
		})
	}
}

func BenchmarkSMTPBare(b *testing.B) {
	for _, mode := range smtpBenchModes {
		b.Run(mode.name, func(b *testing.B) {
			be := &testBackend{discard: true}
			if mode.tls {
				be.user, be.pass = testUser, testPass
			}
			addr, pool := startSMTP(b, be, serverOpts{tls: mode.tls})
			// The same bytes the channel would send.
			s, _ := NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com", StartTLS: true})
			msg, err := s.BuildMIME(benchMessage(0))
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				var c *smtp.Client
				if mode.tls {
					c, err = smtp.DialStartTLS(addr, tlsClientConfig(pool))
					if err == nil {
						err = c.Auth(sasl.NewPlainClient("", testUser, testPass))
					}
				} else {
					c, err = smtp.Dial(addr)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := c.SendMail("soc@example.com", []string{"bench@example.com"}, bytes.NewReader(msg)); err != nil {
					b.Fatal(err)
				}
				_ = c.Quit()
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func webhookBenchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkWebhookChannel(b *testing.B) {
	srv := webhookBenchServer(b)
	w, err := NewWebhook(WebhookConfig{URL: srv.URL, Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	benchSend(b, w, func() {}, func(*testing.B, int) {})
}

func BenchmarkWebhookBare(b *testing.B) {
	srv := webhookBenchServer(b)
	w, _ := NewWebhook(WebhookConfig{URL: srv.URL, Secret: testSecret})
	body, err := w.BuildWebhookBody(benchMessage(0))
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: DefaultHTTPTimeout}
	i := 0
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatal(resp.Status)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
}

// benchSend runs the channel's Send over a message whose content is rendered
// by the templates and over one already rendered, each a sub-benchmark:
// before runs ahead of the loop, after is given how many messages were sent.
func benchSend(b *testing.B, ch interface {
	Send(context.Context, Message) error
}, before func(), after func(b *testing.B, sent int)) {
	for _, content := range []struct {
		name string
		msg  func(int) Message
	}{{"template", benchMessage}, {"prerendered", prerendered}} {
		b.Run(content.name, func(b *testing.B) {
			m := content.msg(0)
			before()
			i := 0
			for b.Loop() {
				m.ID = "bench-" + strconv.Itoa(i)
				if err := ch.Send(context.Background(), m); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
			after(b, i)
		})
	}
}
