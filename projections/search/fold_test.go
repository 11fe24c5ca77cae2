package search_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/searchtest"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/schemas/contracts"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// batchSizes are the batchings every scenario is folded with: the documents must not depend
// on where batches end.
var batchSizes = []int{1, 2, 1000}

// project folds evs into a new MemIndex through the Projector, size events a batch.
func project(t *testing.T, evs []events.Envelope, size int) *searchtest.MemIndex {
	t.Helper()
	idx := searchtest.NewMemIndex()
	handle(t, idx, evs, size)
	return idx
}

func handle(t *testing.T, idx search.Index, evs []events.Envelope, size int) {
	t.Helper()
	p := search.NewProjector(idx)
	for b := range slices.Chunk(evs, size) {
		if err := p.Handle(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

// projectAll folds evs at every batch size, checks that the documents are the same, and
// returns the one-event-a-batch index.
func projectAll(t *testing.T, evs []events.Envelope) *searchtest.MemIndex {
	t.Helper()
	var first *searchtest.MemIndex
	for _, size := range batchSizes {
		idx := project(t, evs, size)
		if first == nil {
			first = idx
		} else if !equalDocs(t, idx.All(), first.All()) {
			t.Errorf("batches of %d make other documents than batches of %d", size, batchSizes[0])
		}
	}
	return first
}

func equalDocs(t *testing.T, got, want map[string]search.Doc) bool {
	t.Helper()
	ok := true
	for id, w := range want {
		if g, found := got[id]; !found {
			t.Errorf("document %s missing", id)
			ok = false
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("document %s:\n got %+v\nwant %+v", id, g, w)
			ok = false
		}
	}
	for id := range got {
		if _, found := want[id]; !found {
			t.Errorf("unexpected document %s", id)
			ok = false
		}
	}
	return ok
}

// checkInvariants checks the model's rules on an index, from its asset documents' own state:
// an asset is owned by its survivor's owner_team; a finding carries its asset's fields and is
// never left on a merged asset by a merge; every event has its audit document at version 1.
func checkInvariants(t *testing.T, docs map[string]search.Doc) {
	t.Helper()
	type assetState struct {
		Asset struct {
			OwnerTeam  string `json:"owner_team"`
			MergedInto string `json:"merged_into"`
			Status     string `json:"status"`
		} `json:"asset"`
	}
	states := map[string]assetState{}
	for id, d := range docs {
		if d.Kind == search.KindAsset {
			var s assetState
			if err := json.Unmarshal(d.State, &s); err != nil {
				t.Fatalf("asset %s state: %v", id, err)
			}
			states[id] = s
		}
	}
	survivorTeam := func(id string) string {
		for s := states[id]; ; s = states[s.Asset.MergedInto] {
			if s.Asset.MergedInto == "" {
				return s.Asset.OwnerTeam
			}
		}
	}
	for id, d := range docs {
		switch d.Kind {
		case search.KindAsset:
			if want := survivorTeam(id); d.Team != want || d.AssetID != id || d.AssetName != d.Title {
				t.Errorf("asset %s: team %q (want %q), asset id %q, name %q, title %q", id, d.Team, want, d.AssetID, d.AssetName, d.Title)
			}
		case search.KindFinding:
			a, ok := docs[d.AssetID]
			if !ok {
				t.Errorf("finding %s on asset %s, which has no document", id, d.AssetID)
				continue
			}
			if d.AssetName != a.Title || d.Team != a.Team || d.Environment != a.Environment || d.AssetKind != a.AssetKind ||
				!slices.Equal(d.Hostnames, a.Hostnames) || !slices.Equal(d.IPs, a.IPs) || !slices.Equal(d.Tags, a.Tags) {
				t.Errorf("finding %s carries %+v of asset %+v", id, d, a)
			}
			if a.Status == "merged" {
				t.Errorf("finding %s left on merged asset %s", id, d.AssetID)
			}
			var f vulns.Finding
			if err := json.Unmarshal(d.State, &f); err != nil || f.AssetID != d.AssetID || f.Version != d.Version {
				t.Errorf("finding %s state %+v (%v)", id, f, err)
			}
		case search.KindEvent:
			if d.Version != 1 || d.EventType == "" || d.Title != d.EventType {
				t.Errorf("audit document %+v", d)
			}
		}
	}
}

// openRich appends a FindingOpened with the fields search documents carry.
func openRich(l *analyticstest.Log, n, asset int) events.Envelope {
	score := 10.0
	return l.Emit(analyticstest.FindingID(n), contracts.TypeFindingOpened, 2, contracts.FindingOpenedV2{
		AssetID: analyticstest.AssetID(asset), Scope: "host", IdentityKey: fmt.Sprintf("key-%d", n), Fingerprint: fmt.Sprintf("fp-%d", n),
		ScanID: analyticstest.ScanID(1), Format: "trivy", Scanner: "Trivy", Title: "Log4Shell in log4j-core",
		Description: "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP endpoints.",
		Remediation: "Upgrade log4j-core to 2.17.1.", Severity: "critical", CVEs: []string{"CVE-2021-44228"}, CWEs: []string{"CWE-502"},
		CVSS:      []contracts.FindingOpenedCVSSItem{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Score: &score}},
		Component: &contracts.FindingOpenedComponent{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		SeenAt:    l.Now,
	})
}

// registerRich appends an AssetRegistered with addresses and tags.
func registerRich(l *analyticstest.Log, n int, team string) events.Envelope {
	return l.Emit(analyticstest.AssetID(n), contracts.TypeAssetRegistered, 1, contracts.AssetRegistered{
		Kind: contracts.AssetKindHost, Name: fmt.Sprintf("web-%d", n), Description: "front web server",
		Identifiers: contracts.AssetIdentifiers{Hostnames: []string{fmt.Sprintf("web-%d.example.com", n)}, IPs: []string{"10.0.0.5", "2001:db8::1"}},
		Environment: "production", OwnerTeam: team, Tags: []string{"internet", "pci"}, Criticality: "high",
	})
}

func TestFindingLifecycle(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	registerRich(l, 1, "platform")
	openRich(l, 1, 1)
	l.Advance(time.Hour)
	l.Triage(1)
	l.Exploitability(1, ptr(true), ptr(0.97))
	l.Advance(time.Hour)
	l.Resolve(1, 0)
	idx := projectAll(t, l.Events)
	checkInvariants(t, idx.All())

	d := idx.Doc(t, analyticstest.FindingID(1))
	want := search.Doc{
		ID: analyticstest.FindingID(1), Kind: search.KindFinding, Version: 4, Title: "Log4Shell in log4j-core",
		Text: "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP endpoints.\nUpgrade log4j-core to 2.17.1.",
		At:   t0.Add(2 * time.Hour), Severity: "critical", Status: "resolved", CVEs: []string{"CVE-2021-44228"}, CWEs: []string{"CWE-502"},
		Packages: []string{"log4j-core", "org.apache.logging.log4j/log4j-core", "org.apache.logging.log4j:log4j-core"},
		KEV:      true, CVSS: d.CVSS, EPSS: ptr(0.97), Scanner: "trivy",
		AssetID: analyticstest.AssetID(1), AssetName: "web-1", Hostnames: []string{"web-1.example.com"}, IPs: []string{"10.0.0.5", "2001:db8::1"},
		Team: "platform", Environment: "production", AssetKind: "host", Tags: []string{"internet", "pci"},
		State: d.State,
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("finding document\n got %+v\nwant %+v", d, want)
	}
	if d.CVSS == nil || *d.CVSS != 10 {
		t.Errorf("CVSS %v, want 10", d.CVSS)
	}
	var f vulns.Finding
	if err := json.Unmarshal(d.State, &f); err != nil || f.Status != "resolved" || f.Component != "org.apache.logging.log4j:log4j-core@2.14.1" {
		t.Errorf("state %+v, %v", f, err)
	}

	a := idx.Doc(t, analyticstest.AssetID(1))
	if a.Kind != search.KindAsset || a.Title != "web-1" || a.Text != "front web server" || a.Status != "active" || a.Version != 1 ||
		a.Team != "platform" || !a.At.Equal(t0) || !slices.Equal(a.IPs, []string{"10.0.0.5", "2001:db8::1"}) {
		t.Errorf("asset document %+v", a)
	}
	for _, e := range l.Events {
		ev := idx.Doc(t, e.EventID)
		if ev.Kind != search.KindEvent || ev.EventType != e.Type || ev.Title != e.Type || ev.Actor != "user:alice" || ev.StreamID != e.StreamID ||
			!ev.At.Equal(e.OccurredAt) || ev.AssetID != analyticstest.AssetID(1) || ev.AssetName != "web-1" || ev.Team != "platform" {
			t.Errorf("audit document of %s: %+v", e.Type, ev)
		}
	}
	if ev := idx.Doc(t, l.Events[1].EventID); !strings.Contains(ev.Text, "Log4Shell in log4j-core") || !strings.Contains(ev.Text, "CVE-2021-44228") {
		t.Errorf("FindingOpened's audit text %q", ev.Text)
	}
}

// An asset change rewrites its findings' documents (at their unchanged version) with the new
// fields, and only those.
func TestAssetChangesRewriteItsFindings(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	registerRich(l, 1, "red")
	registerRich(l, 2, "red")
	openRich(l, 1, 1)
	l.Open(2, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
	l.Open(3, analyticstest.FindingSpec{Asset: 2, Severity: "low"})
	setup := len(l.Events)
	l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr("blue"), Environment: ptr(contracts.Environment("staging"))})
	l.Rename(1, "web-1-new")
	observed := l.Emit(analyticstest.AssetID(1), contracts.TypeAssetIdentifiersObserved, 1, contracts.AssetIdentifiersObserved{ScanID: analyticstest.ScanID(2),
		Identifiers: contracts.AssetIdentifiers{Hostnames: []string{"alias.example.com"}, IPs: []string{"::ffff:10.0.0.9"}}})
	l.Retire(2) // no field a finding carries: its findings are not rewritten

	for _, size := range batchSizes {
		idx := project(t, l.Events[:setup], 1000)
		handle(t, idx, l.Events[setup:], size)
		checkInvariants(t, idx.All())
		for _, n := range []int{1, 2} {
			d := idx.Doc(t, analyticstest.FindingID(n))
			if d.Version != 1 || d.Team != "blue" || d.Environment != "staging" || d.AssetName != "web-1-new" ||
				!slices.Equal(d.Hostnames, []string{"alias.example.com", "web-1.example.com"}) ||
				!slices.Equal(d.IPs, []string{"10.0.0.5", "::ffff:10.0.0.9", "2001:db8::1"}) {
				t.Errorf("batches of %d: finding %d %+v", size, n, d)
			}
		}
		if ids := idx.LastWrite(); !slices.Contains(ids, analyticstest.FindingID(1)) && size > 2 {
			t.Errorf("batches of %d: the last batch wrote %v, not finding 1", size, ids)
		}
		if ev := idx.Doc(t, observed.EventID); ev.Team != "blue" || ev.AssetName != "web-1-new" {
			t.Errorf("the audit document of the observation: %+v", ev)
		}
	}
	// Event by event: the retirement rewrites no finding, the observation of new hostnames does
	// (it needs a second load: Keys does not ask for the findings of an observation).
	idx := project(t, l.Events[:len(l.Events)-2], 1000)
	handle(t, idx, []events.Envelope{observed}, 1)
	if ids := idx.LastWrite(); !slices.Contains(ids, analyticstest.FindingID(1)) || !slices.Contains(ids, analyticstest.FindingID(2)) {
		t.Errorf("the observation wrote %v, want findings 1 and 2", ids)
	}
	handle(t, idx, l.Events[len(l.Events)-1:], 1)
	if ids := idx.LastWrite(); len(ids) != 2 || !slices.Contains(ids, analyticstest.AssetID(2)) {
		t.Errorf("the retirement wrote %v, want asset 2 and its audit document", ids)
	}
}

// A merge moves the source's findings to the target; a merged asset, and a finding still on it,
// follow the survivor at the end of the merge chain, also when the survivor is reclassified.
func TestMergeFollowsTheSurvivor(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	for n, team := range []string{"red", "blue", "green"} {
		l.Register(n+1, analyticstest.AssetSpec{Team: team})
	}
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Open(2, analyticstest.FindingSpec{Asset: 2, Severity: "high"})
	mergedInto := l.Merge(1, 2)[0]
	l.Resolve(1, 0) // a moved finding's later event
	l.Merge(2, 3)
	// A finding opened on a merged asset (the importer's alias prevents it, the log allows it).
	l.Open(3, analyticstest.FindingSpec{Asset: 1, Severity: "low"})
	l.Classify(3, contracts.AssetClassified{OwnerTeam: ptr("yellow")})
	idx := projectAll(t, l.Events)

	for _, n := range []int{1, 2} {
		if d := idx.Doc(t, analyticstest.FindingID(n)); d.AssetID != analyticstest.AssetID(3) || d.AssetName != "asset-3" || d.Team != "yellow" {
			t.Errorf("finding %d: on %s (%s), team %q; want asset 3, yellow", n, d.AssetID, d.AssetName, d.Team)
		}
	}
	if d := idx.Doc(t, analyticstest.FindingID(1)); d.Status != "resolved" || d.Version != 2 {
		t.Errorf("finding 1: %s v%d", d.Status, d.Version)
	}
	if d := idx.Doc(t, analyticstest.FindingID(3)); d.AssetID != analyticstest.AssetID(1) || d.Team != "yellow" {
		t.Errorf("finding 3 on the merged asset: %s team %q", d.AssetID, d.Team)
	}
	for _, n := range []int{1, 2} {
		if d := idx.Doc(t, analyticstest.AssetID(n)); d.Status != "merged" || d.Team != "yellow" {
			t.Errorf("asset %d: %s team %q, want merged, yellow", n, d.Status, d.Team)
		}
	}
	// The merge's audit documents name the asset as it was right after them.
	if d := idx.Doc(t, mergedInto.EventID); d.EventType != "AssetMergedInto" || d.Team != "blue" {
		t.Errorf("the first merge's audit document: %+v", d)
	}
}

func TestCVEDocuments(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	stream := "vulns-cve-00000005-0000-4000-8000-000000000001"
	modified := t0.Add(-24 * time.Hour)
	l.Emit(stream, contracts.TypeCVEPublished, 1, contracts.CVEPublished{
		ID: "CVE-2021-44228", Published: t0.Add(-48 * time.Hour), LastModified: modified, Status: "Analyzed",
		Description: "Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features used in configuration.",
		Ratings:     []contracts.CVERating{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", BaseScore: 10, Type: "Primary"}},
		CWEs:        []string{"CWE-502", "CWE-20"},
	})
	l.Emit(stream, contracts.TypeCVEListedInKEV, 1, contracts.CVEListedInKEV{ID: "CVE-2021-44228", DateAdded: "2021-12-10", Source: contracts.KEVSourceKEV})
	l.Advance(time.Hour)
	l.Emit(stream, contracts.TypeCVEEPSSScored, 1, contracts.CVEEPSSScored{ID: "CVE-2021-44228", EPSS: 0.944, Percentile: 0.999})
	// A CVE known only from the EPSS feed: no record, no score, its time is the event's.
	l.Emit("vulns-cve-00000005-0000-4000-8000-000000000002", contracts.TypeCVEEPSSScored, 1, contracts.CVEEPSSScored{ID: "CVE-2024-0001", EPSS: 0.01, Percentile: 0.2})
	idx := projectAll(t, l.Events)

	d := idx.Doc(t, "CVE-2021-44228")
	if d.Kind != search.KindCVE || d.Title != "CVE-2021-44228" || d.Version != 3 || !d.At.Equal(modified) || d.Severity != "critical" ||
		!d.KEV || d.CVSS == nil || *d.CVSS != 10 || d.EPSS == nil || *d.EPSS != 0.944 || !slices.Equal(d.CVEs, []string{"CVE-2021-44228"}) ||
		!slices.Equal(d.CWEs, []string{"CWE-502", "CWE-20"}) || !strings.HasPrefix(d.Text, "Apache Log4j2") || d.Team != "" {
		t.Errorf("CVE document %+v", d)
	}
	if d := idx.Doc(t, "CVE-2024-0001"); d.Severity != "" || d.CVSS != nil || !d.At.Equal(l.Now) || d.Version != 1 || d.KEV {
		t.Errorf("EPSS-only CVE document %+v", d)
	}
}

func TestCVSSSeverity(t *testing.T) {
	for _, c := range []struct {
		score *float64
		want  string
	}{{nil, ""}, {ptr(0.0), "info"}, {ptr(0.1), "low"}, {ptr(3.9), "low"}, {ptr(4.0), "medium"}, {ptr(6.9), "medium"},
		{ptr(7.0), "high"}, {ptr(8.9), "high"}, {ptr(9.0), "critical"}, {ptr(10.0), "critical"}} {
		if got := search.CVSSSeverity(c.score); got != c.want {
			t.Errorf("CVSSSeverity(%v) = %q, want %q", c.score, got, c.want)
		}
	}
}

// Every event of every context has its audit document; secrets never reach its text, which
// is bounded.
func TestAuditDocuments(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	user := l.Emit("identity-user-00000006-0000-4000-8000-000000000001", contracts.TypeUserRegistered, 1, contracts.UserRegistered{
		Email: "alice@example.com", DisplayName: "Alice Analyst", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Source: contracts.UserSourcePassword,
	})
	scan := l.ScanFailed(1, "nessus")
	long := l.Emit(analyticstest.AssetID(1), contracts.TypeAssetRegistered, 1, contracts.AssetRegistered{
		Kind: contracts.AssetKindHost, Name: "big", Description: strings.Repeat("é", 3000),
		Identifiers: contracts.AssetIdentifiers{Hostnames: []string{"big.example.com"}},
	})
	idx := projectAll(t, l.Events)

	u := idx.Doc(t, user.EventID)
	if u.Kind != search.KindEvent || u.EventType != "UserRegistered" || u.StreamID != user.StreamID || u.AssetID != "" || u.Team != "" ||
		!strings.Contains(u.Text, "alice@example.com") || !strings.Contains(u.Text, "Alice Analyst") || strings.Contains(u.Text, "argon2id") {
		t.Errorf("user audit document %+v", u)
	}
	if s := idx.Doc(t, scan.EventID); !strings.Contains(s.Text, "truncated report") || !strings.Contains(s.Text, "nessus") {
		t.Errorf("scan audit document %+v", s)
	}
	if d := idx.Doc(t, long.EventID); len(d.Text) > 2048 || len(d.Text) < 2046 || !utf8.ValidString(d.Text) || d.AssetName != "big" {
		t.Errorf("bounded audit text: %d bytes, prefix %q", len(d.Text), d.Text[:min(10, len(d.Text))])
	}

	for _, c := range []struct{ data, want string }{
		{`{"token_id":"t1","api_token":"s3cr3t","nested":{"Password":"p","client_secret":"x","note":"kept"},"list":["a",{"hash":"h"}],"n":3}`, "a\nkept"},
		{`not json`, ""},
		{`"just a string"`, "just a string"},
	} {
		if got := search.Summary(json.RawMessage(c.data)); got != c.want {
			t.Errorf("Summary(%s) = %q, want %q", c.data, got, c.want)
		}
	}
}

// A redelivered event (not beyond its document's version) changes nothing.
func TestRedeliverySkipped(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{Team: "red"})
	l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	l.Triage(1)
	l.Classify(1, contracts.AssetClassified{OwnerTeam: ptr("blue")})
	idx := project(t, l.Events, 1000)
	before := idx.All()

	// Folded directly: the finding, at version 2, is not reopened by its FindingOpened, and
	// the audit documents the index has are kept as written (the fold asks for them).
	st := search.NewState()
	ids, assetIDs := search.Keys(l.Events)
	loaded, _ := idx.Load(context.Background(), ids)
	st.AddLoaded(ids, loaded)
	found, _ := idx.FindingsOf(context.Background(), assetIDs)
	st.AddFindings(assetIDs, found)
	_, err := search.Fold(st, l.Events)
	var missing *search.MissingError
	if !errors.As(err, &missing) || len(missing.IDs) != len(l.Events) {
		t.Fatalf("Fold of a redelivered batch: %v, want its audit documents asked for", err)
	}
	loaded, _ = idx.Load(context.Background(), missing.IDs)
	st.AddLoaded(missing.IDs, loaded)
	docs, err := search.Fold(st, l.Events)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		t.Errorf("a redelivered batch wrote %s %s v%d", d.Kind, d.ID, d.Version)
	}
	handle(t, idx, l.Events[1:2], 1)
	handle(t, idx, l.Events, 3)
	equalDocs(t, idx.All(), before)

	// Delivered twice in one batch (at least once, within a batch too): each document once.
	l.Triage(1)
	twice := []events.Envelope{l.Events[len(l.Events)-1], l.Events[len(l.Events)-1]}
	handle(t, idx, twice, 2)
	if ids := idx.LastWrite(); len(ids) != 2 || ids[0] != analyticstest.FindingID(1) || ids[1] != twice[0].EventID {
		t.Errorf("an event delivered twice in a batch wrote %v, want its finding and its audit document once", ids)
	}
}

// Fold asks for what the State lacks, names only what was not asked for yet, and reports an
// event it cannot apply as a poison event.
func TestFoldAsksForMissingDocuments(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.Register(1, analyticstest.AssetSpec{Team: "red"})
	idx := project(t, l.Events, 1)
	seen := l.Seen(1, 1, "", "") // no such finding yet
	opened := l.Open(1, analyticstest.FindingSpec{Asset: 1, Severity: "high"})
	triaged := l.Triage(1)

	st := search.NewState()
	_, err := search.Fold(st, []events.Envelope{triaged})
	var missing *search.MissingError
	if !errors.As(err, &missing) || !slices.Equal(missing.IDs, []string{analyticstest.FindingID(1)}) || len(missing.FindingsOf) != 0 {
		t.Fatalf("Fold on an empty state: %v, want the finding missing", err)
	}
	// The finding loaded, its asset is the next thing asked for.
	p := project(t, append(slices.Clone(l.Events[:1]), opened), 1000)
	loaded, _ := p.Load(context.Background(), missing.IDs)
	st.AddLoaded(missing.IDs, loaded)
	if _, err = search.Fold(st, []events.Envelope{triaged}); !errors.As(err, &missing) || !slices.Equal(missing.IDs, []string{analyticstest.AssetID(1)}) {
		t.Fatalf("Fold without the asset: %v, want the asset missing", err)
	}
	loaded, _ = idx.Load(context.Background(), missing.IDs)
	st.AddLoaded(missing.IDs, loaded)
	docs, err := search.Fold(st, []events.Envelope{triaged})
	if err != nil || len(docs) != 2 || docs[0].Status != "triaged" || docs[0].Team != "red" {
		t.Fatalf("Fold with everything: %+v, %v", docs, err)
	}

	// An event before its stream's first one is poison, found after the load round.
	var poison *projections.EventError
	st = search.NewState()
	st.AddLoaded([]string{analyticstest.FindingID(1)}, nil)
	if _, err := search.Fold(st, []events.Envelope{seen}); !errors.As(err, &poison) || poison.Event.EventID != seen.EventID {
		t.Errorf("FindingSeen before FindingOpened: %v, want a poison event", err)
	}
	bad := opened
	bad.Data = json.RawMessage(`{"asset_id": 3}`)
	st = search.NewState()
	st.AddLoaded([]string{analyticstest.FindingID(1)}, nil)
	if _, err := search.Fold(st, []events.Envelope{bad}); !errors.As(err, &poison) {
		t.Errorf("an undecodable event: %v, want a poison event", err)
	}
}

// A random scenario (every finding and asset event, merges, reclassifications) makes the same
// documents whatever the batching, and they keep the model's rules.
func TestRandomScenario(t *testing.T) {
	l := analyticstest.NewLog(t, t0)
	l.ValidateFirstOnly()
	analyticstest.Random(l, 5, 12, 600)
	idx := projectAll(t, l.Events)
	docs := idx.All()
	checkInvariants(t, docs)
	kinds := map[search.Kind]int{}
	for _, d := range docs {
		kinds[d.Kind]++
	}
	if kinds[search.KindEvent] != len(l.Events) || kinds[search.KindAsset] != 12 || kinds[search.KindFinding] == 0 {
		t.Errorf("documents by kind %v for %d events", kinds, len(l.Events))
	}
}
