package identity_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/identity"
	"github.com/socplatform/soc/projections/internal/testdb"
	"github.com/socplatform/soc/projections/runner"
	"github.com/socplatform/soc/schemas/contracts"
)

var ctx = context.Background()

const (
	ann     = "identity-user-0190a5e4-0000-7000-8000-000000000001"
	bob     = "identity-user-0190a5e4-0000-7000-8000-000000000002"
	blue    = "identity-team-0190a5e4-0000-7000-8000-000000000003"
	token   = "identity-token-0190a5e4-0000-7000-8000-000000000004"
	session = "identity-session-0190a5e4-0000-7000-8000-000000000005"
)

// appendEv appends one event to the guarded store: the payload is checked against its schema.
func appendEv(t *testing.T, store *events.Guarded, stream, typ string, data any) {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, stream, events.Any, []events.Envelope{{EventID: events.NewEventID(), Type: typ, Data: b, Actor: "system:test"}}); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
}

func rebuildAll(t *testing.T, db *projections.DB, store *events.Guarded) {
	t.Helper()
	for _, p := range identity.Projections() {
		if _, err := runner.Rebuild(ctx, runner.RebuildConfig{DB: db, Projection: p, Store: store}); err != nil {
			t.Fatalf("rebuilding %s: %v", p.Name(), err)
		}
	}
}

