package vulns_test

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
)

// TestFindingLocations: a finding shows every location FindingOpened (v2) lists, a finding of one
// location (v1, or v2 without locations) shows that one, and a reimport keeps the first import's
// locations; the point-in-time fold agrees with the row.
func TestFindingLocations(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		r := vulns.NewReader(db)
		g := newGen(t)
		several := g.openFinding(findingSpec{n: 1, asset: 1, severity: "high", format: "sarif"})
		several.SchemaVersion = 2
		several = withData(t, several, obj{
			"location":  obj{"file": "db/users.go", "line": 12, "column": 3},
			"locations": []obj{{"file": "db/users.go", "line": 12, "column": 3}, {"file": "db/orders.go", "line": 40}},
		})
		one := g.openFinding(findingSpec{n: 2, asset: 1, severity: "low"})
		one = withData(t, one, obj{"location": obj{"host": "10.0.0.1", "port": 443}})
		seen := g.ev(findingID(1), "FindingSeen", obj{"scan_id": "scan-b", "seen_at": g.at(10).Format("2006-01-02T15:04:05Z")})
		evs := []events.Envelope{g.registerAsset(1, "web-1", ""), several, one, seen}
		feed(t, db, 1, 10, evs, ps...)

		want := map[string][]vulns.Location{
			findingID(1): {{File: "db/users.go", Line: ptr(12), Column: ptr(3)}, {File: "db/orders.go", Line: ptr(40)}},
			findingID(2): {{Host: "10.0.0.1", Port: ptr(443)}},
		}
		for id, locs := range want {
			f, err := r.Finding(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Locations, locs) {
				t.Errorf("%s: locations %+v, want %+v", id, f.Locations, locs)
			}
			var stream []events.Envelope
			for _, e := range evs {
				if e.StreamID == id {
					stream = append(stream, e)
				}
			}
			folded, err := vulns.FoldFinding(stream)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(folded.Locations, locs) {
				t.Errorf("%s: folded locations %+v, want %+v", id, folded.Locations, locs)
			}
		}
	})
}

// TestUpgradeAddsColumns: findings and assets generations created before the locations and
// merged_into columns existed get them from Upgrade (twice is harmless), and then use them.
func TestUpgradeAddsColumns(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		ctx := context.Background()
		exec(t, db, "DROP VIEW findings", "ALTER TABLE findings_g1 DROP COLUMN locations", "CREATE VIEW findings AS SELECT * FROM findings_g1",
			"DROP VIEW assets", "ALTER TABLE assets_g1 DROP COLUMN merged_into", "CREATE VIEW assets AS SELECT * FROM assets_g1")
		for range 2 {
			tx, err := db.Begin(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps[:2] {
				if err := p.(projections.Upgrader).Upgrade(ctx, tx); err != nil {
					t.Fatal(err)
				}
				if err := projections.PointViews(ctx, tx, p); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		g := newGen(t)
		opened := withData(t, g.openFinding(findingSpec{n: 1, asset: 1, severity: "high"}), obj{"location": obj{"url": "https://x.example/a"}})
		feed(t, db, 1, 10, []events.Envelope{g.registerAsset(1, "web-1", ""), g.registerAsset(2, "web-2", ""), opened,
			g.ev(assetID(1), "AssetMergedInto", obj{"target_asset_id": assetID(2), "reason": "same"})}, ps...)
		f, err := vulns.NewReader(db).Finding(ctx, findingID(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Locations) != 1 || f.Locations[0].URL != "https://x.example/a" {
			t.Fatalf("locations %+v", f.Locations)
		}
		if a, err := assets.NewReader(db).Asset(ctx, assetID(1)); err != nil || a.MergedInto != assetID(2) {
			t.Fatalf("merged asset %+v %v", a, err)
		}
	})
}

// TestScanImportCounts: a completed import recorded with ScanImportCompleted v2 shows the job
// summary's accounting in its outcome; one recorded with v1 shows only the v1 counts (the others
// are unknown, not zero).
func TestScanImportCounts(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		ps := setupAll(t, db)
		g := newGen(t)
		v1 := obj{"format": "sarif", "findings_total": 3, "by_severity": obj{"critical": 0, "high": 3, "medium": 0, "low": 0, "info": 0},
			"new": 2, "unchanged": 0, "reopened": 0, "resolved": 0, "closed": 0, "skipped": 1, "assets_discovered": 0, "assets_matched": 1}
		var evs []events.Envelope
		for i, v2 := range []bool{false, true} {
			stream := "scans-import-" + scanUUID(i)
			evs = append(evs, g.ev(stream, "ScanImportStarted", obj{"scan_id": scanUUID(i), "format": "sarif", "scanner_name": "semgrep", "findings_total": 3, "assets_total": 1}))
			d := maps.Clone(v1)
			d["scan_id"] = scanUUID(i)
			e := g.ev(stream, "ScanImportCompleted", d)
			if v2 {
				e.SchemaVersion = 2
				e = withData(t, e, obj{"parsed": 3, "stored": 2, "suppressed": 0, "duplicate_count": 1, "ignored": 0, "held_back": 0, "assets_weak": 0})
			}
			evs = append(evs, e)
		}
		feed(t, db, 1, 10, evs, ps...)
		sr := scans.NewReader(db)
		base := map[string]int64{"new": 2, "unchanged": 0, "reopened": 0, "resolved": 0, "closed": 0, "skipped": 1, "assets_discovered": 0, "assets_matched": 1}
		withCounts := maps.Clone(base)
		maps.Copy(withCounts, map[string]int64{"parsed": 3, "stored": 2, "suppressed": 0, "duplicate_count": 1, "ignored": 0, "held_back": 0, "assets_weak": 0})
		for i, want := range []map[string]int64{base, withCounts} {
			s, err := sr.Scan(context.Background(), scanUUID(i))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Outcome, want) {
				t.Errorf("scan %d outcome %v, want %v", i, s.Outcome, want)
			}
		}
	})
}

// withData is e with fields set in its data, checked against e's schema version.
func withData(t *testing.T, e events.Envelope, fields obj) events.Envelope {
	t.Helper()
	var d obj
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	maps.Copy(d, fields)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	e.Data = b
	if _, err := registry(t).Validate(0, e.Type, e.SchemaVersion, e.Data); err != nil {
		t.Fatalf("%s v%d %s: %v", e.Type, e.SchemaVersion, e.Data, err)
	}
	return e
}

func exec(t *testing.T, db *projections.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.SQL.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
