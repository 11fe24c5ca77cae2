package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testUser = "soc-notifier"
	testPass = "s3cret-Passw0rd"
)

func tlsSMTP(t testing.TB) (*SMTP, *testBackend) {
	t.Helper()
	be := &testBackend{user: testUser, pass: testPass}
	addr, pool := startSMTP(t, be, serverOpts{tls: true})
	cfg := SMTPConfig{Addr: addr, From: "SOC Platform <soc@example.com>", Username: testUser, Password: testPass, StartTLS: true, Timeout: 5 * time.Second}
	cfg.TLSConfig = tlsClientConfig(pool)
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, be
}

func TestSMTPStartTLSAuthPlainDeliversMIME(t *testing.T) {
	s, be := tlsSMTP(t)
	subject := "Überprüfung: 3 neue Befunde ✓"
	text := "Hello Jörg,\n.hidden line starts with a dot\n..two dots\nend\n"
	html := "<p>Hello J&ouml;rg</p>\n.<b>dot</b>\n"
	m := Message{ID: "0192f3a0-0000-7000-8000-00000000abcd", To: Recipient{Name: "Jörg Müller", Email: "joerg@example.com"}, Subject: subject, Text: text, HTML: html, Severity: "critical", Kind: KindNewFindings}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mails := be.Mails()
	if len(mails) != 1 {
		t.Fatalf("server received %d messages, want 1", len(mails))
	}
	got := mails[0]
	if !got.TLS || got.AuthUser != testUser {
		t.Fatalf("session TLS=%v auth=%q, want TLS and %q", got.TLS, got.AuthUser, testUser)
	}
	if got.From != "soc@example.com" || len(got.To) != 1 || got.To[0] != "joerg@example.com" {
		t.Fatalf("envelope from=%q to=%v", got.From, got.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if id := msg.Header.Get("Message-Id"); id != "<0192f3a0-0000-7000-8000-00000000abcd@soc-platform>" {
		t.Fatalf("Message-ID = %q", id)
	}
	if d := msg.Header.Get(HeaderDelivery); d != m.ID {
		t.Fatalf("X-SOC-Delivery = %q", d)
	}
	rawSubj := msg.Header.Get("Subject")
	if !strings.Contains(strings.ToLower(rawSubj), "=?utf-8?q?") {
		t.Fatalf("subject not Q-encoded: %q", rawSubj)
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(rawSubj)
	if err != nil || dec != subject {
		t.Fatalf("decoded subject = %q, %v; want %q", dec, err, subject)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || to[0].Name != "Jörg Müller" || to[0].Address != "joerg@example.com" {
		t.Fatalf("To = %v, %v", to, err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || from[0].Name != "SOC Platform" {
		t.Fatalf("From = %v, %v", from, err)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Fatalf("Date: %v", err)
	}
	if msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatal("Auto-Submitted missing")
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", mediaType, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	wantParts := []struct{ ctype, body string }{{"text/plain", text}, {"text/html", html}}
	for i, want := range wantParts {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if ct != want.ctype || cp["charset"] != "utf-8" {
			t.Fatalf("part %d content type %q %v", i, ct, cp)
		}
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Fatalf("part %d body\n got %q\nwant %q", i, got, want.body)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("expected exactly two parts, got %v", err)
	}
	// Every line is CRLF-terminated and no line exceeds 998 octets.
	for _, line := range strings.Split(string(got.Data), "\r\n") {
		if strings.Contains(line, "\n") || len(line) > 998 {
			t.Fatalf("bad line %q", line)
		}
	}
}

func TestSMTPResendKeepsMessageID(t *testing.T) {
	s, be := tlsSMTP(t)
	m := Message{ID: "notif-42.user-7.email", To: Recipient{Email: "a@example.com"}, Subject: "s", Text: "t"}
	for range 2 {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	mails := be.Mails()
	if len(mails) != 2 {
		t.Fatalf("got %d mails", len(mails))
	}
	seen := map[string]int{}
	for _, ml := range mails {
		msg, _ := mail.ReadMessage(bytes.NewReader(ml.Data))
		seen[msg.Header.Get("Message-Id")]++
	}
	if seen["<notif-42.user-7.email@soc-platform>"] != 2 {
		t.Fatalf("Message-IDs %v: a resend must carry the same id", seen)
	}
}

func TestSMTPRendersTemplatesWhenNoBody(t *testing.T) {
	s, be := tlsSMTP(t)
	data := SampleData(KindNewFindings)
	m := Message{ID: "scan-1.user-1", To: Recipient{Name: "Alice", Email: "alice@example.com"}, Kind: KindNewFindings, Severity: "critical", Data: data}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, _ := mail.ReadMessage(bytes.NewReader(be.Mails()[0].Data))
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subj != "[SOC] 2 new findings from scan nightly nmap 10.0.0.0/24" {
		t.Fatalf("subject %q", subj)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	p, _ := mr.NextPart()
	txt, _ := io.ReadAll(p)
	p, _ = mr.NextPart()
	html, _ := io.ReadAll(p)
	for _, want := range []string{"Hello Alice", "[CRITICAL] OpenSSH regreSSHion remote code execution on web-01.prod.example.com (CVE-2024-6387)", "[HIGH] TLS 1.0 enabled on mail.example.com"} {
		if !strings.Contains(string(txt), want) {
			t.Fatalf("text part lacks %q:\n%s", want, txt)
		}
	}
	if !strings.Contains(string(html), "<td>CVE-2024-6387</td>") {
		t.Fatalf("html part:\n%s", html)
	}
}

func TestSMTPRefusesCredentialsOverPlaintext(t *testing.T) {
	// Configuration: credentials without STARTTLS are refused.
	cfg := SMTPConfig{Addr: "smtp.example.com:587", From: "soc@example.com", Username: "u", Password: "p", StartTLS: false}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "plaintext") {
		t.Fatalf("Validate = %v, want plaintext refusal", err)
	}
	if _, err := NewSMTP(cfg); err == nil {
		t.Fatal("NewSMTP accepted credentials over plaintext")
	}
	// AllowInsecureAuth is for loopback test servers only.
	cfg.AllowInsecureAuth = true
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Validate = %v, want loopback-only refusal", err)
	}

	// STARTTLS required, server does not offer it: permanent failure, and
	// the credentials never reached the server.
	be := &testBackend{user: testUser, pass: testPass}
	addr, _ := startSMTP(t, be, serverOpts{allowInsecureAuth: true})
	s, err := NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com", Username: testUser, Password: testPass, StartTLS: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{ID: "m1", To: Recipient{Email: "a@example.com"}, Subject: "s", Text: "t"})
	if !IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want permanent STARTTLS failure", err)
	}
	if n := be.AuthAttempts(); n != 0 {
		t.Fatalf("server saw %d AUTH attempts", n)
	}

	// Explicitly allowed on loopback: works (local test servers).
	s, err = NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com", Username: testUser, Password: testPass, AllowInsecureAuth: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{ID: "m2", To: Recipient{Email: "a@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := be.Mails(); len(got) != 1 || got[0].AuthUser != testUser || got[0].TLS {
		t.Fatalf("mails %+v", got)
	}
}

func TestSMTPErrorClassification(t *testing.T) {
	msg := Message{ID: "m1", To: Recipient{Email: "a@example.com"}, Subject: "s", Text: "t"}

	// The server's reply code decides: 5xx (at DATA or RCPT) is permanent, 4xx transient.
	for _, c := range []struct {
		name      string
		reply     func(*testBackend) *atomic.Int64
		code      int
		retryable bool
	}{
		{"5xx at DATA is permanent", func(be *testBackend) *atomic.Int64 { return &be.dataReply }, 554, false},
		{"5xx at RCPT is permanent", func(be *testBackend) *atomic.Int64 { return &be.rcptReply }, 550, false},
		{"4xx is transient", func(be *testBackend) *atomic.Int64 { return &be.dataReply }, 451, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, be := tlsSMTP(t)
			c.reply(be).Store(int64(c.code))
			err := s.Send(context.Background(), msg)
			var pe *PermanentError
			var te *TransientError
			switch {
			case c.retryable && (!errors.As(err, &te) || te.Code != c.code):
				t.Fatalf("err = %v, want TransientError %d", err, c.code)
			case !c.retryable && (!errors.As(err, &pe) || pe.Code != c.code):
				t.Fatalf("err = %v, want PermanentError %d", err, c.code)
			}
			if ok, _ := Retryable(err); ok != c.retryable {
				t.Fatalf("%d: retryable %v, want %v", c.code, ok, c.retryable)
			}
		})
	}
	t.Run("wrong password is permanent and not printed", func(t *testing.T) {
		be := &testBackend{user: testUser, pass: "another-password"}
		addr, pool := startSMTP(t, be, serverOpts{tls: true})
		s, err := NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com", Username: testUser, Password: testPass, StartTLS: true, TLSConfig: tlsClientConfig(pool)})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), msg)
		if !IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), testPass) {
			t.Fatal("password in error")
		}
	})
	t.Run("connection refused is transient", func(t *testing.T) {
		s, err := NewSMTP(SMTPConfig{Addr: freeAddr(t), From: "soc@example.com", StartTLS: true})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), msg)
		if ok, _ := Retryable(err); !ok || IsPermanent(err) {
			t.Fatalf("err = %v, want retryable", err)
		}
	})
	t.Run("untrusted certificate is permanent", func(t *testing.T) {
		be := &testBackend{}
		addr, _ := startSMTP(t, be, serverOpts{tls: true})
		s, _ := NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com", StartTLS: true})
		if err := s.Send(context.Background(), msg); !IsPermanent(err) {
			t.Fatalf("err = %v, want permanent (certificate)", err)
		}
		if len(be.Mails()) != 0 {
			t.Fatal("sent over an untrusted connection")
		}
	})
	t.Run("bad recipient is permanent", func(t *testing.T) {
		s, _ := tlsSMTP(t)
		for _, to := range []string{"", "not an address", "a@example.com\r\nBcc: x@example.com", "Name <a@example.com>"} {
			if err := s.Send(context.Background(), Message{ID: "m", To: Recipient{Email: to}, Text: "t"}); !IsPermanent(err) {
				t.Fatalf("to %q: err = %v", to, err)
			}
		}
	})
	t.Run("bad id is permanent", func(t *testing.T) {
		s, _ := tlsSMTP(t)
		if err := s.Send(context.Background(), Message{ID: "a b>", To: Recipient{Email: "a@example.com"}, Text: "t"}); !IsPermanent(err) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSMTPContextTimeout(t *testing.T) {
	// A server that accepts the connection and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, _ := NewSMTP(SMTPConfig{Addr: l.Addr().String(), From: "soc@example.com", StartTLS: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, Message{ID: "m", To: Recipient{Email: "a@example.com"}, Text: "t"})
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Send took %s despite a 200ms context", el)
	}
	if ok, _ := Retryable(err); !ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want retryable deadline exceeded", err)
	}

	// The config's own timeout bounds an attempt too.
	s, _ = NewSMTP(SMTPConfig{Addr: l.Addr().String(), From: "soc@example.com", StartTLS: true, Timeout: 150 * time.Millisecond})
	err = s.Send(context.Background(), Message{ID: "m", To: Recipient{Email: "a@example.com"}, Text: "t"})
	if ok, _ := Retryable(err); !ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want retryable deadline exceeded", err)
	}
}

