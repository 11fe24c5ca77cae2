package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// RebuildConfig configures Rebuild.
type RebuildConfig struct {
	DB         *projections.DB
	Projection projections.Projection
	Store      events.EventStore
	// BatchSize is the number of events read (and applied in one transaction) at a time
	// (default 1000). The final swap applies at most about one batch while holding the lock.
	BatchSize int
	// Progress, if set, is called after each batch (on the rebuilding goroutine).
	Progress func(Progress)
	Log      *slog.Logger
	Now      func() time.Time
}

// Validate reports every problem at once.
func (c RebuildConfig) Validate() error {
	return Config{DB: c.DB, Projection: c.Projection, Store: c.Store, BatchSize: c.BatchSize}.Validate()
}

// Progress reports a rebuild's advance.
type Progress struct {
	Generation int64 `json:"generation"`
	// Done is the number of events read from the store so far (of every context);
	// Applied those handed to the projection.
	Done    int64 `json:"done"`
	Applied int64 `json:"applied"`
	// Position is the global position reached, Head the store's head when last read.
	Position int64 `json:"position"`
	Head     int64 `json:"head"`
	// Rate is events read per second since the start; ETA = (Head − Position) / Rate.
	Rate float64       `json:"rate"`
	ETA  time.Duration `json:"eta"`
}

// RebuildResult is what a finished rebuild did.
type RebuildResult struct {
	Generation int64         `json:"generation"` // the new live generation
	Previous   int64         `json:"previous"`   // the generation it replaced (dropped)
	Position   int64         `json:"position"`   // position at the swap
	Events     int64         `json:"events"`     // events read
	Applied    int64         `json:"applied"`    // events applied
	Duration   time.Duration `json:"duration"`
}

// ErrRebuildSuperseded: a newer rebuild swapped in while this one ran; this one's generation is
// gone and nothing of it is kept.
var ErrRebuildSuperseded = errors.New("rebuild superseded by a newer generation")

// Rebuild builds a new generation of the projection from the whole event store, beside the live
// one, then swaps it in: one final transaction, holding the live row, applies what was appended
// meanwhile up to the head, points the views at the new generation, records it as live and
// drops the old generation. Queries see the old model until that commit and the new one after;
// a running Runner (in any process) moves to the new generation at its next batch.
//
// Operators' Skip decisions (projection_skips) are honoured: a skipped event is passed over
// again. A poison event fails the rebuild with its *projections.EventError (nothing is parked).
// On failure or cancellation the half-built generation is dropped and the live one is untouched.
func Rebuild(ctx context.Context, cfg RebuildConfig) (res RebuildResult, err error) {
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p, db := cfg.Projection, cfg.DB
	name := p.Name()
	log := cfg.Log.With("projection", name)
	started := cfg.Now()
	if err := initProjection(ctx, db, p, started); err != nil {
		return res, fmt.Errorf("rebuild %s: %w", name, err)
	}
	gen, err := allocateGeneration(ctx, db, p, started)
	if err != nil {
		return res, fmt.Errorf("rebuild %s: %w", name, err)
	}
	res.Generation = gen
	swapped := false
	defer func() {
		if swapped {
			return
		}
		// Drop the half-built generation even when ctx is cancelled.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := dropHalfBuilt(cctx, db, p, gen); derr != nil {
			log.Error("dropping half-built generation failed", "generation", gen, "error", derr)
		}
	}()
	log.Info("rebuild started", "generation", gen)
	skips, err := loadSkips(ctx, db, name)
	if err != nil {
		return res, err
	}
	contexts := p.Contexts()
	var position, head int64
	report := func() {
		if cfg.Progress == nil {
			return
		}
		pr := Progress{Generation: gen, Done: res.Events, Applied: res.Applied, Position: position, Head: head}
		if secs := cfg.Now().Sub(started).Seconds(); secs > 0 {
			pr.Rate = float64(res.Events) / secs
		}
		if pr.Rate > 0 && head > position {
			pr.ETA = time.Duration(float64(head-position) / pr.Rate * float64(time.Second))
		}
		cfg.Progress(pr)
	}
	// Catch up batch by batch until within one batch of the head. When writers outpace the
	// rebuild the gap stops shrinking: after stallLimit batches without a new smallest gap, swap
	// anyway — the final transaction then holds the live row longer (the runner waits) instead of
	// the rebuild chasing the head for ever.
	const stallLimit = 20
	bestGap, stalled := int64(-1), 0
	for {
		if head, err = cfg.Store.HeadPosition(ctx); err != nil {
			return res, fmt.Errorf("rebuild %s: reading head: %w", name, err)
		}
		gap := head - position
		if gap <= int64(cfg.BatchSize) {
			break
		}
		if bestGap < 0 || gap < bestGap {
			bestGap, stalled = gap, 0
		} else if stalled++; stalled >= stallLimit {
			log.Warn("rebuild is not gaining on the head; swapping with a longer final transaction", "gap", gap)
			break
		}
		evs, err := cfg.Store.ReadAll(ctx, position, cfg.BatchSize)
		if err != nil {
			return res, fmt.Errorf("rebuild %s: reading events: %w", name, err)
		}
		if len(evs) == 0 {
			break
		}
		n, err := rebuildBatch(ctx, db, p, gen, filterContexts(evs, contexts), maxPosition(evs), skips, cfg.Now())
		if err != nil {
			return res, fmt.Errorf("rebuild %s: %w", name, err)
		}
		position = maxPosition(evs)
		res.Events += int64(len(evs))
		res.Applied += n
		report()
	}
	// The swap.
	tx, err := db.Begin(ctx, gen)
	if err != nil {
		return res, err
	}
	defer func() {
		if !swapped {
			_ = tx.Rollback()
		}
	}()
	old, err := liveGeneration(ctx, txq{tx}, name, lockUpdate)
	if err != nil {
		return res, err
	}
	if old >= gen {
		return res, fmt.Errorf("rebuild %s: %w (live generation %d)", name, ErrRebuildSuperseded, old)
	}
	if _, err := readState(ctx, txq{tx}, name, gen, true); err != nil {
		return res, fmt.Errorf("rebuild %s: %w", name, ErrRebuildSuperseded)
	}
	// The head as seen inside the lock: a Runner cannot commit until we do, so whatever it
	// would apply next comes after this head and it resumes from our position.
	if head, err = cfg.Store.HeadPosition(ctx); err != nil {
		return res, fmt.Errorf("rebuild %s: reading head: %w", name, err)
	}
	for position < head {
		evs, err := cfg.Store.ReadAll(ctx, position, cfg.BatchSize)
		if err != nil {
			return res, fmt.Errorf("rebuild %s: reading events: %w", name, err)
		}
		if len(evs) == 0 {
			break
		}
		a, err := applyInTx(ctx, tx, p, filterContexts(evs, contexts), maxPosition(evs), skips, cfg.Now())
		if err != nil {
			return res, fmt.Errorf("rebuild %s: %w", name, err)
		}
		position = maxPosition(evs)
		res.Events += int64(len(evs))
		res.Applied += a.Applied
	}
	if err := projections.PointViews(ctx, tx, p); err != nil {
		return res, err
	}
	q := newQuery(tx.Dialect)
	if _, err := tx.ExecContext(ctx, "UPDATE projection_live SET generation = "+q.arg(gen)+", swapped_at = "+q.arg(cfg.Now().UnixMicro())+
		" WHERE name = "+q.arg(name), q.args...); err != nil {
		return res, err
	}
	// Drop the old live generation and any older ones a crashed rebuild left behind.
	olds, err := generationsBelow(ctx, tx, name, gen)
	if err != nil {
		return res, err
	}
	for _, g := range append(olds, old) {
		if err := dropGeneration(ctx, tx, p, g); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	swapped = true
	res.Previous, res.Position, res.Duration = old, position, cfg.Now().Sub(started)
	report()
	log.Info("rebuild swapped in", "generation", gen, "previous", old, "position", position, "events", res.Events,
		"applied", res.Applied, "duration", res.Duration)
	return res, nil
}

