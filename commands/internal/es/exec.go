package es

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// Invocation is what comes with a command besides its payload: who asks (Meta, with the
// idempotency key that makes a retry safe) and, when the caller pinned it, the version the
// stream must be at. The HTTP ports fill it from the request headers; other callers build it.
type Invocation struct {
	Meta Meta
	// Expected, when set, is the exact version the stream must be at (optimistic concurrency:
	// the client decided on what it read at that version).
	Expected *int64
	// Fingerprint binds Meta.IdempotencyKey to the request that first used it (the HTTP ports
	// hash the command, its route and its canonical body): the key then replays that request's
	// answer and refuses any other (*KeyReusedError), and is scoped to Meta.Actor. Without it
	// a key only makes the event ids deterministic.
	Fingerprint string
	// Scope is the teams whose assets, and the findings on them, the command may change: nil
	// (the zero value) lifts the restriction — a principal holding teams:all, a saga, a worker;
	// otherwise only those teams' (a remediator, a team-restricted API token), none when empty.
	// httpcmd fills it from the request's principal (access.Principal.Scope); the app layers
	// check it against what they load, as the aggregates cannot see who owns them.
	Scope []string
}

// Scoped reports whether the command is restricted to some teams (Invocation.Scope).
func (inv Invocation) Scoped() bool { return inv.Scope != nil }

// Sees reports whether what team owns is within the command's scope: always when unscoped,
// otherwise only for one of the scope's teams (what no team owns is nobody's to change), the
// rule access.Principal.SeesTeam applies to the principal the scope came from.
func (inv Invocation) Sees(team string) bool {
	return inv.Scope == nil || team != "" && slices.Contains(inv.Scope, team)
}

// Outcome is what a command did: the stream it wrote and where that stream now stands.
type Outcome struct {
	StreamID       string
	Version        int64
	GlobalPosition int64
	// Created: the command started the stream.
	Created bool
	// Replayed: the idempotency key had already written to this stream; nothing was appended.
	Replayed bool
}

// NotFoundError: the command names an aggregate that does not exist.
type NotFoundError struct {
	What string // "finding", "asset"
	ID   string
}

func (e *NotFoundError) Error() string      { return fmt.Sprintf("no such %s: %s", e.What, e.ID) }
func (e *NotFoundError) Kind() problem.Kind { return problem.KindNotFound }

// Retries of a command sent without an expected version: the caller expressed no expectation
// about the stream, so a write that slipped in between load and append is not its conflict. Each
// attempt reloads and decides again (decisions are pure). The backoff is exponential with full
// jitter, so that writers that collided do not collide again in step.
const (
	maxAttempts = 12
	retryBase   = time.Millisecond
	retryCap    = 100 * time.Millisecond
)

// ContendedError: the stream changed between load and append on every attempt of a command
// sent without an expected version. It names the current version, never one the client did not
// send.
type ContendedError struct {
	StreamID string
	Attempts int
	Current  int64
}

func (e *ContendedError) Error() string {
	return fmt.Sprintf("%s changed under each of %d attempts (it is now at version %d); try again", e.StreamID, e.Attempts, e.Current)
}
func (e *ContendedError) Kind() problem.Kind { return problem.KindConflict }
func (e *ContendedError) ProblemType() (string, string) {
	return "write-contention", "Write contention"
}
func (e *ContendedError) Extensions() map[string]any {
	return map[string]any{"current_version": e.Current}
}
func (e *ContendedError) RetryAfter() time.Duration { return time.Second }

