package problem

import (
	"fmt"
	"time"
)

// Err is a typed error for a condition that has no domain type of its own (a bad query
// parameter, a full queue, an unknown route). The constructors below make one; the methods
// refine it. Its message is the problem's detail, so it is written for the client.
type Err struct {
	kind        Kind
	detail      string
	field       string
	retryAfter  time.Duration
	slug, title string
	ext         map[string]any
}

func newErr(k Kind, format string, args []any) *Err {
	detail := format
	if len(args) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	return &Err{kind: k, detail: detail}
}

// Invalid: the input named by field is malformed (400).
func Invalid(field, format string, args ...any) *Err {
	return newErr(KindInvalid, format, args).OnField(field)
}

// Rejected: the input is well-formed but refused (422).
func Rejected(format string, args ...any) *Err { return newErr(KindRejected, format, args) }

// NotFound (404).
func NotFound(format string, args ...any) *Err { return newErr(KindNotFound, format, args) }

// Conflict: the current state does not allow it (409).
func Conflict(format string, args ...any) *Err { return newErr(KindConflict, format, args) }

// TooLarge: the input named by field is over its limit (413).
func TooLarge(field, format string, args ...any) *Err {
	return newErr(KindTooLarge, format, args).OnField(field)
}

// Unavailable: try again, after retryAfter when it is not zero (503).
func Unavailable(retryAfter time.Duration, format string, args ...any) *Err {
	e := newErr(KindUnavailable, format, args)
	e.retryAfter = retryAfter
	return e
}

// RateLimited: too many requests; try again after retryAfter when it is not zero (429).
func RateLimited(retryAfter time.Duration, format string, args ...any) *Err {
	e := newErr(KindRateLimited, format, args)
	e.retryAfter = retryAfter
	return e
}

// Unauthorized: no or bad credentials (401). The caller sets WWW-Authenticate.
func Unauthorized(format string, args ...any) *Err { return newErr(KindUnauthorized, format, args) }

// Forbidden: the credentials do not allow it (403).
func Forbidden(format string, args ...any) *Err { return newErr(KindForbidden, format, args) }

// MethodNotAllowed (405). The caller sets Allow.
func MethodNotAllowed(format string, args ...any) *Err {
	return newErr(KindMethodNotAllowed, format, args)
}

// UnsupportedMedia: the body is in a media type or content coding the endpoint does not read
// (415); field names the header that says so (Content-Encoding). The caller sets
// Accept-Encoding (or Accept) to what it reads, as RFC 9110 §15.5.16 asks.
func UnsupportedMedia(field, format string, args ...any) *Err {
	return newErr(KindUnsupportedMedia, format, args).OnField(field)
}

// UpgradeRequired (426). The caller sets Upgrade.
func UpgradeRequired(format string, args ...any) *Err {
	return newErr(KindUpgradeRequired, format, args)
}

// NotImplemented (501).
func NotImplemented(format string, args ...any) *Err {
	return newErr(KindNotImplemented, format, args)
}

// OnField names the input that failed.
func (e *Err) OnField(field string) *Err { e.field = field; return e }

// Typed gives the problem a type more specific than its kind's ("position-not-reached").
func (e *Err) Typed(slug, title string) *Err { e.slug, e.title = slug, title; return e }

// With adds a member to the problem document (min_position beside a position not reached).
func (e *Err) With(member string, value any) *Err {
	if e.ext == nil {
		e.ext = map[string]any{}
	}
	e.ext[member] = value
	return e
}

func (e *Err) Error() string              { return e.detail }
func (e *Err) Kind() Kind                 { return e.kind }
func (e *Err) Field() string              { return e.field }
func (e *Err) RetryAfter() time.Duration  { return e.retryAfter }
func (e *Err) Extensions() map[string]any { return e.ext }
func (e *Err) ProblemType() (string, string) {
	if e.slug == "" {
		return "", ""
	}
	title := e.title
	if title == "" {
		title = kinds[e.kind].title
	}
	return e.slug, title
}
