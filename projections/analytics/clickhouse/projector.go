package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/projections/analytics"
)

// ErrGenerationChanged is returned by Handle when a rebuild flipped the live generation since
// the Projector started: its consumer must restart from the new generation's position
// (StartFrom), which Rebuild left at the head it replayed to.
var ErrGenerationChanged = errors.New("clickhouse analytics: the live generation changed (a rebuild finished); restart from its position")

// Projector folds the log into the live generation's tables: an eventlog.Handler (Handle).
// Embedded default: p.StoreConsumer(store).Run(ctx, p.Handle); Kafka: a kafkalog consumer
// running p.Handle.
type Projector struct {
	db   *DB
	keys analytics.KeysFunc
	fold analytics.FoldFunc

	mu  sync.Mutex
	gen uint64 // the generation this Projector writes (0 until StartFrom or the first batch)
}

// NewProjector returns a Projector writing to db with the model's Keys and Fold.
func NewProjector(db *DB) *Projector { return newProjector(db, 0, analytics.Keys, analytics.Fold) }

func newProjector(db *DB, gen uint64, keys analytics.KeysFunc, fold analytics.FoldFunc) *Projector {
	return &Projector{db: db, gen: gen, keys: keys, fold: fold}
}

// StoreConsumer is the embedded default's consumer for p: the event store from p's position.
func (p *Projector) StoreConsumer(store events.EventStore) *eventlog.StoreConsumer {
	return &eventlog.StoreConsumer{Store: store, StartFrom: p.StartFrom}
}

// StartFrom returns the position of the live generation and binds p to it.
func (p *Projector) StartFrom(ctx context.Context) (int64, error) {
	gen, err := p.db.liveGeneration(ctx)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.gen = gen
	p.mu.Unlock()
	return p.db.position(ctx, gen)
}

// Handle applies one batch (eventlog.Handler): loads the dimension rows of the batch's
// findings and assets (one query each), folds the batch and writes its rows, position last.
func (p *Projector) Handle(ctx context.Context, batch []events.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	live, err := p.db.liveGeneration(ctx)
	if err != nil {
		return err
	}
	if p.gen == 0 {
		p.gen = live
	} else if p.gen != live {
		return ErrGenerationChanged
	}
	return p.apply(ctx, p.gen, batch)
}

// apply folds batch into generation gen (Handle, and Rebuild on its new generation).
func (p *Projector) apply(ctx context.Context, gen uint64, batch []events.Envelope) error {
	if len(batch) == 0 {
		return nil
	}
	findingIDs, assetIDs := p.keys(batch)
	st := &analytics.State{}
	var err error
	if st.Findings, err = p.db.loadFindings(ctx, gen, findingIDs); err != nil {
		return err
	}
	if st.Assets, err = p.db.loadAssets(ctx, gen, assetIDs); err != nil {
		return err
	}
	out, err := p.fold(st, batch)
	if err != nil {
		return fmt.Errorf("clickhouse analytics: folding a batch at position %d: %w", batch[0].GlobalPosition, err)
	}
	var pos int64
	for i := range batch {
		pos = max(pos, batch[i].GlobalPosition)
	}
	return p.db.write(ctx, gen, out, pos)
}
