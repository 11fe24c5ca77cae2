package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// DefaultInboxSize is InboxConfig.Size's default.
const DefaultInboxSize = 1000

// maxInboxText bounds the text an inbox item keeps (the full message stays in its event).
const maxInboxText = 4096

// InboxConfig configures an Inbox.
type InboxConfig struct {
	Store events.EventStore
	// Templates render the items that carry only template data (nil: the default templates).
	Templates *channels.Templates
	// Size is how many items each user's inbox keeps, the newest (default DefaultInboxSize):
	// older ones drop out of it (their notifications stay in the store).
	Size int
	Now  func() time.Time
	// ReadBatch is the $all page size (default 1000).
	ReadBatch int
}

// Inbox is every user's in-app inbox: each notification addressed to a user, whatever its
// channel, shown once per message (the planner records one notification per channel; see
// domain.InboxGroup), newest first, with what the user read.
//
// It is a read model of the notifications context kept in memory, as the worker's index is: the
// items are the NotificationRequested events (minus those the recipient's preferences
// suppressed, and digests, whose items are listed already), the reads are the
// NotificationsMarkedRead and InboxMarkedRead events of the user's inbox stream
// (notifications-inbox-<uuid of the user id>), so reads survive a restart. It catches up with
// the store before every call: a read answers what was appended before it, the caller's own
// marks included. Start-up reads the history of $all once; memory grows with users × Size.
type Inbox struct {
	cfg InboxConfig

	mu     sync.Mutex
	pos    int64
	users  map[string]*userInbox
	byNote map[string]*inboxItem // notification stream id → its item
}

type userInbox struct {
	items   []*inboxItem          // by position, oldest first
	byMsg   map[string]*inboxItem // message id of any of the item's notifications → item
	groups  map[string]*inboxItem // domain.InboxGroup → item
	through int64                 // InboxMarkedRead: items at or before it are read
}

type inboxItem struct {
	InboxItem
	user  string
	group string
	notes []string // notification stream ids (one per channel)
}

// InboxItem is one message in a user's inbox.
type InboxItem struct {
	// ID is the message id of the item's first notification; the message ids of its others (a
	// WebSocket push's "id") name it too.
	ID        string
	Kind      string
	Severity  string
	Subject   string
	Text      string
	Channels  []string
	CreatedAt time.Time
	Read      bool
	// Position is the global position of the item's first request (the list's order and cursor).
	Position int64
}

// InboxQuery selects a page of a user's inbox, newest first.
type InboxQuery struct {
	UnreadOnly bool
	Limit      int   // 1 to 500
	Before     int64 // cursor: items before this position; 0: from the newest
}

// InboxPage is a page of a user's inbox.
type InboxPage struct {
	Items []InboxItem
	// Next is the cursor of the following page (0: none).
	Next int64
	// Unread counts the user's unread items (all of them, not just this page's).
	Unread int
}

// NewInbox returns an inbox over cfg.Store; nothing is read until the first call.
func NewInbox(cfg InboxConfig) (*Inbox, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("notifications: the inbox needs a store")
	}
	if cfg.Templates == nil {
		cfg.Templates = channels.DefaultTemplates()
	}
	if cfg.Size <= 0 {
		cfg.Size = DefaultInboxSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReadBatch <= 0 {
		cfg.ReadBatch = 1000
	}
	return &Inbox{cfg: cfg, users: map[string]*userInbox{}, byNote: map[string]*inboxItem{}}, nil
}

// sync applies the events appended since the last call. Callers hold mu.
func (x *Inbox) sync(ctx context.Context) error {
	return eventlog.ReadToHead(ctx, x.cfg.Store, x.pos, x.cfg.ReadBatch, func(evs []events.Envelope) error {
		for i := range evs {
			if evs[i].GlobalPosition <= x.pos {
				continue
			}
			if strings.HasPrefix(evs[i].StreamID, domain.Context+"-") {
				if err := x.apply(&evs[i]); err != nil {
					return fmt.Errorf("notifications inbox: %s v%d of %s: %w", evs[i].Type, evs[i].Version, evs[i].StreamID, err)
				}
			}
			x.pos = evs[i].GlobalPosition
		}
		return nil
	})
}

func (x *Inbox) user(id string) *userInbox {
	u := x.users[id]
	if u == nil {
		u = &userInbox{byMsg: map[string]*inboxItem{}, groups: map[string]*inboxItem{}}
		x.users[id] = u
	}
	return u
}

