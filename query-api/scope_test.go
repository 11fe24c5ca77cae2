package queryapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/sqldb"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/schemas/access"
)

// scoped is the team-scoping harness: a real SQLite event store and the real read models
// projected from it, served by the API with the response cache on, and principals to ask as.
type scoped struct {
	t     *testing.T
	store events.EventStore
	db    *projections.DB
	ps    []projections.Projection
	pos   int64
	mux   *http.ServeMux
	// changes are what the projections told live subscribers, since the last take.
	changes []projections.Change
	// owned counts the ownership lookups (OwnedStreams) the API made.
	owned atomic.Int64
}

// ownedCounter is the assets reader, counting its ownership lookups.
type ownedCounter struct {
	*assets.Reader
	n *atomic.Int64
}

func (c ownedCounter) OwnedStreams(ctx context.Context, s ownership.Scope, ids []string) ([]string, error) {
	c.n.Add(1)
	return c.Reader.OwnedStreams(ctx, s, ids)
}

func sid(kind string, n int) string {
	return kind + "-0190a0a0-0000-7000-8000-0000000001" + string(rune('0'+n/10)) + string(rune('0'+n%10))
}

var (
	assetA, assetB, assetN       = sid("assets-asset", 1), sid("assets-asset", 2), sid("assets-asset", 3)
	findA1, findA2, findB, findN = sid("vulns-finding", 11), sid("vulns-finding", 12), sid("vulns-finding", 13), sid("vulns-finding", 14)
	findMissing                  = sid("vulns-finding", 99)
	assetMissing                 = sid("assets-asset", 98)
	scanMine, scanOther          = "0190a0a0-0000-7000-8000-000000000201", "0190a0a0-0000-7000-8000-000000000202"
)

func principal(role, id string, teams ...string) access.Principal {
	perms, _ := access.RolePermissions(role)
	return access.Principal{Kind: access.KindUser, ID: id, Roles: []string{role}, Perms: perms, Teams: teams}
}

var (
	remediator = principal(access.RoleRemediator, "rem", "alpha")
	analyst    = principal(access.RoleAnalyst, "ana")
	auditor    = principal(access.RoleAuditor, "aud")
)

