// Package es loads event-sourced aggregates from the event store and appends what their
// commands decided. Aggregates stay free of I/O: they apply events and return changes.
package es

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
)

// Store is the part of the event store a command handler uses. A store that also keeps
// aggregate snapshots (snapshotStore: events.Guarded) makes loading a long stream cost what
// loading the events since its last snapshot costs.
type Store interface {
	ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error)
	// ReadEvent finds what an idempotency key already wrote, by its deterministic event id.
	ReadEvent(ctx context.Context, eventID string) (events.Envelope, error)
	Append(ctx context.Context, streamID string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error)
}

// Aggregate is rebuilt by applying its stream's events in order.
type Aggregate interface {
	Apply(e *events.Envelope) error
}

// Load brings agg to the stream's current state and returns the stream's version (0 when the
// stream does not exist yet): from the stream's snapshot and the events after it when agg is a
// Snapshotter and the store keeps snapshots, else from every event. agg must be a pointer to
// the aggregate's zero value.
func Load(ctx context.Context, s Store, streamID string, agg Aggregate) (int64, error) {
	st, err := load(ctx, s, streamID, agg)
	return st.version, err
}

// Change is one event a command decided on, before it has an envelope.
type Change struct {
	Type string
	Data any
}

// Meta is who asked and why; it is copied onto every event a command appends.
type Meta struct {
	Actor         string
	Tenant        string
	CorrelationID string
	CausationID   string
	TraceParent   string
	// IdempotencyKey, when set, makes the event ids deterministic, so a retried request appends
	// the same ids and the store answers with the original positions instead of writing twice.
	IdempotencyKey string
}

var idNamespace = uuid.MustParse("6f6c8a5e-3b0e-4c59-9a7e-5f1d2d8b0c11")

// Envelopes turns changes into envelopes for streamID, their ids derived from
// meta.IdempotencyKey when there is one (eventIDs of an unbound key), else fresh.
func Envelopes(meta Meta, streamID string, changes []Change) ([]events.Envelope, error) {
	return envelopes(meta, changes, eventIDs(Invocation{Meta: meta}, streamID), nil)
}

// envelopes turns changes into envelopes with the ids id gives and metadata on each.
func envelopes(meta Meta, changes []Change, id func(i int) string, metadata json.RawMessage) ([]events.Envelope, error) {
	out := make([]events.Envelope, len(changes))
	for i, c := range changes {
		data, err := json.Marshal(c.Data)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", c.Type, err)
		}
		out[i] = events.Envelope{EventID: id(i), Type: c.Type, Data: data, Metadata: metadata, Actor: meta.Actor, Tenant: meta.Tenant,
			CorrelationID: meta.CorrelationID, CausationID: meta.CausationID, TraceParent: meta.TraceParent}
	}
	return out, nil
}

// deterministicID derives an event id from a key, so the same intent always has the same id.
func deterministicID(key, streamID string, i int) string {
	return uuid.NewHash(sha1.New(), idNamespace, []byte(fmt.Sprintf("%s\x00%s\x00%d", key, streamID, i)), 5).String()
}

// Save appends changes to streamID at the expected version.
func Save(ctx context.Context, s Store, streamID string, expected events.ExpectedVersion, meta Meta, changes []Change) (events.AppendResult, error) {
	if len(changes) == 0 {
		return events.AppendResult{NextExpectedVersion: int64(expected)}, nil
	}
	evs, err := Envelopes(meta, streamID, changes)
	if err != nil {
		return events.AppendResult{}, err
	}
	return s.Append(ctx, streamID, expected, evs)
}

// StreamIDFor derives a stable stream id "<context>-<aggregate>-<uuidv5>" from a natural key,
// so that the same real-world thing (a finding's identity) always maps to the same stream.
func StreamIDFor(context, aggregate, naturalKey string) string {
	return context + "-" + aggregate + "-" + uuid.NewHash(sha1.New(), idNamespace, []byte(context+"\x00"+aggregate+"\x00"+naturalKey), 5).String()
}

// ActorOf is the actor of what ctx's principal does (access.Principal.Actor: "user:<id>",
// "token:<id>", "system:<name>"), fallback when ctx carries none: a worker acting on its own.
func ActorOf(ctx context.Context, fallback string) string {
	if p, ok := access.From(ctx); ok {
		return p.Actor()
	}
	return fallback
}
