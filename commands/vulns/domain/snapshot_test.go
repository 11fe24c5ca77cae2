package domain

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// A new field must reach the snapshot: this count fails until findingSnapshotSchema is bumped
// and the field is checked to round-trip (the generated stream below sets every field).
func TestFindingSnapshotCoversEveryField(t *testing.T) {
	if n := reflect.TypeFor[Finding]().NumField(); n != 14 || findingSnapshotSchema != 1 {
		t.Fatalf("Finding has %d fields (snapshot schema %d): bump findingSnapshotSchema, make the snapshot carry the new field, then update this test", n, findingSnapshotSchema)
	}
}

// generatedFinding decides n random commands on a finding (the ones a command refuses are
// skipped) and returns the events they appended, as stored.
func generatedFinding(t *testing.T, n int) []events.Envelope {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	id := "vulns-finding-0190a000-0000-7000-8000-000000000001"
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &Finding{}
	var out []events.Envelope
	record := func(changes []es.Change, err error) {
		if err != nil {
			return
		}
		for _, c := range changes {
			data, err := json.Marshal(c.Data)
			if err != nil {
				t.Fatal(err)
			}
			e := events.Envelope{StreamID: id, Version: int64(len(out) + 1), GlobalPosition: int64(len(out) + 1), Type: c.Type, Data: data}
			if err := f.Apply(&e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	record([]es.Change{{Type: contracts.TypeFindingOpened, Data: contracts.FindingOpened{AssetID: "assets-asset-x", Severity: "high", SeenAt: at, ScanID: "s0"}}}, nil)
	severities := []contracts.Severity{"low", "medium", "high", "critical"}
	for i := range n {
		at = at.Add(time.Duration(r.IntN(7200)) * time.Second)
		s := fmt.Sprint(i)
		switch r.IntN(13) {
		case 0:
			record(f.Triage("note " + s))
		case 1:
			record(f.StartRemediation(""))
		case 2:
			record(f.Resolve("fixed "+s, "scan-"+s, at))
		case 3:
			record(f.Reopen("back "+s, "scan-"+s, at))
		case 4:
			record(f.MarkFalsePositive("no " + s))
		case 5:
			record(f.AcceptRisk("ciso", "why "+s, at.Add(48*time.Hour), at))
		case 6:
			record(f.Assign(fmt.Sprint("team-", r.IntN(3))))
		case 7:
			record(f.Comment("comment " + s))
		case 8:
			record(f.SetDueDate(at.Add(time.Duration(r.IntN(100))*time.Hour), ""))
		case 9:
			record(f.BreachSLA(f.DueAt, at.Add(1000*time.Hour)))
		case 10:
			record([]es.Change{{Type: contracts.TypeFindingSeen, Data: contracts.FindingSeen{ScanID: "scan-" + s, SeenAt: at, Severity: severities[r.IntN(4)]}}}, nil)
		case 11:
			kev, epss := r.IntN(2) == 0, float64(r.IntN(1000))/1000
			record([]es.Change{{Type: contracts.TypeFindingExploitabilityChanged, Data: contracts.FindingExploitabilityChanged{KEV: &kev, EPSS: &epss}}}, nil)
		case 12:
			record(f.ExpireRiskAcceptance(at.Add(72 * time.Hour)))
		}
	}
	return out
}

// The state restored from a snapshot and the events after it is the state of a full replay,
// wherever the snapshot was taken in a long generated stream.
func TestFindingSnapshotPlusTailIsReplay(t *testing.T) {
	evs := generatedFinding(t, 2000)
	full := &Finding{}
	for i := range evs {
		if err := full.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if full.Owner == "" || full.DueAt.IsZero() || full.SLABreachedFor.IsZero() || full.EPSS == 0 || full.LastScanID == "" {
		t.Fatalf("the generated stream leaves fields unset, so it checks less than it should: %+v", full)
	}
	testsupport.SnapshotPlusTailIsReplay[Finding](t, evs, 1, 2, 17, 500, 1001, len(evs)-1, len(evs))
}
