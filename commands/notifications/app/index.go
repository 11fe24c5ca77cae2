package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/schemas/contracts"
)

// entry is one live (not yet terminal) notification.
type entry struct {
	id          string
	status      domain.Status
	due         time.Time // pending, retrying: next attempt
	attemptedAt time.Time // in_flight: when the attempt was recorded
	channel     string
	recipient   channels.Recipient
	kind        string
	severity    string
	subject     string
	requestedAt time.Time
}

// bucket is an open digest window: notifications suppressed into a digest not yet requested.
type bucket struct {
	id        string // the digest notification's stream id
	due       time.Time
	channel   string
	recipient channels.Recipient
	items     []domain.DigestItem
}

// index is the worker's in-memory view of the notifications context, restored from its snapshot
// (or rebuilt from $all when there is none) on the first sync and caught up on every later one. It keeps only what is still to do: live
// notifications, open digest windows, and the ids of requested digests (to spot late items).
type index struct {
	mu      sync.Mutex
	pos     int64
	posID   string // id of the event at pos: what a snapshot of the index is checked against
	live    map[string]*entry
	buckets map[string]*bucket
	digests map[string]struct{} // digest notifications already requested
	late    []string            // items suppressed into a digest already requested (logged)
}

func newIndex() *index {
	return &index{live: map[string]*entry{}, buckets: map[string]*bucket{}, digests: map[string]struct{}{}}
}

// sync applies every event after the cursor.
func (x *index) sync(ctx context.Context, store events.EventStore, batch int) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return eventlog.ReadToHead(ctx, store, x.pos, batch, x.applyLocked)
}

// follow applies a batch delivered by the eventlog consumer. Events at or below the cursor were
// applied already (a dispatch pass's sync read them first, or the batch is redelivered).
func (x *index) follow(evs []events.Envelope) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.applyLocked(evs)
}

// applyLocked applies the events of evs after the cursor. Callers hold mu.
func (x *index) applyLocked(evs []events.Envelope) error {
	for i := range evs {
		if evs[i].GlobalPosition <= x.pos {
			continue
		}
		if strings.HasPrefix(evs[i].StreamID, domain.StreamPrefix) {
			if err := x.apply(&evs[i]); err != nil {
				return fmt.Errorf("notifications: indexing %s v%d of %s: %w", evs[i].Type, evs[i].Version, evs[i].StreamID, err)
			}
		}
		x.pos, x.posID = evs[i].GlobalPosition, evs[i].EventID
	}
	return nil
}

func (x *index) apply(e *events.Envelope) error {
	id := e.StreamID
	switch e.Type {
	case contracts.TypeNotificationRequested:
		return events.OnPayload(e.Data, func(d domain.Requested) {
			x.live[id] = &entry{id: id, status: domain.StatusPending, due: d.DueAt, channel: d.Channel, recipient: domain.RecipientOf(&d),
				kind: d.Kind, severity: string(d.Severity), subject: d.Subject, requestedAt: d.RequestedAt}
			if d.Kind == domain.KindDigest {
				x.digests[id] = struct{}{}
				delete(x.buckets, id)
			}
		})
	case contracts.TypeNotificationDeferred:
		return events.OnPayload(e.Data, func(d domain.Deferred) {
			if en := x.live[id]; en != nil && d.Until.After(en.due) {
				en.due = d.Until
			}
		})
	case contracts.TypeNotificationSuppressed:
		var d domain.Suppressed
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		en := x.live[id]
		delete(x.live, id)
		if d.Reason != domain.ReasonDigest || en == nil || d.DigestID == "" {
			return nil
		}
		if _, done := x.digests[d.DigestID]; done {
			x.late = append(x.late, id)
			return nil
		}
		b := x.buckets[d.DigestID]
		if b == nil {
			b = &bucket{id: d.DigestID, due: d.DigestDueAt, channel: en.channel, recipient: en.recipient}
			x.buckets[d.DigestID] = b
		}
		b.items = append(b.items, domain.DigestItem{NotificationID: id, Kind: en.kind, Severity: contracts.Severity(en.severity),
			Subject: en.subject, RequestedAt: en.requestedAt})
	case contracts.TypeNotificationAttempted:
		return events.OnPayload(e.Data, func(d domain.Attempted) {
			if en := x.live[id]; en != nil {
				en.status, en.attemptedAt = domain.StatusInFlight, d.AttemptedAt
			}
		})
	case contracts.TypeNotificationFailed:
		return events.OnPayload(e.Data, func(d domain.Failed) {
			if en := x.live[id]; en != nil {
				en.status, en.due = domain.StatusRetrying, d.NextAttemptAt
			}
		})
	case contracts.TypeNotificationSent, contracts.TypeNotificationDeadLettered, contracts.TypeNotificationHeld:
		delete(x.live, id)
	}
	return nil
}

