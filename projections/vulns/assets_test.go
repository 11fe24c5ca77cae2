package vulns_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
)

// TestAssetEvents applies every assets event, one batch each, and checks what it changed.
func TestAssetEvents(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		p := assets.NewProjection()
		setup(t, db, p, vulns.NewFindingsProjection())
		ar := assets.NewReader(db)
		g := newGen(t)
		id := assetID(1)
		steps := []struct {
			name  string
			ev    events.Envelope
			check func(t *testing.T, a *assets.Asset)
		}{
			{"registered", g.ev(id, "AssetRegistered", obj{"kind": "host", "name": "web-1", "description": "front",
				"identifiers": obj{"ips": []string{"10.0.0.2"}, "hostnames": []string{"web-1.example.com"}},
				"criticality": "high", "environment": "production", "owner_team": "web", "data_classification": "internal",
				"tags": []string{"dmz", "pci"}, "scan_id": "s1"}),
				func(t *testing.T, a *assets.Asset) {
					want := &assets.Asset{ID: id, Kind: "host", Name: "web-1", Description: "front",
						Identifiers: map[string][]string{"ips": {"10.0.0.2"}, "hostnames": {"web-1.example.com"}},
						Criticality: "high", Environment: "production", OwnerTeam: "web", DataClassification: "internal",
						Tags: []string{"dmz", "pci"}, Status: "active", CreatedAt: g.at(1), UpdatedAt: g.at(1), Version: 1}
					a2 := *a
					a2.OpenFindings, a2.Risk = nil, assets.Risk{}
					if !reflect.DeepEqual(&a2, want) {
						t.Fatalf("got  %+v\nwant %+v", a2, *want)
					}
					if !reflect.DeepEqual(a.OpenFindings, vulns.ZeroCounts()) {
						t.Errorf("open findings %v, want all five severities at 0", a.OpenFindings)
					}
				}},
			{"updated", g.ev(id, "AssetUpdated", obj{"name": "web-01", "description": "", "identifiers": obj{"ips": []string{"10.0.0.3"}}}),
				func(t *testing.T, a *assets.Asset) {
					if a.Name != "web-01" || a.Description != "" || !reflect.DeepEqual(a.Identifiers, map[string][]string{"ips": {"10.0.0.3"}}) {
						t.Errorf("got %+v", a)
					}
				}},
			{"classified", g.ev(id, "AssetClassified", obj{"criticality": "critical", "owner_team": "", "tags": []string{}}),
				func(t *testing.T, a *assets.Asset) {
					if a.Criticality != "critical" || a.OwnerTeam != "" || a.Tags != nil || a.Environment != "production" {
						t.Errorf("got %+v", a)
					}
				}},
			{"linked", g.ev(id, "AssetLinked", obj{"relation": "runs_on", "target_asset_id": assetID(9)}),
				func(t *testing.T, a *assets.Asset) {
					if !reflect.DeepEqual(a.Links, []assets.AssetLink{{Relation: "runs_on", Target: assetID(9)}}) {
						t.Errorf("links %v", a.Links)
					}
				}},
			{"linked again", g.ev(id, "AssetLinked", obj{"relation": "depends_on", "target_asset_id": assetID(8)}),
				func(t *testing.T, a *assets.Asset) {
					if !reflect.DeepEqual(a.Links, []assets.AssetLink{{Relation: "depends_on", Target: assetID(8)}, {Relation: "runs_on", Target: assetID(9)}}) {
						t.Errorf("links %v", a.Links)
					}
				}},
			{"unlinked", g.ev(id, "AssetUnlinked", obj{"relation": "runs_on", "target_asset_id": assetID(9)}),
				func(t *testing.T, a *assets.Asset) {
					if !reflect.DeepEqual(a.Links, []assets.AssetLink{{Relation: "depends_on", Target: assetID(8)}}) {
						t.Errorf("links %v", a.Links)
					}
				}},
			{"identifiers observed", g.ev(id, "AssetIdentifiersObserved", obj{"scan_id": "s2",
				"identifiers": obj{"ips": []string{"10.0.0.10", "10.0.0.1"}, "cloud_id": "i-123"}}),
				func(t *testing.T, a *assets.Asset) {
					want := map[string][]string{"ips": {"10.0.0.1", "10.0.0.3", "10.0.0.10"}, "cloud_id": {"i-123"}}
					if !reflect.DeepEqual(a.Identifiers, want) {
						t.Errorf("identifiers %v, want %v", a.Identifiers, want)
					}
				}},
			{"retired", g.ev(id, "AssetRetired", obj{"reason": "decommissioned"}),
				func(t *testing.T, a *assets.Asset) {
					if a.Status != "retired" {
						t.Errorf("status %s", a.Status)
					}
				}},
			{"reactivated", g.ev(id, "AssetReactivated", obj{"reason": "back"}),
				func(t *testing.T, a *assets.Asset) {
					if a.Status != "active" || a.Version != 9 || !a.UpdatedAt.Equal(g.at(9)) || !a.CreatedAt.Equal(g.at(1)) {
						t.Errorf("got %+v", a)
					}
				}},
		}
		var evs []events.Envelope
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				ch := feed(t, db, 1, 1, []events.Envelope{s.ev}, p)
				if len(ch) != 1 || ch[0].AssetID != id || ch[0].Event.EventID != s.ev.EventID || ch[0].Projection != "assets" {
					t.Errorf("changes %+v", ch)
				}
				a, err := ar.Asset(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				s.check(t, a)
				// The point-in-time fold of the same events is the row (less what other streams add).
				evs = append(evs, s.ev)
				foldIsRow(t, assets.FoldAsset, evs, a, func(folded *assets.Asset) {
					a.OpenFindings, a.Risk = folded.OpenFindings, folded.Risk
				})
			})
		}
	})
}

func TestFoldAssetNotAvailable(t *testing.T) {
	g := newGen(t)
	a, err := assets.FoldAsset([]events.Envelope{g.registerAsset(1, "db", "low")})
	if err != nil {
		t.Fatal(err)
	}
	if a.Risk.Score != 0 || a.Risk.Formula == "" || len(a.OpenFindings) != 5 {
		t.Errorf("risk %+v, open %v", a.Risk, a.OpenFindings)
	}
	if _, err := assets.FoldAsset(nil); !errors.Is(err, readkit.ErrNotFound) {
		t.Errorf("empty stream: %v", err)
	}
	var ee *projections.EventError
	if _, err := assets.FoldAsset([]events.Envelope{g.ev(assetID(2), "AssetRetired", obj{"reason": "x"})}); !errors.As(err, &ee) {
		t.Errorf("retired before registered: %v", err)
	}
}
