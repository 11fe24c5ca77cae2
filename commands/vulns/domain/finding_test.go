package domain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// replay applies changes as if they had been stored, so tests drive the aggregate the way the
// application layer does: decide, store, rebuild.
func replay(t *testing.T, f *Finding, changes []es.Change) {
	t.Helper()
	for _, c := range changes {
		data, err := json.Marshal(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(&events.Envelope{StreamID: "vulns-finding-0190a000-0000-7000-8000-000000000001", Type: c.Type, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
}

func opened(t *testing.T) *Finding {
	f := &Finding{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	replay(t, f, []es.Change{{Type: contracts.TypeFindingOpened, Data: map[string]any{"asset_id": "assets-asset-x", "severity": "high", "seen_at": now, "scan_id": "s1"}}})
	return f
}

// moveTo drives a fresh finding into state s through allowed transitions.
func moveTo(t *testing.T, s Status) *Finding {
	t.Helper()
	f := opened(t)
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	step := func(ch []es.Change, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		replay(t, f, ch)
	}
	switch s {
	case StatusOpen:
	case StatusTriaged:
		step(f.Triage(""))
	case StatusInRemediation:
		step(f.StartRemediation(""))
	case StatusResolved:
		step(f.Resolve("patched", "", now))
	case StatusClosed:
		step(f.Resolve("patched", "", now))
		step(f.Close("s2", now))
	case StatusFalsePositive:
		step(f.MarkFalsePositive("test host"))
	case StatusDuplicate:
		step(f.MarkDuplicate("vulns-finding-other"))
	case StatusRiskAccepted:
		step(f.AcceptRisk("ciso", "compensating control", now.Add(24*time.Hour), now))
	case StatusReopened:
		step(f.Resolve("patched", "", now))
		step(f.Reopen("seen again", "s3", now))
	}
	if f.Status != s {
		t.Fatalf("driving to %s ended in %s", s, f.Status)
	}
	return f
}

func TestLifecycleAllowsExactlyTheTable(t *testing.T) {
	now := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	commands := map[Status]func(f *Finding) ([]es.Change, error){
		StatusTriaged:       func(f *Finding) ([]es.Change, error) { return f.Triage("") },
		StatusInRemediation: func(f *Finding) ([]es.Change, error) { return f.StartRemediation("") },
		StatusResolved:      func(f *Finding) ([]es.Change, error) { return f.Resolve("fixed", "", now) },
		StatusClosed:        func(f *Finding) ([]es.Change, error) { return f.Close("s9", now) },
		StatusReopened:      func(f *Finding) ([]es.Change, error) { return f.Reopen("again", "", now) },
		StatusFalsePositive: func(f *Finding) ([]es.Change, error) { return f.MarkFalsePositive("no") },
		StatusDuplicate:     func(f *Finding) ([]es.Change, error) { return f.MarkDuplicate("vulns-finding-y") },
		StatusRiskAccepted: func(f *Finding) ([]es.Change, error) {
			return f.AcceptRisk("ciso", "ok", now.Add(time.Hour), now)
		},
	}
	all := []Status{StatusOpen, StatusTriaged, StatusInRemediation, StatusResolved, StatusClosed, StatusFalsePositive, StatusDuplicate, StatusRiskAccepted, StatusReopened}
	for _, from := range all {
		for to, cmd := range commands {
			f := moveTo(t, from)
			ch, err := cmd(f)
			if CanTransition(from, to) {
				if err != nil || len(ch) != 1 {
					t.Errorf("%s → %s should be allowed: %v", from, to, err)
					continue
				}
				replay(t, f, ch)
				if f.Status != to {
					t.Errorf("%s → %s ended in %s", from, to, f.Status)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) || te.From != from || te.To != to || len(ch) != 0 {
				t.Errorf("%s → %s should be refused with a TransitionError, got %v", from, to, err)
			}
		}
	}
}

func TestRulesNameTheField(t *testing.T) {
	now := time.Now()
	f := opened(t)
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"resolve without reason", second(f.Resolve(" ", "", now)), "/reason"},
		{"false positive without justification", second(f.MarkFalsePositive("")), "/justification"},
		{"risk without approver", second(f.AcceptRisk("", "x", now.Add(time.Hour), now)), "/approver"},
		{"risk expiring in the past", second(f.AcceptRisk("ciso", "x", now.Add(-time.Hour), now)), "/expires_at"},
		{"duplicate of itself", second(f.MarkDuplicate(f.ID)), "/duplicate_of"},
		{"empty comment", second(f.Comment("")), "/comment"},
	}
	for _, c := range cases {
		var re *RuleError
		if !errors.As(c.err, &re) || re.Field() != c.field || re.Kind() != problem.KindRejected {
			t.Errorf("%s: %v, want a RuleError on %s", c.name, c.err, c.field)
		}
	}
}

func TestRiskAcceptanceExpiryReopens(t *testing.T) {
	f := moveTo(t, StatusRiskAccepted)
	if _, err := f.ExpireRiskAcceptance(f.RiskAcceptedTil.Add(-time.Minute)); err == nil {
		t.Fatal("expired before its time")
	}
	ch, err := f.ExpireRiskAcceptance(f.RiskAcceptedTil)
	if err != nil {
		t.Fatal(err)
	}
	replay(t, f, ch)
	if f.Status != StatusReopened || !f.RiskAcceptedTil.IsZero() || !f.Active() {
		t.Fatalf("after expiry: %+v", f)
	}
}

func TestCommandsOnUnknownFindingAreRefused(t *testing.T) {
	f := &Finding{}
	if _, err := f.Triage(""); err == nil {
		t.Fatal("triaged a finding that was never opened")
	}
	if _, err := f.Assign("alice"); err == nil {
		t.Fatal("assigned a finding that was never opened")
	}
}

func second(_ []es.Change, err error) error { return err }
