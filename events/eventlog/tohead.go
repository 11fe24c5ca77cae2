package eventlog

import (
	"context"

	"github.com/socplatform/soc/events"
)

// AllReader is the part of the event store ReadToHead reads.
type AllReader interface {
	ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error)
}

// ReadToHead reads $all after position after up to the head, in pages of at most batch events,
// and hands each non-empty page to apply; it returns once a page comes back short. It is how an
// in-memory lookup catches up before it decides something; following the log live afterwards is
// StoreConsumer's part.
func ReadToHead(ctx context.Context, store AllReader, after int64, batch int, apply func([]events.Envelope) error) error {
	batch = events.NormalizeLimit(batch)
	for {
		evs, err := store.ReadAll(ctx, after, batch)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			if err := apply(evs); err != nil {
				return err
			}
			after = evs[len(evs)-1].GlobalPosition
		}
		if len(evs) < batch {
			return nil
		}
	}
}