// Exec is the load → decide → append cycle of one command on one stream:
//
//   - when the invocation's idempotency key already wrote to this stream, it answers with that
//     write's version and position and appends nothing (decide is not called: the retried command
//     would often be refused by the state it already produced) — unless the key was bound to
//     another request (Invocation.Fingerprint), which is a *KeyReusedError (422);
//   - it waits for the other commands of this process on streamID (streamLocks), then loads
//     streamID into agg (from its snapshot and the events after it, see Load);
//   - with an expected version, a stream at another version is a *events.VersionConflictError
//     (409) naming the expected and the current version;
//   - it calls decide and appends its changes at exactly the loaded version (NoStream when the
//     stream did not exist), so a concurrent write is never a lost update: with an expected
//     version it is a 409; without one the command is reloaded, decided and appended again, up
//     to maxAttempts times, then a *ContendedError (409);
//   - a decision with no changes appends nothing and answers the stream's current version;
//   - after an append, when the stream grew by the store's SnapshotEvery since its snapshot, it
//     saves the loaded state as the new snapshot (best effort).
//
// agg must be a pointer to the aggregate's zero value; decide reads it.
func Exec(ctx context.Context, store Store, streamID string, agg Aggregate, inv Invocation, decide func() ([]Change, error)) (Outcome, error) {
	for attempt := 1; ; attempt++ {
		out, err := execOnce(ctx, store, streamID, agg, inv, decide)
		conflict, isConflict := errors.AsType[*events.VersionConflictError](err)
		if !isConflict || inv.Expected != nil {
			return out, err
		}
		if attempt == maxAttempts {
			return Outcome{}, &ContendedError{StreamID: streamID, Attempts: attempt, Current: conflict.Actual}
		}
		if err := reset(agg); err != nil {
			return Outcome{}, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return Outcome{}, err
		}
	}
}

func execOnce(ctx context.Context, store Store, streamID string, agg Aggregate, inv Invocation, decide func() ([]Change, error)) (Outcome, error) {
	unlock, err := locks.lock(ctx, streamID)
	if err != nil {
		return Outcome{}, err
	}
	defer unlock()
	keyed := inv.Meta.IdempotencyKey != ""
	if keyed {
		if out, found, err := replayed(ctx, store, streamID, inv); found || err != nil {
			return out, err
		}
	}
	st, err := load(ctx, store, streamID, agg)
	if err != nil {
		return Outcome{}, err
	}
	if inv.Expected != nil && *inv.Expected != st.version {
		return Outcome{}, &events.VersionConflictError{StreamID: streamID, Expected: events.Exact(*inv.Expected), Actual: st.version, Exists: st.version > 0}
	}
	snap := snapshotDue(store, streamID, agg, st)
	changes, err := decide()
	if err != nil {
		return Outcome{}, err
	}
	if len(changes) == 0 {
		return Outcome{StreamID: streamID, Version: st.version, GlobalPosition: st.position}, nil
	}
	expected := events.Exact(st.version)
	if st.version == 0 {
		expected = events.NoStream
	}
	evs, err := envelopes(inv.Meta, changes, eventIDs(inv, streamID), requestMetadata(inv))
	if err != nil {
		return Outcome{}, err
	}
	res, err := store.Append(ctx, streamID, expected, evs)
	_, clash := errors.AsType[*events.DuplicateEventError](err)
	if keyed && (res.Duplicate || clash) {
		// A concurrent request with the same key appended first: answer as its replay, or
		// refuse if it was another request.
		if out, found, err := replayed(ctx, store, streamID, inv); found || err != nil {
			return out, err
		}
	}
	if err != nil {
		return Outcome{}, err
	}
	saveSnapshot(ctx, store, snap)
	return Outcome{StreamID: streamID, Version: res.NextExpectedVersion, GlobalPosition: res.LastPosition,
		Created: res.NextExpectedVersion-int64(len(changes)) == 0, Replayed: res.Duplicate}, nil
}

// backoff sleeps before attempt+1: a random duration up to retryBase·2^attempt, capped.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(min(retryCap, retryBase<<attempt)) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ExecExisting is Exec for a command on an aggregate that must exist already: an id that valid
// refuses, or a stream that holds no such aggregate, is a *NotFoundError naming what ("asset").
// decide gets the loaded aggregate.
func ExecExisting[A any, P interface {
	*A
	Aggregate
	Exists() bool
}](ctx context.Context, store Store, what, id string, valid func(string) bool, inv Invocation, decide func(P) ([]Change, error)) (Outcome, error) {
	if !valid(id) {
		return Outcome{}, &NotFoundError{What: what, ID: id}
	}
	agg := P(new(A))
	return Exec(ctx, store, id, agg, inv, func() ([]Change, error) {
		if !agg.Exists() {
			return nil, &NotFoundError{What: what, ID: id}
		}
		return decide(agg)
	})
}
