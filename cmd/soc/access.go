package main

import (
	"fmt"

	"github.com/socplatform/soc/schemas/access"
)

// Who may call each route of a node, which target serves it and what class of traffic it is,
// declared once, here. routes.Handle refuses (panics at start) a pattern with no declaration,
// TestEveryRouteIsDeclared fails on a declaration no route uses, and
// TestEveryTargetServesItsDeclaredRoutes starts each target alone against the targets declared,
// so this table and the routes the nodes serve cannot drift apart. The gateway reads the same
// table: it routes by target and limits and times out by class.

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
	kind   ruleKind
	perm   access.Permission
	target string // the target serving it: one of the targets, or onNode
	class  string // its traffic class: class*
}

// Targets a route is served by (Contract 3 of issue 14): the route targets of soc serve, and
// onNode for the routes every process serves itself (probes, metrics, WebSocket tickets, the
// answer to an unknown path), which a gateway answers itself rather than forwarding.
const (
	onCommands = "commands"
	onQuery    = "query"
	onNotifier = "notifier"
	onNode     = "node"
)

// Route classes: the gateway's rate limits and timeouts are set per class.
const (
	classProbe  = "probe"  // liveness, readiness, metrics
	classRead   = "read"   // reads
	classWrite  = "write"  // commands
	classImport = "import" // scanner report uploads: large bodies, bursts from CI
	classAuth   = "auth"   // signing in and what comes before a credential
	classAdmin  = "admin"  // users, teams, roles, tokens and invitations administration
	classWS     = "ws"     // WebSocket sessions: long-lived
)

