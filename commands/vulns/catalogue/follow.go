package catalogue

import (
	"context"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// Start loads the lookup (Load), then follows the store live through the eventlog consumer port
// until ctx ends, so that the lookup, and the snapshot written by Options.SnapshotPolicy and
// once more when it stops, keep up with what other services append (findings opened by scan
// imports, feeds imported by another node). Import and EnrichNew catch up anyway before they
// decide; following keeps that read short and the shutdown snapshot at the head.
func (c *Catalogue) Start(ctx context.Context) error {
	if err := c.Load(ctx); err != nil {
		return err
	}
	consumer := &eventlog.StoreConsumer{Store: c.store, BatchSize: c.opts.ReadBatch, StartFrom: func(context.Context) (int64, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cursor.Position, nil
	}}
	// The next start reads only what comes after the snapshot saved when the follower stops.
	c.follower.Start(ctx, func() error { return consumer.Run(ctx, c.follow) }, c.SaveSnapshot)
	return nil
}

// Wait blocks until the follower started by Start has stopped (its ctx ended) and returns the
// error that stopped it, if any.
func (c *Catalogue) Wait() error { return c.follower.Wait() }

// follow applies a batch delivered by the consumer (see applyBatch).
func (c *Catalogue) follow(_ context.Context, batch []events.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.applyBatch(batch); err != nil {
		return err
	}
	c.snapshotIfDue()
	return nil
}

// position is how far the lookup has read $all.
func (c *Catalogue) position() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor.Position
}
