package readkit

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// Keyed is a whole projection over one keyed table: the read models with one row per key
// (assets, scans, CVEs) differ only in their table, the events they handle and how those fold,
// so they embed this instead of each spelling out the Projection methods. The projection is
// named after its table.
type Keyed[R any] struct {
	Context string    // the bounded context whose events it reads
	Table   *Table[R] // the one table it owns
	Indexes [][2]string
	// Handles reports whether the projection folds events of this type; Key names the row an
	// event it handles folds into (an error parks the event).
	Handles func(eventType string) bool
	Key     func(*events.Envelope) (string, error)
	Fold    func(*R, *events.Envelope) (*R, error)
	// Change is what live subscribers are told of an applied event; nil tells the event alone.
	Change func(*events.Envelope, *R) projections.Change

	cache SQLCache
}

var _ projections.Projection = (*Keyed[struct{}])(nil)

func (k *Keyed[R]) Name() string       { return k.Table.Base }
func (k *Keyed[R]) Contexts() []string { return []string{k.Context} }
func (k *Keyed[R]) Tables() []string   { return []string{k.Table.Base} }

// Create implements projections.Projection.
func (k *Keyed[R]) Create(ctx context.Context, tx *projections.Tx) error {
	return k.Table.Create(ctx, tx, k.Indexes...)
}

// Apply implements projections.Projection.
func (k *Keyed[R]) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	change := k.Change
	if change == nil {
		change = func(e *events.Envelope, _ *R) projections.Change {
			return projections.Change{Projection: k.Name(), Event: *e}
		}
	}
	_, changes, err := ApplyKeyed(ctx, tx, &k.cache, k.Table, batch,
		func(e *events.Envelope) (string, bool, error) {
			if !k.Handles(e.Type) {
				return "", false, nil
			}
			key, err := k.Key(e)
			return key, true, err
		},
		k.Fold, change)
	return changes, err
}

// StreamKey keys a row by the event's stream: the tables with one row per stream.
func StreamKey(e *events.Envelope) (string, error) { return e.StreamID, nil }

// DataKey returns a Key that reads the row's key from the event's data: D declares the member
// that holds it, key picks it from the decoded D, and an event without one is refused with the
// error missing.
func DataKey[D any](key func(*D) string, missing string) func(*events.Envelope) (string, error) {
	return func(e *events.Envelope) (string, error) {
		var d D
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return "", err
		}
		if k := key(&d); k != "" {
			return k, nil
		}
		return "", errors.New(missing)
	}
}
