// Package problem is how the platform's HTTP APIs answer an error: RFC 9457 problem+json, with
// the field that failed. It holds the error kinds, the small interfaces a typed error implements
// to say which kind it is (and which field failed, when to retry), constructors for conditions
// that have no type of their own, and the one mapping from an error to a status and a document.
//
// Handlers never build an error response themselves: they return or construct a typed error and
// call Error. The package lives in the schemas module because the problem document is part of
// the API contract and because every module already depends on schemas; it knows no other
// module's types (the event store's errors implement its interfaces instead).
package problem

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

const typeBase = "https://soc-platform.dev/problems/"

// Details is an RFC 9457 problem document. Field is the JSON pointer of the input that failed
// (an extension member), so a client can show the error beside the right field.
type Details struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Field    string `json:"field,omitempty"`
	// InvalidParams names every request parameter (query string, path segment or header) that
	// failed, as in RFC 9457's "invalid-params" example; Field is then the first one's name.
	InvalidParams []InvalidParam `json:"invalid_params,omitempty"`
	// Extensions are further members of the document (min_position on a position not reached),
	// from an error that implements Extender. They never replace a member above.
	Extensions map[string]any `json:"-"`
}

// MarshalJSON writes the members and the extensions at the same level, as RFC 9457 wants.
func (d Details) MarshalJSON() ([]byte, error) {
	type plain Details
	b, err := json.Marshal(plain(d))
	if err != nil || len(d.Extensions) == 0 {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range d.Extensions {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// InvalidParam is one request parameter that failed and why.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Kind classifies an error for HTTP: each kind has one status and one default problem type.
// The zero Kind means "not classified here": the mapping then looks further down the chain
// of wrapped errors.
type Kind int

const (
	KindInvalid          Kind = iota + 1 // the input is malformed (400)
	KindRejected                         // well-formed, but the rules refuse it (422)
	KindNotFound                         // 404
	KindConflict                         // the current state does not allow it (409)
	KindGone                             // it existed and never will again (410)
	KindTooLarge                         // 413
	KindUnavailable                      // try again later (503, with Retry-After when known)
	KindUnauthorized                     // no or bad credentials (401)
	KindForbidden                        // the credentials do not allow it (403)
	KindRateLimited                      // too many requests (429, with Retry-After when known)
	KindMethodNotAllowed                 // 405
	KindUnsupportedMedia                 // the body's media type or content coding is not read here (415)
	KindUpgradeRequired                  // 426
	KindNotImplemented                   // 501
	KindInternal                         // 500; the detail is never shown
)

type kindInfo struct {
	status      int
	slug, title string
}

var kinds = map[Kind]kindInfo{
	KindInvalid:          {http.StatusBadRequest, "invalid-input", "Invalid input"},
	KindRejected:         {http.StatusUnprocessableEntity, "rejected", "Rejected"},
	KindNotFound:         {http.StatusNotFound, "not-found", "Not found"},
	KindConflict:         {http.StatusConflict, "conflict", "Conflict"},
	KindGone:             {http.StatusGone, "gone", "Gone"},
	KindTooLarge:         {http.StatusRequestEntityTooLarge, "too-large", "Request too large"},
	KindUnavailable:      {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	KindUnauthorized:     {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	KindForbidden:        {http.StatusForbidden, "forbidden", "Forbidden"},
	KindRateLimited:      {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	KindMethodNotAllowed: {http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
	KindUnsupportedMedia: {http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	KindUpgradeRequired:  {http.StatusUpgradeRequired, "upgrade-required", "Upgrade required"},
	KindNotImplemented:   {http.StatusNotImplemented, "not-implemented", "Not implemented"},
	KindInternal:         {http.StatusInternalServerError, "internal", "Internal error"},
}

// Status is the HTTP status of k (500 for the zero or an unknown Kind).
func (k Kind) Status() int {
	if i, ok := kinds[k]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// KindError is an error that says which Kind it is. Any error in a chain may implement it; the
// outermost one with a non-zero Kind decides.
type KindError interface {
	error
	Kind() Kind
}

// FieldError is an error that names the input that failed: a JSON pointer into the body
// ("/events/2/data/severity") or a parameter's or header's name ("format", "If-Match").
type FieldError interface {
	error
	Field() string
}

// RetryAfterError is an error that says when to try again (the Retry-After header). A zero
// duration says nothing.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// TypedError is an error with a problem type more specific than its Kind's
// ("version-conflict" rather than "conflict"). An empty slug keeps the Kind's.
type TypedError interface {
	error
	ProblemType() (slug, title string)
}

// Extender is an error that adds members to its problem document.
type Extender interface {
	error
	Extensions() map[string]any
}

const hiddenDetail = "the server failed to handle the request; see its logs"

// From maps an error to its problem document: the status and type of its Kind (or of its
// TypedError), its message as the detail, its Field and InvalidParams. An error of no Kind is
// a 500 whose detail does not leak internals (Error logs it).
func From(err error) Details {
	k, ok := kindOf(err)
	if !ok || k == KindInternal {
		i := kinds[KindInternal]
		return Details{Type: typeBase + i.slug, Title: i.title, Status: i.status, Detail: hiddenDetail}
	}
	i := kinds[k]
	if te, ok := first(err, func(e TypedError) bool { s, _ := e.ProblemType(); return s != "" }); ok {
		i.slug, i.title = te.ProblemType()
	}
	d := Details{Type: typeBase + i.slug, Title: i.title, Status: i.status, Detail: err.Error()}
	var fe FieldError
	if errors.As(err, &fe) {
		d.Field = fe.Field()
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		d.InvalidParams = pe.Params
	}
	var ex Extender
	if errors.As(err, &ex) {
		d.Extensions = ex.Extensions()
	}
	return d
}

// Error maps err and writes it as problem+json, with Retry-After when err says when to retry.
// Server errors are logged (client errors are the client's business); log may be nil.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	d := From(err)
	if d.Status >= 500 && log != nil {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ra, ok := first(err, func(e RetryAfterError) bool { return e.RetryAfter() > 0 }); ok {
		secs := int64(math.Ceil(ra.RetryAfter().Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if r != nil {
		d.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// kindOf is the Kind of the outermost error in the chain that has one.
func kindOf(err error) (Kind, bool) {
	ke, ok := first(err, func(e KindError) bool { return e.Kind() != 0 })
	if !ok {
		return 0, false
	}
	return ke.Kind(), true
}

// first is the outermost error in err's tree that is a T and satisfies ok: unlike errors.As it
// goes on past a T that declines (a wrapper that defers to its cause).
func first[T error](err error, ok func(T) bool) (T, bool) {
	var zero T
	for err != nil {
		if t, is := err.(T); is && ok(t) {
			return t, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if t, found := first(e, ok); found {
					return t, true
				}
			}
			return zero, false
		default:
			return zero, false
		}
	}
	return zero, false
}

// ParamError reports request parameters that are malformed or not allowed (400): a query
// string filter with a bad value, an unknown parameter, a huge limit. Every failing parameter
// is listed, so a client fixes them all at once.
type ParamError struct {
	Params []InvalidParam
}

func (e *ParamError) Error() string {
	var sb strings.Builder
	for i, p := range e.Params {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(p.Name)
		sb.WriteString(": ")
		sb.WriteString(p.Reason)
	}
	return sb.String()
}

// Kind implements KindError.
func (e *ParamError) Kind() Kind { return KindInvalid }

// Field implements FieldError: the first failing parameter's name.
func (e *ParamError) Field() string {
	if len(e.Params) == 0 {
		return ""
	}
	return e.Params[0].Name
}
