package readkit

import (
	"slices"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// Stored normalises a time to what the tables store (UTC, microseconds), so that a folded row and
// a row read back from SQL are equal.
func Stored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// StoredPtr is Stored for an optional time: nil for the zero time.
func StoredPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := Stored(t)
	return &v
}

// EventTime is when the event happened (recorded time when the producer left it out), as stored.
func EventTime(e *events.Envelope) time.Time {
	if !e.OccurredAt.IsZero() {
		return Stored(e.OccurredAt)
	}
	return Stored(e.RecordedAt)
}

// NonEmpty is a copy of s, nil when s is empty (so a folded row and one read back are equal).
func NonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// Fold rebuilds one row from its stream's events (in version order) with the code its
// projection applies, for point-in-time reads: events handles refuses are skipped, one apply
// fails on is a poison event (projections.Poison), and a stream that never started the row is
// ErrNotFound.
func Fold[R any](evs []events.Envelope, handles func(eventType string) bool, apply func(*R, *events.Envelope) (*R, error)) (*R, error) {
	var row *R
	for i := range evs {
		if !handles(evs[i].Type) {
			continue
		}
		next, err := apply(row, &evs[i])
		if err != nil {
			return nil, projections.Poison(&evs[i], err)
		}
		row = next
	}
	if row == nil {
		return nil, ErrNotFound
	}
	return row, nil
}
