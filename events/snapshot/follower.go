package snapshot

import (
	"context"
	"sync"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// Lookup is an in-memory state a Follower keeps current with $all. It guards its own state:
// its owner may also apply, at once, the events it appended itself (the Follower meets them
// again in $all), so Apply must skip what the state already holds (by stream version).
type Lookup[S any] interface {
	// Apply applies one event of $all. The Follower calls it in global order, one event at a
	// time, never twice for one position.
	Apply(e *events.Envelope) error
	// Capture copies the state into what a snapshot holds. The Follower holds its cursor still
	// meanwhile, so the copy covers at least every event up to the cursor.
	Capture() S
	// Restore replaces the (still empty) state with a snapshot's.
	Restore(S)
}

// FollowerConfig names a Follower's snapshot and bounds its reads.
type FollowerConfig struct {
	// Name is the snapshot's file name in Dir; Version the state's encoding version: bump it
	// whenever S changes meaning, so that an old snapshot is ignored and the state rebuilt.
	Name    string
	Version int
	Dir     Dir    // zero: no snapshots, every Load reads $all from position 0
	Policy  Policy // when following writes a snapshot besides at stop
	// ReadBatch is the page size when reading $all (default 1000).
	ReadBatch int
}

// Follower restores a Lookup from its snapshot, catches it up with $all, follows the store
// live, and writes snapshots by its Policy and when it stops: the one sequence every lookup of
// the command side needs, so a restart reads only the events after the snapshot.
type Follower[S any] struct {
	store  events.EventStore
	lookup Lookup[S]
	cfg    FollowerConfig

	snapMu sync.Mutex // one snapshot written at a time; taken before mu

	mu       sync.Mutex // one reader of $all at a time; guards cursor, restored and track
	cursor   Mark       // last event of $all applied
	restored bool       // the snapshot was tried
	track    Tracker

	done chan struct{}
	err  error
}

// NewFollower returns a Follower of lookup over store. Call Load or Start before reading the
// lookup (CatchUp loads it too).
func NewFollower[S any](store events.EventStore, lookup Lookup[S], cfg FollowerConfig) *Follower[S] {
	if cfg.ReadBatch <= 0 || cfg.ReadBatch > events.MaxReadLimit {
		cfg.ReadBatch = 1000
	}
	return &Follower[S]{store: store, lookup: lookup, cfg: cfg, track: Tracker{Policy: cfg.Policy}}
}

// Load restores the lookup from its snapshot, if there is a usable one, then reads $all from
// where it stopped (the snapshot, or 0) to the head. Later calls only catch up.
func (f *Follower[S]) Load(ctx context.Context) error { return f.CatchUp(ctx) }

// CatchUp applies every event of $all after the cursor, up to the head, so that what the lookup
// answers next reflects everything appended before the call. The first call restores the
// snapshot first.
func (f *Follower[S]) CatchUp(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.restore(ctx); err != nil {
		return err
	}
	return eventlog.ReadToHead(ctx, f.store, f.cursor.Position, f.cfg.ReadBatch, f.applyBatch)
}

// Position is the global position of the last event of $all the lookup applied.
func (f *Follower[S]) Position() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor.Position
}

// restore loads the snapshot into the empty lookup, once. Callers hold f.mu.
func (f *Follower[S]) restore(ctx context.Context) error {
	if f.restored {
		return nil
	}
	f.restored = true
	var st S
	at, ok, err := f.cfg.Dir.Load(ctx, f.store, f.cfg.Name, f.cfg.Version, &st)
	if err != nil || !ok {
		return err // a snapshot that cannot be trusted was logged: the lookup replays $all
	}
	f.lookup.Restore(st)
	f.cursor = at
	f.track.Saved(at.Position, time.Now())
	return nil
}

// applyBatch applies the events of batch after the cursor and moves the cursor past them; those
// at or below it were applied already (a catch-up read them first, or the batch is delivered
// again). Callers hold f.mu.
func (f *Follower[S]) applyBatch(batch []events.Envelope) error {
	for i := range batch {
		if batch[i].GlobalPosition <= f.cursor.Position {
			continue
		}
		if err := f.lookup.Apply(&batch[i]); err != nil {
			return err
		}
		f.cursor = Mark{Position: batch[i].GlobalPosition, EventID: batch[i].EventID}
	}
	return nil
}

// Start loads, then follows the store live through the eventlog consumer port until ctx ends,
// writing snapshots by the Policy and once more when it stops (the next start reads only what
// comes after it).
func (f *Follower[S]) Start(ctx context.Context) error {
	if err := f.Load(ctx); err != nil {
		return err
	}
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		c := &eventlog.StoreConsumer{Store: f.store, BatchSize: f.cfg.ReadBatch, StartFrom: func(context.Context) (int64, error) {
			return f.Position(), nil
		}}
		if err := c.Run(ctx, f.follow); err != nil && ctx.Err() == nil {
			f.err = err
		}
		if err := f.save(func(t *Tracker, pos int64) bool { return t.Changed(pos) }); err != nil && f.err == nil {
			f.err = err
		}
	}()
	return nil
}

// Wait blocks until the follower started by Start has stopped (its ctx ended) and returns the
// error that stopped it, if any.
func (f *Follower[S]) Wait() error {
	if f.done == nil {
		return nil
	}
	<-f.done
	return f.err
}

// follow applies a batch the consumer delivered, then writes a snapshot if one is due.
func (f *Follower[S]) follow(_ context.Context, batch []events.Envelope) error {
	f.mu.Lock()
	err := f.applyBatch(batch)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	// A snapshot that cannot be written is only a slower next start: the follower goes on.
	if err := f.save(func(t *Tracker, pos int64) bool { return t.Due(pos, time.Now()) }); err != nil {
		f.cfg.Dir.Logger().Warn("a lookup snapshot could not be written", "snapshot", f.cfg.Name, "err", err)
	}
	return nil
}

// SaveSnapshot writes a snapshot of the lookup now (a no-op without a Dir).
func (f *Follower[S]) SaveSnapshot() error {
	return f.save(func(*Tracker, int64) bool { return true })
}

// save writes a snapshot when due says so for the cursor. The state is captured with the cursor
// held still and encoded and written after it is released, so reads of $all wait only for the
// copy.
func (f *Follower[S]) save(due func(t *Tracker, pos int64) bool) error {
	if !f.cfg.Dir.Enabled() {
		return nil
	}
	f.snapMu.Lock()
	defer f.snapMu.Unlock()
	f.mu.Lock()
	at := f.cursor
	if !due(&f.track, at.Position) {
		f.mu.Unlock()
		return nil
	}
	st := f.lookup.Capture()
	f.mu.Unlock()
	if err := f.cfg.Dir.Save(f.cfg.Name, f.cfg.Version, at, &st); err != nil {
		return err
	}
	f.mu.Lock()
	f.track.Saved(at.Position, time.Now())
	f.mu.Unlock()
	return nil
}
