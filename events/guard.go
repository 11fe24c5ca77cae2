package events

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// Limits bound what one append may carry. Zero fields take the defaults.
type Limits struct {
	MaxBatchEvents int // default 1000
	MaxEventBytes  int // data + metadata of one event; default 1 MiB
	MaxBatchBytes  int // default 8 MiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxBatchEvents <= 0 {
		l.MaxBatchEvents = 1000
	}
	if l.MaxEventBytes <= 0 {
		l.MaxEventBytes = 1 << 20
	}
	if l.MaxBatchBytes <= 0 {
		l.MaxBatchBytes = 8 << 20
	}
	return l
}

// Guarded wraps an adapter with everything that must hold whatever the backend: envelope
// defaults (UUIDv7 event ids, occurred_at), stream-id shape, schema validation against the
// registry, size limits, and upcasting on read. Validation happens before the adapter is called,
// so a refused batch never reaches the store and nothing is appended.
type Guarded struct {
	EventStore
	reg    *Registry
	limits Limits
	now    func() time.Time
	// snapshotEvery: see SetSnapshotEvery (snapshots.go).
	snapshotEvery int
}

// Guard returns store wrapped with validation against reg.
func Guard(store EventStore, reg *Registry, limits Limits) *Guarded {
	return &Guarded{EventStore: store, reg: reg, limits: limits.withDefaults(), now: time.Now, snapshotEvery: DefaultSnapshotEvery}
}

// Registry returns the registry the store validates against.
func (g *Guarded) Registry() *Registry { return g.reg }

// Unwrap returns the adapter.
func (g *Guarded) Unwrap() EventStore { return g.EventStore }

var (
	streamIDRe    = regexp.MustCompile(`^[a-z][a-z0-9]{1,31}-[a-z][a-z0-9_]{0,63}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	traceParentRe = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
)

// ValidStreamID reports whether id has the "<context>-<aggregate>-<uuid>" shape.
func ValidStreamID(id string) bool { return streamIDRe.MatchString(id) }

// NewStreamID returns a fresh "<context>-<aggregate>-<uuidv7>" id.
func NewStreamID(context, aggregate string) string {
	return context + "-" + aggregate + "-" + uuid.Must(uuid.NewV7()).String()
}

// NewEventID returns a UUIDv7: time-ordered, so indexes on event ids stay append-mostly.
func NewEventID() string { return uuid.Must(uuid.NewV7()).String() }

// Prepare validates a batch and fills its defaults, returning a new slice (the caller's
// envelopes are not modified). It is exported for callers that batch outside Append.
func (g *Guarded) Prepare(streamID string, expected ExpectedVersion, evs []Envelope) ([]Envelope, error) {
	if !ValidStreamID(streamID) {
		return nil, &InvalidEventError{Index: -1, Name: "stream_id",
			Reason: fmt.Sprintf("%q is not <context>-<aggregate>-<uuid> (lower case)", streamID)}
	}
	if expected < 0 && expected != Any && expected != NoStream && expected != StreamExists {
		return nil, &InvalidEventError{Index: -1, Name: "expected_version", Reason: fmt.Sprintf("%d is not a valid expected version", expected)}
	}
	if len(evs) == 0 {
		return nil, &InvalidEventError{Index: -1, Name: "events", Reason: "batch is empty"}
	}
	if len(evs) > g.limits.MaxBatchEvents {
		return nil, &BatchTooLargeError{What: "events", Index: -1, Size: len(evs), Limit: g.limits.MaxBatchEvents}
	}
	ctxName := StreamContext(streamID)
	streamType := StreamTypeOf(streamID)
	now := g.now().UTC()
	out := make([]Envelope, len(evs))
	seen := make(map[string]struct{}, len(evs))
	total := 0
	for i := range evs {
		e := evs[i]
		size := len(e.Data) + len(e.Metadata)
		if size > g.limits.MaxEventBytes {
			return nil, &BatchTooLargeError{What: "event_bytes", Index: i, Size: size, Limit: g.limits.MaxEventBytes}
		}
		if total += size; total > g.limits.MaxBatchBytes {
			return nil, &BatchTooLargeError{What: "batch_bytes", Index: -1, Size: total, Limit: g.limits.MaxBatchBytes}
		}
		if e.EventID == "" {
			e.EventID = NewEventID()
		} else if u, err := uuid.Parse(e.EventID); err != nil || u.String() != e.EventID {
			return nil, &InvalidEventError{Index: i, Name: "event_id", Reason: "must be a lower-case hyphenated UUID"}
		}
		if _, dup := seen[e.EventID]; dup {
			return nil, &InvalidEventError{Index: i, Name: "event_id", Reason: "appears twice in the batch"}
		}
		seen[e.EventID] = struct{}{}
		if e.Type == "" {
			return nil, &InvalidEventError{Index: i, Name: "type", Reason: "is required"}
		}
		if len(e.Data) == 0 {
			return nil, &InvalidEventError{Index: i, Name: "data", Reason: "is required"}
		}
		sv, err := g.reg.Validate(i, e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return nil, err
		}
		e.SchemaVersion = sv
		if ti := g.reg.Lookup(e.Type); ti.Context != ctxName {
			return nil, &InvalidEventError{Index: i, Name: "type",
				Reason: fmt.Sprintf("%s belongs to context %q, not to stream %s", e.Type, ti.Context, streamID)}
		}
		if len(e.Metadata) > 0 {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(e.Metadata, &m); err != nil || m == nil {
				return nil, &InvalidEventError{Index: i, Name: "metadata", Reason: "must be a JSON object"}
			}
		}
		if e.TraceParent != "" && !traceParentRe.MatchString(e.TraceParent) {
			return nil, &InvalidEventError{Index: i, Name: "trace_parent", Reason: "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)"}
		}
		for _, f := range []struct{ name, v string }{{"correlation_id", e.CorrelationID}, {"causation_id", e.CausationID}, {"actor", e.Actor}, {"tenant", e.Tenant}} {
			if len(f.v) > 256 {
				return nil, &InvalidEventError{Index: i, Name: f.name, Reason: "longer than 256 bytes"}
			}
		}
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
		// Microseconds: what PostgreSQL keeps, so every adapter round-trips the same value.
		e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
		e.StreamID = streamID
		e.StreamType = streamType
		e.Version, e.GlobalPosition, e.RecordedAt = 0, 0, time.Time{}
		out[i] = e
	}
	return out, nil
}

// Append validates, then appends through the adapter.
func (g *Guarded) Append(ctx context.Context, streamID string, expected ExpectedVersion, evs []Envelope) (AppendResult, error) {
	prepared, err := g.Prepare(streamID, expected, evs)
	if err != nil {
		return AppendResult{}, err
	}
	return g.EventStore.Append(ctx, streamID, expected, prepared)
}

// ReadStream reads through the adapter and upcasts.
func (g *Guarded) ReadStream(ctx context.Context, streamID string, opts ReadStreamOptions) ([]Envelope, error) {
	evs, err := g.EventStore.ReadStream(ctx, streamID, opts)
	if err != nil {
		return nil, err
	}
	return evs, g.upcastAll(evs)
}

// ReadAll reads through the adapter and upcasts.
func (g *Guarded) ReadAll(ctx context.Context, after int64, limit int) ([]Envelope, error) {
	evs, err := g.EventStore.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	return evs, g.upcastAll(evs)
}

func (g *Guarded) upcastAll(evs []Envelope) error {
	for i := range evs {
		if err := g.reg.Upcast(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}