// allocateGeneration creates generation N+1 (N: the highest generation live or being built) with
// its tables, streams table and state row.
func allocateGeneration(ctx context.Context, db *projections.DB, p projections.Projection, now time.Time) (gen int64, err error) {
	tx, err := db.Begin(ctx, 0)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = lockInit(ctx, tx); err != nil {
		return 0, err
	}
	q := newQuery(tx.Dialect)
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(g), 0) FROM (
  SELECT generation AS g FROM projection_live WHERE name = `+q.arg(p.Name())+`
  UNION ALL SELECT generation FROM projection_state WHERE name = `+q.arg(p.Name())+`) AS gens`, q.args...).Scan(&gen)
	if err != nil {
		return 0, err
	}
	gen++
	tx.Generation = gen
	// Leftovers of a rebuild whose clean-up failed would make CREATE TABLE collide.
	if err = projections.DropGeneration(ctx, tx, p, gen); err != nil {
		return 0, err
	}
	if err = createGeneration(ctx, tx, p, now); err != nil {
		return 0, err
	}
	return gen, tx.Commit()
}

func rebuildBatch(ctx context.Context, db *projections.DB, p projections.Projection, gen int64, batch []events.Envelope,
	scanned int64, skips map[string]bool, now time.Time) (n int64, err error) {
	tx, err := db.Begin(ctx, gen)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	a, err := applyInTx(ctx, tx, p, batch, scanned, skips, now)
	if err != nil {
		return 0, err
	}
	return a.Applied, tx.Commit()
}

func dropHalfBuilt(ctx context.Context, db *projections.DB, p projections.Projection, gen int64) (err error) {
	tx, err := db.Begin(ctx, gen)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	live, err := liveGeneration(ctx, txq{tx}, p.Name(), lockUpdate)
	if err != nil {
		return err
	}
	if live == gen {
		return tx.Rollback() // it did swap in after all: keep it
	}
	if err = dropGeneration(ctx, tx, p, gen); err != nil {
		return err
	}
	return tx.Commit()
}

func generationsBelow(ctx context.Context, tx *projections.Tx, name string, gen int64) ([]int64, error) {
	q := newQuery(tx.Dialect)
	rows, err := tx.QueryContext(ctx, "SELECT generation FROM projection_state WHERE name = "+q.arg(name)+" AND generation < "+q.arg(gen), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// loadSkips returns the ids of the events operators skipped for this projection, in any generation.
func loadSkips(ctx context.Context, db *projections.DB, name string) (map[string]bool, error) {
	q := newQuery(db.Dialect)
	rows, err := db.SQL.QueryContext(ctx, "SELECT event_id FROM projection_skips WHERE name = "+q.arg(name), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
