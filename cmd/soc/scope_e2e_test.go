package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// twoTeams is a node where the admin made teams alpha and beta, a remediator in alpha, an
// analyst, and one asset per team with a report imported onto it; alphaIDs and betaIDs are the
// findings of each team's asset as the admin sees them (sorted), once the read model holds as
// many as each import opened.
type twoTeams struct {
	n                     *node
	admin                 apiClient // the seam's bootstrap admin
	rem, analyst          member
	alphaAsset, betaAsset string
	// wait is the min_position of a first read that needs the assets read model (who owns
	// what) to have applied both registrations.
	wait              string
	alphaIDs, betaIDs []string
}

func setUpTwoTeams(t *testing.T) twoTeams {
	t.Helper()
	td := sharedTestdata(t)
	n := startNode(t, nil)
	admin := apiClient{t: t, base: "http://" + n.addr}

	alpha, beta := createTeam(t, admin, "alpha"), createTeam(t, admin, "beta")
	rem := newMember(t, admin, "remediator@e2e.example.com", "remediator", alpha)
	analyst := newMember(t, admin, "analyst@e2e.example.com", "analyst")
	alphaAsset, _ := registerAsset(t, admin, "alpha-host", alpha)
	betaAsset, betaPos := registerAsset(t, admin, "beta-host", beta)

	sumA := importOnto(t, admin, filepath.Join(td, "trivy", "trivy_fs_cvssv4_catalina.json"), alphaAsset)
	sumB := importOnto(t, admin, filepath.Join(td, "trivy", "trivy_fs_vulns_misconfig_secrets.json"), betaAsset)

	// The expected sets: the admin's view of each asset, once the projection holds as many
	// findings as the import opened.
	perAsset := func(asset string, want int) []string {
		var ids []string
		waitProgress(t, "the findings of "+asset+" in the read model", func() (bool, int64) {
			ids = findingIDs(pagedFindings(t, admin, "&asset_id="+asset))
			return len(ids) == want, int64(len(ids))
		})
		return ids
	}
	alphaIDs, betaIDs := perAsset(alphaAsset, sumA.New), perAsset(betaAsset, sumB.New)
	if len(alphaIDs) == 0 || len(betaIDs) == 0 {
		t.Fatalf("an import opened nothing: alpha %d, beta %d", len(alphaIDs), len(betaIDs))
	}
	return twoTeams{n: n, admin: admin, rem: rem, analyst: analyst, alphaAsset: alphaAsset, betaAsset: betaAsset,
		wait: fmt.Sprintf("&min_position=%d", betaPos), alphaIDs: alphaIDs, betaIDs: betaIDs}
}

