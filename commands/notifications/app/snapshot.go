package app

import (
	"context"
	"time"

	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events/snapshot"
)

// The index's snapshot: its name in the snapshot directory and the version of indexState. Bump
// the version whenever indexState or what it holds changes meaning: an old snapshot is then
// ignored and the index rebuilt from $all.
const (
	indexSnapshotName    = "notifications-index"
	indexSnapshotVersion = 1
)

// indexState is what the snapshot holds: the index's whole content at its position. The index
// keeps only what is still to do, so the state stays small however long the history is; what a
// restart saves is reading that history.
type indexState struct {
	Live    []entrySnap
	Buckets []bucketSnap
	Digests []string
}

type entrySnap struct {
	ID, Channel, Kind, Severity, Subject string
	Status                               domain.Status
	Due, AttemptedAt, RequestedAt        time.Time
	Recipient                            channels.Recipient
}

type bucketSnap struct {
	ID, Channel string
	Due         time.Time
	Recipient   channels.Recipient
	Items       []domain.DigestItem
}

// capture copies the index with the position it covers, under one lock so both agree.
func (x *index) capture() (snapshot.Mark, indexState) {
	x.mu.Lock()
	defer x.mu.Unlock()
	st := indexState{Live: make([]entrySnap, 0, len(x.live)), Buckets: make([]bucketSnap, 0, len(x.buckets)),
		Digests: make([]string, 0, len(x.digests))}
	for _, en := range x.live {
		st.Live = append(st.Live, entrySnap{ID: en.id, Channel: en.channel, Kind: en.kind, Severity: en.severity, Subject: en.subject,
			Status: en.status, Due: en.due, AttemptedAt: en.attemptedAt, RequestedAt: en.requestedAt, Recipient: en.recipient})
	}
	for _, b := range x.buckets {
		st.Buckets = append(st.Buckets, bucketSnap{ID: b.id, Channel: b.channel, Due: b.due, Recipient: b.recipient,
			Items: append([]domain.DigestItem(nil), b.items...)})
	}
	for id := range x.digests {
		st.Digests = append(st.Digests, id)
	}
	return snapshot.Mark{Position: x.pos, EventID: x.posID}, st
}

// load replaces the index's content with st, covering the store up to at.
func (x *index) load(at snapshot.Mark, st indexState) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.live = make(map[string]*entry, len(st.Live))
	for _, en := range st.Live {
		x.live[en.ID] = &entry{id: en.ID, status: en.Status, due: en.Due, attemptedAt: en.AttemptedAt, channel: en.Channel,
			recipient: en.Recipient, kind: en.Kind, severity: en.Severity, subject: en.Subject, requestedAt: en.RequestedAt}
	}
	x.buckets = make(map[string]*bucket, len(st.Buckets))
	for _, b := range st.Buckets {
		x.buckets[b.ID] = &bucket{id: b.ID, due: b.Due, channel: b.Channel, recipient: b.Recipient, items: b.Items}
	}
	x.digests = make(map[string]struct{}, len(st.Digests))
	for _, id := range st.Digests {
		x.digests[id] = struct{}{}
	}
	x.pos, x.posID = at.Position, at.EventID
}

// restore loads the snapshot into the empty index, once, before the first sync. A snapshot that
// cannot be trusted leaves the index empty: the sync then reads the whole log.
func (w *Worker) restore(ctx context.Context) error {
	w.snapMu.Lock()
	defer w.snapMu.Unlock()
	if w.restored {
		return nil
	}
	if w.cfg.Snapshots.Enabled() && w.idx.position() == 0 {
		var st indexState
		at, ok, err := w.cfg.Snapshots.Load(ctx, w.cfg.Store, indexSnapshotName, indexSnapshotVersion, &st)
		if err != nil {
			return err // the store could not be read: try again on the next sync
		}
		if ok {
			w.idx.load(at, st)
			w.snapTrack.Saved(at.Position, time.Now())
		}
	}
	w.restored = true
	return nil
}

// SaveSnapshot writes a snapshot of the index now (a no-op without WorkerConfig.Snapshots). Run
// writes one when it stops.
func (w *Worker) SaveSnapshot() error {
	return w.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Changed(pos) })
}

// snapshotIfDue writes a snapshot when the policy says so. A failure is only a slower next
// start: it is logged.
func (w *Worker) snapshotIfDue() {
	if err := w.saveSnapshot(func(t *snapshot.Tracker, pos int64) bool { return t.Due(pos, time.Now()) }); err != nil {
		w.log.Warn("notifications: the index's snapshot could not be written; the next start replays more", "error", err)
	}
}

// saveSnapshot writes a snapshot when due says so for the index's position. Encoding and writing
// happen outside the index's lock: dispatch passes go on meanwhile.
func (w *Worker) saveSnapshot(due func(t *snapshot.Tracker, pos int64) bool) error {
	if !w.cfg.Snapshots.Enabled() {
		return nil
	}
	w.snapMu.Lock()
	defer w.snapMu.Unlock()
	if !w.restored || !due(&w.snapTrack, w.idx.position()) {
		return nil // before the restore the index is empty: nothing worth keeping
	}
	at, st := w.idx.capture()
	if err := w.cfg.Snapshots.Save(indexSnapshotName, indexSnapshotVersion, at, &st); err != nil {
		return err
	}
	w.snapTrack.Saved(at.Position, time.Now())
	return nil
}
