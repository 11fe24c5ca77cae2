package storetest

import (
	"context"
	"testing"
)

// Checkpointer is the checkpoint half of the adapters that keep the relay's and projections'
// positions beside the events (PostgreSQL, SQLite).
type Checkpointer interface {
	LoadCheckpoint(ctx context.Context, name string) (int64, error)
	SaveCheckpoint(ctx context.Context, name string, pos int64) error
}

// Checkpoints checks that a missing checkpoint loads as 0 and that the last save wins. s must
// hold no checkpoint named "relay".
func Checkpoints(t *testing.T, ctx context.Context, s Checkpointer) {
	t.Helper()
	if p, err := s.LoadCheckpoint(ctx, "relay"); err != nil || p != 0 {
		t.Fatalf("missing checkpoint: %d, %v", p, err)
	}
	for _, p := range []int64{5, 42} {
		if err := s.SaveCheckpoint(ctx, "relay", p); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := s.LoadCheckpoint(ctx, "relay"); err != nil || p != 42 {
		t.Fatalf("checkpoint %d, %v; want 42", p, err)
	}
}
