package channels

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// DefaultSMTPTimeout bounds one SMTP delivery attempt (dial to QUIT) when
// the config gives none.
const DefaultSMTPTimeout = 30 * time.Second

// DefaultMessageIDDomain is the right-hand side of every Message-ID.
const DefaultMessageIDDomain = "soc-platform"

// SMTPConfig configures the email channel.
type SMTPConfig struct {
	Addr     string // SOC_SMTP_ADDR, host:port
	From     string // SOC_SMTP_FROM, "soc@example.com" or "SOC <soc@example.com>"
	Username string // SOC_SMTP_USERNAME; AUTH PLAIN when set
	Password string // SOC_SMTP_PASSWORD; never printed
	StartTLS bool   // SOC_SMTP_STARTTLS (default true): require STARTTLS before anything else
	// CAFile is a PEM file of the private CA that signs the relay's STARTTLS certificate
	// (SOC_SMTP_CA_FILE); empty: the system roots. Ignored when TLSConfig is set.
	CAFile string

	// AllowInsecureAuth permits AUTH without TLS, and only to a loopback
	// address (local test servers). It has no environment variable.
	AllowInsecureAuth bool
	// TLSConfig for STARTTLS (e.g. RootCAs for a private CA). ServerName
	// defaults to the host of Addr; MinVersion to TLS 1.2.
	TLSConfig *tls.Config
	// HeloName is the name sent in EHLO; default "localhost".
	HeloName string
	// Timeout bounds one attempt; default DefaultSMTPTimeout.
	Timeout time.Duration
	// MessageIDDomain: Message-ID is <ID@MessageIDDomain>; default "soc-platform".
	MessageIDDomain string
	Templates       *Templates       // optional; default DefaultTemplates()
	Now             func() time.Time // Date header; default time.Now
}

// RegisterFlags declares the email channel's settings (--smtp-*). The channel stays off
// unless --smtp-addr is set.
func (c *SMTPConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "smtp-addr", "", "email channel: host:port of the mail relay; empty: no email")
	fs.StringVar(&c.From, "smtp-from", "", `email channel: sender, "soc@example.com" or "SOC <soc@example.com>"`)
	fs.StringVar(&c.Username, "smtp-username", "", "email channel: user for AUTH PLAIN; empty: no authentication")
	fs.Var(secretFlag{&c.Password}, "smtp-password", "email channel: password for AUTH PLAIN")
	fs.BoolVar(&c.StartTLS, "smtp-starttls", true, "email channel: require STARTTLS before anything else")
	fs.StringVar(&c.CAFile, "smtp-ca-file", "", "email channel: PEM file of the CA of the relay's certificate; empty: system roots")
}

// Configured reports whether the channel should be used at all.
func (c SMTPConfig) Configured() bool { return c.Addr != "" }

