package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// TestEveryFindingEventMatchesItsSchema drives a finding through every method of the aggregate and
// appends each change to the guarded store, which validates it against schemas/events/vulns.
func TestEveryFindingEventMatchesItsSchema(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	importBytes(t, im, trivytest.Bytes(t, 2, "example/schema:1", detailedTrivy), app.ImportScanReport{})
	ids := findingIDs(t, store)
	var id, other string
	for _, v := range ids {
		if id == "" {
			id = v
		} else {
			other = v
		}
	}
	ctx := context.Background()
	now := time.Now()
	steps := []func(f *vulns.Finding) ([]es.Change, error){
		func(f *vulns.Finding) ([]es.Change, error) { return f.Triage("looked at it") },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Assign("alice") },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Comment("a note") },
		func(f *vulns.Finding) ([]es.Change, error) { return f.SetDueDate(now.Add(48*time.Hour), "") },
		func(f *vulns.Finding) ([]es.Change, error) { return f.StartRemediation("") },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Resolve("patched", "", now) },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Close("", now) },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Reopen("it is back", "", now) },
		func(f *vulns.Finding) ([]es.Change, error) { return f.MarkDuplicate(other) },
		func(f *vulns.Finding) ([]es.Change, error) { return f.Reopen("not a duplicate", "", now) },
		func(f *vulns.Finding) ([]es.Change, error) {
			return f.AcceptRisk("ciso", "compensating control", now.Add(time.Hour), now)
		},
		func(f *vulns.Finding) ([]es.Change, error) {
			return []es.Change{{Type: contracts.TypeFindingExploitabilityChanged, Data: map[string]any{"kev": true, "epss": 0.42}}}, nil
		},
	}
	for i, step := range steps {
		f, v := loadFinding(t, store, id)
		changes, err := step(&f)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := es.Save(ctx, store, id, events.Exact(v), es.Meta{Actor: "analyst"}, changes); err != nil {
			t.Fatalf("step %d (%s): %v", i, changes[0].Type, err)
		}
	}
	n := countTypes(allEvents(t, store))
	for _, typ := range []string{contracts.TypeFindingOpened, contracts.TypeFindingTriaged, contracts.TypeFindingRemediationStarted,
		contracts.TypeFindingResolved, contracts.TypeFindingClosed, contracts.TypeFindingReopened, contracts.TypeFindingMarkedDuplicate,
		contracts.TypeFindingRiskAccepted, contracts.TypeFindingAssigned, contracts.TypeFindingCommented, contracts.TypeFindingDueDateSet,
		contracts.TypeFindingExploitabilityChanged} {
		if n[typ] == 0 {
			t.Errorf("no %s appended", typ)
		}
	}
	// A risk-accepted finding seen again stays risk-accepted.
	s := importBytes(t, im, trivytest.Bytes(t, 2, "example/schema:1", detailedTrivy), app.ImportScanReport{})
	if s.Unchanged != 2 || s.Reopened != 0 {
		t.Fatalf("%+v", s)
	}
	if f, _ := loadFinding(t, store, id); f.Status != vulns.StatusRiskAccepted {
		t.Fatalf("risk-accepted finding became %s", f.Status)
	}
	// Bad data is refused by the schemas.
	if _, err := store.Append(ctx, id, events.Any, []events.Envelope{{Type: contracts.TypeFindingSeen, Data: []byte(`{"scan_id":"x"}`)}}); err == nil {
		t.Fatal("FindingSeen without seen_at accepted")
	}
	if _, err := store.Append(ctx, id, events.Any, []events.Envelope{{Type: contracts.TypeFindingOpened, Data: []byte(`{"extra":1}`)}}); err == nil {
		t.Fatal("FindingOpened with an unknown field accepted")
	}
}
