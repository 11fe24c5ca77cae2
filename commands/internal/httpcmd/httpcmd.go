package httpcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/problem"
)

// DefaultMaxBodyBytes bounds a command body unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 200

// Config of a Server.
type Config struct {
	Schemas      *Schemas
	MaxBodyBytes int64        // default 1 MiB; a larger body is answered 413
	Log          *slog.Logger // server errors (5xx) are logged here; nil: not logged
}

// Server turns command functions into HTTP handlers.
type Server struct {
	schemas *Schemas
	max     int64
	log     *slog.Logger
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Schemas == nil {
		cfg.Schemas = &Schemas{byName: nil}
	}
	return &Server{schemas: cfg.Schemas, max: cfg.MaxBodyBytes, log: cfg.Log}
}

// Call is what the request's headers say about a command: who asks, its idempotency key, and the
// stream version the client expects (If-Match).
type Call struct {
	Meta es.Meta
	// IfMatch is the exact version the stream must be at; meaningful only when HasIfMatch.
	IfMatch    int64
	HasIfMatch bool
}

// Result is the answer to a command: the stream it wrote and where it now stands.
type Result struct {
	StreamID       string `json:"stream_id"`
	Version        int64  `json:"version"`
	GlobalPosition int64  `json:"global_position"`
	// Created: the command started the stream (answered 201, with Location when set).
	Created  bool   `json:"-"`
	Location string `json:"-"`
	// Replayed: the Idempotency-Key was already used on this stream; nothing was appended.
	Replayed bool `json:"-"`
}

// Func runs one command decoded into T.
type Func[T any] func(ctx context.Context, r *http.Request, cmd T, call Call) (Result, error)

// Handle returns the handler of a command whose body is validated against the schema named
// "<context>/<Command>" and then decoded into T. It panics when the schema is unknown: schemas
// are embedded, so that is a programming error caught at start-up.
func Handle[T any](s *Server, schema string, fn Func[T]) http.HandlerFunc {
	sch := s.schemas.Lookup(schema)
	if sch == nil {
		panic(fmt.Sprintf("httpcmd: no command schema %q", schema))
	}
	return func(w http.ResponseWriter, r *http.Request) {
		call, err := ParseCall(r)
		if err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		body, err := s.readBody(w, r)
		if err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		var cmd T
		if err := Decode(sch, body, &cmd); err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		res, err := fn(r.Context(), r, cmd, call)
		if err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		Write(w, res)
	}
}

// Write sends a command result: 201 with Location for a creation, 200 otherwise, and the stream
// version as ETag (usable as the next If-Match).
func Write(w http.ResponseWriter, res Result) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("ETag", strconv.Quote(strconv.FormatInt(res.Version, 10)))
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		if res.Location != "" {
			h.Set("Location", res.Location)
		}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

// InputError is a malformed request: a body that does not match the command's schema, a bad
// header. Field is the JSON pointer of the body field, or the header's name.
type InputError struct {
	Pointer string
	Reason  string
}

func (e *InputError) Error() string {
	if e.Pointer == "" {
		return e.Reason
	}
	return e.Pointer + ": " + e.Reason
}
func (e *InputError) Kind() problem.Kind { return problem.KindInvalid }
func (e *InputError) Field() string      { return e.Pointer }

// TooLargeError is a body over the limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the request body is over the limit of %d bytes", e.Limit)
}
func (e *TooLargeError) Kind() problem.Kind { return problem.KindTooLarge }
func (e *TooLargeError) Field() string      { return "body" }

// NotFoundError: the command names an aggregate that does not exist.
type NotFoundError struct {
	What string // "finding", "asset"
	ID   string
}

func (e *NotFoundError) Error() string      { return fmt.Sprintf("no such %s: %s", e.What, e.ID) }
func (e *NotFoundError) Kind() problem.Kind { return problem.KindNotFound }

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.max {
		return nil, &TooLargeError{Limit: s.max}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &TooLargeError{Limit: s.max}
		}
		return nil, &InputError{Pointer: "body", Reason: "reading the body: " + err.Error()}
	}
	return b, nil
}

// Decode validates body against sch and decodes it into v. An empty body is the empty object.
// Errors are *InputError naming the failing field as a JSON pointer ("/note", "/bogus").
func Decode(sch *jsonschema.Schema, body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &InputError{Reason: "the body is not valid JSON: " + err.Error()}
	}
	if err := sch.Validate(inst); err != nil {
		ptr, reason, ok := schemas.Violation(err)
		if !ok {
			return &InputError{Reason: err.Error()}
		}
		if ptr == "" {
			ptr = "/" // the body itself: a client still gets a field to show the error beside
		}
		return &InputError{Pointer: ptr, Reason: reason}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &InputError{Reason: "decoding the body: " + err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &InputError{Reason: "the body holds more than one JSON value"}
	}
	return nil
}

var (
	traceParentRe = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	ifMatchRe     = regexp.MustCompile(`^"([0-9]{1,18})"$`)
)

// ParseCall reads the command headers: Idempotency-Key (at most 200 printable ASCII characters),
// If-Match ("<version>", or * for any), traceparent and X-Correlation-ID (kept when well-formed).
func ParseCall(r *http.Request) (Call, error) {
	var c Call
	c.Meta.Actor = ActorOf(r)
	if vals := r.Header.Values("Idempotency-Key"); len(vals) > 0 {
		if len(vals) > 1 {
			return c, &InputError{Pointer: "Idempotency-Key", Reason: "the header is given more than once"}
		}
		k := vals[0]
		if k == "" || len(k) > MaxIdempotencyKeyLen || !printable(k) {
			return c, &InputError{Pointer: "Idempotency-Key",
				Reason: fmt.Sprintf("the key must be 1–%d printable ASCII characters", MaxIdempotencyKeyLen)}
		}
		c.Meta.IdempotencyKey = k
	}
	if vals := r.Header.Values("If-Match"); len(vals) > 0 {
		v := strings.TrimSpace(vals[0])
		switch m := ifMatchRe.FindStringSubmatch(v); {
		case len(vals) > 1:
			return c, &InputError{Pointer: "If-Match", Reason: "the header is given more than once"}
		case v == "*":
		case m != nil:
			n, _ := strconv.ParseInt(m[1], 10, 64)
			c.IfMatch, c.HasIfMatch = n, true
		default:
			return c, &InputError{Pointer: "If-Match", Reason: `If-Match must be the stream version in quotes ("3") or *`}
		}
	}
	if tp := r.Header.Get("traceparent"); traceParentRe.MatchString(tp) {
		c.Meta.TraceParent = tp
	}
	if cid := r.Header.Get("X-Correlation-ID"); cid != "" && len(cid) <= 256 && printable(cid) {
		c.Meta.CorrelationID = cid
	}
	return c, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ActorOf names who asked. Until identity exists, requests are anonymous.
func ActorOf(*http.Request) string { return "anonymous" }
