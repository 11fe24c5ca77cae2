// Package memstore is an in-memory events.EventStore for tests of the packages that consume the
// store (eventlog, kafkalog). It is a TEST DOUBLE, not an adapter: nothing is durable, it is not
// registered anywhere, and it is not checked by the storetest contract suite. It implements the
// port faithfully enough for those tests: appends with expected versions (atomic per batch,
// idempotent re-append of the same event ids), ReadStream, ReadEvent, ReadAll in position order, HeadPosition,
// WaitForAppend woken by a channel, stream metadata, soft delete and tombstone, and QueryEvents
// (by scanning). It also keeps named checkpoints (LoadCheckpoint/SaveCheckpoint), like the real
// adapters do for the Kafka relay.
//
// Like an adapter it does not validate envelopes: wrap it with events.Guard for that.
package memstore

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
)

type stream struct {
	id             string
	evs            []int // indexes into Store.all, in version order
	version        int64
	truncateBefore int64
	deleted        bool
	tombstoned     bool
	metadata       json.RawMessage
}

// Store is the in-memory test double. The zero value is not usable; call New.
type Store struct {
	mu          sync.Mutex
	all         []events.Envelope // index i holds global position i+1
	streams     map[string]*stream
	byID        map[string]int
	wake        chan struct{} // closed and replaced on every append
	closed      bool
	checkpoints map[string]int64
	now         func() time.Time
}

// New returns an empty store.
func New() *Store {
	return &Store{
		streams:     map[string]*stream{},
		byID:        map[string]int{},
		wake:        make(chan struct{}),
		checkpoints: map[string]int64{},
		now:         time.Now,
	}
}

var _ events.EventStore = (*Store)(nil)

func (s *Store) stream(id string) *stream {
	st := s.streams[id]
	if st == nil {
		st = &stream{id: id}
		s.streams[id] = st
	}
	return st
}

// writable returns streamID's stream for a write, or the error of a tombstoned one; s.mu is held.
func (s *Store) writable(streamID string) (*stream, error) {
	st := s.stream(streamID)
	if st.tombstoned {
		return nil, &events.StreamDeletedError{StreamID: streamID}
	}
	return st, nil
}

func (st *stream) live() bool { return !st.deleted && !st.tombstoned && st.version > 0 }

// conflict is the error of a write to st that expects expected: nil when the expectation holds.
// The version it reports is 0 when the stream has no live events.
func (st *stream) conflict(expected events.ExpectedVersion) error {
	if expected.Check(st.version, st.live()) {
		return nil
	}
	actual := int64(0)
	if st.live() {
		actual = st.version
	}
	return &events.VersionConflictError{StreamID: st.id, Expected: expected, Actual: actual, Exists: st.live()}
}

// Append implements events.EventStore.
func (s *Store) Append(ctx context.Context, streamID string, expected events.ExpectedVersion, evs []events.Envelope) (events.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return events.AppendResult{}, err
	}
	if len(evs) == 0 {
		return events.AppendResult{}, &events.InvalidEventError{Index: -1, Name: "events", Reason: "batch is empty"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return events.AppendResult{}, events.ErrClosed
	}
	st, err := s.writable(streamID)
	if err != nil {
		return events.AppendResult{}, err
	}
	// Idempotent re-append: every id already stored in this stream.
	if evs[0].EventID != "" {
		if _, ok := s.byID[evs[0].EventID]; ok {
			res := events.AppendResult{Duplicate: true}
			for i, e := range evs {
				idx, ok := s.byID[e.EventID]
				if !ok || s.all[idx].StreamID != streamID {
					return events.AppendResult{}, &events.DuplicateEventError{EventID: evs[0].EventID, Reason: "batch mixes stored and new events"}
				}
				if i == 0 {
					res.FirstPosition = s.all[idx].GlobalPosition
				}
				res.LastPosition = s.all[idx].GlobalPosition
				res.NextExpectedVersion = s.all[idx].Version
			}
			return res, nil
		}
	}
	if err := st.conflict(expected); err != nil {
		return events.AppendResult{}, err
	}
	for _, e := range evs {
		if e.EventID != "" {
			if _, dup := s.byID[e.EventID]; dup {
				return events.AppendResult{}, &events.DuplicateEventError{EventID: e.EventID, Reason: "already stored"}
			}
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond) // what the real stores keep
	var res events.AppendResult
	for i, e := range evs {
		st.version++
		e.StreamID = streamID
		if e.StreamType == "" {
			e.StreamType = events.StreamTypeOf(streamID)
		}
		e.Version = st.version
		e.GlobalPosition = int64(len(s.all)) + 1
		e.RecordedAt = now
		if e.EventID == "" {
			e.EventID = events.NewEventID()
		}
		s.all = append(s.all, e)
		s.byID[e.EventID] = len(s.all) - 1
		st.evs = append(st.evs, len(s.all)-1)
		if i == 0 {
			res.FirstPosition = e.GlobalPosition
		}
		res.LastPosition = e.GlobalPosition
	}
	st.deleted = false
	res.NextExpectedVersion = st.version
	close(s.wake)
	s.wake = make(chan struct{})
	return res, nil
}

// ReadStream implements events.EventStore.
func (s *Store) ReadStream(ctx context.Context, streamID string, opts events.ReadStreamOptions) ([]events.Envelope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, events.ErrClosed
	}
	st := s.streams[streamID]
	if st == nil {
		return nil, events.ErrStreamNotFound
	}
	if st.tombstoned {
		return nil, &events.StreamDeletedError{StreamID: streamID}
	}
	if !st.live() {
		return nil, events.ErrStreamNotFound
	}
	limit := events.NormalizeLimit(opts.Limit)
	var out []events.Envelope
	add := func(idx int) bool {
		e := s.all[idx]
		if e.Version < st.truncateBefore || (!opts.AsOf.IsZero() && e.RecordedAt.After(opts.AsOf)) {
			return true
		}
		out = append(out, e)
		return len(out) < limit
	}
	if opts.Backwards {
		from := opts.From
		if from <= 0 {
			from = st.version
		}
		for i := len(st.evs) - 1; i >= 0; i-- {
			if s.all[st.evs[i]].Version <= from && !add(st.evs[i]) {
				break
			}
		}
	} else {
		for _, idx := range st.evs {
			if s.all[idx].Version >= opts.From && !add(idx) {
				break
			}
		}
	}
	if len(out) == 0 && !opts.AsOf.IsZero() {
		return nil, events.ErrStreamNotFound
	}
	return out, nil
}

