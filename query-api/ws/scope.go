package ws

import (
	"context"
	"slices"
	"strings"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/schemas/access"
)

// Team scoping. The principal of the upgrade request (access.From, put in its context by the
// router's auth middleware) is captured when the socket opens. With teams:all, or without a
// principal (an embedding that authenticates elsewhere), the connection receives every change
// its filter matches; a scoped principal (a remediator) only the changes it may read through
// the query API, decided when they are sent, with the read models' ownership at that moment:
//
//   - a change about an asset (assets and findings projections: Change.AssetID) whose asset
//     its teams own now (projections/ownership; a finding follows its asset);
//   - a change of the CVE catalogue (projection "cves"): CVE data is global;
//   - a change of a scan import it made itself (the event's actor is its own), as GET /v1/scans
//     shows it;
//   - nothing else.
//
// Ownership is looked up once per Publish for every scope connected (Config.Owners); when it
// is not configured or fails, scoped connections receive none of the batch's owned changes
// (never another team's).

// Owners tells which assets a scope's teams own (projections/assets' Reader implements it).
type Owners interface {
	OwnedStreams(ctx context.Context, s ownership.Scope, ids []string) ([]string, error)
}

// viewer is what a connection's principal may see: scope nil sees everything.
type viewer struct {
	scope ownership.Scope
	actor string
}

func viewerOf(ctx context.Context) viewer {
	p, ok := access.From(ctx)
	if !ok {
		return viewer{}
	}
	return viewer{scope: ownership.Normalize(p.Scope()), actor: p.Actor()}
}

// key identifies the viewer's scope among a Publish's lookups.
func (v viewer) key() string { return strings.Join(v.scope, "\x1f") }

// sees reports whether a change may go to the viewer; owned holds the assets its scope owns.
func (v viewer) sees(c *projections.Change, owned map[string]bool) bool {
	switch {
	case v.scope == nil:
		return true
	case c.Projection == "cves":
		return true
	case c.Projection == "scans":
		return c.Event.Actor == v.actor
	}
	return c.AssetID != "" && owned[c.AssetID]
}

// ownedAssets looks up, per scope of the viewers, which of the changes' assets it owns.
func (h *Hub) ownedAssets(viewers []viewer, changes []projections.Change) map[string]map[string]bool {
	var assets []string
	for i := range changes {
		if a := changes[i].AssetID; a != "" {
			assets = append(assets, a)
		}
	}
	slices.Sort(assets)
	assets = slices.Compact(assets)
	out := map[string]map[string]bool{}
	for _, v := range viewers {
		k := v.key()
		if v.scope == nil || out[k] != nil {
			continue
		}
		out[k] = map[string]bool{}
		if len(assets) == 0 || len(v.scope) == 0 { // a principal of no team owns nothing
			continue
		}
		if h.cfg.Owners == nil {
			h.cfg.Log.Error("ws: a team-scoped subscriber is connected but Config.Owners is not set; it receives no asset or finding changes")
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteWait)
		owned, err := h.cfg.Owners.OwnedStreams(ctx, v.scope, assets)
		cancel()
		if err != nil {
			h.cfg.Log.Error("ws: looking up ownership failed; team-scoped subscribers miss this batch's asset and finding changes", "err", err)
			continue
		}
		for _, a := range owned {
			out[k][a] = true
		}
	}
	return out
}
