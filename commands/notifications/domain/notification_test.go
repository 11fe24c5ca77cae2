package domain

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// apply feeds changes to n as if they had been stored and read back.
func apply(t *testing.T, n *Notification, id string, changes []es.Change, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		b, err := json.Marshal(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Apply(&events.Envelope{StreamID: id, Type: c.Type, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
}

func requested(t *testing.T, d Decision) (*Notification, string) {
	t.Helper()
	req := Requested{DedupKey: DedupKey("scan-1", channels.Recipient{UserID: "u1", Email: "a@example.com"}, "email"),
		Recipient: ToRecipient(channels.Recipient{UserID: "u1", Email: "a@example.com"}), Channel: "email", Kind: "kev_alert", Severity: "critical", Text: "hello"}
	id := StreamID(req.DedupKey)
	n := &Notification{}
	ch, err := n.Decide(id, req, d, t0)
	apply(t, n, id, ch, err)
	return n, id
}

func wantState(t *testing.T, err error) {
	t.Helper()
	var se *StateError
	if !errors.As(err, &se) {
		t.Fatalf("want *StateError, got %v", err)
	}
}

func TestLifecycleSent(t *testing.T) {
	t.Parallel()
	n, id := requested(t, Decision{Outcome: OutcomeDeliver})
	if n.Status != StatusPending || n.MessageID() != strings.TrimPrefix(id, StreamPrefix) || !IsNotificationID(id) {
		t.Fatalf("after request: %+v", n)
	}
	_, err := n.Decide(id, n.Request, Decision{Outcome: OutcomeDeliver}, t0)
	wantState(t, err)
	_, err = n.RecordSent(1, "", t0)
	wantState(t, err) // nothing in flight
	ch, a, err := n.Attempt(t0)
	apply(t, n, id, ch, err)
	if a != 1 || n.Status != StatusInFlight {
		t.Fatalf("attempt %d status %s", a, n.Status)
	}
	_, _, err = n.Attempt(t0)
	wantState(t, err) // one attempt at a time
	_, err = n.RecordSent(2, "", t0)
	wantState(t, err) // not the attempt in flight
	ch, err = n.RecordSent(1, "prov-1", t0)
	apply(t, n, id, ch, err)
	if n.Status != StatusSent || !n.Status.Terminal() {
		t.Fatalf("status %s", n.Status)
	}
	_, _, err = n.Attempt(t0.Add(time.Hour))
	wantState(t, err) // no send after sent
	_, err = n.RecordFailure(1, "x", true, t0, 5, t0)
	wantState(t, err)
	_, err = n.DeadLetter("x", t0)
	wantState(t, err)
	_, err = n.Interrupt(5, t0)
	wantState(t, err)
}

func TestLifecycleRetryThenDead(t *testing.T) {
	t.Parallel()
	n, id := requested(t, Decision{Outcome: OutcomeDeliver})
	for attempt := 1; attempt <= 3; attempt++ {
		now := t0.Add(time.Duration(attempt) * time.Hour)
		ch, a, err := n.Attempt(now)
		apply(t, n, id, ch, err)
		if a != attempt {
			t.Fatalf("attempt %d, want %d", a, attempt)
		}
		next := now.Add(time.Minute)
		ch, err = n.RecordFailure(a, "503", true, next, 3, now)
		apply(t, n, id, ch, err)
		if attempt < 3 {
			if n.Status != StatusRetrying || !n.DueAt.Equal(next) {
				t.Fatalf("after attempt %d: %s due %s", a, n.Status, n.DueAt)
			}
			if _, _, err := n.Attempt(now); err == nil {
				t.Fatal("attempt before the backoff ended was allowed")
			}
		} else if len(ch) != 2 || ch[1].Type != contracts.TypeNotificationDeadLettered {
			t.Fatalf("last failure: %+v", ch)
		}
	}
	if n.Status != StatusDeadLettered {
		t.Fatalf("status %s", n.Status)
	}
	_, _, err := n.Attempt(t0.Add(24 * time.Hour))
	wantState(t, err) // no send after dead
}

func TestPermanentFailureDeadLettersAtOnce(t *testing.T) {
	t.Parallel()
	n, id := requested(t, Decision{Outcome: OutcomeDeliver})
	ch, a, err := n.Attempt(t0)
	apply(t, n, id, ch, err)
	ch, err = n.RecordFailure(a, "550 no such user", false, time.Time{}, 8, t0)
	apply(t, n, id, ch, err)
	if n.Status != StatusDeadLettered || len(ch) != 2 {
		t.Fatalf("status %s, changes %+v", n.Status, ch)
	}
	if dl := ch[1].Data.(DeadLettered); dl.Attempts != 1 || dl.Reason != "550 no such user" {
		t.Fatalf("dead letter %+v", dl)
	}
}

func TestInterruptResendsOnceThenCounts(t *testing.T) {
	t.Parallel()
	n, id := requested(t, Decision{Outcome: OutcomeDeliver})
	ch, _, err := n.Attempt(t0)
	apply(t, n, id, ch, err)
	ch, err = n.Interrupt(2, t0.Add(time.Minute))
	apply(t, n, id, ch, err)
	f := ch[0].Data.(Failed)
	if n.Status != StatusRetrying || f.Interrupted == nil || !*f.Interrupted || !f.Retryable || !n.DueAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after interrupt: %s %+v", n.Status, f)
	}
	ch, a, err := n.Attempt(t0.Add(time.Minute))
	apply(t, n, id, ch, err)
	if a != 2 || ch[0].Data.(Attempted).MessageID != n.MessageID() {
		t.Fatalf("resend attempt %d %+v", a, ch[0].Data)
	}
	ch, err = n.Interrupt(2, t0.Add(2*time.Minute)) // the last allowed attempt: give up
	apply(t, n, id, ch, err)
	if n.Status != StatusDeadLettered {
		t.Fatalf("status %s", n.Status)
	}
}

func TestDeferredAndSuppressed(t *testing.T) {
	t.Parallel()
	until := t0.Add(8 * time.Hour)
	n, _ := requested(t, Decision{Outcome: OutcomeDefer, Reason: ReasonQuietHours, Until: until})
	if n.Status != StatusPending || !n.DueAt.Equal(until) {
		t.Fatalf("deferred: %s due %s", n.Status, n.DueAt)
	}
	if _, _, err := n.Attempt(until.Add(-time.Second)); err == nil {
		t.Fatal("attempt during quiet hours was allowed")
	}
	if _, _, err := n.Attempt(until); err != nil {
		t.Fatal(err)
	}
	s, _ := requested(t, Decision{Outcome: OutcomeSuppress, Reason: ReasonPreference})
	if s.Status != StatusSuppressed {
		t.Fatalf("status %s", s.Status)
	}
	_, _, err := s.Attempt(t0)
	wantState(t, err)
	n2 := &Notification{}
	if _, err := n2.Decide(StreamID("k"), Requested{DedupKey: "k", Recipient: ToRecipient(channels.Recipient{UserID: "u"}), Channel: "email", Kind: "x", Severity: "high", Text: "t"},
		Decision{Outcome: OutcomeDigest, DigestID: "nope"}, t0); err == nil {
		t.Fatal("a digest decision without a digest id was accepted")
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	ok := Requested{DedupKey: "k", Recipient: ToRecipient(channels.Recipient{UserID: "u"}), Channel: "email", Kind: "kev_alert", Severity: "high", Text: "t"}
	for name, mut := range map[string]func(*Requested){
		"dedup_key": func(r *Requested) { r.DedupKey = " " },
		"channel":   func(r *Requested) { r.Channel = "" },
		"kind":      func(r *Requested) { r.Kind = "" },
		"severity":  func(r *Requested) { r.Severity = "urgent" },
		"recipient": func(r *Requested) { r.Recipient = ToRecipient(channels.Recipient{}) },
		"text":      func(r *Requested) { r.Text = "" },
	} {
		r := ok
		mut(&r)
		var re *RuleError
		if err := ValidateRequest(&r); !errors.As(err, &re) || re.Path != "/"+name {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if err := ValidateRequest(&ok); err != nil {
		t.Fatal(err)
	}
}
