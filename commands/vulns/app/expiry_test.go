package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

func TestExpireRiskAcceptanceReopensOnce(t *testing.T) {
	store := expiryStore(t)
	ctx := context.Background()
	id := events.NewStreamID("vulns", "finding")
	opened := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := es.Save(ctx, store, id, events.NoStream, es.Meta{}, []es.Change{{Type: contracts.TypeFindingOpened, Data: openedData(opened)}}); err != nil {
		t.Fatal(err)
	}
	until := opened.Add(48 * time.Hour)
	acceptRisk(t, store, id, until, opened)
	if done, err := app.ExpireRiskAcceptance(ctx, store, id, until.Add(-time.Minute)); err != nil || done {
		t.Fatalf("before expiry: %v %v", done, err)
	}
	// Sent by the finding_deadlines saga, whose principal the dispatcher puts on the context.
	sagaCtx := access.With(ctx, access.System("finding_deadlines"))
	for i := 0; i < 2; i++ { // a second sweep finds nothing to do
		done, err := app.ExpireRiskAcceptance(sagaCtx, store, id, until.Add(time.Minute))
		if err != nil || done != (i == 0) {
			t.Fatalf("sweep %d: %v %v", i, done, err)
		}
	}
	var after domain.Finding
	if _, err := es.Load(ctx, store, id, &after); err != nil || after.Status != domain.StatusReopened {
		t.Fatalf("after expiry: %+v %v", after, err)
	}
	evs, err := store.ReadStream(ctx, id, events.ReadStreamOptions{})
	if err != nil || evs[len(evs)-1].Actor != "system:finding_deadlines" {
		t.Fatalf("the expiry's actor: %+v %v", evs[len(evs)-1], err)
	}
}

// acceptRisk accepts the finding's risk at at, until until.
func acceptRisk(t *testing.T, store es.Store, id string, until, at time.Time) {
	t.Helper()
	ctx := context.Background()
	var f domain.Finding
	v, err := es.Load(ctx, store, id, &f)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := f.AcceptRisk("ciso", "compensating WAF rule", until, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Save(ctx, store, id, events.Exact(v), es.Meta{}, ch); err != nil {
		t.Fatal(err)
	}
}

func expiryStore(t *testing.T) *events.Guarded {
	t.Helper()
	return testsupport.SQLiteStore(t)
}

func openedData(at time.Time) map[string]any {
	return map[string]any{"asset_id": events.NewStreamID("assets", "asset"), "scope": "s", "identity_key": "k", "fingerprint": "fp",
		"scan_id": "scan-1", "format": "trivy", "title": "CVE-2024-0001 in openssl", "severity": "high", "seen_at": at.Format(time.RFC3339)}
}
