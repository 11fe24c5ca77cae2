package identity

import (
	"context"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/schemas/contracts"
)

// Projections are the identity read models: users, teams, API tokens and sessions, each a
// keyed table of one row per stream.
func Projections() []projections.Projection {
	return []projections.Projection{NewUsers(), NewTeams(), NewTokens(), NewSessions()}
}

// NewUsers returns the users projection (table identity_users).
func NewUsers() *readkit.Keyed[User] {
	return &readkit.Keyed[User]{Context: "identity", Table: userTable, Handles: isUserEvent, Key: readkit.StreamKey, Fold: foldUser,
		Indexes: [][2]string{{"email", "email"}}}
}

// NewTeams returns the teams projection (table identity_teams).
func NewTeams() *readkit.Keyed[Team] {
	return &readkit.Keyed[Team]{Context: "identity", Table: teamTable, Handles: isTeamEvent, Key: readkit.StreamKey, Fold: foldTeam,
		Indexes: [][2]string{{"name", "name, id"}}}
}

// TokensProjection is the API tokens projection (table identity_tokens). Creating it also
// creates identity_token_usage, the last-used times TokenUsage writes, which no generation
// owns (see the package doc).
type TokensProjection struct{ *readkit.Keyed[Token] }

// NewTokens returns the API tokens projection.
func NewTokens() *TokensProjection {
	return &TokensProjection{&readkit.Keyed[Token]{Context: "identity", Table: tokenTable, Handles: isTokenEvent, Key: readkit.StreamKey,
		Fold: foldToken, Indexes: [][2]string{{"owner", "owner_id, id"}}}}
}

// Create implements projections.Projection.
func (p *TokensProjection) Create(ctx context.Context, tx *projections.Tx) error {
	if err := p.Keyed.Create(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, createUsage(tx.Dialect))
	return err
}

// NewSessions returns the sessions projection (table identity_sessions).
func NewSessions() *readkit.Keyed[Session] {
	return &readkit.Keyed[Session]{Context: "identity", Table: sessionTable, Handles: isSessionEvent, Key: readkit.StreamKey, Fold: foldSession,
		Indexes: [][2]string{{"user", "user_id, started_at"}}}
}

var userTable = &readkit.Table[User]{
	Base: "identity_users",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{{"id", readkit.KeyText(d)}, {"email", readkit.KeyText(d)}, {"display_name", readkit.TText},
			{"phone", readkit.TText}, {"time_zone", readkit.TText}, {"status", readkit.TText}, {"source", readkit.TText},
			{"roles", readkit.TText}, {"preferences", readkit.TText}, {"created_at", readkit.TInt}, {"updated_at", readkit.TInt},
			{"version", readkit.TInt}}
	},
	Values: func(u *User) []any {
		prefs := ""
		if u.Preferences != nil {
			prefs = readkit.JSONText(u.Preferences)
		}
		return []any{u.ID, u.Email, u.DisplayName, u.Phone, u.TimeZone, u.Status, u.Source, readkit.JSONText(u.Roles), prefs,
			readkit.Micros(u.CreatedAt), readkit.Micros(u.UpdatedAt), u.Version}
	},
	Scan: func(s readkit.Scanner) (*User, error) {
		var u User
		var roles, prefs string
		var created, updated int64
		if err := s.Scan(&u.ID, &u.Email, &u.DisplayName, &u.Phone, &u.TimeZone, &u.Status, &u.Source, &roles, &prefs,
			&created, &updated, &u.Version); err != nil {
			return nil, err
		}
		var err error
		if u.Roles, err = readkit.FromJSON[[]string](roles); err != nil {
			return nil, err
		}
		if prefs != "" {
			if u.Preferences, err = readkit.FromJSON[*contracts.NotificationPreferencesSet](prefs); err != nil {
				return nil, err
			}
		}
		u.CreatedAt, u.UpdatedAt = readkit.FromMicros(created), readkit.FromMicros(updated)
		return &u, nil
	},
}