// ReadEvent implements events.EventStore.
func (s *Store) ReadEvent(ctx context.Context, eventID string) (events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return events.Envelope{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return events.Envelope{}, events.ErrClosed
	}
	i, ok := s.byID[eventID]
	if !ok {
		return events.Envelope{}, events.ErrEventNotFound
	}
	return s.all[i], nil
}

// ReadAll implements events.EventStore.
func (s *Store) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, events.ErrClosed
	}
	if after < 0 {
		after = 0
	}
	if after >= int64(len(s.all)) {
		return nil, nil
	}
	end := after + int64(events.NormalizeLimit(limit))
	if end > int64(len(s.all)) {
		end = int64(len(s.all))
	}
	return append([]events.Envelope(nil), s.all[after:end]...), nil
}

// HeadPosition implements events.EventStore.
func (s *Store) HeadPosition(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, events.ErrClosed
	}
	return int64(len(s.all)), nil
}

// WaitForAppend implements events.EventStore: it returns as soon as the head passes after,
// when ctx ends (with ctx's error), or after a poll interval of one second.
func (s *Store) WaitForAppend(ctx context.Context, after int64) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return events.ErrClosed
	}
	if int64(len(s.all)) > after {
		s.mu.Unlock()
		return nil
	}
	wake := s.wake
	s.mu.Unlock()
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
		return nil
	case <-t.C:
		return nil
	}
}

// StreamInfo implements events.EventStore.
func (s *Store) StreamInfo(ctx context.Context, streamID string) (events.StreamInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := events.StreamInfo{StreamID: streamID, StreamType: events.StreamTypeOf(streamID)}
	if st := s.streams[streamID]; st != nil {
		info.Version, info.Exists, info.Deleted, info.Tombstoned = st.version, st.live(), st.deleted, st.tombstoned
		info.TruncateBefore, info.Metadata = st.truncateBefore, st.metadata
	}
	return info, nil
}

// SetStreamMetadata implements events.EventStore.
func (s *Store) SetStreamMetadata(ctx context.Context, streamID string, metadata json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(metadata, &m); err != nil || m == nil {
		return &events.InvalidEventError{Index: -1, Name: "metadata", Reason: "must be a JSON object"}
	}
	st, err := s.writable(streamID)
	if err != nil {
		return err
	}
	st.metadata = append(json.RawMessage(nil), metadata...)
	return nil
}

// DeleteStream implements events.EventStore (soft delete).
func (s *Store) DeleteStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.writable(streamID)
	if err != nil {
		return err
	}
	if !st.live() {
		return events.ErrStreamNotFound
	}
	if err := st.conflict(expected); err != nil {
		return err
	}
	st.deleted = true
	st.truncateBefore = st.version + 1
	return nil
}

// TombstoneStream implements events.EventStore.
func (s *Store) TombstoneStream(ctx context.Context, streamID string, expected events.ExpectedVersion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.writable(streamID)
	if err != nil {
		return err
	}
	if err := st.conflict(expected); err != nil {
		return err
	}
	st.tombstoned = true
	return nil
}

// Close implements events.EventStore.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// LoadCheckpoint returns the position saved under name, 0 when none.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpoints[name], nil
}

// SaveCheckpoint saves pos under name.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, pos int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkpoints[name] = pos
	return nil
}

var _ events.EventQuerier = (*Store)(nil)

// QueryEvents implements events.EventQuerier by scanning every event (a test double: no indexes).
func (s *Store) QueryEvents(ctx context.Context, q events.EventQuery) ([]events.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, events.ErrClosed
	}
	var out []events.Envelope
	for i := range s.all {
		j := i
		if q.Backwards {
			j = len(s.all) - 1 - i
		}
		if q.Matches(&s.all[j]) {
			out = append(out, s.all[j])
			if len(out) == q.Limit {
				break
			}
		}
	}
	return out, nil
}