func TestSMTPConfig(t *testing.T) {
	var c SMTPConfig
	parseFlags(t, c.RegisterFlags, "--smtp-addr", "mail.example.com:587", "--smtp-from", "SOC <soc@example.com>",
		"--smtp-username", "bot", "--smtp-password", "hunter2-very-secret")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.StartTLS || !c.Configured() {
		t.Fatal("STARTTLS must default to true")
	}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("password printed: %s", s)
		}
	}

	// An unparsable SOC_SMTP_STARTTLS is reported by the command's flag binder, which names
	// the variable (cmd/soc TestConfigEnvironmentVariables); here the rule behind it: no
	// credentials without STARTTLS.
	var bad SMTPConfig
	parseFlags(t, bad.RegisterFlags, "--smtp-addr", "nohost", "--smtp-from", "not an address",
		"--smtp-password", "hunter2-very-secret", "--smtp-starttls=false", "--smtp-ca-file", filepath.Join(t.TempDir(), "missing.pem"))
	err := bad.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"SOC_SMTP_ADDR", "SOC_SMTP_FROM", "SOC_SMTP_USERNAME", "SOC_SMTP_CA_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatal("password in validation error")
	}
	if (SMTPConfig{}).Configured() {
		t.Fatal("empty config must not be configured")
	}
}

