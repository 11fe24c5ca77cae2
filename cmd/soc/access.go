package main

import (
	"fmt"

	"github.com/socplatform/soc/schemas/access"
)

// Who may call each route of a node, declared once, here. routes.Handle refuses (panics at
// start) a pattern with no declaration, and TestEveryRouteIsDeclared fails on a declaration no
// route uses, so this table and the routes a node serves cannot drift apart.

// ruleKind is how a route is guarded.
type ruleKind int

const (
	// rulePublic: no credential is read; the request stays anonymous.
	rulePublic ruleKind = iota + 1
	// ruleSignedIn: any authenticated principal (what it sees is its own business).
	ruleSignedIn
	// rulePermission: an authenticated principal holding rule.perm.
	rulePermission
)

// rule is one route's declaration.
type rule struct {
	kind ruleKind
	perm access.Permission
}

var (
	public   = rule{kind: rulePublic}
	signedIn = rule{kind: ruleSignedIn}
)

func need(p access.Permission) rule { return rule{kind: rulePermission, perm: p} }

func (r rule) String() string {
	switch r.kind {
	case rulePublic:
		return "public"
	case ruleSignedIn:
		return "authenticated"
	}
	return string(r.perm)
}

// routeRules are the declarations of the routes the node's modules register today.
var routeRules = map[string]rule{
	// Probes and scraping must work before anyone can sign in; /metrics carries its own bearer
	// (--metrics-token) when the operator sets one, see metricsGuard.
	"GET /healthz": public,
	"GET /readyz":  public,
	"GET /metrics": public,
	// The API's shape is documentation, not data: clients read it to learn how to sign in. It is
	// also the one map of the routes an anonymous client gets: an unknown path is a 401 for it
	// (see "/"), so probing paths tells it nothing the document does not.
	"GET /openapi.json": public,
	// Everything else: a path no route matches. Anonymous clients get a 401 before any 404, so
	// they cannot enumerate routes; a signed-in principal gets the 404.
	"/": signedIn,

	// Findings: the write side.
	"POST /v1/findings/{id}/triage":            need(access.FindingsTriage),
	"POST /v1/findings/{id}/start-remediation": need(access.FindingsTriage),
	"POST /v1/findings/{id}/resolve":           need(access.FindingsTriage),
	"POST /v1/findings/{id}/reopen":            need(access.FindingsTriage),
	"POST /v1/findings/{id}/false-positive":    need(access.FindingsTriage),
	"POST /v1/findings/{id}/duplicate":         need(access.FindingsTriage),
	"POST /v1/findings/{id}/assign":            need(access.FindingsTriage),
	"POST /v1/findings/{id}/comment":           need(access.FindingsTriage),
	"POST /v1/findings/{id}/due-date":          need(access.FindingsTriage),
	"POST /v1/findings/{id}/accept-risk":       need(access.FindingsAcceptRisk),
	// Findings and CVEs: the read side.
	"GET /v1/findings":      need(access.FindingsRead),
	"GET /v1/findings/{id}": need(access.FindingsRead),
	"GET /v1/cves/{id}":     need(access.FindingsRead),

	// Assets.
	"POST /v1/assets":                 need(access.AssetsWrite),
	"PATCH /v1/assets/{id}":           need(access.AssetsWrite),
	"POST /v1/assets/{id}/update":     need(access.AssetsWrite),
	"POST /v1/assets/{id}/classify":   need(access.AssetsWrite),
	"POST /v1/assets/{id}/link":       need(access.AssetsWrite),
	"POST /v1/assets/{id}/unlink":     need(access.AssetsWrite),
	"POST /v1/assets/{id}/retire":     need(access.AssetsWrite),
	"POST /v1/assets/{id}/reactivate": need(access.AssetsWrite),
	"POST /v1/assets/{id}/merge":      need(access.AssetsWrite),
	"GET /v1/assets":                  need(access.AssetsRead),
	"GET /v1/assets/{id}":             need(access.AssetsRead),

	// Scans: imports, definitions and runs.
	"POST /v1/scans/imports": need(access.ImportsWrite),
	// The import's status is where an upload's 202 points (Location): whoever may upload follows
	// it, a scanner token included, which holds imports:write and nothing else.
	"GET /v1/scans/{id}/import":              need(access.ImportsWrite),
	"GET /v1/scans":                          need(access.ScansRead),
	"GET /v1/scans/{id}":                     need(access.ScansRead),
	"GET /v1/scan-definitions":               need(access.ScansRead),
	"GET /v1/scan-definitions/{id}":          need(access.ScansRead),
	"GET /v1/scan-runs/{id}":                 need(access.ScansRead),
	"POST /v1/scan-definitions":              need(access.ScansRun),
	"PUT /v1/scan-definitions/{id}":          need(access.ScansRun),
	"DELETE /v1/scan-definitions/{id}":       need(access.ScansRun),
	"POST /v1/scan-definitions/{id}/runs":    need(access.ScansRun),
	"POST /v1/scan-runs/{id}/cancel":         need(access.ScansRun),
	"POST /v1/scan-definitions/{id}/reports": need(access.ImportsWrite),

	// The event store: the feed, a stream's history (team scoping is the query API's).
	"GET /v1/events":                     need(access.EventsRead),
	"GET /v1/streams/{stream_id}/events": need(access.EventsRead),

	// Live updates. Browsers cannot set headers on a WebSocket: these two routes (only these)
	// also accept a ticket from POST /v1/ws-tickets as ?ticket=.
	"GET /ws":                  need(access.EventsRead),
	"GET /v1/notifications/ws": need(access.NotificationsRead),
	"POST /v1/ws-tickets":      signedIn,
	// One's own in-app inbox (the notifier serves only the caller's notifications).
	"GET /v1/notifications":            need(access.NotificationsRead),
	"POST /v1/notifications/{id}/read": need(access.NotificationsRead),
	"POST /v1/notifications/read-all":  need(access.NotificationsRead),
}