// Validate reports every problem at once. The password never appears.
func (c SMTPConfig) Validate() error {
	var problems []string
	host := ""
	if c.Addr == "" {
		problems = append(problems, "SOC_SMTP_ADDR: required (host:port)")
	} else if h, port, err := net.SplitHostPort(c.Addr); err != nil || h == "" || port == "" {
		problems = append(problems, fmt.Sprintf("SOC_SMTP_ADDR: %q is not host:port", c.Addr))
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		problems = append(problems, fmt.Sprintf("SOC_SMTP_ADDR: port %q out of range", port))
	} else {
		host = h
	}
	if c.From == "" {
		problems = append(problems, "SOC_SMTP_FROM: required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		problems = append(problems, fmt.Sprintf("SOC_SMTP_FROM: %q is not an address: %v", c.From, err))
	}
	if c.Username != "" && c.Password == "" {
		problems = append(problems, "SOC_SMTP_PASSWORD: required when SOC_SMTP_USERNAME is set")
	}
	if c.Password != "" && c.Username == "" {
		problems = append(problems, "SOC_SMTP_USERNAME: required when SOC_SMTP_PASSWORD is set")
	}
	if c.Username != "" && !c.StartTLS {
		if !c.AllowInsecureAuth {
			problems = append(problems, "SOC_SMTP_STARTTLS: credentials are never sent over plaintext; enable STARTTLS")
		} else if host != "" && !isLoopback(host) {
			problems = append(problems, "AllowInsecureAuth: only allowed for a loopback SMTP server")
		}
	}
	if c.CAFile != "" && c.TLSConfig == nil {
		if _, err := c.caPool(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.MessageIDDomain != "" && !idPattern.MatchString(c.MessageIDDomain) {
		problems = append(problems, "MessageIDDomain: invalid")
	}
	return problemsError("smtp", problems)
}

// caPool reads CAFile.
func (c SMTPConfig) caPool() (*x509.CertPool, error) {
	pem, err := os.ReadFile(c.CAFile)
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SOC_SMTP_CA_FILE: %s: no PEM certificate could be read (%v)", c.CAFile, err)
	}
	return pool, nil
}

func (c SMTPConfig) String() string {
	return fmt.Sprintf("SMTPConfig{Addr:%s From:%s Username:%s Password:%s StartTLS:%t AllowInsecureAuth:%t Timeout:%s}",
		c.Addr, c.From, c.Username, redactSecret(c.Password), c.StartTLS, c.AllowInsecureAuth, c.Timeout)
}

// GoString redacts too, so %#v cannot leak the password.
func (c SMTPConfig) GoString() string { return c.String() }

// SMTP sends email. Each Send is one SMTP session: dial, STARTTLS, AUTH
// PLAIN, MAIL, RCPT, DATA, QUIT.
type SMTP struct {
	cfg       SMTPConfig
	from      *mail.Address
	host      string
	tlsConfig *tls.Config
	templates *Templates
	now       func() time.Time
	dialer    net.Dialer
}

// NewSMTP validates the config and returns the sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	from, _ := mail.ParseAddress(cfg.From)
	host, _, _ := net.SplitHostPort(cfg.Addr)
	tc := &tls.Config{}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	} else if cfg.CAFile != "" {
		pool, err := cfg.caPool()
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if cfg.MessageIDDomain == "" {
		cfg.MessageIDDomain = DefaultMessageIDDomain
	}
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &SMTP{cfg: cfg, from: from, host: host, tlsConfig: tc, templates: orDefault(cfg.Templates), now: now}, nil
}

// MessageID returns the Message-ID header value for a delivery id.
func (s *SMTP) MessageID(id string) string { return "<" + id + "@" + s.cfg.MessageIDDomain + ">" }

// Send delivers m to m.To.Email. Once the server has accepted the DATA,
// Send returns nil whatever happens to QUIT.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := validateID(ChannelEmail, m.ID); err != nil {
		return err
	}
	to, err := parseRecipient(m.To)
	if err != nil {
		return err
	}
	msg, err := s.BuildMIME(m)
	if err != nil {
		return err
	}
	return s.deliver(ctx, to.Address, msg)
}

func parseRecipient(r Recipient) (*mail.Address, error) {
	if r.Email == "" {
		return nil, &PermanentError{Channel: ChannelEmail, Err: errors.New("recipient has no email address")}
	}
	a, err := mail.ParseAddress(r.Email)
	if err != nil || a.Name != "" {
		return nil, &PermanentError{Channel: ChannelEmail, Err: fmt.Errorf("bad recipient address %q", r.Email)}
	}
	a.Name = oneLine(r.Name)
	return a, nil
}

func (s *SMTP) deliver(ctx context.Context, to string, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	conn, err := s.dialer.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return classifyTransport(ChannelEmail, err)
	}
	// go-smtp has no context: closing the connection unblocks any read or
	// write when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = &TransientError{Channel: ChannelEmail, Err: fmt.Errorf("%w (%v)", ctx.Err(), errors.Unwrap(err))}
		}
	}()

	var c *smtp.Client
	if s.cfg.StartTLS {
		c, err = smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			conn.Close()
			if strings.Contains(err.Error(), "doesn't support STARTTLS") {
				return &PermanentError{Channel: ChannelEmail, Err: errors.New("STARTTLS is required but the server does not offer it")}
			}
			return classifySMTP(err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HeloName); err != nil {
		return classifySMTP(err)
	}
	if s.cfg.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS && !(s.cfg.AllowInsecureAuth && isLoopback(s.host)) {
			return &PermanentError{Channel: ChannelEmail, Err: errors.New("refusing to send credentials over a plaintext connection")}
		}
		if !c.SupportsAuth(sasl.Plain) {
			return &PermanentError{Channel: ChannelEmail, Err: errors.New("server does not offer AUTH PLAIN")}
		}
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			return classifySMTP(err)
		}
	}
	var opts *smtp.MailOptions
	if !isASCII(s.from.Address) || !isASCII(to) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return &PermanentError{Channel: ChannelEmail, Err: errors.New("address needs SMTPUTF8, which the server does not offer")}
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(s.from.Address, opts); err != nil {
		return classifySMTP(err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return classifySMTP(err)
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP(err)
	}
	if _, err := w.Write(msg); err != nil { // the DotWriter does the dot-stuffing
		return classifySMTP(err)
	}
	if err := w.Close(); err != nil {
		// If this is a timeout after the final dot, the server may have
		// accepted the message: the retry is the one resend, same Message-ID.
		return classifySMTP(err)
	}
	_ = c.Quit() // accepted; a failing QUIT changes nothing
	return nil
}

