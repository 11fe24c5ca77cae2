// Package search serves the search read model (projections/search) under GET /v1/search: one box
// across assets, findings and CVEs — and the audit trail for those who may read it — in the
// query language of projections/search/query, with type filters, facets, highlighting, sorting
// and cursor pagination.
//
// Permissions: the route itself needs findings:read (cmd/soc's access table), which every role
// that reads findings or CVEs holds; assets are searched when the caller also holds
// assets:read, audit-trail events when it holds audit:read. Asking for a kind by types= without
// its permission is a 403 naming the permission, rather than an answer silently narrower than
// the request.
//
// Team scoping: Request.Scope is set from the caller's principal (querykit.ScopeOf), never from
// the request, so a remediator finds its teams' findings, assets and events only (CVEs are
// everyone's).
//
// Read-your-writes: the index is fed apart from the SQL read models (on Elasticsearch it is
// another server), so the route waits for and answers the index's own position, like the
// analytics routes do with theirs.
package search

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	model "github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/problem"
)

// Index is what the endpoint needs of the search model (every backend's search.Index has it).
type Index interface {
	Search(ctx context.Context, r model.Request) (model.Result, error)
	Position(ctx context.Context) (int64, error)
}

// Route is the mux pattern Register adds.
const Route = "GET /v1/search"

// Routes are the mux patterns Register adds, in order.
var Routes = []string{Route}

// DefaultFacets are the facets a request without facets= answers.
var DefaultFacets = []string{"severity", "status", "asset_kind", "scanner", "team", "environment", "kind"}

// DefaultLimit is the page size of a request without limit=.
const DefaultLimit = 20

// maxCursor bounds the cursor parameter (a backend's cursor is a few hundred bytes at most).
const maxCursor = 2048

// Answer is the endpoint's body.
type Answer struct {
	// Query is q as the parser read it, in canonical form (query.Query's String): what the
	// search answered, for the analyst to check.
	Query string `json:"query"`
	// Total counts every match (all pages).
	Total  int64                         `json:"total"`
	Hits   []Hit                         `json:"hits"`
	Facets map[string][]model.FacetValue `json:"facets"`
	// NextCursor is the next page's cursor ("" on the last page).
	NextCursor string `json:"next_cursor,omitempty"`
	// Position is the index's position when it was read, before the search: the answer
	// includes at least every event up to it.
	Position int64 `json:"position"`
}

