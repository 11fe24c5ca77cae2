package domain

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// A new field must reach the snapshot: this count fails until assetSnapshotSchema is bumped and
// the field is checked to round-trip (the generated stream below sets every field).
func TestAssetSnapshotCoversEveryField(t *testing.T) {
	if n := reflect.TypeFor[Asset]().NumField(); n != 13 || assetSnapshotSchema != 2 {
		t.Fatalf("Asset has %d fields (snapshot schema %d): bump assetSnapshotSchema, make the snapshot carry the new field, then update this test", n, assetSnapshotSchema)
	}
	// The weak identity and the merge fields (schema 2), which the generated stream below does
	// not reach, round-trip too.
	a := Asset{ID: assetID(1), Kind: contracts.AssetKindHost, Name: "web-1", WeakKey: "weak:artifact:web-1",
		MergedInto: assetID(2), Merged: []string{assetID(3)}, Status: StatusRetired, registered: true}
	data, err := a.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var b Asset
	if err := b.UnmarshalSnapshot(data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("snapshot round trip:\n got %+v\nwant %+v", b, a)
	}
}

// generatedAsset decides n random commands on an asset (the ones a command refuses are skipped)
// and returns the events they appended, as stored.
func generatedAsset(t *testing.T, n int) []events.Envelope {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	id := assetID(1)
	a := &Asset{}
	var out []events.Envelope
	record := func(changes []es.Change, err error) {
		if err != nil {
			return
		}
		check(t, changes)
		for _, e := range envelopes(t, id, changes) {
			e.Version, e.GlobalPosition = int64(len(out)+1), int64(len(out)+1)
			if err := a.Apply(&e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	record(a.Register(aHost()))
	crit := []Criticality{contracts.CriticalityCritical, contracts.CriticalityHigh, contracts.CriticalityLow}
	env := []Environment{contracts.EnvironmentProduction, contracts.EnvironmentStaging}
	rel := []Relation{contracts.AssetRelationRunsOn, contracts.AssetRelationDependsOn, contracts.AssetRelationExposes}
	for i := range n {
		s := fmt.Sprint(i)
		switch r.IntN(8) {
		case 0:
			name, desc := "web-"+s, "desc "+s
			ids := Identifiers{IPs: []string{fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(250)+1)}}
			record(a.Update(UpdateAsset{Name: &name, Description: &desc, Identifiers: &ids}))
		case 1:
			owner := fmt.Sprint("team-", r.IntN(3))
			record(a.Classify(ClassifyAsset{Criticality: crit[r.IntN(3)], Environment: env[r.IntN(2)], OwnerTeam: &owner,
				DataClassification: "", Tags: []string{"t" + fmt.Sprint(r.IntN(4)), "web"}}))
		case 2, 3:
			record(a.Link(rel[r.IntN(3)], assetID(2+r.IntN(4))))
		case 4:
			record(a.Unlink(rel[r.IntN(3)], assetID(2+r.IntN(4))))
		case 5:
			record(a.ObserveIdentifiers("scan-"+s, Identifiers{Hostnames: []string{fmt.Sprintf("h%d.example.com", r.IntN(20))}}))
		case 6:
			record(a.Retire("gone " + s))
		case 7:
			record(a.Reactivate("back " + s))
		}
	}
	return out
}

// The state restored from a snapshot and the events after it is the state of a full replay,
// wherever the snapshot was taken in a long generated stream.
func TestAssetSnapshotPlusTailIsReplay(t *testing.T) {
	evs := generatedAsset(t, 2000)
	full := &Asset{}
	for i := range evs {
		if err := full.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(evs) < 500 || len(full.Links()) == 0 || full.OwnerTeam == "" || len(full.Tags) == 0 || full.Description == "" || full.Status != StatusRetired {
		t.Fatalf("the generated stream (%d events) leaves fields unset, so it checks less than it should: %+v", len(evs), full)
	}
	testsupport.SnapshotPlusTailIsReplay[Asset](t, evs, 1, 2, 17, len(evs)/3, len(evs)/2, len(evs)-1, len(evs))
}