// classifySMTP: 4xx replies are transient, 5xx permanent, anything else is
// a transport failure.
func classifySMTP(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code >= 500 {
			return &PermanentError{Channel: ChannelEmail, Code: se.Code, Err: err}
		}
		return &TransientError{Channel: ChannelEmail, Code: se.Code, Err: err}
	}
	return classifyTransport(ChannelEmail, err)
}

// BuildMIME renders the RFC 5322 message Send transmits: multipart/alternative
// (text, HTML) when both bodies exist, otherwise a single part, quoted-printable,
// with an RFC 2047 encoded subject and a deterministic Message-ID; with
// attachments, multipart/mixed of that body and each file in base64.
func (s *SMTP) BuildMIME(m Message) ([]byte, error) {
	to, err := parseRecipient(m.To)
	if err != nil {
		return nil, err
	}
	r, _, err := content(s.templates, ChannelEmail, m)
	if err != nil {
		return nil, err
	}
	if r.Text == "" && r.HTML == "" {
		return nil, &PermanentError{Channel: ChannelEmail, Err: errors.New("empty message")}
	}
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(foldHeader(name + ": " + value))
		b.WriteString("\r\n")
	}
	header("Date", s.now().Format(time.RFC1123Z))
	header("From", s.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(r.Subject)))
	header("Message-ID", s.MessageID(m.ID))
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	header(HeaderDelivery, m.ID)
	if k := headerToken(m.Kind); k != "" {
		header("X-SOC-Kind", k)
	}
	if sev := headerToken(m.Severity); sev != "" {
		header("X-SOC-Severity", sev)
	}
	ctype, body, err := mimeBody(r)
	if err != nil {
		return nil, err
	}
	if len(m.Attachments) == 0 {
		header("Content-Type", ctype)
		if !strings.HasPrefix(ctype, "multipart/") {
			header("Content-Transfer-Encoding", "quoted-printable")
		}
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes(), nil
	}
	// multipart/mixed: the body, then each attachment in base64.
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	bh := textproto.MIMEHeader{"Content-Type": {ctype}}
	if !strings.HasPrefix(ctype, "multipart/") {
		bh.Set("Content-Transfer-Encoding", "quoted-printable")
	}
	pw, err := mw.CreatePart(bh)
	if err != nil {
		return nil, err
	}
	if _, err := pw.Write(body); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		name := oneLine(a.Name)
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(cmp.Or(a.ContentType, "application/octet-stream"), map[string]string{"name": name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 { // RFC 2045 §6.8: lines of at most 76 characters
			if _, err := io.WriteString(pw, enc[:76]+"\r\n"); err != nil {
				return nil, err
			}
			enc = enc[76:]
		}
		if _, err := io.WriteString(pw, enc+"\r\n"); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mimeBody is a message's body part: multipart/alternative (text, HTML) when both exist, else
// the one, quoted-printable; ctype is its Content-Type.
func mimeBody(r Rendered) (ctype string, body []byte, err error) {
	var b bytes.Buffer
	if r.Text != "" && r.HTML != "" {
		mw := multipart.NewWriter(&b)
		for _, part := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", r.Text}, {"text/html; charset=utf-8", r.HTML}} {
			pw, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {part.ctype},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return "", nil, err
			}
			if err := writeQP(pw, part.body); err != nil {
				return "", nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return "", nil, err
		}
		return mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}), b.Bytes(), nil
	}
	ctype, text := "text/plain; charset=utf-8", r.Text
	if text == "" {
		ctype, text = "text/html; charset=utf-8", r.HTML
	}
	if err := writeQP(&b, text); err != nil {
		return "", nil, err
	}
	return ctype, b.Bytes(), nil
}

func writeQP(w io.Writer, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, body); err != nil {
		return err
	}
	return qp.Close()
}

// foldHeader folds a header line at spaces so lines stay near 78 octets
// (RFC 5322 §2.2.3); encoded-words from mime.QEncoding are at most 75.
func foldHeader(line string) string {
	if len(line) <= 78 {
		return line
	}
	var b strings.Builder
	n := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			if n+1+len(word) > 76 {
				b.WriteString("\r\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// headerToken keeps a short, safe token for informational headers.
func headerToken(s string) string {
	s = truncateRunes(s, 64)
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return ""
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
