package channels

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// A real SMTP server (github.com/emersion/go-smtp) running in the test
// process, recording what it receives.

type receivedMail struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool
	AuthUser string
}

type testBackend struct {
	user, pass string // when set, AUTH PLAIN is offered and required

	mu    sync.Mutex
	mails []receivedMail

	authAttempts atomic.Int64
	count        atomic.Int64
	discard      bool          // benchmarks: count only
	dataReply    atomic.Int64  // non-zero: reject DATA with this code
	rcptReply    atomic.Int64  // non-zero: reject RCPT with this code
	dataDelay    time.Duration // sleep before answering DATA
}

func (be *testBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &testSession{be: be, tls: isTLS}, nil
}

func (be *testBackend) Mails() []receivedMail {
	be.mu.Lock()
	defer be.mu.Unlock()
	return append([]receivedMail(nil), be.mails...)
}

type testSession struct {
	be   *testBackend
	tls  bool
	user string
	from string
	to   []string
}

func (s *testSession) AuthMechanisms() []string {
	if s.be.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	s.be.authAttempts.Add(1)
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.be.user || password != s.be.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := s.be.rcptReply.Load(); code != 0 {
		return &smtp.SMTPError{Code: int(code), EnhancedCode: smtp.EnhancedCode{int(code / 100), 1, 1}, Message: "mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.be.dataDelay > 0 {
		time.Sleep(s.be.dataDelay)
	}
	if code := s.be.dataReply.Load(); code != 0 {
		return &smtp.SMTPError{Code: int(code), EnhancedCode: smtp.EnhancedCode{int(code / 100), 3, 0}, Message: "rejected by test server"}
	}
	s.be.count.Add(1)
	if s.be.discard {
		return nil
	}
	s.be.mu.Lock()
	s.be.mails = append(s.be.mails, receivedMail{From: s.from, To: s.to, Data: b, TLS: s.tls, AuthUser: s.user})
	s.be.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

type serverOpts struct {
	tls               bool // offer STARTTLS with a self-signed certificate
	allowInsecureAuth bool
	noSMTPUTF8        bool
}

// startSMTP starts a server on 127.0.0.1 and returns its address and the
// CA pool that trusts its certificate.
func startSMTP(t testing.TB, be *testBackend, o serverOpts) (string, *x509.CertPool) {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = o.allowInsecureAuth
	s.EnableSMTPUTF8 = !o.noSMTPUTF8
	s.ErrorLog = discardLogger{}
	var pool *x509.CertPool
	if o.tls {
		cert, p := selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		pool = p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := s.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Logf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() { s.Close() })
	return l.Addr().String(), pool
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "soc test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
