// Package scans serves the scans context's read endpoints: the scan imports read model
// (projections/scans) listed with filters and read one by one.
//
// Team scoping: an import is not owned by a team. One report spans assets of several teams and
// its totals (findings by severity, assets matched) count every team's, so a scoped principal
// (no teams:all) sees only the imports it made itself (its actor); another's are 404 and are
// left out of lists, as if they did not exist.
package scans

import (
	"context"
	"net/http"

	"github.com/socplatform/soc/projections/readkit"
	model "github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/access"
)

// Reader is what the scan endpoints need from the scans read model (projections/scans' Reader
// implements it). Errors: readkit.ErrNotFound (404) and *readkit.QueryError (400 naming its
// parameter).
type Reader interface {
	Scan(ctx context.Context, id string) (*model.Scan, error)
	Scans(ctx context.Context, q model.Query) (readkit.Page[model.Scan], error)
}

// Routes are the mux patterns Register adds, in order.
var Routes = []string{
	"GET /v1/scans",
	"GET /v1/scans/{id}",
}

// Register adds Routes to mux, served by kit from reader.
func Register(mux querykit.Mux, kit *querykit.Kit, reader Reader) {
	a := &api{kit: kit, reader: reader}
	querykit.Handle(mux, Routes, a.list, a.get)
}

type api struct {
	kit    *querykit.Kit
	reader Reader
}

var resource = querykit.Resource[model.Scan]{Name: "scans", Sorts: model.Sorts}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[0])
	var q model.Query
	q.Format = p.Match("format", querykit.ReportFormat, querykit.ReportFormatWant)
	q.Status = p.Enum("status", openapi.ScanStatuses)
	q.Actor = p.Text("actor", querykit.MaxValueLen)
	q.From = p.Timestamp("from")
	q.To = p.Timestamp("to")
	p.TimeRange("from", q.From, "to", q.To)
	own, scoped := ownActor(r)
	asked := q.Actor
	if scoped {
		q.Actor = own
	}
	querykit.ListPage(a.kit, w, r, p, resource, q, func(l readkit.List) (readkit.Page[model.Scan], error) {
		if scoped && asked != "" && asked != own {
			return readkit.Page[model.Scan]{}, nil // another actor's imports: none visible
		}
		q.List = l
		return a.reader.Scans(r.Context(), q)
	})
}

// ownActor is the actor whose imports alone r's principal sees, scoped true; scoped false when
// it sees every import (teams:all, or no principal: see querykit).
func ownActor(r *http.Request) (actor string, scoped bool) {
	if querykit.ScopeOf(r.Context()) == nil {
		return "", false
	}
	p, _ := access.From(r.Context())
	return p.Actor(), true
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Routes[1])
	id := p.PathID("id", querykit.ScanID.MatchString, querykit.ScanIDWant)
	querykit.Get(a.kit, w, r, p, resource, func() (*model.Scan, error) {
		s, err := a.reader.Scan(r.Context(), id)
		if own, scoped := ownActor(r); err == nil && scoped && s.Actor != own {
			return nil, readkit.ErrNotFound
		}
		return s, err
	})
}