// due returns the live notifications to work on at now, oldest due first: pending or retrying
// ones that are due, and attempts in flight for longer than lease (orphaned by a stopped
// worker). Ids in busy (being worked on here) are left out. At most free(channel) are returned
// per channel (negative: no limit): a pass starts only what the channels have room for, so a
// large backlog costs one scan per pass instead of a sort and copy of all of it.
func (x *index) due(now time.Time, lease time.Duration, busy map[string]bool, free func(channel string) int) []*entry {
	x.mu.Lock()
	defer x.mu.Unlock()
	less := func(a, b *entry) bool {
		if !a.due.Equal(b.due) {
			return a.due.Before(b.due)
		}
		return a.id < b.id
	}
	// Per channel, the best `limit` candidates, kept sorted (limits are small: the concurrency).
	type pick struct {
		limit int
		list  []*entry
	}
	picks := map[string]*pick{}
	for id, en := range x.live {
		if busy[id] {
			continue
		}
		switch en.status {
		case domain.StatusPending, domain.StatusRetrying:
			if en.due.After(now) {
				continue
			}
		case domain.StatusInFlight:
			if en.attemptedAt.Add(lease).After(now) {
				continue
			}
		default:
			continue
		}
		p := picks[en.channel]
		if p == nil {
			p = &pick{limit: free(en.channel)}
			picks[en.channel] = p
		}
		if p.limit == 0 {
			continue
		}
		if p.limit > 0 && len(p.list) == p.limit {
			if !less(en, p.list[len(p.list)-1]) {
				continue
			}
			p.list = p.list[:len(p.list)-1]
		}
		i := sort.Search(len(p.list), func(i int) bool { return less(en, p.list[i]) })
		p.list = append(p.list, nil)
		copy(p.list[i+1:], p.list[i:])
		p.list[i] = en
	}
	var out []*entry
	for _, p := range picks {
		for _, en := range p.list {
			c := *en
			out = append(out, &c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

// dueBuckets returns copies of the digest windows due at now.
func (x *index) dueBuckets(now time.Time) []bucket {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []bucket
	for _, b := range x.buckets {
		if !b.due.After(now) {
			c := *b
			c.items = append([]domain.DigestItem(nil), b.items...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// next is the earliest time something falls due (zero when nothing waits).
func (x *index) next(lease time.Duration) time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	var t time.Time
	take := func(at time.Time) {
		if t.IsZero() || at.Before(t) {
			t = at
		}
	}
	for _, en := range x.live {
		switch en.status {
		case domain.StatusInFlight:
			take(en.attemptedAt.Add(lease))
		default:
			take(en.due)
		}
	}
	for _, b := range x.buckets {
		take(b.due)
	}
	return t
}

func (x *index) position() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.pos
}

func (x *index) counts() (live, buckets int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.live), len(x.buckets)
}

func (x *index) takeLate() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	l := x.late
	x.late = nil
	return l
}
