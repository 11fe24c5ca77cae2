package runner

import (
	"context"

	"github.com/socplatform/soc/projections"
)

// Position is the global position up to which the projection has applied (or passed over)
// the log, as this runner last committed it. The commit's change is visible to readers, and
// Version counts it, before Position reports it: a read that starts after Position returned p
// sees at least p. With a Kafka consumer, which applies each stream in order but not the log,
// it is the highest position applied, not one below which every event is.
func (r *Runner) Position() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mem.position
}

// LivePosition is Position from another process: the live generation's position as recorded
// in the database.
func LivePosition(ctx context.Context, db *projections.DB, name string) (int64, error) {
	st, err := readLive(ctx, db, name)
	return st.Position, err
}
