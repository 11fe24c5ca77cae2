package querykit

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/schemas/access"
)

// Team scoping. A request's principal (access.From, put in its context by the router's auth
// middleware) decides what it may see: Principal.Scope() is nil with teams:all (every team's
// data) or the teams whose data it sees (a remediator). Every read answers over the visible rows
// only, so a scoped principal learns nothing of another team's data, not even that it exists:
//
//   - lists, their totals and their cursors run with the scope in the query (the read models
//     restrict in SQL; projections/ownership says who owns what); cursors are bound to it like
//     to the other filters, and the response cache keys answers by it;
//   - a single asset or finding (now or as_of) outside the scope is 404, with the very answer a
//     missing one gets;
//   - ownership is always the read models' now, as_of reads included: what a team owns today
//     it may read the history of, what it no longer owns it may not.
//
// A request with no principal in its context is served unscoped: the router guarantees one on
// every route that is not public, and the read routes are not public, so only callers that
// mount the API without authentication (tests, an embedding that authenticates elsewhere)
// reach it without one.

// Owners tells which streams a scope's teams own (projections/assets' Reader implements it).
type Owners interface {
	// OwnedStreams returns those of ids owned by the teams of s, in the order given; a nil
	// scope owns every one.
	OwnedStreams(ctx context.Context, s ownership.Scope, ids []string) ([]string, error)
}

// ScopeOf is the team scope of ctx's principal: nil (every team) when it holds teams:all or
// when ctx carries no principal.
func ScopeOf(ctx context.Context) ownership.Scope {
	p, ok := access.From(ctx)
	if !ok {
		return nil
	}
	return ownership.Normalize(p.Scope())
}

// Scope is the team scope of the request p parses (see ScopeOf).
func (p *Params) Scope() ownership.Scope { return ScopeOf(p.r.Context()) }

// scopeKey is the part of a response-cache key that tells scoped principals apart ("" unscoped):
// a scoped answer is kept for its principal alone, since some depend on who asks and not only
// on the teams (a scoped principal sees its own scan imports).
func scopeKey(ctx context.Context) string {
	s := ScopeOf(ctx)
	if s == nil {
		return ""
	}
	p, _ := access.From(ctx)
	return "\x00actor=" + p.Actor() + "\x00teams=" + strings.Join(s, "\x1f")
}

// errNoOwners: a scoped read reached a kit without an ownership lookup. It is a 500 (shows
// nothing) rather than an unscoped answer.
var errNoOwners = errors.New("querykit: team scoping needs Config.Owners")

// owned answers 404 (exactly as for a missing row) and returns false when r's principal may
// not see stream id.
func (k *Kit) owned(w http.ResponseWriter, r *http.Request, id string, notFound error) bool {
	if err := k.mayRead(r.Context(), id, notFound); err != nil {
		k.Fail(w, r, err)
		return false
	}
	return true
}

// mayRead is nil when the principal of ctx may see stream id (always when unscoped), else
// notFound (or the lookup's error).
func (k *Kit) mayRead(ctx context.Context, id string, notFound error) error {
	s := ScopeOf(ctx)
	if s == nil {
		return nil
	}
	if k.cfg.Owners == nil {
		return errNoOwners
	}
	owned, err := k.cfg.Owners.OwnedStreams(ctx, s, []string{id})
	if err == nil && len(owned) != 1 {
		err = notFound
	}
	return err
}
