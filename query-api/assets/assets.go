// Package assets serves the assets context's read endpoints: the assets read model
// (projections/assets) listed with filters and read one by one, now or as of a time.
package assets

import (
	"context"
	"net/http"

	"github.com/socplatform/soc/events"
	model "github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
)

// Reader is what the asset endpoints need from the assets read model (projections/assets'
// Reader implements it). Errors: readkit.ErrNotFound (404) and *readkit.QueryError (400 naming
// its parameter). Owners scopes single reads to the principal's teams (the query API's kit
// uses this reader's).
type Reader interface {
	Asset(ctx context.Context, id string) (*model.Asset, error)
	Assets(ctx context.Context, q model.Query) (readkit.Page[model.Asset], error)
	querykit.Owners
}

// Routes are the mux patterns Register adds, in order.
var Routes = []string{
	"GET /v1/assets",
	"GET /v1/assets/{id}",
}

// Register adds Routes to mux, served by kit from reader. fold rebuilds one asset from its
// stream for as_of reads; nil answers as_of with 501.
func Register(mux querykit.Mux, kit *querykit.Kit, reader Reader, fold func([]events.Envelope) (*model.Asset, error)) {
	a := &api{kit: kit, reader: reader, fold: fold}
	querykit.Handle(mux, Routes, a.list, a.get)
}

type api struct {
	kit    *querykit.Kit
	reader Reader
	fold   func([]events.Envelope) (*model.Asset, error)
}

var resource = querykit.Resource[model.Asset]{Name: "assets", Sorts: model.Sorts}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[0])
	var q model.Query
	q.Kind = p.EnumList("kind", openapi.AssetKinds)
	q.Criticality = p.EnumList("criticality", openapi.Criticalities)
	q.Environment = p.Enum("environment", openapi.Environments)
	q.OwnerTeam = p.Text("owner_team", querykit.MaxValueLen)
	q.Status = p.Enum("status", openapi.AssetStatuses)
	q.Tag = p.Text("tag", querykit.MaxValueLen)
	q.Q = p.Text("q", querykit.MaxQLen)
	q.MinRisk = p.Float("min_risk", 0, 100)
	q.HasOpen = p.Boolean("has_open")
	q.Scope = p.Scope()
	querykit.ListPage(a.kit, w, r, p, resource, q, func(l readkit.List) (readkit.Page[model.Asset], error) {
		q.List = l
		return a.reader.Assets(r.Context(), q)
	})
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[1])
	id := p.PathID("id", isAssetID, "an asset id assets-asset-<uuid>")
	querykit.GetAt(a.kit, w, r, p, resource, id, a.fold, func() (*model.Asset, error) { return a.reader.Asset(r.Context(), id) })
}

func isAssetID(v string) bool { return querykit.IsStreamID(v, "assets-asset-") }
