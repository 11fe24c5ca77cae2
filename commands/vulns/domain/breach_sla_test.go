package domain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

func TestBreachSLA(t *testing.T) {
	due := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	other := due.Add(7 * 24 * time.Hour)
	after := due.Add(time.Hour)
	withDue := func(f *Finding, at time.Time) *Finding {
		t.Helper()
		ch, err := f.SetDueDate(at, "policy")
		if err != nil {
			t.Fatal(err)
		}
		replay(t, f, ch)
		return f
	}
	cases := []struct {
		name  string
		setup func() *Finding
		dueAt time.Time
		now   time.Time
		want  map[string]any // nil: nothing recorded
		errAs any
	}{
		{name: "open", setup: func() *Finding { return withDue(moveTo(t, StatusOpen), due) }, dueAt: due, now: after,
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T13:00:00Z", "severity": "high", "status": "open"}},
		{name: "exactly at the deadline", setup: func() *Finding { return withDue(moveTo(t, StatusOpen), due) }, dueAt: due, now: due,
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T12:00:00Z", "severity": "high", "status": "open"}},
		{name: "owned and in remediation", setup: func() *Finding {
			f := withDue(moveTo(t, StatusInRemediation), due)
			ch, err := f.Assign("alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			replay(t, f, ch)
			return f
		}, dueAt: due, now: after,
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T13:00:00Z", "severity": "high", "status": "in_remediation", "owner": "alice@example.com"}},
		{name: "triaged", setup: func() *Finding { return withDue(moveTo(t, StatusTriaged), due) }, dueAt: due, now: after,
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T13:00:00Z", "severity": "high", "status": "triaged"}},
		{name: "reopened", setup: func() *Finding { return withDue(moveTo(t, StatusReopened), due) }, dueAt: due, now: after,
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T13:00:00Z", "severity": "high", "status": "reopened"}},
		{name: "due given in another zone", setup: func() *Finding { return withDue(moveTo(t, StatusOpen), due) },
			dueAt: due.In(time.FixedZone("CET", 3600)), now: after.In(time.FixedZone("CET", 3600)),
			want: map[string]any{"due_at": "2026-02-01T12:00:00Z", "breached_at": "2026-02-01T13:00:00Z", "severity": "high", "status": "open"}},
		{name: "resolved", setup: func() *Finding { return withDue(moveTo(t, StatusResolved), due) }, dueAt: due, now: after},
		{name: "closed", setup: func() *Finding { return withDue(moveTo(t, StatusClosed), due) }, dueAt: due, now: after},
		{name: "false positive", setup: func() *Finding { return withDue(moveTo(t, StatusFalsePositive), due) }, dueAt: due, now: after},
		{name: "duplicate", setup: func() *Finding { return withDue(moveTo(t, StatusDuplicate), due) }, dueAt: due, now: after},
		{name: "risk accepted", setup: func() *Finding { return withDue(moveTo(t, StatusRiskAccepted), due) }, dueAt: due, now: after},
		{name: "due date moved", setup: func() *Finding { return withDue(withDue(moveTo(t, StatusOpen), due), other) }, dueAt: due, now: after},
		{name: "no due date", setup: func() *Finding { return moveTo(t, StatusOpen) }, dueAt: due, now: after},
		{name: "already breached", setup: func() *Finding {
			f := withDue(moveTo(t, StatusOpen), due)
			ch, err := f.BreachSLA(due, after)
			if err != nil || len(ch) != 1 {
				t.Fatalf("first breach: %v %v", ch, err)
			}
			replay(t, f, ch)
			return f
		}, dueAt: due, now: after.Add(time.Hour)},
		{name: "breached before, due date moved back later", setup: func() *Finding {
			f := withDue(moveTo(t, StatusOpen), due)
			ch, _ := f.BreachSLA(due, after)
			replay(t, f, ch)
			return withDue(f, other)
		}, dueAt: other, now: other.Add(time.Minute),
			want: map[string]any{"due_at": "2026-02-08T12:00:00Z", "breached_at": "2026-02-08T12:01:00Z", "severity": "high", "status": "open"}},
		{name: "before the deadline", setup: func() *Finding { return withDue(moveTo(t, StatusOpen), due) }, dueAt: due, now: due.Add(-time.Second),
			errAs: new(*RuleError)},
		{name: "unknown finding", setup: func() *Finding { return &Finding{} }, dueAt: due, now: after,
			errAs: new(*events.InvalidEventError)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.setup()
			ch, err := f.BreachSLA(c.dueAt, c.now)
			if c.errAs != nil {
				if err == nil || !errors.As(err, c.errAs) {
					t.Fatalf("err %v (%T), want %T", err, err, c.errAs)
				}
				if len(ch) != 0 {
					t.Fatalf("changes %v with an error", ch)
				}
				if re, ok := err.(*RuleError); ok && (re.Field() != "/due_at" || re.Kind() != problem.KindRejected) {
					t.Fatalf("rule error %+v", re)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if len(ch) != 0 {
					t.Fatalf("changes %+v, want none", ch)
				}
				return
			}
			if len(ch) != 1 || ch[0].Type != contracts.TypeSLABreached {
				t.Fatalf("changes %+v, want one SLABreached", ch)
			}
			b, _ := json.Marshal(ch[0].Data)
			var got map[string]any
			_ = json.Unmarshal(b, &got)
			if len(got) != len(c.want) {
				t.Fatalf("data %s, want %v", b, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Fatalf("data[%s] = %v, want %v (%s)", k, got[k], v, b)
				}
			}
			// Applying it remembers the breached deadline: a second call records nothing.
			replay(t, f, ch)
			if !f.SLABreachedFor.Equal(c.dueAt) {
				t.Fatalf("SLABreachedFor %v, want %v", f.SLABreachedFor, c.dueAt)
			}
			again, err := f.BreachSLA(c.dueAt, c.now.Add(time.Hour))
			if err != nil || len(again) != 0 {
				t.Fatalf("second breach: %v %v", again, err)
			}
		})
	}
}
