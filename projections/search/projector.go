package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// maxRounds bounds the load rounds of one batch: the first (Keys), then one per step Fold
// could not take without more documents (an asset's merge chain, one link a round, is the
// longest).
const maxRounds = maxMergeDepth + 4

// Projector folds the log into an Index: an eventlog.Handler (Handle). Embedded default:
// p.StoreConsumer(store).Run(ctx, p.Handle); Kafka: a kafkalog consumer running p.Handle.
type Projector struct {
	idx Index
}

// NewProjector returns a Projector writing to idx.
func NewProjector(idx Index) *Projector { return &Projector{idx: idx} }

// StoreConsumer is the embedded default's consumer for p: the event store from p's position.
func (p *Projector) StoreConsumer(store events.EventStore) *eventlog.StoreConsumer {
	return &eventlog.StoreConsumer{Store: store, StartFrom: p.StartFrom}
}

// StartFrom returns the position the index holds (the last event applied).
func (p *Projector) StartFrom(ctx context.Context) (int64, error) { return p.idx.Position(ctx) }

// Handle applies one batch (eventlog.Handler): loads the documents of Keys(batch) and the
// findings of the assets it changes, folds, loads what the fold asks for and folds again until
// it has all it needs, then writes the documents with the batch's last position.
func (p *Projector) Handle(ctx context.Context, batch []events.Envelope) error {
	_, err := p.apply(ctx, batch)
	return err
}

// apply is Handle, returning the number of documents written (Rebuild counts them).
func (p *Projector) apply(ctx context.Context, batch []events.Envelope) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	st := NewState()
	ids, assetIDs := Keys(batch)
	for round := 1; ; round++ {
		if len(ids) > 0 {
			docs, err := p.idx.Load(ctx, ids)
			if err != nil {
				return 0, err
			}
			st.AddLoaded(ids, docs)
		}
		if len(assetIDs) > 0 {
			docs, err := p.idx.FindingsOf(ctx, assetIDs)
			if err != nil {
				return 0, err
			}
			st.AddFindings(assetIDs, docs)
		}
		docs, err := Fold(st, batch)
		var missing *MissingError
		if errors.As(err, &missing) && round < maxRounds {
			ids, assetIDs = missing.IDs, missing.FindingsOf
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("search: folding a batch at position %d: %w", batch[0].GlobalPosition, err)
		}
		var pos int64
		for i := range batch {
			pos = max(pos, batch[i].GlobalPosition)
		}
		return len(docs), p.idx.Write(ctx, docs, pos)
	}
}
