package domain_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// apply feeds changes back into the aggregate, as loading them from the store would.
func apply(t *testing.T, agg es.Aggregate, stream string, changes []es.Change, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		b, _ := json.Marshal(c.Data)
		if err := agg.Apply(&events.Envelope{StreamID: stream, Type: c.Type, Data: b, RecordedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

func conflict(t *testing.T, what string, err error) {
	t.Helper()
	var se *domain.StateError
	if !errors.As(err, &se) || se.Kind() != problem.KindConflict {
		t.Fatalf("%s: %v, want a conflict", what, err)
	}
}

func newRun(t *testing.T, attempts int) *domain.Run {
	r := &domain.Run{ID: "r"}
	ch, err := r.Request(domain.RunRequest{DefinitionID: "d", Trigger: domain.TriggerManual,
		Policy: domain.Policy{TimeoutSeconds: 60, MaxAttempts: attempts, RetryBackoffSeconds: 10}})
	apply(t, r, "scans-run-r", ch, err)
	return r
}

func TestRunLifecycle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := newRun(t, 3)
	_, err := r.Start(2, nil, "n")
	conflict(t, "attempt 2 first", err)
	_, err = r.Complete(1, domain.Evidence{}, domain.ImportSummary{})
	conflict(t, "complete before start", err)
	ch, err := r.Start(1, []string{"nmap"}, "n")
	apply(t, r, "scans-run-r", ch, err)
	ch, err = r.FailAttempt(1, "boom", false, now)
	apply(t, r, "scans-run-r", ch, err)
	if r.Status != domain.RunRequested || !r.NextAttemptAt.Equal(now.Add(10*time.Second)) {
		t.Fatalf("%+v", r)
	}
	ch, err = r.Start(2, []string{"nmap"}, "n")
	apply(t, r, "scans-run-r", ch, err)
	ch, err = r.FailAttempt(2, "boom", false, now)
	apply(t, r, "scans-run-r", ch, err)
	if !r.NextAttemptAt.Equal(now.Add(20 * time.Second)) { // doubled
		t.Fatalf("backoff %v", r.NextAttemptAt)
	}
	ch, err = r.Start(3, []string{"nmap"}, "n")
	apply(t, r, "scans-run-r", ch, err)
	ch, err = r.FailAttempt(3, "boom", false, now)
	if len(ch) != 2 || ch[1].Type != contracts.TypeScanFailed {
		t.Fatalf("last attempt %+v", ch)
	}
	apply(t, r, "scans-run-r", ch, err)
	if r.Status != domain.RunFailed {
		t.Fatalf("%+v", r)
	}
	_, err = r.Cancel("late", "bob")
	conflict(t, "cancel a failed run", err)
}

func TestRunCancelAndComplete(t *testing.T) {
	r := newRun(t, 1)
	ch, err := r.Start(1, []string{"nmap"}, "n")
	apply(t, r, "scans-run-r", ch, err)
	ch, err = r.Complete(1, domain.Evidence{Path: "r/attempt-1.xml"}, domain.ImportSummary{New: 1})
	apply(t, r, "scans-run-r", ch, err)
	_, err = r.Cancel("too late", "bob")
	conflict(t, "cancel a completed run", err)
	_, err = r.Request(domain.RunRequest{Trigger: domain.TriggerManual, Policy: domain.Policy{TimeoutSeconds: 1, MaxAttempts: 1}})
	conflict(t, "request twice", err)

	c := newRun(t, 2)
	ch, err = c.Cancel("", "bob")
	apply(t, c, "scans-run-r", ch, err)
	if c.Status != domain.RunCancelled || c.CancelReason != "cancelled" {
		t.Fatalf("%+v", c)
	}
	_, err = c.Start(1, nil, "n")
	conflict(t, "start a cancelled run", err)
	// A permanent failure does not retry.
	p := newRun(t, 5)
	ch, err = p.Start(1, nil, "n")
	apply(t, p, "scans-run-r", ch, err)
	ch, _ = p.FailAttempt(1, "target refused", true, time.Now())
	if len(ch) != 2 {
		t.Fatalf("permanent failure %+v", ch)
	}
}

func TestDefinitionRules(t *testing.T) {
	ok := domain.Spec{Name: "x", Scanner: "nmap", Target: domain.Target{Addresses: []string{"127.0.0.1", "::1", "127.0.0.0/24", "db.internal"}}}
	d := &domain.Definition{ID: "d"}
	ch, err := d.Create(ok, "")
	apply(t, d, "scans-definition-d", ch, err)
	if d.Spec.Format != "nmap" || d.Spec.MaxAttempts != 1 || d.Spec.TimeoutSeconds != domain.DefaultTimeout {
		t.Fatalf("defaults %+v", d.Spec)
	}
	bad := map[string]domain.Spec{
		"/name":                  {Name: " x", Scanner: "nmap", Target: ok.Target},
		"/scanner":               {Name: "x", Scanner: "zap"},
		"/target":                {Name: "x", Scanner: "nmap"},
		"/target/addresses/0":    {Name: "x", Scanner: "nmap", Target: domain.Target{Addresses: []string{"-iL"}}},
		"/options/ports":         {Name: "x", Scanner: "nmap", Target: ok.Target, Options: &domain.NmapOptions{Ports: "1-70000"}},
		"/options/scripts/0":     {Name: "x", Scanner: "nmap", Target: ok.Target, Options: &domain.NmapOptions{Scripts: []string{"A;b"}}},
		"/schedule":              {Name: "x", Scanner: "nmap", Target: ok.Target, Schedule: "61 * * * *"},
		"/max_attempts":          {Name: "x", Scanner: "nmap", Target: ok.Target, MaxAttempts: 11},
		"/retry_backoff_seconds": {Name: "x", Scanner: "nmap", Target: ok.Target, RetryBackoffSeconds: -1},
		"/format":                {Name: "x", Scanner: "external"},
		"/options":               {Name: "x", Scanner: "external", Format: "trivy", Options: &domain.NmapOptions{}},
	}
	for field, s := range bad {
		_, err := (&domain.Definition{}).Create(s, "")
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field() != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, err := (&domain.Definition{}).Create(domain.Spec{Name: "x", Scanner: "external", Format: "trivy"}, ""); err == nil {
		t.Error("an external definition without a token hash")
	}
	_, err = d.Update(domain.Spec{Name: "x", Scanner: "external", Format: "trivy"})
	if err == nil {
		t.Error("the scanner changed")
	}
	ch, err = d.Delete("gone")
	apply(t, d, "scans-definition-d", ch, err)
	_, err = d.Update(ok)
	conflict(t, "update a deleted definition", err)
	_, err = d.Delete("again")
	conflict(t, "delete twice", err)
}

func TestSchedulesAreUTC(t *testing.T) {
	s, err := domain.ParseSchedule("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 10, 0, 0, 0, time.FixedZone("X", 5*3600))
	if got := s.Next(from); !got.Equal(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("next %v", got)
	}
}
