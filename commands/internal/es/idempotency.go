package es

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// Where an idempotency key is kept: in the events it wrote. Their ids derive from the key (scoped
// to the principal when bound to a request) and the stream, and their metadata carries the
// request's fingerprint, so the key is recorded in the very transaction that appends, in every
// backend, and found again with one read by event id (ReadEvent) however long the stream or
// whatever snapshot it loads from. A command that appended nothing records nothing: its key can
// be used again.

// maxReplayBatch is how many events of one command a replay reports (its version and position
// are the last one's).
const maxReplayBatch = 16

// fingerprintMember is the metadata member holding the request fingerprint.
const fingerprintMember = "request_fingerprint"

// KeyReusedError: the idempotency key already answered another request on this aggregate
// (another command, or another body). Replaying that answer would silently drop this request;
// running it would break the key's promise. The client must use a new key.
type KeyReusedError struct{ Key string }

func (e *KeyReusedError) Error() string {
	return fmt.Sprintf("the idempotency key %q was used for a different request; a new request needs a new key", e.Key)
}
func (e *KeyReusedError) Kind() problem.Kind { return problem.KindRejected }
func (e *KeyReusedError) Field() string      { return "idempotency_key" }
func (e *KeyReusedError) ProblemType() (string, string) {
	return "idempotency-key-reused", "Idempotency key reused"
}

// eventIDs gives the ids of a command's events: derived from its idempotency key (scoped to the
// principal when the key is bound to a request), else fresh.
func eventIDs(inv Invocation, streamID string) func(i int) string {
	key := inv.Meta.IdempotencyKey
	if key == "" {
		return func(int) string { return events.NewEventID() }
	}
	if inv.Fingerprint != "" {
		key = inv.Meta.Actor + "\x00" + key
	}
	return func(i int) string { return deterministicID(key, streamID, i) }
}

func requestMetadata(inv Invocation) json.RawMessage {
	if inv.Meta.IdempotencyKey == "" || inv.Fingerprint == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]string{fingerprintMember: inv.Fingerprint})
	return b
}

// replayed looks for what the invocation's key already wrote to streamID. found reports that it
// wrote something: the outcome is that write's (Replayed), or the error a *KeyReusedError.
func replayed(ctx context.Context, store Store, streamID string, inv Invocation) (out Outcome, found bool, err error) {
	id := eventIDs(inv, streamID)
	first, err := store.ReadEvent(ctx, id(0))
	if errors.Is(err, events.ErrEventNotFound) {
		return Outcome{}, false, nil
	}
	if err != nil {
		return Outcome{}, false, err
	}
	if inv.Fingerprint != "" {
		var m map[string]any
		_ = json.Unmarshal(first.Metadata, &m)
		if m[fingerprintMember] != inv.Fingerprint {
			return Outcome{}, true, &KeyReusedError{Key: inv.Meta.IdempotencyKey}
		}
	}
	out = Outcome{StreamID: streamID, Version: first.Version, GlobalPosition: first.GlobalPosition, Created: first.Version == 1, Replayed: true}
	rest, err := store.ReadStream(ctx, streamID, events.ReadStreamOptions{From: first.Version + 1, Limit: maxReplayBatch - 1})
	if err != nil && !errors.Is(err, events.ErrStreamNotFound) {
		return Outcome{}, true, err
	}
	for i := range rest {
		if rest[i].EventID != id(i+1) {
			break
		}
		out.Version, out.GlobalPosition = rest[i].Version, rest[i].GlobalPosition
	}
	return out, true, nil
}
