// Package eventtrace carries an OpenTelemetry trace along an event: from the span that appended
// it (the envelope's TraceParent) through the relay's Kafka record (its standard `traceparent`
// header) to the spans of whoever handles it (projections, sagas).
//
// Only the OpenTelemetry API is used: with no TracerProvider installed (tracing off) every span
// is the global no-op one and the only cost is parsing a traceparent.
package eventtrace

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events"
)

// Header is the W3C trace-context header (of HTTP requests and Kafka records alike).
const Header = "traceparent"

// Tracer is the tracer of the event pipeline, from the global provider at each call so that a
// provider installed after start-up (tests) is used.
func Tracer() trace.Tracer { return otel.Tracer("github.com/socplatform/soc/events") }

// unset is the global provider as it is before anyone installs one: OpenTelemetry's delegating
// no-op, which GetTracerProvider keeps returning until SetTracerProvider.
var unset = otel.GetTracerProvider()

// Enabled reports whether a TracerProvider was installed. Callers skip all span work when it was
// not: even the no-op path (a tracer lookup under a lock, a parsed parent, a span in a context)
// costs about a microsecond and five allocations an event, paid per event per projection.
func Enabled() bool { return otel.GetTracerProvider() != unset }

// Parse reads a W3C traceparent (version 00: "00-<32 hex trace id>-<16 hex span id>-<2 hex
// flags>") into a remote span context; ok is false for anything else. It allocates nothing.
func Parse(tp string) (sc trace.SpanContext, ok bool) {
	if len(tp) != 55 || tp[0] != '0' || tp[1] != '0' || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return sc, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	var flags [1]byte
	if !decodeHex(tid[:], tp[3:35]) || !decodeHex(sid[:], tp[36:52]) || !decodeHex(flags[:], tp[53:55]) {
		return sc, false
	}
	sc = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid,
		TraceFlags: trace.TraceFlags(flags[0]) & trace.FlagsSampled, Remote: true})
	return sc, sc.IsValid()
}

// decodeHex decodes lower-case hex s into dst (len(s) == 2*len(dst)); W3C forbids upper case.
func decodeHex(dst []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// Format is sc as a W3C traceparent, "" when sc is not valid.
func Format(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags() & trace.FlagsSampled)})
	return string(b[:])
}

// WithParent returns ctx carrying tp as the remote parent of the next span started from it, or
// ctx unchanged when tp is not a traceparent.
func WithParent(ctx context.Context, tp string) context.Context {
	if sc, ok := Parse(tp); ok {
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return ctx
}

// Current is the traceparent of the span ctx carries when it is recorded, else fallback: an
// unrecorded span (tracing off, or not sampled) never replaces the trace context a caller had.
func Current(ctx context.Context, fallback string) string {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		return Format(s.SpanContext())
	}
	return fallback
}

type deliveryKey struct{}

// WithDelivery returns ctx carrying the trace context each event of a batch was delivered with
// (event id → traceparent of the record, i.e. of the relay's span), for ParentOf. A log consumer
// sets it only for records that carry one.
func WithDelivery(ctx context.Context, byEventID map[string]string) context.Context {
	if len(byEventID) == 0 {
		return ctx
	}
	return context.WithValue(ctx, deliveryKey{}, byEventID)
}

// ParentOf returns ctx carrying the parent of a span handling e: the trace context e was
// delivered with (WithDelivery) when there is one, else the envelope's TraceParent (the span
// that appended it, as when the store itself is the log).
func ParentOf(ctx context.Context, e *events.Envelope) context.Context {
	if m, _ := ctx.Value(deliveryKey{}).(map[string]string); m != nil {
		if tp, ok := m[e.EventID]; ok {
			if sc, ok := Parse(tp); ok {
				return trace.ContextWithRemoteSpanContext(ctx, sc)
			}
		}
	}
	return WithParent(ctx, e.TraceParent)
}

// End ends span with the outcome of what it covered: err, when not nil, is its error status.
func End(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// EventAttributes describe e on a span: its id (as the message id), type, stream and position.
func EventAttributes(e *events.Envelope) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.message.id", e.EventID),
		attribute.String("soc.event.type", e.Type),
		attribute.String("soc.stream.id", e.StreamID),
		attribute.Int64("soc.event.global_position", e.GlobalPosition),
	}
}

// StartHandling starts the consumer span name of whoever handles e (a projection, a saga) in e's
// trace (ParentOf), with EventAttributes and extra when it records.
func StartHandling(ctx context.Context, tracer trace.Tracer, name string, e *events.Envelope, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx, span := tracer.Start(ParentOf(ctx, e), name, trace.WithSpanKind(trace.SpanKindConsumer))
	if span.IsRecording() {
		span.SetAttributes(EventAttributes(e)...)
		span.SetAttributes(extra...)
	}
	return ctx, span
}
