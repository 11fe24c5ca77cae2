// Package problem renders RFC 9457 problem details and holds the one mapping from the
// platform's typed errors to HTTP status codes, so every endpoint answers the same way.
package problem

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/socplatform/soc/events"
)

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
}

// InvalidParam is one request parameter that failed and why.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
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

// Kind implements events.KindError.
func (e *ParamError) Kind() events.Kind { return events.KindInvalid }

// Field implements events.FieldError: the first failing parameter's name.
func (e *ParamError) Field() string {
	if len(e.Params) == 0 {
		return ""
	}
	return e.Params[0].Name
}

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

const typeBase = "https://soc-platform.dev/problems/"

// From maps an error to its problem document. Unknown errors become a 500 whose detail does
// not leak internals (the caller logs the error itself).
func From(err error) Details {
	var (
		vc *events.VersionConflictError
		sd *events.StreamDeletedError
		tl *events.BatchTooLargeError
		ut *events.UnknownEventTypeError
		sv *events.SchemaViolationError
		ie *events.InvalidEventError
		de *events.DuplicateEventError
		fe events.FieldError
		ke events.KindError
		pe *ParamError
	)
	d := Details{}
	switch {
	case errors.As(err, &vc):
		d = Details{Type: typeBase + "version-conflict", Title: "Version conflict", Status: http.StatusConflict}
	case errors.As(err, &sd):
		d = Details{Type: typeBase + "stream-deleted", Title: "Stream deleted", Status: http.StatusGone}
	case errors.Is(err, events.ErrStreamNotFound):
		d = Details{Type: typeBase + "not-found", Title: "Not found", Status: http.StatusNotFound}
	case errors.As(err, &tl):
		d = Details{Type: typeBase + "too-large", Title: "Request too large", Status: http.StatusRequestEntityTooLarge}
	case errors.As(err, &ut):
		d = Details{Type: typeBase + "unknown-event-type", Title: "Unknown event type", Status: http.StatusUnprocessableEntity}
	case errors.As(err, &sv):
		d = Details{Type: typeBase + "schema-violation", Title: "Schema violation", Status: http.StatusUnprocessableEntity}
	case errors.As(err, &ie):
		d = Details{Type: typeBase + "invalid-input", Title: "Invalid input", Status: http.StatusBadRequest}
	case errors.As(err, &de):
		d = Details{Type: typeBase + "duplicate-event", Title: "Duplicate event", Status: http.StatusConflict}
	case errors.As(err, &ke):
		d = byKind(ke.Kind())
	case errors.Is(err, events.ErrClosed):
		d = Details{Type: typeBase + "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable}
	default:
		return Details{Type: typeBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError,
			Detail: "the server failed to handle the request; see its logs"}
	}
	d.Detail = err.Error()
	if errors.As(err, &fe) {
		d.Field = fe.Field()
	}
	if errors.As(err, &pe) {
		d.InvalidParams = pe.Params
	}
	return d
}

func byKind(k events.Kind) Details {
	switch k {
	case events.KindInvalid:
		return Details{Type: typeBase + "invalid-input", Title: "Invalid input", Status: http.StatusBadRequest}
	case events.KindRejected:
		return Details{Type: typeBase + "rejected", Title: "Rejected", Status: http.StatusUnprocessableEntity}
	case events.KindNotFound:
		return Details{Type: typeBase + "not-found", Title: "Not found", Status: http.StatusNotFound}
	case events.KindConflict:
		return Details{Type: typeBase + "conflict", Title: "Conflict", Status: http.StatusConflict}
	case events.KindTooLarge:
		return Details{Type: typeBase + "too-large", Title: "Request too large", Status: http.StatusRequestEntityTooLarge}
	case events.KindUnavailable:
		return Details{Type: typeBase + "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable}
	}
	return Details{Type: typeBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError}
}

// Write sends a problem document.
func Write(w http.ResponseWriter, r *http.Request, d Details) {
	if d.Instance == "" && r != nil {
		d.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// Error maps err and writes it; server errors are logged (client errors are the client's business).
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	d := From(err)
	if d.Status >= 500 && log != nil {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	Write(w, r, d)
}

// New builds a problem for a condition that is not a typed error (404 on a route, 405, 413 on a body).
func New(status int, slug, title, detail string) Details {
	return Details{Type: typeBase + slug, Title: title, Status: status, Detail: detail}
}
