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
	"github.com/socplatform/soc/commands/internal/jsonbody"
	"github.com/socplatform/soc/events/eventtrace"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
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

// Result is the HTTP answer to a command: its outcome and, for a creation, where the created
// aggregate is (the Location header of the 201).
type Result struct {
	es.Outcome
	Location string
}

// Func runs one command decoded into T: the port's adapter from the request to the command
// handler, which takes the typed command and the Invocation the headers gave.
type Func[T any] func(ctx context.Context, r *http.Request, cmd T, inv es.Invocation) (Result, error)

// ByID adapts the handler of a command on an existing aggregate, named by the path's {id}.
func ByID[T any](fn func(ctx context.Context, id string, cmd T, inv es.Invocation) (es.Outcome, error)) Func[T] {
	return func(ctx context.Context, r *http.Request, cmd T, inv es.Invocation) (Result, error) {
		out, err := fn(ctx, r.PathValue("id"), cmd, inv)
		return Result{Outcome: out}, err
	}
}

// Handle returns the handler of a command whose body is validated against the schema named
// "<context>/<Command>" and then decoded into T. It panics when the schema is unknown: schemas
// are embedded, so that is a programming error caught at start-up.
func Handle[T any](s *Server, schema string, fn Func[T]) http.HandlerFunc {
	sch := s.schemas.Lookup(schema)
	if sch == nil {
		panic(fmt.Sprintf("httpcmd: no command schema %q", schema))
	}
	return Traced(schema, func(w http.ResponseWriter, r *http.Request) {
		var cmd T
		inv, err := s.decode(w, r, sch, &cmd)
		if err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		bindKey(&inv, r, schema, cmd)
		res, err := fn(r.Context(), r, cmd, inv)
		if err != nil {
			problem.Error(w, r, s.log, err)
			return
		}
		Write(w, res)
	})
}

// Command reads a command request: its headers (ParseCall), then its bounded body, validated
// against the schema named "<context>/<Command>" and decoded into v. Errors are typed (400, 413)
// for problem.Error.
func (s *Server) Command(w http.ResponseWriter, r *http.Request, schema string, v any) (es.Invocation, error) {
	sch := s.schemas.Lookup(schema)
	if sch == nil {
		return es.Invocation{}, fmt.Errorf("httpcmd: no command schema %q", schema)
	}
	inv, err := s.decode(w, r, sch, v)
	if err == nil {
		bindKey(&inv, r, schema, v)
	}
	return inv, err
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, sch *jsonschema.Schema, v any) (es.Invocation, error) {
	inv, err := ParseCall(r)
	if err != nil {
		return inv, err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return inv, err
	}
	return inv, Decode(sch, body, v)
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
	_ = json.NewEncoder(w).Encode(struct {
		StreamID       string `json:"stream_id"`
		Version        int64  `json:"version"`
		GlobalPosition int64  `json:"global_position"`
	}{res.StreamID, res.Version, res.GlobalPosition})
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

// readBody reads the bounded body through jsonbody.Read: invalid UTF-8, NUL characters,
// duplicate member names and unholdable numbers are refused (*jsonbody.Error, 400 naming the
// value) before the schema sees a body encoding/json would have silently repaired.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > s.max {
		return nil, &TooLargeError{Limit: s.max}
	}
	b, err := jsonbody.Read(http.MaxBytesReader(w, r.Body, s.max))
	if err != nil {
		var mbe *http.MaxBytesError
		var je *jsonbody.Error
		switch {
		case errors.As(err, &mbe):
			return nil, &TooLargeError{Limit: s.max}
		case errors.As(err, &je):
			return nil, je
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

// ParseCall translates the command headers into the command's Invocation: Idempotency-Key (at
// most 200 printable ASCII characters), If-Match ("<version>", the expected version, or * for
// any), traceparent and X-Correlation-ID (kept when well-formed). Who asks comes from the
// request's principal: the actor, and the teams the command is restricted to (Invocation.Scope;
// unrestricted without a principal, as on the public routes).
func ParseCall(r *http.Request) (es.Invocation, error) {
	var c es.Invocation
	c.Meta.Actor = ActorOf(r)
	if p, ok := access.From(r.Context()); ok {
		c.Scope = p.Scope()
	}
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
			c.Expected = &n
		default:
			return c, &InputError{Pointer: "If-Match", Reason: `If-Match must be the stream version in quotes ("3") or *`}
		}
	}
	// The events continue the trace of the span handling the request (the command's, else the
	// HTTP server's) when tracing is on, else the client's traceparent as it came.
	tp := r.Header.Get("traceparent")
	if !traceParentRe.MatchString(tp) {
		tp = ""
	}
	c.Meta.TraceParent = eventtrace.Current(r.Context(), tp)
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

// ActorOf names who asked: the actor of the principal the access middleware put on the
// request's context, "anonymous" on a route that needs none (the public ones).
func ActorOf(r *http.Request) string { return es.ActorOf(r.Context(), "anonymous") }
