package channels

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PermanentError is a failure that a retry cannot fix: a 4xx answer other
// than 408/429, refused authentication, a bad address, a policy violation
// (credentials over plaintext), a template that fails to render.
type PermanentError struct {
	Channel string
	Code    int // HTTP status or SMTP reply code; 0 when not from the server
	Err     error
}

func (e *PermanentError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s: permanent failure (%d): %v", e.Channel, e.Code, e.Err)
	}
	return fmt.Sprintf("%s: permanent failure: %v", e.Channel, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// TransientError is a failure worth retrying: timeouts, 5xx, 408, 429, SMTP
// 4xx replies, refused or reset connections.
type TransientError struct {
	Channel    string
	Code       int           // HTTP status or SMTP reply code; 0 when not from the server
	RetryAfter time.Duration // from Retry-After, 0 when the server gave none
	Err        error
}

func (e *TransientError) Error() string {
	s := fmt.Sprintf("%s: transient failure", e.Channel)
	if e.Code != 0 {
		s += fmt.Sprintf(" (%d)", e.Code)
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return s + ": " + e.Err.Error()
}

func (e *TransientError) Unwrap() error { return e.Err }

// Retryable reports whether a Send error may be retried and, if the server
// said so, after how long (0: use the caller's backoff). A nil error is not
// retryable. Errors that are neither *PermanentError nor *TransientError
// (including context cancellation and deadlines) are treated as transient:
// the message was not confirmed delivered.
func Retryable(err error) (bool, time.Duration) {
	if err == nil {
		return false, 0
	}
	var p *PermanentError
	if errors.As(err, &p) {
		return false, 0
	}
	var t *TransientError
	if errors.As(err, &t) {
		return true, t.RetryAfter
	}
	return true, 0
}

// IsPermanent reports whether err is (or wraps) a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// classifyTransport classifies an error that happened before an answer was
// received (dial, TLS, write, read, context).
func classifyTransport(channel string, err error) error {
	var p *PermanentError
	var t *TransientError
	if errors.As(err, &p) || errors.As(err, &t) {
		return err
	}
	// A certificate the client does not trust is a configuration problem.
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &ve) {
		return &PermanentError{Channel: channel, Err: err}
	}
	// Refused or reset connections, timeouts, context ends: not confirmed
	// delivered, worth another attempt.
	return &TransientError{Channel: channel, Err: err}
}

// classifyHTTP turns a non-2xx response into an error.
func classifyHTTP(channel string, resp *http.Response, body string, now time.Time) error {
	code := resp.StatusCode
	err := fmt.Errorf("%s %s", resp.Status, strings.TrimSpace(body))
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return &TransientError{Channel: channel, Code: code, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now), Err: err}
	default: // other 4xx, unexpected 1xx/3xx
		return &PermanentError{Channel: channel, Code: code, Err: err}
	}
}

// maxRetryAfter caps what a server can ask for, so one answer cannot park a
// delivery for days.
const maxRetryAfter = time.Hour

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d <= 0 {
			return 0
		}
	}
	return min(d, maxRetryAfter)
}