// TestRemediatorSeesExactlyTheirTeam is issue 13's proof of team scoping on a real node: a
// remediator of team alpha reads exactly alpha's findings — in the list (items and count), one
// by one, as of a time, in the audit trail, per stream and live on /ws — and 404 for beta's,
// while an analyst sees both teams'. The expected sets come from the admin's view of each
// asset, checked against the imports' own summaries.
func TestRemediatorSeesExactlyTheirTeam(t *testing.T) {
	f := setUpTwoTeams(t)
	n, admin, rem, analyst, wait := f.n, f.admin, f.rem, f.analyst, f.wait
	alphaAsset, betaAsset, alphaIDs, betaIDs := f.alphaAsset, f.betaAsset, f.alphaIDs, f.betaIDs
	both := append(slices.Clone(alphaIDs), betaIDs...)
	slices.Sort(both)

	// The list: exactly alpha's findings, across small pages (cursors over the visible rows);
	// a filter on beta's asset is an empty list, not a 403 that would confirm it exists.
	sameIDs(t, "the remediator's findings", findingIDs(pagedFindings(t, rem, wait)), alphaIDs)
	sameIDs(t, "the remediator's findings of beta's asset", findingIDs(pagedFindings(t, rem, "&asset_id="+betaAsset)), nil)
	sameIDs(t, "the analyst's findings", findingIDs(pagedFindings(t, analyst, wait)), both)
	sameIDs(t, "the admin's findings", findingIDs(pagedFindings(t, admin, "")), both)

	// Assets: the remediator's team's only.
	var assets struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	r := rem.get("/v1/assets?limit=1000")
	if err := json.Unmarshal(r.body, &assets); err != nil || r.status != 200 || len(assets.Items) != 1 || assets.Items[0].ID != alphaAsset {
		t.Fatalf("the remediator's assets: %d %s, want only %s", r.status, r.body, alphaAsset)
	}
	mustStatus(t, "the remediator reading beta's asset", rem.get("/v1/assets/"+betaAsset), http.StatusNotFound)

	// One by one, now and as of a time: 200 for alpha's, 404 for beta's — the answer a finding
	// that does not exist gets.
	asOf := "?as_of=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))
	const noSuchFinding = "vulns-finding-00000000-0000-7000-8000-000000000000"
	missing := map[string]string{}
	for _, q := range []string{"", asOf} {
		r := rem.get("/v1/findings/" + noSuchFinding + q)
		if r.status != http.StatusNotFound {
			t.Fatalf("a finding that does not exist: %d %s", r.status, r.body)
		}
		missing[q] = strings.ReplaceAll(string(r.body), noSuchFinding, "<id>")
	}
	for _, id := range alphaIDs {
		mustStatus(t, "the remediator reading alpha's "+id, rem.get("/v1/findings/"+id), http.StatusOK)
		mustStatus(t, "the remediator reading alpha's "+id+" as of now", rem.get("/v1/findings/"+id+asOf), http.StatusOK)
	}
	for _, id := range betaIDs {
		for _, q := range []string{"", asOf} {
			r := rem.get("/v1/findings/" + id + q)
			if r.status != http.StatusNotFound || strings.ReplaceAll(string(r.body), id, "<id>") != missing[q] {
				t.Fatalf("the remediator reading beta's %s%s: %d %s, want the 404 of a finding that does not exist:\n%s", id, q, r.status, r.body, missing[q])
			}
		}
		mustStatus(t, "the analyst reading beta's "+id, analyst.get("/v1/findings/"+id), http.StatusOK)
	}

	// Streams: alpha's finding streams are readable, beta's (and beta's asset) are 404.
	if r := rem.get("/v1/streams/" + alphaIDs[0] + "/events"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"FindingOpened"`) {
		t.Fatalf("the remediator reading alpha's stream: %d %s", r.status, r.body)
	}
	for _, id := range append([]string{betaAsset}, betaIDs...) {
		mustStatus(t, "the remediator reading beta's stream "+id, rem.get("/v1/streams/"+id+"/events"), http.StatusNotFound)
	}
	mustStatus(t, "the analyst reading beta's stream", analyst.get("/v1/streams/"+betaIDs[0]+"/events"), http.StatusOK)

	// The audit trail: alpha's streams, none of beta's; a query for a beta stream is empty.
	betaStreams := setOf([]string{betaAsset}, betaIDs)
	trail := auditStreams(t, rem, "")
	for id := range trail {
		if betaStreams[id] {
			t.Fatalf("GET /v1/events gave the remediator an event of beta's stream %s", id)
		}
	}
	for _, id := range append([]string{alphaAsset}, alphaIDs...) {
		if !trail[id] {
			t.Fatalf("GET /v1/events left out alpha's stream %s", id)
		}
	}
	if got := auditStreams(t, rem, "&stream_id="+betaIDs[0]); len(got) != 0 {
		t.Fatalf("GET /v1/events?stream_id=<beta's finding> as the remediator: %v", got)
	}
	if all := auditStreams(t, analyst, ""); !all[betaAsset] || !all[betaIDs[0]] {
		t.Fatal("the analyst's audit trail lacks beta's streams")
	}

	// Live: both subscribe to triages with a ticket; a triage of beta's finding, then one of
	// alpha's. The hub sends in commit order, so the remediator's first event being alpha's
	// proves beta's was not delivered to it; the analyst gets both, beta's first.
	remWS := dialTicket(t, n.addr, issueWSTicket(t, rem.bearerClient), "FindingTriaged")
	analystWS := dialTicket(t, n.addr, issueWSTicket(t, analyst.bearerClient), "FindingTriaged")
	mustStatus(t, "triaging beta's finding", admin.do(http.MethodPost, "/v1/findings/"+betaIDs[0]+"/triage", `{"note":"beta's"}`), http.StatusOK)
	mustStatus(t, "triaging alpha's finding", admin.do(http.MethodPost, "/v1/findings/"+alphaIDs[0]+"/triage", `{"note":"alpha's"}`), http.StatusOK)
	if m := nextEvent(t, remWS); m.Event.StreamID != alphaIDs[0] || m.Event.Type != "FindingTriaged" {
		t.Fatalf("the remediator's first live event: %+v, want alpha's triage of %s (beta's is not theirs)", m, alphaIDs[0])
	}
	for _, want := range []string{betaIDs[0], alphaIDs[0]} {
		if m := nextEvent(t, analystWS); m.Event.StreamID != want || m.Event.Type != "FindingTriaged" {
			t.Fatalf("the analyst's live event: %+v, want the triage of %s", m, want)
		}
	}
}

// TestRemediatorWorksOnlyTheirTeamsFindings: a remediator "sees and works the findings of
// assets owned by their teams only" (issue 13): a command on another team's finding is the 404
// a finding it cannot see gets, and changes nothing; on its own team's it works.
func TestRemediatorWorksOnlyTheirTeamsFindings(t *testing.T) {
	f := setUpTwoTeams(t)
	beta := f.betaIDs[0]
	mustStatus(t, "the remediator triaging beta's finding", f.rem.do(http.MethodPost, "/v1/findings/"+beta+"/triage", `{"note":"not mine"}`), http.StatusNotFound)
	mustStatus(t, "the remediator resolving beta's finding", f.rem.do(http.MethodPost, "/v1/findings/"+beta+"/resolve", `{"reason":"not mine"}`), http.StatusNotFound)
	if r := f.rem.get("/v1/streams/" + beta + "/events"); r.status != http.StatusNotFound {
		t.Fatalf("beta's finding stream as the remediator: %d", r.status)
	}
	if r := f.admin.get("/v1/streams/" + beta + "/events"); r.status != http.StatusOK || strings.Contains(string(r.body), f.rem.id) {
		t.Fatalf("beta's finding carries an event of the remediator's: %d %s", r.status, r.body)
	}
	mustStatus(t, "the remediator triaging alpha's finding", f.rem.do(http.MethodPost, "/v1/findings/"+f.alphaIDs[0]+"/triage", `{"note":"mine"}`), http.StatusOK)
}