// at names the target serving a route and its class.
func (r rule) at(target, class string) rule {
	r.target, r.class = target, class
	return r
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
	"GET /healthz": public.at(onNode, classProbe),
	"GET /readyz":  public.at(onNode, classProbe),
	"GET /metrics": public.at(onNode, classProbe),
	// The API's shape is documentation, not data: clients read it to learn how to sign in. It is
	// also the one map of the routes an anonymous client gets: an unknown path is a 401 for it
	// (see "/"), so probing paths tells it nothing the document does not.
	"GET /openapi.json": public.at(onQuery, classRead),
	// Everything else: a path no route matches. Anonymous clients get a 401 before any 404, so
	// they cannot enumerate routes; a signed-in principal gets the 404.
	"/": signedIn.at(onNode, classRead),

	// Findings: the write side.
	"POST /v1/findings/{id}/triage":            need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/start-remediation": need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/resolve":           need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/reopen":            need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/false-positive":    need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/duplicate":         need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/assign":            need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/comment":           need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/due-date":          need(access.FindingsTriage).at(onCommands, classWrite),
	"POST /v1/findings/{id}/accept-risk":       need(access.FindingsAcceptRisk).at(onCommands, classWrite),
	// Findings and CVEs: the read side.
	"GET /v1/findings":      need(access.FindingsRead).at(onQuery, classRead),
	"GET /v1/findings/{id}": need(access.FindingsRead).at(onQuery, classRead),
	"GET /v1/cves/{id}":     need(access.FindingsRead).at(onQuery, classRead),

	// Assets.
	"POST /v1/assets":                 need(access.AssetsWrite).at(onCommands, classWrite),
	"PATCH /v1/assets/{id}":           need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/update":     need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/classify":   need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/link":       need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/unlink":     need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/retire":     need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/reactivate": need(access.AssetsWrite).at(onCommands, classWrite),
	"POST /v1/assets/{id}/merge":      need(access.AssetsWrite).at(onCommands, classWrite),
	"GET /v1/assets":                  need(access.AssetsRead).at(onQuery, classRead),
	"GET /v1/assets/{id}":             need(access.AssetsRead).at(onQuery, classRead),

	// Scans: imports, definitions and runs.
	"POST /v1/scans/imports": need(access.ImportsWrite).at(onCommands, classImport),
	// The import's status is where an upload's 202 points (Location): whoever may upload follows
	// it, a scanner token included, which holds imports:write and nothing else. It, the scan
	// definitions and the runs are read from the scan orchestrator, so the commands target
	// serves them.
	"GET /v1/scans/{id}/import":              need(access.ImportsWrite).at(onCommands, classRead),
	"GET /v1/scans":                          need(access.ScansRead).at(onQuery, classRead),
	"GET /v1/scans/{id}":                     need(access.ScansRead).at(onQuery, classRead),
	"GET /v1/scan-definitions":               need(access.ScansRead).at(onCommands, classRead),
	"GET /v1/scan-definitions/{id}":          need(access.ScansRead).at(onCommands, classRead),
	"GET /v1/scan-runs/{id}":                 need(access.ScansRead).at(onCommands, classRead),
	"POST /v1/scan-definitions":              need(access.ScansRun).at(onCommands, classWrite),
	"PUT /v1/scan-definitions/{id}":          need(access.ScansRun).at(onCommands, classWrite),
	"DELETE /v1/scan-definitions/{id}":       need(access.ScansRun).at(onCommands, classWrite),
	"POST /v1/scan-definitions/{id}/runs":    need(access.ScansRun).at(onCommands, classWrite),
	"POST /v1/scan-runs/{id}/cancel":         need(access.ScansRun).at(onCommands, classWrite),
	"POST /v1/scan-definitions/{id}/reports": need(access.ImportsWrite).at(onCommands, classImport),
	// The format list is documentation compiled into the binary (the parsers' Info): anyone
	// signed in may read it, a scanner token included, to choose ?format=.
	"GET /v1/scans/formats": signedIn.at(onCommands, classRead),

	// Analytics (team scoping is the query API's: every number covers the caller's teams' assets).
	"GET /v1/analytics/open-findings":  need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/flow":           need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/mttr":           need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/sla":            need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/risk":           need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/top-assets":     need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/exploitability": need(access.AnalyticsRead).at(onQuery, classRead),
	"GET /v1/analytics/coverage":       need(access.AnalyticsRead).at(onQuery, classRead),

	// Search: findings:read for the route; the handler asks assets:read for assets and
	// audit:read for the audit trail (query-api/search); team scoping is the query API's.
	"GET /v1/search": need(access.FindingsRead).at(onQuery, classRead),

	// The event store: the feed, a stream's history (team scoping is the query API's).
	"GET /v1/events":                     need(access.EventsRead).at(onQuery, classRead),
	"GET /v1/streams/{stream_id}/events": need(access.EventsRead).at(onQuery, classRead),

	// Live updates. Browsers cannot set headers on a WebSocket: these two routes (only these)
	// also accept a ticket from POST /v1/ws-tickets as ?ticket=.
	"GET /ws":                  need(access.EventsRead).at(onQuery, classWS),
	"GET /v1/notifications/ws": need(access.NotificationsRead).at(onNotifier, classWS),
	"POST /v1/ws-tickets":      signedIn.at(onNode, classAuth),

	// Reports: jobs and their files (one's own unless teams:all, see query-api/reporting), and
	// the templates they are made from.
	"POST /v1/reports":                 need(access.ReportsWrite).at(onQuery, classWrite),
	"GET /v1/reports":                  need(access.ReportsRead).at(onQuery, classRead),
	"GET /v1/reports/{id}":             need(access.ReportsRead).at(onQuery, classRead),
	"GET /v1/reports/{id}/file":        need(access.ReportsRead).at(onQuery, classRead),
	"GET /v1/report-templates":         need(access.ReportsRead).at(onQuery, classRead),
	"GET /v1/report-templates/{id}":    need(access.ReportsRead).at(onQuery, classRead),
	"POST /v1/report-templates":        need(access.ReportsManage).at(onQuery, classWrite),
	"PUT /v1/report-templates/{id}":    need(access.ReportsManage).at(onQuery, classWrite),
	"DELETE /v1/report-templates/{id}": need(access.ReportsManage).at(onQuery, classWrite),
	"GET /v1/report-schedules":         need(access.ReportsManage).at(onQuery, classRead),
	"GET /v1/report-schedules/{id}":    need(access.ReportsManage).at(onQuery, classRead),
	"POST /v1/report-schedules":        need(access.ReportsManage).at(onQuery, classWrite),
	"PUT /v1/report-schedules/{id}":    need(access.ReportsManage).at(onQuery, classWrite),
	"DELETE /v1/report-schedules/{id}": need(access.ReportsManage).at(onQuery, classWrite),

	// How far the query target's read models have applied the log (issue 14, contract 2): a
	// gateway long-polls it to know when its cached answers went stale.
	"GET /v1/read-position": signedIn.at(onQuery, classRead),
}

