// Package access is the platform's vocabulary of who is asking: the named permissions, the
// built-in roles as permission sets, and the Principal a request, a saga or a CLI call acts
// as. Every module reads it (commands stamp the actor, the query API scopes reads, the router
// checks permissions), so it lives in schemas, the one module all of them depend on.
//
// It decides nothing about how a principal was authenticated: that is the identity context's
// business (commands/identity). A Principal is only ever built by an authenticator, by
// System for the platform's own workers, or by tests.
package access

import (
	"context"
	"slices"
	"sort"
)

// Permission names one action. The set is closed: routes declare one of these, roles grant
// them. Custom roles may grant any of them, nothing else.
type Permission string

const (
	FindingsRead        Permission = "findings:read"        // list and read findings (team-scoped unless TeamsAll)
	FindingsTriage      Permission = "findings:triage"      // triage, assign, comment, remediate, resolve, reopen, mark FP/duplicate, due dates
	FindingsAcceptRisk  Permission = "findings:accept-risk" // accept a finding's risk
	AssetsRead          Permission = "assets:read"          // list and read assets (team-scoped unless TeamsAll)
	AssetsWrite         Permission = "assets:write"         // register, update, classify, link, retire, merge assets
	ScansRead           Permission = "scans:read"           // scan definitions, runs, import status
	ScansRun            Permission = "scans:run"            // define, start and cancel scans
	ImportsWrite        Permission = "imports:write"        // upload scanner reports
	EventsRead          Permission = "events:read"          // the event feed, streams and as_of reads (team-scoped unless TeamsAll)
	AuditRead           Permission = "audit:read"           // the whole audit trail, actor filter included
	UsersRead           Permission = "users:read"           // the user and team directory
	UsersAdmin          Permission = "users:admin"          // users, teams, roles, other users' sessions and tokens
	NotificationsRead   Permission = "notifications:read"   // one's own inbox and preferences
	NotificationsManage Permission = "notifications:manage" // channels, templates, rules, delivery history
	FeedsManage         Permission = "feeds:manage"         // load vulnerability feeds (KEV, EPSS, NVD)
	AnalyticsRead       Permission = "analytics:read"       // trends, MTTR, SLA, risk, coverage (team-scoped unless TeamsAll)
	ReportsRead         Permission = "reports:read"         // list report jobs and download their documents (one's own unless TeamsAll)
	ReportsWrite        Permission = "reports:write"        // generate reports (their figures are team-scoped unless TeamsAll)
	ReportsManage       Permission = "reports:manage"       // report templates and schedules
	// TeamsAll lifts team scoping: the holder sees every team's assets, findings and events.
	// Without it a principal sees only what is owned by its teams.
	TeamsAll Permission = "teams:all"
)

// Permissions lists every permission, sorted.
func Permissions() []Permission {
	p := []Permission{FindingsRead, FindingsTriage, FindingsAcceptRisk, AssetsRead, AssetsWrite,
		ScansRead, ScansRun, ImportsWrite, EventsRead, AuditRead, UsersRead, UsersAdmin,
		NotificationsRead, NotificationsManage, FeedsManage, AnalyticsRead, ReportsRead, ReportsWrite,
		ReportsManage, TeamsAll}
	slices.Sort(p)
	return p
}

// Known reports whether p is one of Permissions.
func Known(p Permission) bool {
	_, ok := slices.BinarySearch(Permissions(), p)
	return ok
}

// Built-in role names.
const (
	RoleAdmin      = "admin"
	RoleAnalyst    = "analyst"
	RoleRemediator = "remediator"
	RoleAuditor    = "auditor"
	RoleScanner    = "scanner"
)

var builtin = map[string][]Permission{
	RoleAdmin: Permissions(),
	// An analyst works every finding and asset, runs scans and imports; no user administration.
	RoleAnalyst: {FindingsRead, FindingsTriage, FindingsAcceptRisk, AssetsRead, AssetsWrite, ScansRead,
		ScansRun, ImportsWrite, EventsRead, UsersRead, NotificationsRead, AnalyticsRead, ReportsRead,
		ReportsWrite, ReportsManage, TeamsAll},
	// A remediator sees and works the findings of the assets their teams own, nothing else.
	// Their analytics and reports cover those assets only.
	RoleRemediator: {FindingsRead, FindingsTriage, AssetsRead, ScansRead, EventsRead, UsersRead, NotificationsRead,
		AnalyticsRead, ReportsRead, ReportsWrite},
	// An auditor reads everything, the audit trail included, and changes nothing.
	RoleAuditor: {FindingsRead, AssetsRead, ScansRead, EventsRead, AuditRead, UsersRead, NotificationsRead,
		AnalyticsRead, ReportsRead, ReportsWrite, TeamsAll},
	// A scanner only imports reports.
	RoleScanner: {ImportsWrite},
}

// BuiltinRoles returns the built-in role names, sorted.
func BuiltinRoles() []string {
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RolePermissions returns a built-in role's permissions (a copy), false for other names.
func RolePermissions(role string) ([]Permission, bool) {
	p, ok := builtin[role]
	return slices.Clone(p), ok
}

// Kind says what a principal is.
type Kind string

const (
	KindUser   Kind = "user"   // a person, signed in with a password or SSO
	KindToken  Kind = "token"  // an API token (automation)
	KindSystem Kind = "system" // the platform itself: a saga, a timer, a feed loader
)

// Principal is who a request acts as, once authenticated.
type Principal struct {
	Kind Kind
	// ID is the user's id, the API token's id, or the worker's name for KindSystem.
	ID string
	// UserID is the user an API token belongs to (empty otherwise, and for system).
	UserID string
	// Name is for display (an email, a token's label); never a secret.
	Name string
	// SessionID is the session (refresh-token family) an access token was issued in.
	SessionID string
	Roles     []string
	// Perms are the effective permissions (the roles' union, narrowed by a token's scope).
	Perms []Permission
	// Teams are the teams the principal belongs to (for scoping without TeamsAll).
	Teams []string
	// Definition restricts a scan-definition push token to that definition's reports.
	Definition string
}

// System is the principal of one of the platform's own workers (a saga, the scheduler):
// it may do everything, and its events carry "system:<name>" as the actor.
func System(name string) Principal {
	return Principal{Kind: KindSystem, ID: name, Name: name, Perms: Permissions()}
}

// Actor is the envelope's actor for what this principal does: "user:<id>", "token:<id>" or
// "system:<name>".
func (p Principal) Actor() string {
	if p.ID == "" {
		return "anonymous"
	}
	return string(p.Kind) + ":" + p.ID
}

// Can reports whether the principal holds perm.
func (p Principal) Can(perm Permission) bool { return slices.Contains(p.Perms, perm) }

// AllTeams reports whether team scoping is lifted for this principal.
func (p Principal) AllTeams() bool { return p.Can(TeamsAll) }

// SeesTeam reports whether data owned by team is visible: always with TeamsAll, otherwise
// only for the principal's own teams (data owned by no team is not theirs to see).
func (p Principal) SeesTeam(team string) bool {
	if p.AllTeams() {
		return true
	}
	return team != "" && slices.Contains(p.Teams, team)
}

// Scope is what a read is restricted to: nil means every team.
func (p Principal) Scope() []string {
	if p.AllTeams() {
		return nil
	}
	if p.Teams == nil {
		return []string{}
	}
	return slices.Clone(p.Teams)
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries, false when none (an unauthenticated path).
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