func TestFoldHeaderLongSubject(t *testing.T) {
	s, be := tlsSMTP(t)
	subject := strings.Repeat("Schwachstelle gefunden für äöü ", 20)
	if err := s.Send(context.Background(), Message{ID: "long", To: Recipient{Email: "a@example.com"}, Subject: subject, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	raw := be.Mails()[0].Data
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Fatalf("header line longer than 78: %q", line)
		}
	}
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	dec, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || dec != strings.TrimSpace(subject) {
		t.Fatalf("subject round trip: %q %v", dec, err)
	}
}

func TestSMTPInternationalizedAddress(t *testing.T) {
	s, be := tlsSMTP(t)
	if err := s.Send(context.Background(), Message{ID: "i18n", To: Recipient{Email: "jörg@example.com"}, Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := be.Mails(); len(got) != 1 || got[0].To[0] != "jörg@example.com" {
		t.Fatalf("mails %+v", got)
	}
	be2 := &testBackend{}
	addr, _ := startSMTP(t, be2, serverOpts{noSMTPUTF8: true})
	s2, _ := NewSMTP(SMTPConfig{Addr: addr, From: "soc@example.com"})
	if err := s2.Send(context.Background(), Message{ID: "i18n", To: Recipient{Email: "jörg@example.com"}, Text: "t"}); !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent (no SMTPUTF8)", err)
	}
}
