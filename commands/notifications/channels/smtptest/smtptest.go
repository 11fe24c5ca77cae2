// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for tests
// and benchmarks of the email channel: STARTTLS with a throw-away CA, AUTH PLAIN, every message
// recorded with its Message-ID, and hooks to fail, delay or observe deliveries.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server.
type Options struct {
	TLS                bool   // offer STARTTLS with a certificate for 127.0.0.1/localhost
	Username, Password string // when set, AUTH PLAIN is offered and required before MAIL
	// Discard keeps counts only (benchmarks).
	Discard bool
	// AllowInsecureAuth offers AUTH without TLS (to test that a client refuses to use it).
	AllowInsecureAuth bool
	// NoSMTPUTF8 does not announce SMTPUTF8.
	NoSMTPUTF8 bool
	// OnRcpt, when set, answers each RCPT TO: a non-nil error refuses that recipient.
	OnRcpt func(to string) error
	// OnData, when set, is called with each message after it is read and before the server
	// answers DATA; a non-nil error is the answer (e.g. a *smtp.SMTPError). It may block: the
	// client then waits for the reply, as with a slow relay.
	OnData func(Mail) error
}

// Mail is one accepted message.
type Mail struct {
	From      string
	To        []string
	Data      []byte
	MessageID string
	Subject   string
	TLS       bool
	AuthUser  string
}

// Server is a running SMTP server.
type Server struct {
	opts  Options
	srv   *smtp.Server
	ln    net.Listener
	caPEM []byte

	mu    sync.Mutex
	mails []Mail
	count atomic.Int64
	auths atomic.Int64
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(o Options) (*Server, error) {
	s := &Server{opts: o}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.EnableSMTPUTF8 = !o.NoSMTPUTF8
	s.srv.AllowInsecureAuth = o.AllowInsecureAuth
	s.srv.ErrorLog = discard{}
	if o.TLS {
		cert, caPEM, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.caPEM = caPEM
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// CAPEM is the PEM certificate that verifies the server's STARTTLS certificate (nil without TLS).
func (s *Server) CAPEM() []byte { return s.caPEM }

// Count is the number of messages accepted.
func (s *Server) Count() int64 { return s.count.Load() }

// AuthAttempts is the number of AUTH commands received.
func (s *Server) AuthAttempts() int64 { return s.auths.Load() }

// Mails returns the recorded messages (none with Discard).
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, tls: isTLS}, nil
}

type session struct {
	s    *Server
	tls  bool
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	ss.s.auths.Add(1)
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.opts.OnRcpt != nil {
		if err := ss.s.opts.OnRcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: ss.from, To: ss.to, TLS: ss.tls, AuthUser: ss.user}
	if !ss.s.opts.Discard {
		m.Data = b
		if msg, err := mail.ReadMessage(bytes.NewReader(b)); err == nil {
			m.MessageID = msg.Header.Get("Message-Id")
			m.Subject = msg.Header.Get("Subject")
			if dec, err := new(mime.WordDecoder).DecodeHeader(m.Subject); err == nil {
				m.Subject = dec
			}
		}
	}
	if ss.s.opts.OnData != nil {
		if err := ss.s.opts.OnData(m); err != nil {
			return err
		}
	}
	ss.s.count.Add(1)
	if !ss.s.opts.Discard {
		ss.s.mu.Lock()
		ss.s.mails = append(ss.s.mails, m)
		ss.s.mu.Unlock()
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// selfSigned makes a CA-signed-by-itself certificate for 127.0.0.1 and localhost.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "soc smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if leaf == nil {
		return tls.Certificate{}, nil, errors.New("smtptest: no certificate")
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, caPEM, nil
}
