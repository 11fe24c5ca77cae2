package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// fakeSessions stands in for the WebSocket hub: the users with an open session.
type fakeSessions struct {
	mu     sync.Mutex
	online map[string]bool
	pushed map[string][]any
}

func (f *fakeSessions) SendTo(user string, v any) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.online[user] {
		return 0, nil
	}
	f.pushed[user] = append(f.pushed[user], v)
	return 1, nil
}

func (e *env) inbox() *Inbox {
	e.t.Helper()
	in, err := NewInbox(InboxConfig{Store: e.store, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

func (e *env) requestTo(to channels.Recipient, trigger, channel, subject string) Result {
	e.t.Helper()
	r, err := e.svc.Request(context.Background(), Request{Trigger: trigger, Recipient: to, Channel: channel,
		Kind: channels.KindKEVAlert, Severity: "high", Subject: subject, Text: "body of " + subject})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func list(t *testing.T, in *Inbox, user string, q InboxQuery) InboxPage {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 50
	}
	p, err := in.List(context.Background(), user, q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func subjects(p InboxPage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Subject)
	}
	return out
}

var bob = channels.Recipient{UserID: "bob", Name: "Bob", Email: "bob@example.com"}

func TestWebSocketWithoutSessionIsHeldNotSent(t *testing.T) {
	e := newEnv(t)
	hub := &fakeSessions{online: map[string]bool{"bob": true}, pushed: map[string][]any{}}
	w := e.worker(e.store, map[string]channels.Sender{ws: NewWebSocketSender(hub, nil)}, nil)
	away := e.requestTo(alice, "t1", ws, "for alice, away")
	here := e.requestTo(bob, "t1", ws, "for bob, connected")
	e.pass(w)
	e.wantTypes(away.NotificationID, req, att, contracts.TypeNotificationHeld)
	e.wantTypes(here.NotificationID, req, att, sent)
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.Pending(); n != 0 {
		t.Fatalf("%d notifications still pending: a held one must not be retried", n)
	}
	e.clock.Advance(time.Hour)
	if started := e.pass(w); started != 0 {
		t.Fatalf("a later pass started %d attempts", started)
	}
	if len(hub.pushed["bob"]) != 1 || len(hub.pushed["alice"]) != 0 {
		t.Fatalf("pushed %v", hub.pushed)
	}
	// The held notification waits unread in alice's inbox.
	p := list(t, e.inbox(), "alice", InboxQuery{UnreadOnly: true})
	if !slices.Equal(subjects(p), []string{"for alice, away"}) || p.Unread != 1 {
		t.Fatalf("alice's unread inbox %v (%d unread)", subjects(p), p.Unread)
	}
}

func TestInboxOneItemPerMessageOwnUserOnly(t *testing.T) {
	e := newEnv(t)
	a1 := e.requestTo(alice, "t1", email, "first")
	a1ws := e.requestTo(alice, "t1", ws, "first") // the same message on a second channel
	e.requestTo(bob, "t1", email, "bob's")
	e.requestTo(channels.Recipient{UserID: "alice", Name: "Alice"}, "t2", slack, "shared") // the organisation's Slack
	e.clock.Advance(time.Second)
	e.requestTo(alice, "t3", email, "second")
	in := e.inbox()

	p := list(t, in, "alice", InboxQuery{})
	if !slices.Equal(subjects(p), []string{"second", "first"}) || p.Unread != 2 {
		t.Fatalf("alice's inbox %v (%d unread), want [second first] both unread", subjects(p), p.Unread)
	}
	if first := p.Items[1]; first.ID != a1.MessageID || !slices.Equal(first.Channels, []string{email, ws}) || first.Text != "body of first" {
		t.Fatalf("item %+v", first)
	}
	if p := list(t, in, "bob", InboxQuery{}); !slices.Equal(subjects(p), []string{"bob's"}) {
		t.Fatalf("bob's inbox %v", subjects(p))
	}

	// Bob cannot read (nor see) alice's notification.
	err := in.MarkRead(context.Background(), "bob", a1.MessageID, es.Meta{})
	if d := problem.From(err); d.Status != 404 {
		t.Fatalf("bob marking alice's notification: %v (%d), want 404", err, d.Status)
	}
	// The id the WebSocket push carried names the same item.
	for range 2 { // idempotent: the second mark records nothing
		if err := in.MarkRead(context.Background(), "alice", a1ws.MessageID, es.Meta{Actor: "user:alice"}); err != nil {
			t.Fatal(err)
		}
	}
	reads := e.wantTypes(domain.InboxStreamID("alice"), contracts.TypeNotificationsMarkedRead)
	if ids := reads[0]["message_ids"].([]any); len(ids) != 1 || ids[0] != a1.MessageID {
		t.Fatalf("marked %v", ids)
	}
	if p := list(t, in, "alice", InboxQuery{UnreadOnly: true}); !slices.Equal(subjects(p), []string{"second"}) || p.Unread != 1 {
		t.Fatalf("unread after reading first: %v (%d)", subjects(p), p.Unread)
	}
	if p := list(t, in, "bob", InboxQuery{UnreadOnly: true}); p.Unread != 1 {
		t.Fatalf("alice's read changed bob's inbox: %d unread", p.Unread)
	}
}

func TestInboxReadAllSurvivesRestartAndSparesLaterOnes(t *testing.T) {
	e := newEnv(t)
	for _, s := range []string{"a", "b", "c"} {
		e.requestTo(alice, "t-"+s, email, s)
	}
	in := e.inbox()
	for range 2 {
		if err := in.MarkAllRead(context.Background(), "alice", es.Meta{Actor: "user:alice"}); err != nil {
			t.Fatal(err)
		}
	}
	e.wantTypes(domain.InboxStreamID("alice"), contracts.TypeInboxMarkedRead) // once: the second had nothing to read
	e.requestTo(alice, "t-d", email, "d")

	// A restarted process (a new inbox over the reopened store) knows what was read.
	e.store = e.reopen()
	restarted := e.inbox()
	p := list(t, restarted, "alice", InboxQuery{})
	var read []bool
	for _, it := range p.Items {
		read = append(read, it.Read)
	}
	if !slices.Equal(subjects(p), []string{"d", "c", "b", "a"}) || !slices.Equal(read, []bool{false, true, true, true}) || p.Unread != 1 {
		t.Fatalf("after restart: %v read %v (%d unread)", subjects(p), read, p.Unread)
	}
}

func TestInboxPagesAndBounds(t *testing.T) {
	e := newEnv(t)
	in, err := NewInbox(InboxConfig{Store: e.store, Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1", "2", "3", "4", "5"} {
		e.requestTo(alice, "t-"+s, email, s)
	}
	var got []string
	var cursor int64
	for pages := 0; ; pages++ {
		p := list(t, in, "alice", InboxQuery{Limit: 3, Before: cursor})
		got = append(got, subjects(p)...)
		if p.Unread != 4 {
			t.Fatalf("page %d counts %d unread, want 4 (the inbox keeps 4)", pages, p.Unread)
		}
		if cursor = p.Next; cursor == 0 {
			break
		}
	}
	if !slices.Equal(got, []string{"5", "4", "3", "2"}) {
		t.Fatalf("pages gave %v, want the newest 4", got)
	}
	if _, err := in.List(context.Background(), "alice", InboxQuery{Limit: 501}); problem.From(err).Status != 400 {
		t.Fatalf("limit 501: %v", err)
	}
}

func TestInboxLeavesOutWhatPreferencesSuppressAndDigests(t *testing.T) {
	e := newEnv(t)
	e.prefs.Set(domain.Preferences{UserID: "alice", Rules: []domain.Rule{{Channel: email, Off: true}, {Channel: ws}},
		Digest: map[string]domain.DigestMode{ws: {Interval: time.Hour}}})
	e.requestTo(alice, "t1", email, "email only") // suppressed: email is off
	e.requestTo(alice, "t2", email, "both")       // email suppressed …
	e.requestTo(alice, "t2", ws, "both")          // … websocket into the hourly digest
	in := e.inbox()
	if p := list(t, in, "alice", InboxQuery{}); !slices.Equal(subjects(p), []string{"both"}) || !slices.Equal(p.Items[0].Channels, []string{ws}) {
		t.Fatalf("inbox %v", subjects(p))
	}
	// The digest's window closes: the digest notification is no item of its own.
	e.clock.Advance(time.Hour)
	e.pass(e.worker(e.store, map[string]channels.Sender{ws: &fakeSender{}}, nil))
	if p := list(t, in, "alice", InboxQuery{}); len(p.Items) != 1 {
		t.Fatalf("after the digest: %v", subjects(p))
	}
}

func TestWebSocketSenderNeedsAUser(t *testing.T) {
	s := NewWebSocketSender(&fakeSessions{}, nil)
	err := s.Send(context.Background(), channels.Message{ID: "x", To: channels.Recipient{Name: "team"}, Text: "t"})
	var pe *channels.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("no user id: %v, want a permanent error", err)
	}
	if err := s.Send(context.Background(), channels.Message{ID: "x", To: alice, Text: "t"}); !errors.Is(err, ErrNoSession) {
		t.Fatalf("offline: %v", err)
	}
}

func TestInboxItemRenamedWhenItsFirstChannelIsSuppressed(t *testing.T) {
	e := newEnv(t)
	first := e.requestTo(alice, "t1", email, "m")
	second := e.requestTo(alice, "t1", ws, "m")
	// A suppression recorded after the second channel's request (the service records one with its
	// request; this is the inbox's rule on its own).
	b, _ := json.Marshal(domain.Suppressed{Reason: domain.ReasonPreference})
	if _, err := e.store.Append(context.Background(), first.NotificationID, events.Any, []events.Envelope{{Type: sup, Data: b}}); err != nil {
		t.Fatal(err)
	}
	in := e.inbox()
	p := list(t, in, "alice", InboxQuery{})
	if len(p.Items) != 1 || p.Items[0].ID != second.MessageID || !slices.Equal(p.Items[0].Channels, []string{ws}) {
		t.Fatalf("items %+v, want one named by the websocket notification", p.Items)
	}
	if err := in.MarkRead(context.Background(), "alice", first.MessageID, es.Meta{}); problem.From(err).Status != 404 {
		t.Fatalf("marking by the suppressed notification's id: %v", err)
	}
	if err := in.MarkRead(context.Background(), "alice", second.MessageID, es.Meta{}); err != nil {
		t.Fatal(err)
	}
}