// identityRoutes are the routes of the identity context (issue 13, contract 4) and its SSO,
// declared ahead of the module that serves them. TestEveryRouteIsDeclared checks them all or
// none: until the identity module is mounted no node serves them, afterwards every one must be.
var identityRoutes = map[string]rule{
	// Signing in, refreshing and accepting an invitation happen before there is a token; the
	// public keys are what verifiers fetch.
	"POST /v1/auth/login":         public,
	"POST /v1/auth/refresh":       public,
	"POST /v1/auth/logout":        public, // the refresh token in the body is the credential
	"POST /v1/invitations/accept": public,
	"GET /.well-known/jwks.json":  public,
	"GET /v1/auth/oidc/login":     public,
	"GET /v1/auth/oidc/callback":  public,
	"GET /v1/me":                  signedIn,
	"GET /v1/me/sessions":         signedIn,
	"DELETE /v1/me/sessions/{id}": signedIn,
	"PUT /v1/me/preferences":      signedIn,
	// One's own API tokens: the identity app refuses a scope wider than the caller's.
	"GET /v1/tokens":                          signedIn,
	"POST /v1/tokens":                         signedIn,
	"DELETE /v1/tokens/{id}":                  signedIn,
	"GET /v1/users":                           need(access.UsersRead),
	"GET /v1/users/{id}":                      need(access.UsersRead),
	"GET /v1/teams":                           need(access.UsersRead),
	"GET /v1/roles":                           need(access.UsersRead),
	"POST /v1/users":                          need(access.UsersAdmin),
	"POST /v1/users/{id}/disable":             need(access.UsersAdmin),
	"POST /v1/users/{id}/enable":              need(access.UsersAdmin),
	"PUT /v1/users/{id}/roles":                need(access.UsersAdmin),
	"GET /v1/users/{id}/sessions":             need(access.UsersAdmin),
	"DELETE /v1/sessions/{id}":                need(access.UsersAdmin),
	"POST /v1/teams":                          need(access.UsersAdmin),
	"POST /v1/teams/{id}/members":             need(access.UsersAdmin),
	"DELETE /v1/teams/{id}/members/{user_id}": need(access.UsersAdmin),
	"POST /v1/roles":                          need(access.UsersAdmin),
	"POST /v1/invitations":                    need(access.UsersAdmin),
}

// ruleFor returns the declaration of a ServeMux pattern.
func ruleFor(pattern string) (rule, bool) {
	if r, ok := routeRules[pattern]; ok {
		return r, true
	}
	r, ok := identityRoutes[pattern]
	return r, ok
}

// mustDeclare panics on a pattern without a declaration: a route nobody decided the access of
// must not be served, and a node refuses at start rather than at the first request.
func mustDeclare(pattern string) {
	if _, ok := ruleFor(pattern); !ok {
		panic(fmt.Sprintf("route %q has no access declaration: add it to cmd/soc/access.go", pattern))
	}
}

// declaredPatterns lists every declared pattern (tests).
func declaredPatterns() []string {
	out := make([]string, 0, len(routeRules)+len(identityRoutes))
	for p := range routeRules {
		out = append(out, p)
	}
	for p := range identityRoutes {
		out = append(out, p)
	}
	return out
}
