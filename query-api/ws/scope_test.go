package ws_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/schemas/access"
)

// teamOwners owns assets by a fixed map of asset id to team (the read model's rule is tested
// with the read models, projections/vulns and query-api).
type teamOwners struct {
	team  map[string]string
	calls atomic.Int64
	fail  atomic.Bool
}

func (o *teamOwners) OwnedStreams(_ context.Context, s ownership.Scope, ids []string) ([]string, error) {
	o.calls.Add(1)
	if o.fail.Load() {
		return nil, errors.New("read model down")
	}
	var out []string
	for _, id := range ids {
		if s == nil || slices.Contains(s, o.team[id]) && o.team[id] != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// scopedHub serves the hub behind a stand-in for the router's auth middleware: the
// X-Test-Principal header names the principal put in the request's context.
func scopedHub(t *testing.T, owners ws.Owners, principals map[string]access.Principal) (*ws.Hub, *httptest.Server) {
	t.Helper()
	hub := ws.NewHub(ws.Config{Log: quietLog(), Owners: owners})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := principals[r.Header.Get("X-Test-Principal")]; ok {
			r = r.WithContext(access.With(r.Context(), p))
		}
		hub.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return hub, srv
}

func dialPrincipal(t *testing.T, srv *httptest.Server, who string) *websocket.Conn {
	t.Helper()
	return dialWith(t, srv, "", http.Header{"X-Test-Principal": {who}})
}

func role(name, id string, teams ...string) access.Principal {
	perms, _ := access.RolePermissions(name)
	return access.Principal{Kind: access.KindUser, ID: id, Perms: perms, Teams: teams}
}

// TestScopedSubscribersGetTheirTeamsChangesOnly: a remediator of alpha receives the changes of
// alpha's assets and their findings, the CVE catalogue's and its own scan imports', nothing of
// beta's, of an asset of no team or of anything else; an analyst and a connection without a
// principal receive everything; the lookup runs once per scope and batch.
func TestScopedSubscribersGetTheirTeamsChangesOnly(t *testing.T) {
	owners := &teamOwners{team: map[string]string{"assets-asset-a1": "alpha", "assets-asset-b1": "beta", "assets-asset-n1": ""}}
	hub, srv := scopedHub(t, owners, map[string]access.Principal{
		"rem": role(access.RoleRemediator, "rem", "alpha"), "rem2": role(access.RoleRemediator, "rem2", "alpha"),
		"ana": role(access.RoleAnalyst, "ana"), "lonely": role(access.RoleRemediator, "lonely"),
	})
	rem, rem2, ana, lonely, anon := dialPrincipal(t, srv, "rem"), dialPrincipal(t, srv, "rem2"), dialPrincipal(t, srv, "ana"), dialPrincipal(t, srv, "lonely"), dialPrincipal(t, srv, "")

	scan := func(id, actor string) projections.Change {
		c := change(id, "ScanImportStarted", "scans-import-"+id, "", "scans")
		c.AssetID, c.Event.Actor = "", actor
		return c
	}
	cve := change("c1", "CVEPublished", "vulns-cve-c1", "", "cves")
	cve.AssetID = ""
	saga := change("s1", "SagaStarted", "sagas-saga-s1", "", "sagas")
	saga.AssetID = ""
	hub.Publish([]projections.Change{
		change("a1", "AssetRegistered", "assets-asset-a1", "", "assets"),
		change("b1", "AssetRegistered", "assets-asset-b1", "", "assets"),
		change("n1", "AssetRegistered", "assets-asset-n1", "", "assets"),
		cve, scan("sc-rem", "user:rem"), scan("sc-ana", "user:ana"), saga,
	})
	finding := change("a1", "FindingOpened", "vulns-finding-f1", "high", "findings") // a finding of asset a1
	finding.Event.EventID = "f1"
	hub.Publish([]projections.Change{finding})

	every := []string{"a1", "b1", "n1", "c1", "sc-rem", "sc-ana", "s1", "f1"}
	for _, c := range []struct {
		who  string
		conn *websocket.Conn
		want []string
	}{
		{"remediator of alpha", rem, []string{"a1", "c1", "sc-rem", "f1"}},
		{"another remediator of alpha", rem2, []string{"a1", "c1", "f1"}},
		{"remediator of no team", lonely, []string{"c1"}},
		{"analyst", ana, every},
		{"no principal", anon, every},
	} {
		if got := eventIDs(fence(t, c.conn)); !slices.Equal(got, c.want) {
			t.Errorf("%s received %v, want %v", c.who, got, c.want)
		}
	}
	// Two batches, one scope to look up (alpha, shared by both remediators; the empty scope
	// owns nothing): two lookups.
	if n := owners.calls.Load(); n != 2 {
		t.Errorf("%d ownership lookups, want 2", n)
	}

	// A failed lookup withholds the owned changes from scoped subscribers, never widens them.
	owners.fail.Store(true)
	hub.Publish([]projections.Change{change("a1", "AssetUpdated", "assets-asset-a1", "", "assets")})
	if got := fence(t, rem); len(got) != 0 {
		t.Errorf("remediator received %v while ownership could not be looked up", eventIDs(got))
	}
	if got := eventIDs(fence(t, ana)); !slices.Equal(got, []string{"a1"}) {
		t.Errorf("analyst received %v", got)
	}
}

// TestScopedSubscriberWithoutOwners: a hub not told who owns what sends a scoped subscriber
// none of the asset and finding changes.
func TestScopedSubscriberWithoutOwners(t *testing.T) {
	hub, srv := scopedHub(t, nil, map[string]access.Principal{"rem": role(access.RoleRemediator, "rem", "alpha")})
	rem := dialPrincipal(t, srv, "rem")
	hub.Publish([]projections.Change{change("a1", "AssetRegistered", "assets-asset-a1", "", "assets")})
	if got := fence(t, rem); len(got) != 0 {
		t.Errorf("remediator received %v", eventIDs(got))
	}
}