// Hit is one document found: its public fields (never the fold's state), its score and the
// highlighted fragments.
type Hit struct {
	model.Doc
	Score      float64             `json:"score"`
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// Register adds Routes to mux. kit must wait for and stamp the index's position. A nil index
// answers 501 (a node that serves no search model).
func Register(mux querykit.Mux, kit *querykit.Kit, index Index) {
	a := &api{kit: kit, index: index}
	querykit.Handle(mux, Routes, a.search)
}

type api struct {
	kit   *querykit.Kit
	index Index
}

var resource = querykit.Resource[Answer]{Name: "search"}

func (a *api) search(w http.ResponseWriter, r *http.Request) {
	p := querykit.NewParams(r, Route)
	req, canon, err := parse(r, p)
	if err != nil {
		a.kit.Fail(w, r, err)
		return
	}
	querykit.Get(a.kit, w, r, p, resource, func() (*Answer, error) {
		if a.index == nil {
			return nil, problem.NotImplemented("this node serves no search model")
		}
		// Read before the search, so the answer is never older than the position it states.
		pos, err := a.index.Position(r.Context())
		if err != nil {
			return nil, modelError(err)
		}
		res, err := a.index.Search(r.Context(), req)
		if err != nil {
			return nil, modelError(err)
		}
		return answer(canon, pos, res), nil
	})
}

// answer shapes a result: hits without the fold's state, every requested facet present.
func answer(canon string, pos int64, res model.Result) *Answer {
	out := &Answer{Query: canon, Total: res.Total, Hits: make([]Hit, 0, len(res.Hits)), Facets: res.Facets,
		NextCursor: res.Next, Position: pos}
	for _, h := range res.Hits {
		h.Doc.State = nil
		out.Hits = append(out.Hits, Hit{Doc: h.Doc, Score: h.Score, Highlights: h.Highlights})
	}
	if out.Facets == nil {
		out.Facets = map[string][]model.FacetValue{}
	}
	return out
}

// modelError translates the model's errors into the platform's problems: a *ParamError names
// the request's parameter, a bad cursor names cursor, ErrUnavailable is a 503.
func modelError(err error) error {
	var pe *model.ParamError
	switch {
	case errors.As(err, &pe):
		return &problem.ParamError{Params: []problem.InvalidParam{{Name: pe.Param, Reason: pe.Reason}}}
	case errors.Is(err, model.ErrBadCursor):
		return &problem.ParamError{Params: []problem.InvalidParam{{Name: "cursor", Reason: "not a cursor of this search: send next_cursor of the previous page with the same parameters"}}}
	case errors.Is(err, model.ErrUnavailable):
		return problem.Unavailable(5*time.Second, "the search index is unavailable")
	}
	return err
}

// parse reads the request: q through the query language's parser (its error is answered at
// once, with its position), the other parameters collected in p. The error returned is a
// parse error or a missing permission; p's own are answered by the kit.
func parse(r *http.Request, p *querykit.Params) (model.Request, string, error) {
	req := model.Request{Limit: DefaultLimit, Highlight: true, Facets: DefaultFacets}
	q, err := queryParam(r)
	if err != nil {
		return req, "", err
	}
	parsed, err := query.Parse(q)
	if err != nil {
		var pe *query.ParseError
		if errors.As(err, &pe) {
			e := problem.Invalid("q", "q at byte %d: %s", pe.Pos, pe.Error()).With("position", pe.Pos)
			if pe.Suggestion != "" {
				e = e.With("suggestion", pe.Suggestion)
			}
			return req, "", e
		}
		return req, "", err
	}
	req.Query = parsed

	kinds := p.EnumList("types", kindNames)
	if p.Has("facets") {
		req.Facets = p.EnumList("facets", model.FacetFields)
	}
	req.Sort = sortOf(p, parsed)
	if n, ok := p.Integer("limit", 1, model.MaxLimit); ok {
		req.Limit = int(n)
	}
	if c, ok := p.One("cursor"); ok {
		if len(c) > maxCursor {
			p.Add("cursor", "longer than 2048 bytes")
		}
		req.Cursor = c
	}
	if h := p.Boolean("highlight"); h != nil {
		req.Highlight = *h
	}
	req.Scope = p.Scope()
	if err := p.Err(); err != nil {
		return req, "", err
	}
	req.Kinds, req.Audit, err = permitted(r.Context(), kinds)
	return req, parsed.String(), err
}

// queryParam is q: at most once, at most query.MaxLength bytes (longer than the kit's bound on
// other values, hence read here); absent or empty searches everything.
func queryParam(r *http.Request) (string, error) {
	vs := r.URL.Query()["q"]
	switch {
	case len(vs) > 1:
		return "", &problem.ParamError{Params: []problem.InvalidParam{{Name: "q", Reason: "given more than once"}}}
	case len(vs) == 0:
		return "", nil
	case len(vs[0]) > query.MaxLength:
		return "", &problem.ParamError{Params: []problem.InvalidParam{{Name: "q", Reason: fmt.Sprintf("longer than %d bytes", query.MaxLength)}}}
	}
	return vs[0], nil
}

// sortOf reads sort= ("-" prefix: descending). Without it, relevance when q has free text to
// score, else the newest first.
func sortOf(p *querykit.Params, q query.Query) model.Sort {
	v, ok := p.One("sort")
	if !ok {
		for _, c := range q.Clauses {
			if c.Field == query.FieldText && !c.Negate {
				return model.Sort{Field: model.SortRelevance, Desc: true}
			}
		}
		return model.Sort{Field: "at", Desc: true}
	}
	field, desc := strings.CutPrefix(v, "-")
	if !slices.Contains(model.SortFields, field) {
		p.Add("sort", "must be one of "+strings.Join(model.SortFields, ", ")+", with - for descending")
		return model.Sort{}
	}
	if field == model.SortRelevance {
		desc = true // best first: the only order a score has
	}
	return model.Sort{Field: field, Desc: desc}
}

var kindNames = func() []string {
	out := make([]string, len(model.Kinds))
	for i, k := range model.Kinds {
		out[i] = string(k)
	}
	return out
}()

// kindPermission is the permission searching a kind needs beyond the route's findings:read.
var kindPermission = map[model.Kind]access.Permission{
	model.KindAsset: access.AssetsRead,
	model.KindEvent: access.AuditRead,
}

// permitted resolves the kinds a request searches against its principal's permissions: the
// kinds it named, each of which it must be allowed (403 naming the permission otherwise), or,
// when it named none, every kind it may read. Without a principal (the API mounted without
// authentication) every kind is allowed.
func permitted(ctx context.Context, names []string) ([]model.Kind, bool, error) {
	pr, authenticated := access.From(ctx)
	may := func(k model.Kind) bool {
		perm, ok := kindPermission[k]
		return !authenticated || !ok || pr.Can(perm)
	}
	audit := may(model.KindEvent)
	if len(names) == 0 {
		if may(model.KindAsset) {
			return nil, audit, nil // the model's default: every kind but events, events too with audit
		}
		kinds := []model.Kind{model.KindFinding, model.KindCVE}
		if audit {
			kinds = append(kinds, model.KindEvent)
		}
		return kinds, audit, nil
	}
	kinds := make([]model.Kind, 0, len(names))
	for _, n := range names {
		k := model.Kind(n)
		if !may(k) {
			return nil, false, problem.Forbidden("searching %s documents (types=%s) needs the %s permission", n, n, kindPermission[k]).OnField("types")
		}
		kinds = append(kinds, k)
	}
	return kinds, audit, nil
}