func TestIdentityReadModels(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
		hash := strings.Repeat("ab", 32)
		appendEv(t, store, ann, contracts.TypeUserRegistered, contracts.UserRegistered{Email: "ann@example.org", DisplayName: "Ann",
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Source: contracts.UserSourcePassword, Phone: "+331234"})
		appendEv(t, store, ann, contracts.TypeRoleGranted, contracts.RoleGranted{Role: "remediator"})
		appendEv(t, store, ann, contracts.TypeRoleGranted, contracts.RoleGranted{Role: "analyst"})
		appendEv(t, store, ann, contracts.TypeRoleRevoked, contracts.RoleRevoked{Role: "remediator"})
		appendEv(t, store, ann, contracts.TypeNotificationPreferencesSet, contracts.NotificationPreferencesSet{Channels: []contracts.PreferenceChannel{"email"}})
		appendEv(t, store, bob, contracts.TypeUserRegistered, contracts.UserRegistered{Email: "bob@example.org", DisplayName: "Bob", Source: contracts.UserSourceSso,
			SsoIssuer: "https://idp", SsoSubject: "b"})
		appendEv(t, store, bob, contracts.TypeUserDisabled, contracts.UserDisabled{Reason: "left"})
		appendEv(t, store, blue, contracts.TypeTeamCreated, contracts.TeamCreated{Name: "blue"})
		appendEv(t, store, blue, contracts.TypeTeamMemberAdded, contracts.TeamMemberAdded{UserID: ann})
		appendEv(t, store, blue, contracts.TypeTeamMemberAdded, contracts.TeamMemberAdded{UserID: bob})
		appendEv(t, store, blue, contracts.TypeTeamLeadChanged, contracts.TeamLeadChanged{Lead: ann})
		appendEv(t, store, blue, contracts.TypeTeamMemberRemoved, contracts.TeamMemberRemoved{UserID: bob})
		expires := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		appendEv(t, store, token, contracts.TypeApiTokenIssued, contracts.ApiTokenIssuedV2{Name: "ci", OwnerID: ann, Scopes: []contracts.PermissionV2{"imports:write"},
			SecretSHA256: hash, ExpiresAt: expires})
		appendEv(t, store, session, contracts.TypeSessionStarted, contracts.SessionStarted{UserID: ann, Source: contracts.SessionSourcePassword,
			RefreshSHA256: hash, ExpiresAt: expires})
		appendEv(t, store, session, contracts.TypeSessionRefreshed, contracts.SessionRefreshed{RefreshSHA256: strings.Repeat("cd", 32), RotatedSHA256: hash})
		rebuildAll(t, db, store)

		r := identity.NewReader(db)
		u, err := r.UserByEmail(ctx, "ANN@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != ann || u.Phone != "+331234" || !reflect.DeepEqual(u.Roles, []string{"analyst"}) || u.Status != "active" ||
			u.Preferences == nil || len(u.Preferences.Channels) != 1 {
			t.Fatalf("ann %+v", u)
		}
		users, err := r.Users(ctx)
		if err != nil || len(users) != 2 || users[1].Status != "disabled" || users[1].Source != "sso" {
			t.Fatalf("users %+v %v", users, err)
		}
		teams, err := r.TeamsOf(ctx, ann)
		if err != nil || len(teams) != 1 || teams[0].Lead != ann || !reflect.DeepEqual(teams[0].Members, []string{ann}) {
			t.Fatalf("ann's teams %+v %v", teams, err)
		}
		if teams, _ := r.TeamsOf(ctx, bob); len(teams) != 0 {
			t.Fatalf("bob left, yet is in %+v", teams)
		}
		sessions, err := r.Sessions(ctx, ann)
		if err != nil || len(sessions) != 1 || sessions[0].Refreshes != 1 || sessions[0].Revoked != "" || !sessions[0].ExpiresAt.Equal(expires) {
			t.Fatalf("sessions %+v %v", sessions, err)
		}

		// last use: flushed by the app, kept across a rebuild, never moved back
		usage := identity.NewTokenUsage(db)
		used := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		if err := usage.RecordTokensUsed(ctx, map[string]time.Time{token: used}); err != nil {
			t.Fatal(err)
		}
		if err := usage.RecordTokensUsed(ctx, map[string]time.Time{token: used.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		appendEv(t, store, token, contracts.TypeApiTokenRevoked, contracts.ApiTokenRevoked{})
		appendEv(t, store, session, contracts.TypeSessionRevoked, contracts.SessionRevoked{Reason: contracts.SessionRevocationReasonLogout})
		rebuildAll(t, db, store)
		toks, err := r.Tokens(ctx, ann)
		if err != nil || len(toks) != 1 || !toks[0].Revoked || toks[0].LastUsedAt == nil || !toks[0].LastUsedAt.Equal(used) ||
			!reflect.DeepEqual(toks[0].Scopes, []string{"imports:write"}) {
			t.Fatalf("tokens %+v %v", toks, err)
		}
		if s, _ := r.Sessions(ctx, ann); s[0].Revoked != "logout" {
			t.Fatalf("session %+v", s[0])
		}

		// no secret, no hash of one, in any identity table
		for _, table := range []string{"identity_users", "identity_teams", "identity_tokens", "identity_sessions"} {
			cols, lines, err := runner.TableRows(ctx, db, table)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range lines {
				for i, s := range line {
					if strings.Contains(s, "ab"+"abab") || strings.Contains(s, "argon2id") || strings.Contains(s, "cdcdcd") {
						t.Fatalf("%s.%s holds a secret's hash: %s", table, cols[i], s)
					}
				}
			}
		}
	})
}

// A user event before the stream's UserRegistered is a poison event (the runner parks it).
func TestEventBeforeRegistrationIsPoison(t *testing.T) {
	db := testdb.SQLite(t)
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	appendEv(t, store, ann, contracts.TypeUserDisabled, contracts.UserDisabled{})
	_, err := runner.Rebuild(ctx, runner.RebuildConfig{DB: db, Projection: identity.NewUsers(), Store: store})
	if err == nil || !strings.Contains(err.Error(), "before its UserRegistered") {
		t.Fatalf("rebuild: %v, want the poison event named", err)
	}
}

// A token recorded under ApiTokenIssued v1 and one under v2 (a permission v1 lacks) both read.
func TestTokensOfBothEventVersionsRead(t *testing.T) {
	testdb.Dialects(t, func(t *testing.T, db *projections.DB) {
		store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
		hash, expires := strings.Repeat("ab", 32), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		v1, err := json.Marshal(contracts.ApiTokenIssued{Name: "old", OwnerID: ann, Scopes: []contracts.Permission{contracts.PermissionImportsWrite},
			SecretSHA256: hash, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, token, events.Any, []events.Envelope{{EventID: events.NewEventID(), Type: contracts.TypeApiTokenIssued,
			SchemaVersion: 1, Data: v1, Actor: "system:test"}}); err != nil {
			t.Fatal(err)
		}
		newer := "identity-token-0190a5e4-0000-7000-8000-000000000006"
		appendEv(t, store, newer, contracts.TypeApiTokenIssued, contracts.ApiTokenIssuedV2{Name: "new", OwnerID: ann,
			Scopes: []contracts.PermissionV2{contracts.PermissionV2ReportsWrite}, SecretSHA256: hash, ExpiresAt: expires})
		rebuildAll(t, db, store)
		tokens, err := identity.NewReader(db).Tokens(ctx, ann)
		if err != nil || len(tokens) != 2 || !reflect.DeepEqual(tokens[0].Scopes, []string{"imports:write"}) ||
			!reflect.DeepEqual(tokens[1].Scopes, []string{"reports:write"}) {
			t.Fatalf("tokens %+v %v", tokens, err)
		}
	})
}
