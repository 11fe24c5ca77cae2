package clickhouse

import (
	"context"
	"fmt"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// RebuildResult says what Rebuild did.
type RebuildResult struct {
	Generation uint64 // the new live generation
	Position   int64  // the last position it applied
	Events     int64  // events replayed
}

// Rebuild refills the model from the log (soc replay --projection analytics): it creates the
// next generation's tables beside the live ones, folds the whole log into them from position 0
// (batch events a read, default 500), flips analytics_live to them in one row and drops the
// old generation. Queries keep answering from the old generation until the flip; a running
// Projector gets ErrGenerationChanged on its next batch and restarts from the new position.
func Rebuild(ctx context.Context, db *DB, log eventlog.AllReader, batch int) (RebuildResult, error) {
	return rebuild(ctx, db, log, batch, NewProjector(db))
}

func rebuild(ctx context.Context, db *DB, log eventlog.AllReader, batch int, p *Projector) (RebuildResult, error) {
	old, err := db.liveGeneration(ctx)
	if err != nil {
		return RebuildResult{}, err
	}
	res := RebuildResult{Generation: old + 1}
	// A generation left by a rebuild that died half-way is started afresh.
	if err := db.dropGeneration(ctx, res.Generation); err != nil {
		return res, err
	}
	if err := db.createGeneration(ctx, res.Generation); err != nil {
		return res, err
	}
	if batch <= 0 {
		batch = 500
	}
	err = eventlog.ReadToHead(ctx, log, 0, batch, func(evs []events.Envelope) error {
		res.Events += int64(len(evs))
		res.Position = evs[len(evs)-1].GlobalPosition
		return p.apply(ctx, res.Generation, evs)
	})
	if err != nil {
		_ = db.dropGeneration(context.WithoutCancel(ctx), res.Generation)
		return res, fmt.Errorf("clickhouse analytics: rebuilding generation %d: %w", res.Generation, err)
	}
	if err := db.flip(ctx, res.Generation); err != nil {
		return res, err
	}
	if old != 0 {
		if err := db.dropGeneration(ctx, old); err != nil {
			return res, err
		}
	}
	return res, nil
}