var teamTable = &readkit.Table[Team]{
	Base: "identity_teams",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{{"id", readkit.KeyText(d)}, {"name", readkit.KeyText(d)}, {"lead", readkit.TText},
			{"members", readkit.TText}, {"created_at", readkit.TInt}, {"updated_at", readkit.TInt}, {"version", readkit.TInt}}
	},
	Values: func(t *Team) []any {
		return []any{t.ID, t.Name, t.Lead, readkit.JSONText(t.Members), readkit.Micros(t.CreatedAt), readkit.Micros(t.UpdatedAt), t.Version}
	},
	Scan: func(s readkit.Scanner) (*Team, error) {
		var t Team
		var members string
		var created, updated int64
		if err := s.Scan(&t.ID, &t.Name, &t.Lead, &members, &created, &updated, &t.Version); err != nil {
			return nil, err
		}
		var err error
		if t.Members, err = readkit.FromJSON[[]string](members); err != nil {
			return nil, err
		}
		t.CreatedAt, t.UpdatedAt = readkit.FromMicros(created), readkit.FromMicros(updated)
		return &t, nil
	},
}

var tokenTable = &readkit.Table[Token]{
	Base: "identity_tokens",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{{"id", readkit.KeyText(d)}, {"name", readkit.TText}, {"owner_id", readkit.KeyText(d)},
			{"scopes", readkit.TText}, {"teams", readkit.TText}, {"definition_id", readkit.TText}, {"expires_at", readkit.TInt},
			{"revoked", readkit.TInt}, {"created_at", readkit.TInt}, {"version", readkit.TInt}}
	},
	Values: func(t *Token) []any {
		return []any{t.ID, t.Name, t.OwnerID, readkit.JSONText(t.Scopes), readkit.JSONText(t.Teams), t.DefinitionID,
			readkit.Micros(t.ExpiresAt), readkit.BoolInt(t.Revoked), readkit.Micros(t.CreatedAt), t.Version}
	},
	Scan: func(s readkit.Scanner) (*Token, error) {
		var t Token
		var scopes, teams string
		var expires, revoked, created int64
		if err := s.Scan(&t.ID, &t.Name, &t.OwnerID, &scopes, &teams, &t.DefinitionID, &expires, &revoked, &created, &t.Version); err != nil {
			return nil, err
		}
		var err error
		if t.Scopes, err = readkit.FromJSON[[]string](scopes); err != nil {
			return nil, err
		}
		if t.Teams, err = readkit.FromJSON[[]string](teams); err != nil {
			return nil, err
		}
		t.ExpiresAt, t.Revoked, t.CreatedAt = readkit.FromMicros(expires), revoked == 1, readkit.FromMicros(created)
		return &t, nil
	},
}

var sessionTable = &readkit.Table[Session]{
	Base: "identity_sessions",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{{"id", readkit.KeyText(d)}, {"user_id", readkit.KeyText(d)}, {"source", readkit.TText},
			{"started_at", readkit.TInt}, {"last_refreshed_at", readkit.TInt}, {"expires_at", readkit.TInt},
			{"refreshes", readkit.TInt}, {"revoked", readkit.TText}, {"version", readkit.TInt}}
	},
	Values: func(s *Session) []any {
		return []any{s.ID, s.UserID, s.Source, readkit.Micros(s.StartedAt), readkit.Micros(s.LastRefreshed), readkit.Micros(s.ExpiresAt),
			s.Refreshes, s.Revoked, s.Version}
	},
	Scan: func(sc readkit.Scanner) (*Session, error) {
		var s Session
		var started, refreshed, expires int64
		if err := sc.Scan(&s.ID, &s.UserID, &s.Source, &started, &refreshed, &expires, &s.Refreshes, &s.Revoked, &s.Version); err != nil {
			return nil, err
		}
		s.StartedAt, s.LastRefreshed, s.ExpiresAt = readkit.FromMicros(started), readkit.FromMicros(refreshed), readkit.FromMicros(expires)
		return &s, nil
	},
}
