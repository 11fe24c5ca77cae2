package ports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/ports"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
)

// teams is a fixed ownership of assets (app.Owners).
type teams map[string]string

func (t teams) OwnerTeam(assetID string) (string, bool) { team, ok := t[assetID]; return team, ok }
func (teams) CatchUp(context.Context) error             { return nil }

// The principal the access middleware authenticated scopes the finding commands: a
// remediator of team alpha works alpha's findings, and a command on beta's is answered
// exactly as one on a finding that does not exist, appending nothing.
func TestScopedPrincipalWorksOnlyItsTeamsFindings(t *testing.T) {
	store := testsupport.SQLiteStore(t)
	alphaAsset, betaAsset := events.NewStreamID("assets", "asset"), events.NewStreamID("assets", "asset")
	mux := http.NewServeMux()
	if err := ports.Register(mux, store, ports.Config{Schemas: testsupport.CommandSchemas(t),
		Owners: teams{alphaAsset: "alpha", betaAsset: "beta"}}); err != nil {
		t.Fatal(err)
	}
	perms, _ := access.RolePermissions(access.RoleRemediator)
	rem := access.Principal{Kind: access.KindUser, ID: "rem-1", Perms: perms, Teams: []string{"alpha"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(access.With(r.Context(), rem)))
	}))
	t.Cleanup(srv.Close)
	post := func(id string) testsupport.Reply {
		return testsupport.Do(t, http.MethodPost, srv.URL+"/v1/findings/"+id+"/triage", `{"note":"n"}`, "Content-Type", "application/json")
	}

	beta, missing := openFinding(t, store, betaAsset), events.NewStreamID("vulns", "finding")
	got, want := post(beta), post(missing)
	expectProblem(t, got, http.StatusNotFound, "")
	delete(got.Body, "instance")
	delete(want.Body, "instance")
	gotJSON, _ := json.Marshal(got.Body)
	wantJSON, _ := json.Marshal(want.Body)
	if string(gotJSON) != strings.ReplaceAll(string(wantJSON), missing, beta) {
		t.Fatalf("another team's finding: %s\nwant what a missing one gets: %s", gotJSON, wantJSON)
	}
	if types := testsupport.StreamTypes(t, store, beta); len(types) != 1 {
		t.Fatalf("beta's finding after the refused command: %v", types)
	}

	alpha := openFinding(t, store, alphaAsset)
	if r := post(alpha); r.Status != http.StatusOK {
		t.Fatalf("alpha's finding: %d %v", r.Status, r.Body)
	}
	evs, err := store.ReadStream(context.Background(), alpha, events.ReadStreamOptions{})
	if err != nil || len(evs) != 2 || evs[1].Actor != "user:rem-1" {
		t.Fatalf("alpha's finding after the triage: %+v %v", evs, err)
	}
}