// aheadRoutes are routes declared ahead of the module that serves them, by that module:
// TestEveryRouteIsDeclared checks each group all or none (until the module is mounted no node
// serves them, afterwards every one must be).
var aheadRoutes = map[string]map[string]rule{
	// The identity context (issue 13, contract 4). Signing in, refreshing and accepting an
	// invitation happen before there is a token; the public keys are what verifiers fetch.
	"identity": {
		"POST /v1/auth/login":         public.at(onCommands, classAuth),
		"POST /v1/auth/refresh":       public.at(onCommands, classAuth),
		"POST /v1/auth/logout":        public.at(onCommands, classAuth), // the refresh token in the body is the credential
		"POST /v1/invitations/accept": public.at(onCommands, classAuth),
		"GET /.well-known/jwks.json":  public.at(onCommands, classAuth),
		"GET /v1/me":                  signedIn.at(onCommands, classRead),
		"GET /v1/me/sessions":         signedIn.at(onCommands, classRead),
		"DELETE /v1/me/sessions/{id}": signedIn.at(onCommands, classWrite),
		"PUT /v1/me/preferences":      signedIn.at(onCommands, classWrite),
		// One's own API tokens: the identity app refuses a scope wider than the caller's.
		"GET /v1/tokens":                          signedIn.at(onCommands, classAdmin),
		"POST /v1/tokens":                         signedIn.at(onCommands, classAdmin),
		"DELETE /v1/tokens/{id}":                  signedIn.at(onCommands, classAdmin),
		"GET /v1/users":                           need(access.UsersRead).at(onCommands, classAdmin),
		"GET /v1/users/{id}":                      need(access.UsersRead).at(onCommands, classAdmin),
		"GET /v1/teams":                           need(access.UsersRead).at(onCommands, classAdmin),
		"GET /v1/roles":                           need(access.UsersRead).at(onCommands, classAdmin),
		"POST /v1/users":                          need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/users/{id}/disable":             need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/users/{id}/enable":              need(access.UsersAdmin).at(onCommands, classAdmin),
		"PUT /v1/users/{id}/roles":                need(access.UsersAdmin).at(onCommands, classAdmin),
		"GET /v1/users/{id}/sessions":             need(access.UsersAdmin).at(onCommands, classAdmin),
		"DELETE /v1/sessions/{id}":                need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/teams":                          need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/teams/{id}/members":             need(access.UsersAdmin).at(onCommands, classAdmin),
		"DELETE /v1/teams/{id}/members/{user_id}": need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/roles":                          need(access.UsersAdmin).at(onCommands, classAdmin),
		"POST /v1/invitations":                    need(access.UsersAdmin).at(onCommands, classAdmin),
	},
	// Signing in through the organisation's identity provider (commands/identity/sso).
	"sso": {
		"GET /v1/auth/oidc/login":    public.at(onCommands, classAuth),
		"GET /v1/auth/oidc/callback": public.at(onCommands, classAuth),
	},
	// One's own in-app inbox (commands/notifications/ports): what notifications:read is for. A
	// scanner's token, which holds nothing but imports:write, has no inbox.
	"inbox": {
		"GET /v1/notifications":            need(access.NotificationsRead).at(onNotifier, classRead),
		"POST /v1/notifications/{id}/read": need(access.NotificationsRead).at(onNotifier, classWrite),
		"POST /v1/notifications/read-all":  need(access.NotificationsRead).at(onNotifier, classWrite),
	},
}

// ruleFor returns the declaration of a ServeMux pattern.
func ruleFor(pattern string) (rule, bool) {
	if r, ok := routeRules[pattern]; ok {
		return r, true
	}
	for _, group := range aheadRoutes {
		if r, ok := group[pattern]; ok {
			return r, true
		}
	}
	return rule{}, false
}

// routeTarget is the target serving a declared pattern (onNode for the routes every process
// serves), "" for an undeclared one.
func routeTarget(pattern string) string {
	r, _ := ruleFor(pattern)
	return r.target
}

// routeClass is a declared pattern's traffic class, "" for an undeclared one.
func routeClass(pattern string) string {
	r, _ := ruleFor(pattern)
	return r.class
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
	out := make([]string, 0, len(routeRules))
	for p := range routeRules {
		out = append(out, p)
	}
	for _, group := range aheadRoutes {
		for p := range group {
			out = append(out, p)
		}
	}
	return out
}
