package app

import (
	"context"
	"time"
)

// The directory's snapshot: its name in the snapshot directory and the version of
// directoryState's encoding. Bump the version whenever directoryState or the aggregates in it
// change meaning: an old snapshot is then ignored and the directory rebuilt from $all.
const (
	snapshotName    = "identity-directory"
	snapshotVersion = 1
)

// restore loads the snapshot into the empty directory, once. Callers hold dir.mu.
func (s *Service) restore(ctx context.Context) error {
	if s.restored || !s.deps.Snapshots.Enabled() {
		s.restored = true
		return nil
	}
	s.restored = true
	st := directoryState{}
	at, ok, err := s.deps.Snapshots.Load(ctx, s.deps.Store, snapshotName, snapshotVersion, &st)
	if err != nil || !ok {
		return err
	}
	if st.Users == nil || st.Teams == nil || st.Roles == nil || st.Tokens == nil || st.Sessions == nil || st.Invitations == nil {
		return nil // a snapshot missing a part is not trusted: the directory is rebuilt from $all
	}
	s.dir.st, s.dir.cursor = st, at
	s.dir.reindex()
	s.snapTrack.Saved(at.Position, time.Now())
	return nil
}

// SaveSnapshot writes the directory's snapshot as far as it has read $all (a no-op without
// Deps.Snapshots or when nothing changed since the last one). Call it at shutdown.
func (s *Service) SaveSnapshot() error {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	return s.saveSnapshotLocked()
}

func (s *Service) saveSnapshotLocked() error {
	if !s.deps.Snapshots.Enabled() || !s.snapTrack.Changed(s.dir.cursor.Position) {
		return nil
	}
	if err := s.deps.Snapshots.Save(snapshotName, snapshotVersion, s.dir.cursor, s.dir.st); err != nil {
		return err
	}
	s.snapTrack.Saved(s.dir.cursor.Position, time.Now())
	return nil
}

// snapshotIfDue saves a snapshot when the policy says so (best effort: the directory is rebuilt
// from $all without one). Callers hold dir.mu.
func (s *Service) snapshotIfDue() {
	if s.deps.Snapshots.Enabled() && s.snapTrack.Due(s.dir.cursor.Position, time.Now()) {
		_ = s.saveSnapshotLocked()
	}
}
