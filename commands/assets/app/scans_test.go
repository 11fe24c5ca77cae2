package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

func TestDiscoveriesRegisterAndObserve(t *testing.T) {
	ctx := context.Background()
	store := testsupport.SQLiteStore(t)
	d := app.NewDiscoveries(store)
	meta := es.Meta{Actor: "test"}
	const scan = "0b6c2a8e-6a3c-4a43-9d1e-2f5e0c6e7d11"

	// What the domain refuses is a RefusedError, and nothing is appended.
	_, _, err := d.RegisterDiscovered(ctx, meta, domain.RegisterAsset{Kind: domain.Repository, Name: "no url", ScanID: scan})
	var refused *app.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("a repository without a repo URL: %v, want a RefusedError", err)
	}

	id, evs, err := d.RegisterDiscovered(ctx, meta, domain.RegisterAsset{Kind: domain.Host, Name: "web-1",
		Identifiers: domain.Identifiers{IPs: []string{"10.0.0.1"}}, ScanID: scan})
	if err != nil || !domain.IsAssetID(id) || len(evs) != 1 || evs[0].StreamID != id || evs[0].Version != 1 || evs[0].Type != contracts.TypeAssetRegistered {
		t.Fatalf("register: %v %s %+v", err, id, evs)
	}
	evs, err = d.ObserveIdentifiers(ctx, meta, id, scan, domain.Identifiers{IPs: []string{"10.0.0.1", "10.0.0.2"}})
	if err != nil || len(evs) != 1 || evs[0].StreamID != id || evs[0].Version != 2 {
		t.Fatalf("observe: %v %+v", err, evs)
	}
	if evs, err = d.ObserveIdentifiers(ctx, meta, id, scan, domain.Identifiers{IPs: []string{"10.0.0.2"}}); err != nil || len(evs) != 0 {
		t.Fatalf("observing known identifiers appended %+v (%v)", evs, err)
	}
	stored, err := store.ReadStream(ctx, id, events.ReadStreamOptions{})
	if err != nil || len(stored) != 2 {
		t.Fatalf("stream: %v %d events", err, len(stored))
	}
	if _, err := d.ObserveIdentifiers(ctx, meta, events.NewStreamID("assets", "asset"), scan, domain.Identifiers{IPs: []string{"10.0.0.3"}}); !errors.As(err, &refused) {
		t.Fatalf("observing on no asset: %v, want a RefusedError", err)
	}
}