func newScoped(t *testing.T) *scoped {
	t.Helper()
	ctx := context.Background()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{Path: t.TempDir() + "/e.db", Synchronous: "NORMAL"})
	db, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: t.TempDir() + "/readmodel.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.SQL.Close() })
	s := &scoped{t: t, store: store, db: db,
		ps: []projections.Projection{assets.NewProjection(), vulns.NewFindingsProjection(), scans.NewProjection(), vulns.NewCVEsProjection()}}
	tx, err := db.Begin(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.ps {
		if err := p.Create(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if err := projections.PointViews(ctx, tx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ar := assets.NewReader(db)
	sr := scans.NewReader(db)
	api, err := New(Config{Reader: vulns.NewReader(db), Assets: ownedCounter{ar, &s.owned}, Scans: sr, Store: store, Querier: store,
		FoldAsset: assets.FoldAsset, FoldFinding: vulns.FoldFinding, Version: func() int64 { return s.pos }})
	if err != nil {
		t.Fatal(err)
	}
	s.mux = http.NewServeMux()
	api.Register(s.mux)
	return s
}

// append appends one event as actor and projects it.
func (s *scoped) append(stream, typ, actor string, data any) {
	s.t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.store.Append(context.Background(), stream, events.Any, []events.Envelope{{Type: typ, Data: b, Actor: actor}}); err != nil {
		s.t.Fatalf("%s on %s: %v", typ, stream, err)
	}
	evs, err := s.store.ReadAll(context.Background(), s.pos, 100)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, p := range s.ps {
		var mine []events.Envelope
		for _, e := range evs {
			if slices.Contains(p.Contexts(), e.Context()) {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			continue
		}
		tx, err := s.db.Begin(context.Background(), 1)
		if err != nil {
			s.t.Fatal(err)
		}
		ch, err := p.Apply(context.Background(), tx, mine)
		if err != nil {
			s.t.Fatalf("%s: %v", p.Name(), err)
		}
		s.changes = append(s.changes, ch...)
		if err := tx.Commit(); err != nil {
			s.t.Fatal(err)
		}
	}
	s.pos = evs[len(evs)-1].GlobalPosition
}

// seed: asset A owned by alpha with two findings, B by beta with one, N by no team with one;
// both A1 and B carry CVE-2024-3094; the remediator imported one scan, someone else another.
func (s *scoped) seed() {
	for _, a := range []struct{ id, name, team string }{{assetA, "alpha-web", "alpha"}, {assetB, "beta-db", "beta"}, {assetN, "nobody", ""}} {
		s.append(a.id, "AssetRegistered", "user:ana", map[string]any{"kind": "host", "name": a.name, "identifiers": map[string]any{"hostnames": []string{a.name}}})
		if a.team != "" {
			s.append(a.id, "AssetClassified", "user:ana", map[string]any{"owner_team": a.team})
		}
	}
	s.append("vulns-cve-0190a0a0-0000-7000-8000-000000000301", "CVEPublished", "system:feeds", map[string]any{"id": "CVE-2024-3094", "last_modified": "2024-05-01T00:00:00Z"})
	for _, f := range []struct {
		id, asset, severity string
		cve                 bool
	}{{findA1, assetA, "critical", true}, {findA2, assetA, "high", false}, {findB, assetB, "critical", true}, {findN, assetN, "low", false}} {
		d := map[string]any{"asset_id": f.asset, "scope": f.asset + "|trivy", "identity_key": f.asset + "|trivy|" + f.id, "fingerprint": f.id,
			"scan_id": scanMine, "format": "trivy", "scanner": "Trivy", "title": "Finding " + f.id[len(f.id)-2:], "severity": f.severity,
			"component": map[string]any{"name": "openssl", "version": "3.0.1"}, "seen_at": "2026-03-01T09:00:00Z"}
		if f.cve {
			d["cves"] = []string{"CVE-2024-3094"}
		}
		s.append(f.id, "FindingOpened", "user:ana", d)
	}
	for _, sc := range []struct{ id, actor string }{{scanMine, "user:rem"}, {scanOther, "user:ana"}} {
		s.append("scans-import-"+sc.id, "ScanImportStarted", sc.actor, map[string]any{"scan_id": sc.id, "format": "trivy", "scanner_name": "Trivy",
			"findings_total": 4, "assets_total": 3})
	}
}

// get asks target as p (nil: no principal) and checks the answer against the OpenAPI document.
func (s *scoped) get(p *access.Principal, target string) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if p != nil {
		req = req.WithContext(access.With(req.Context(), *p))
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	if err := openapi.Validate(http.MethodGet, req.URL.Path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
		s.t.Errorf("GET %s: %v\n%s", target, err, rec.Body.String())
	}
	return rec
}

func (s *scoped) json(p *access.Principal, target string, status int, v any) *httptest.ResponseRecorder {
	s.t.Helper()
	rec := s.get(p, target)
	if rec.Code != status {
		s.t.Fatalf("GET %s as %s: %d, want %d\n%s", target, who(p), rec.Code, status, rec.Body.String())
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			s.t.Fatal(err)
		}
	}
	return rec
}

func who(p *access.Principal) string {
	if p == nil {
		return "nobody"
	}
	return p.Actor()
}

// ids walks a list (items with an id; next_cursor or next links) and returns every id, sorted.
func (s *scoped) ids(p *access.Principal, target string) []string {
	s.t.Helper()
	var out []string
	for range 50 {
		var page struct {
			Items []struct {
				ID       string `json:"id"`
				StreamID string `json:"stream_id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		s.json(p, target, http.StatusOK, &page)
		for _, it := range page.Items {
			out = append(out, it.ID+it.StreamID)
		}
		if target = page.Next; target == "" {
			break
		}
	}
	slices.Sort(out)
	return out
}

// sameAsMissing checks that reading target (out of p's scope) answers exactly what reading
// missing (which does not exist) answers, once the ids are swapped.
func (s *scoped) sameAsMissing(p *access.Principal, target, id, missing string) {
	s.t.Helper()
	got := s.get(p, target)
	want := s.get(p, strings.ReplaceAll(target, id, missing))
	if got.Code != http.StatusNotFound || want.Code != http.StatusNotFound {
		s.t.Fatalf("GET %s as %s: %d (missing: %d), want 404 for both\n%s", target, who(p), got.Code, want.Code, got.Body.String())
	}
	if g, w := strings.ReplaceAll(got.Body.String(), id, missing), want.Body.String(); g != w {
		s.t.Errorf("GET %s as %s tells out of scope from missing:\n got %s\nmissing %s", target, who(p), g, w)
	}
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// TestRemediatorSeesOnlyItsTeam walks every read path as a remediator of team alpha, an
// analyst and an auditor.
func TestRemediatorSeesOnlyItsTeam(t *testing.T) {
	s := newScoped(t)
	s.seed()
	rem, ana, aud := &remediator, &analyst, &auditor

	// Lists, their filters and their cursors (one row a page) cover the visible rows only.
	eq(t, "remediator's findings", s.ids(rem, "/v1/findings?limit=1"), []string{findA1, findA2})
	eq(t, "remediator's critical findings", s.ids(rem, "/v1/findings?severity=critical"), []string{findA1})
	eq(t, "remediator filtering on beta's asset", s.ids(rem, "/v1/findings?asset_id="+assetB), nil)
	eq(t, "remediator's CVE findings", s.ids(rem, "/v1/findings?cve=CVE-2024-3094"), []string{findA1})
	eq(t, "analyst's findings", s.ids(ana, "/v1/findings?limit=1"), []string{findA1, findA2, findB, findN})
	eq(t, "unauthenticated embedding's findings", s.ids(nil, "/v1/findings"), []string{findA1, findA2, findB, findN})
	eq(t, "remediator's assets", s.ids(rem, "/v1/assets?limit=1"), []string{assetA})
	eq(t, "remediator's assets of team beta", s.ids(rem, "/v1/assets?owner_team=beta"), nil)
	eq(t, "analyst's assets", s.ids(ana, "/v1/assets"), []string{assetA, assetB, assetN})
	eq(t, "remediator's scans (its own imports)", s.ids(rem, "/v1/scans?limit=1"), []string{scanMine + "scans-import-" + scanMine})
	eq(t, "remediator asking for another's scans", s.ids(rem, "/v1/scans?actor=user:ana"), nil)
	if got := s.ids(ana, "/v1/scans"); len(got) != 2 {
		t.Errorf("analyst's scans: %v", got)
	}

	// A cursor is bound to the scope it was issued under.
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	s.json(ana, "/v1/findings?limit=1", http.StatusOK, &page)
	s.json(rem, "/v1/findings?limit=1&cursor="+page.NextCursor, http.StatusBadRequest, nil)

	// The CVE is global; its count of open findings is not.
	var cve vulns.CVE
	s.json(rem, "/v1/cves/CVE-2024-3094", http.StatusOK, &cve)
	if cve.OpenFindings != 1 {
		t.Errorf("remediator's CVE open findings: %d, want 1", cve.OpenFindings)
	}
	s.json(ana, "/v1/cves/CVE-2024-3094", http.StatusOK, &cve)
	if cve.OpenFindings != 2 {
		t.Errorf("analyst's CVE open findings: %d, want 2", cve.OpenFindings)
	}

	// Details, now and as of a time: out of scope is missing.
	asOf := "?as_of=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))
	s.json(rem, "/v1/findings/"+findA1, http.StatusOK, nil)
	s.json(rem, "/v1/findings/"+findA1+asOf, http.StatusOK, nil)
	s.json(rem, "/v1/assets/"+assetA+asOf, http.StatusOK, nil)
	s.json(rem, "/v1/scans/"+scanMine, http.StatusOK, nil)
	for _, c := range []struct{ target, id, missing string }{
		{"/v1/findings/" + findB, findB, findMissing},
		{"/v1/findings/" + findN, findN, findMissing},
		{"/v1/findings/" + findB + asOf, findB, findMissing},
		{"/v1/assets/" + assetB, assetB, assetMissing},
		{"/v1/assets/" + assetN + asOf, assetN, assetMissing},
		{"/v1/scans/" + scanOther, scanOther, "0190a0a0-0000-7000-8000-000000000299"},
		{"/v1/streams/" + findB + "/events", findB, findMissing},
		{"/v1/streams/" + assetB + "/events", assetB, assetMissing},
		{"/v1/streams/scans-import-" + scanMine + "/events", scanMine, "0190a0a0-0000-7000-8000-000000000299"},
	} {
		s.sameAsMissing(rem, c.target, c.id, c.missing)
	}
	s.json(ana, "/v1/findings/"+findB+asOf, http.StatusOK, nil)
	s.json(ana, "/v1/streams/"+findB+"/events", http.StatusOK, nil)
	s.json(rem, "/v1/streams/"+findA1+"/events", http.StatusOK, nil)

	// The audit trail: a remediator reads the events of its team's streams only, page by page;
	// an auditor reads the whole trail, and filters by actor.
	events := func(p *access.Principal, query string) []string {
		t.Helper()
		var out []string
		target := "/v1/events?" + query
		for range 50 {
			var page streamPage
			s.json(p, target, http.StatusOK, &page)
			for _, e := range page.Items {
				out = append(out, e.StreamID)
			}
			if target = page.Next; target == "" {
				break
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	eq(t, "remediator's audit trail", events(rem, "limit=1"), []string{assetA, findA1, findA2})
	// A page that ran out of chunks to read is short but links the next: nothing is skipped.
	chunk, chunks := scopedChunk, maxScopedChunks
	scopedChunk, maxScopedChunks = 2, 2
	var short streamPage
	s.json(rem, "/v1/events?limit=50", http.StatusOK, &short)
	if len(short.Items) >= 3 || short.Next == "" {
		t.Errorf("a page that read only 4 events: %d events, next %q", len(short.Items), short.Next)
	}
	eq(t, "remediator's audit trail in short pages", events(rem, "limit=50"), []string{assetA, findA1, findA2})
	eq(t, "remediator's audit trail in short pages, backwards", events(rem, "limit=50&direction=backwards"), []string{assetA, findA1, findA2})
	scopedChunk, maxScopedChunks = chunk, chunks
	eq(t, "remediator's audit trail backwards", events(rem, "limit=2&direction=backwards"), []string{assetA, findA1, findA2})
	eq(t, "remediator's audit trail of beta's stream", events(rem, "stream_id="+findB), nil)
	eq(t, "remediator's own actions", events(rem, "actor=user:rem"), nil) // its scan import is no team's stream
	if got := events(aud, "limit=7"); len(got) != 10 {
		t.Errorf("auditor's audit trail covers %d streams, want 10: %v", len(got), got)
	}
	eq(t, "auditor filtering by actor", events(aud, "actor=user:rem"), []string{"scans-import-" + scanMine})

	// Reclassifying beta's asset to alpha moves it and its findings to the remediator, for
	// every path, as_of included (ownership is now's).
	s.append(assetB, "AssetClassified", "user:ana", map[string]any{"owner_team": "alpha"})
	eq(t, "remediator's findings after the reclassification", s.ids(rem, "/v1/findings"), []string{findA1, findA2, findB})
	s.json(rem, "/v1/findings/"+findB, http.StatusOK, nil)
	s.json(rem, "/v1/findings/"+findB+asOf, http.StatusOK, nil)
	s.json(rem, "/v1/streams/"+findB+"/events", http.StatusOK, nil)
	s.json(rem, "/v1/cves/CVE-2024-3094", http.StatusOK, &cve)
	if cve.OpenFindings != 2 {
		t.Errorf("remediator's CVE open findings after the reclassification: %d, want 2", cve.OpenFindings)
	}
}

// TestScopedAnswersAreNotShared: with the response cache on, an analyst's answer is never
// served to a remediator, nor one remediator's scan list to another of the same team.
func TestScopedAnswersAreNotShared(t *testing.T) {
	s := newScoped(t)
	s.seed()
	other := principal(access.RoleRemediator, "rem2", "alpha")
	for range 2 { // the second round is answered from the cache
		eq(t, "analyst", s.ids(&analyst, "/v1/findings"), []string{findA1, findA2, findB, findN})
		eq(t, "remediator", s.ids(&remediator, "/v1/findings"), []string{findA1, findA2})
		eq(t, "remediator's scans", s.ids(&remediator, "/v1/scans"), []string{scanMine + "scans-import-" + scanMine})
		eq(t, "another remediator's scans", s.ids(&other, "/v1/scans"), nil)
	}
}

// TestCachedDetailSkipsTheOwnershipLookup: a cached single row was checked for the same scope
// at the same read-model version, so a hit does not look its ownership up again; another
// team's principal is not served it, and a change of owner (a new version) counts at once.
func TestCachedDetailSkipsTheOwnershipLookup(t *testing.T) {
	s := newScoped(t)
	s.seed()
	beta := principal(access.RoleRemediator, "bob", "beta")
	before := s.owned.Load()
	for range 3 {
		s.json(&remediator, "/v1/findings/"+findA1, http.StatusOK, nil)
	}
	if n := s.owned.Load() - before; n != 1 {
		t.Fatalf("3 reads of one finding looked its ownership up %d times, want 1", n)
	}
	for range 2 {
		s.json(&beta, "/v1/findings/"+findA1, http.StatusNotFound, nil)
	}
	s.append(assetA, "AssetClassified", "user:ana", map[string]any{"owner_team": "beta"})
	s.json(&remediator, "/v1/findings/"+findA1, http.StatusNotFound, nil)
	s.json(&beta, "/v1/findings/"+findA1, http.StatusOK, nil)
}

// TestAuditActorIsValidated: the actor filter takes what envelopes hold, nothing else.
func TestAuditActorIsValidated(t *testing.T) {
	s := newScoped(t)
	for _, bad := range []string{"user:", "token:", "a%20b", "user:a%09b", strings.Repeat("a", 257)} {
		rec := s.get(&auditor, "/v1/events?actor="+bad)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"actor"`) {
			t.Errorf("actor=%s: %d %s", bad, rec.Code, rec.Body.String())
		}
	}
	for _, good := range []string{"user:0190a0a0-0000-7000-8000-000000000001", "token:t1", "system:sla", "anonymous", "alice"} {
		s.json(&auditor, "/v1/events?actor="+url.QueryEscape(good), http.StatusOK, nil)
	}
}

// TestLiveUpdatesFollowTheReadModelsOwnership: /ws with the assets read model as its owners:
// a remediator of alpha receives the changes of alpha's asset and findings, then, once beta's
// asset is reclassified to alpha, those of that asset's findings too.
func TestLiveUpdatesFollowTheReadModelsOwnership(t *testing.T) {
	s := newScoped(t)
	hub := ws.NewHub(ws.Config{Log: slog.New(slog.DiscardHandler), Owners: assets.NewReader(s.db)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.ServeHTTP(w, r.WithContext(access.With(r.Context(), remediator)))
	}))
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	received := func() []string {
		t.Helper()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		var streams []string
		for {
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a failure guard
			var m struct {
				Type  string          `json:"type"`
				Event events.Envelope `json:"event"`
			}
			if err := conn.ReadJSON(&m); err != nil {
				t.Fatal(err)
			}
			if m.Type == "pong" {
				slices.Sort(streams)
				return slices.Compact(streams)
			}
			streams = append(streams, m.Event.StreamID)
		}
	}
	received() // registered
	s.seed()
	hub.Publish(s.changes)
	s.changes = nil
	eq(t, "live changes of alpha's", received(), []string{assetA, findA1, findA2, "vulns-cve-0190a0a0-0000-7000-8000-000000000301", "scans-import-" + scanMine})

	s.append(assetB, "AssetClassified", "user:ana", map[string]any{"owner_team": "alpha"})
	s.append(findB, "FindingAssigned", "user:ana", map[string]any{"owner": "rem"})
	s.append(findN, "FindingAssigned", "user:ana", map[string]any{"owner": "rem"})
	hub.Publish(s.changes)
	eq(t, "live changes after the reclassification", received(), []string{assetB, findB})
}
