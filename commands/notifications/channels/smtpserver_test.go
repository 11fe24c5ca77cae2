package channels

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/socplatform/soc/commands/notifications/channels/smtptest"
)

// A real SMTP server (github.com/emersion/go-smtp, through smtptest) running in the test process,
// recording what it receives; the knobs below change its answers while a test runs.

type receivedMail = smtptest.Mail

type testBackend struct {
	user, pass string // when set, AUTH PLAIN is offered and required
	discard    bool   // benchmarks: count only

	dataReply atomic.Int64  // non-zero: reject DATA with this code
	rcptReply atomic.Int64  // non-zero: reject RCPT with this code
	dataDelay time.Duration // sleep before answering DATA

	srv *smtptest.Server
}

func (be *testBackend) Mails() []receivedMail { return be.srv.Mails() }
func (be *testBackend) Count() int64          { return be.srv.Count() }
func (be *testBackend) AuthAttempts() int64   { return be.srv.AuthAttempts() }

type serverOpts struct {
	tls               bool // offer STARTTLS with a self-signed certificate
	allowInsecureAuth bool
	noSMTPUTF8        bool
}

// startSMTP starts a server on 127.0.0.1 and returns its address and the CA pool that trusts
// its certificate.
func startSMTP(t testing.TB, be *testBackend, o serverOpts) (string, *x509.CertPool) {
	t.Helper()
	srv, err := smtptest.Start(smtptest.Options{TLS: o.tls, Username: be.user, Password: be.pass, Discard: be.discard,
		AllowInsecureAuth: o.allowInsecureAuth, NoSMTPUTF8: o.noSMTPUTF8,
		OnRcpt: func(string) error {
			if code := be.rcptReply.Load(); code != 0 {
				return &smtp.SMTPError{Code: int(code), EnhancedCode: smtp.EnhancedCode{int(code / 100), 1, 1}, Message: "mailbox unavailable"}
			}
			return nil
		},
		OnData: func(smtptest.Mail) error {
			if be.dataDelay > 0 {
				time.Sleep(be.dataDelay)
			}
			if code := be.dataReply.Load(); code != 0 {
				return &smtp.SMTPError{Code: int(code), EnhancedCode: smtp.EnhancedCode{int(code / 100), 3, 0}, Message: "rejected by test server"}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	be.srv = srv
	var pool *x509.CertPool
	if o.tls {
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(srv.CAPEM()) {
			t.Fatal("smtptest: no CA certificate")
		}
	}
	return srv.Addr(), pool
}

// freeAddr returns an address nothing listens on.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func tlsClientConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool}
}