func (x *Inbox) apply(e *events.Envelope) error {
	switch e.Type {
	case contracts.TypeNotificationRequested:
		var d domain.Requested
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return err
		}
		g := domain.InboxGroup(&d, SharedChannel(d.Channel))
		if g == "" {
			return nil
		}
		u := x.user(d.Recipient.UserID)
		it := u.groups[g]
		if it == nil {
			subject, text, err := renderForInbox(x.cfg.Templates, channels.Message{ID: d.MessageID, To: domain.RecipientOf(&d),
				Subject: d.Subject, Text: d.Text, Kind: d.Kind, Severity: string(d.Severity), Data: d.Data})
			if err != nil { // a template that fails on this data: show what is known
				subject, text = cmpOr(d.Subject, d.Kind), d.Text
			}
			text = domain.Clip(text, maxInboxText)
			it = &inboxItem{user: d.Recipient.UserID, group: g, InboxItem: InboxItem{ID: d.MessageID, Kind: d.Kind, Severity: string(d.Severity), Subject: subject,
				Text: text, CreatedAt: d.RequestedAt, Position: e.GlobalPosition}}
			u.groups[g] = it
			u.items = append(u.items, it)
			x.trim(u)
		}
		if !slices.Contains(it.notes, e.StreamID) {
			it.notes = append(it.notes, e.StreamID)
			it.Channels = append(it.Channels, d.Channel)
			u.byMsg[d.MessageID] = it
			x.byNote[e.StreamID] = it
		}
	case contracts.TypeNotificationSuppressed:
		return events.OnPayload(e.Data, func(d domain.Suppressed) {
			if it := x.byNote[e.StreamID]; it != nil && domain.LeavesInbox(&d) {
				x.dropNote(it, e.StreamID)
			}
		})
	case contracts.TypeNotificationsMarkedRead:
		return events.OnPayload(e.Data, func(d domain.MarkedRead) {
			u := x.user(d.UserID)
			for _, id := range d.MessageIDs {
				if it := u.byMsg[id]; it != nil {
					it.Read = true
				}
			}
		})
	case contracts.TypeInboxMarkedRead:
		return events.OnPayload(e.Data, func(d domain.InboxMarkedRead) {
			u := x.user(d.UserID)
			u.through = max(u.through, int64(d.ThroughPosition))
			for _, it := range u.items {
				if it.Position <= u.through {
					it.Read = true
				}
			}
		})
	}
	return nil
}

// dropNote takes one notification out of its item (its channel was suppressed); an item left
// without any leaves the inbox.
func (x *Inbox) dropNote(it *inboxItem, note string) {
	delete(x.byNote, note)
	delete(x.users[it.user].byMsg, domain.MessageIDOf(note))
	i := slices.Index(it.notes, note)
	it.notes = slices.Delete(it.notes, i, i+1)
	it.Channels = slices.Delete(it.Channels, i, i+1)
	if len(it.notes) == 0 {
		x.remove(x.users[it.user], it)
	} else if it.ID == domain.MessageIDOf(note) { // the item is named by a notification it still has
		it.ID = domain.MessageIDOf(it.notes[0])
	}
}

// trim drops u's oldest items beyond Size.
func (x *Inbox) trim(u *userInbox) {
	for len(u.items) > x.cfg.Size {
		x.remove(u, u.items[0])
	}
}

func (x *Inbox) remove(u *userInbox, it *inboxItem) {
	u.items = slices.DeleteFunc(u.items, func(o *inboxItem) bool { return o == it })
	delete(u.groups, it.group)
	for id, o := range u.byMsg {
		if o == it {
			delete(u.byMsg, id)
		}
	}
	for _, n := range it.notes {
		delete(x.byNote, n)
	}
}

// List returns a page of userID's inbox, newest first.
func (x *Inbox) List(ctx context.Context, userID string, q InboxQuery) (InboxPage, error) {
	if q.Limit < 1 || q.Limit > 500 {
		return InboxPage{}, problem.Invalid("limit", "limit %d is not between 1 and 500", q.Limit)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.sync(ctx); err != nil {
		return InboxPage{}, err
	}
	var page InboxPage
	u := x.users[userID]
	if u == nil {
		return page, nil
	}
	for i := len(u.items) - 1; i >= 0; i-- {
		it := u.items[i]
		if !it.Read {
			page.Unread++
		}
		if (q.Before > 0 && it.Position >= q.Before) || (q.UnreadOnly && it.Read) {
			continue
		}
		if len(page.Items) == q.Limit {
			page.Next = page.Items[len(page.Items)-1].Position
			continue
		}
		c := it.InboxItem
		c.Channels = slices.Clone(it.Channels)
		page.Items = append(page.Items, c)
	}
	return page, nil
}

// MarkRead records that userID read the item messageID (any of its notifications' message
// ids). Reading an item read already records nothing; an item not in userID's inbox — another
// user's among them — is not found.
func (x *Inbox) MarkRead(ctx context.Context, userID, messageID string, meta es.Meta) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.sync(ctx); err != nil {
		return err
	}
	var it *inboxItem
	if u := x.users[userID]; u != nil {
		it = u.byMsg[messageID]
	}
	if it == nil {
		return problem.NotFound("no notification %s in your inbox", messageID)
	}
	if it.Read {
		return nil
	}
	changes, err := domain.MarkRead(userID, []string{it.ID}, x.cfg.Now())
	if err != nil {
		return err
	}
	meta.IdempotencyKey = "read|" + userID + "|" + it.ID
	return x.save(ctx, userID, meta, changes)
}

// MarkAllRead records that userID read every item of their inbox so far. With nothing unread it
// records nothing.
func (x *Inbox) MarkAllRead(ctx context.Context, userID string, meta es.Meta) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.sync(ctx); err != nil {
		return err
	}
	u := x.users[userID]
	if u == nil || !slices.ContainsFunc(u.items, func(it *inboxItem) bool { return !it.Read }) {
		return nil
	}
	changes, err := domain.MarkAllRead(userID, x.pos, x.cfg.Now())
	if err != nil {
		return err
	}
	meta.IdempotencyKey = fmt.Sprintf("read-all|%s|%d", userID, x.pos)
	return x.save(ctx, userID, meta, changes)
}

// save appends changes to userID's inbox stream and applies them.
func (x *Inbox) save(ctx context.Context, userID string, meta es.Meta, changes []es.Change) error {
	if meta.Actor == "" {
		meta.Actor = "user:" + userID
	}
	if _, err := es.Save(ctx, x.cfg.Store, domain.InboxStreamID(userID), events.Any, meta, changes); err != nil {
		return err
	}
	return x.sync(ctx)
}
