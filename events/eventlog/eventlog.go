// Package eventlog is the port through which projections and sagas read the event log, whatever
// serves it: the embedded default (StoreConsumer, a catch-up subscription on the event store) or
// Kafka (kafkalog.Consumer). Consumers do not know which one they read.
//
// Delivery is at least once. A Handler makes its effect idempotent and durable on its own: it
// applies a batch and records how far it got (its store position, and/or the last applied version
// of each stream, see VersionGuard) in the same transaction as its write. A batch may be delivered
// again after a crash, a handler error or a Kafka rebalance.
//
// Ordering: events of one stream always arrive in version order. StoreConsumer also delivers in
// global-position order; kafkalog.Consumer preserves only the per-stream (per-partition) order,
// so a handler must not use the largest GlobalPosition it saw from Kafka as a resume point.
package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/socplatform/soc/events"
)

// Handler applies one batch. It returns nil only once the batch's effect and the handler's
// position are durable; any error means "not handled": the consumer stops and the batch will be
// delivered again. The batch slice and its envelopes belong to the handler.
type Handler func(ctx context.Context, batch []events.Envelope) error

// Consumer delivers the log to a handler.
type Consumer interface {
	// Run delivers batches to h until ctx ends (returning nil) or h fails (returning its error).
	// Run is not safe to call twice concurrently on the same Consumer.
	Run(ctx context.Context, h Handler) error
}

// Filter selects events by bounded context and/or type. Empty lists match everything.
//
// A filter on Types hides versions of a stream from the handler, so a VersionGuard behind it must
// be created with AllowGaps; a filter on Contexts never does (a stream lives in one context).
type Filter struct {
	Contexts []string
	Types    []string
}

// IsZero reports whether the filter matches everything.
func (f Filter) IsZero() bool { return len(f.Contexts) == 0 && len(f.Types) == 0 }

// Match reports whether e passes the filter.
func (f Filter) Match(e *events.Envelope) bool {
	return contains(f.Contexts, e.Context()) && contains(f.Types, e.Type)
}

// Apply returns the events of batch that pass the filter (batch itself when the filter is zero).
func (f Filter) Apply(batch []events.Envelope) []events.Envelope {
	if f.IsZero() {
		return batch
	}
	out := batch[:0:0]
	for i := range batch {
		if f.Match(&batch[i]) {
			out = append(out, batch[i])
		}
	}
	return out
}

func contains(list []string, s string) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// StoreConsumer is the embedded default Consumer: a catch-up subscription on the event store
// (events.CatchUp) that switches to live appends, in global-position order.
//
// It keeps no position of its own: on every Run it asks StartFrom for the handler's durable
// position (the global position of the last event the handler applied, 0 for "from the start")
// and delivers what comes after it. A batch whose events are all filtered out is not delivered,
// so those events are read again after a restart (harmless; only a cost).
type StoreConsumer struct {
	Store events.EventStore
	// StartFrom returns the global position to start after. Required.
	StartFrom func(ctx context.Context) (int64, error)
	// BatchSize bounds one batch read from the store (default 500, at most events.MaxReadLimit).
	BatchSize int
	Filter    Filter
}

var _ Consumer = (*StoreConsumer)(nil)

// Run implements Consumer.
func (c *StoreConsumer) Run(ctx context.Context, h Handler) error {
	if c.Store == nil || c.StartFrom == nil || h == nil {
		return errors.New("eventlog: StoreConsumer needs a Store, a StartFrom function and a handler")
	}
	after, err := c.StartFrom(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("eventlog: loading start position: %w", err)
	}
	err = events.CatchUp(ctx, c.Store, after, events.NormalizeLimit(c.batchSize()), func(ctx context.Context, batch []events.Envelope) error {
		if batch = c.Filter.Apply(batch); len(batch) == 0 {
			return nil
		}
		return h(ctx, batch)
	})
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil // the handler gave up because we are stopping: not a failure
	}
	return err
}

func (c *StoreConsumer) batchSize() int {
	if c.BatchSize <= 0 {
		return 500
	}
	return c.BatchSize
}
